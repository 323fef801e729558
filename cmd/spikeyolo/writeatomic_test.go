package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestWriteAtomicRefusesNonRegular: an output path that holds anything but a regular file (a
// FIFO, a directory, a device node, or a link to one of them) is refused with an error naming
// the path, and is left as it was; a symbolic link to a regular file, or to nothing yet, is
// written through, the link kept.
func TestWriteAtomicRefusesNonRegular(t *testing.T) {
	const content = "new content\n"
	write := func(w io.Writer) error { _, err := io.WriteString(w, content); return err }
	tests := []struct {
		name string
		// setup makes what is at path; it returns the file that must hold the new content
		// ("" if the write must be refused).
		setup func(t *testing.T, dir, path string) string
		kind  string // the error must say this when refused
	}{
		{"absent", func(t *testing.T, dir, path string) string { return path }, ""},
		{"regular file", func(t *testing.T, dir, path string) string {
			must(t, os.WriteFile(path, []byte("old"), 0o600))
			return path
		}, ""},
		{"fifo", func(t *testing.T, dir, path string) string {
			must(t, syscall.Mkfifo(path, 0o644))
			return ""
		}, "named pipe"},
		{"directory", func(t *testing.T, dir, path string) string {
			must(t, os.Mkdir(path, 0o755))
			return ""
		}, "directory"},
		{"empty directory link", func(t *testing.T, dir, path string) string {
			must(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
			must(t, os.Symlink("d", path))
			return ""
		}, "directory"},
		{"character device", func(t *testing.T, dir, path string) string {
			// A node like /dev/null (1, 3); only root may make one.
			if err := syscall.Mknod(path, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
				t.Skipf("cannot make a device node here: %v", err)
			}
			return ""
		}, "character device"},
		{"link to fifo", func(t *testing.T, dir, path string) string {
			must(t, syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644))
			must(t, os.Symlink(filepath.Join(dir, "pipe"), path))
			return ""
		}, "named pipe"},
		{"link to regular file", func(t *testing.T, dir, path string) string {
			target := filepath.Join(dir, "sub", "real.json")
			must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
			must(t, os.WriteFile(target, []byte("old"), 0o640))
			must(t, os.Symlink("sub/real.json", path))
			return target
		}, ""},
		{"chain of links", func(t *testing.T, dir, path string) string {
			target := filepath.Join(dir, "real.json")
			must(t, os.WriteFile(target, []byte("old"), 0o644))
			must(t, os.Symlink("real.json", filepath.Join(dir, "mid")))
			must(t, os.Symlink("mid", path))
			return target
		}, ""},
		{"dangling link", func(t *testing.T, dir, path string) string {
			must(t, os.Symlink("later.json", path))
			return filepath.Join(dir, "later.json")
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.json")
			want := tc.setup(t, dir, path)
			before, _ := os.Lstat(path)
			err := writeAtomic(path, write)
			if want == "" {
				if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.kind) ||
					!strings.Contains(err.Error(), "not a regular file") {
					t.Fatalf("writeAtomic = %v, want an error naming %s as %s, not a regular file", err, path, tc.kind)
				}
				after, lerr := os.Lstat(path)
				if lerr != nil || after.Mode() != before.Mode() {
					t.Errorf("%s was replaced: mode %v, now %v (%v)", path, before.Mode(), after.Mode(), lerr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(want)
				if err != nil || string(got) != content {
					t.Errorf("%s holds %q (%v), want %q", want, got, err, content)
				}
				if before != nil && before.Mode()&os.ModeSymlink != 0 {
					if after, err := os.Lstat(path); err != nil || after.Mode()&os.ModeSymlink == 0 {
						t.Errorf("the link %s was replaced by a file", path)
					}
				}
				fi, err := os.Stat(want)
				if err == nil && before != nil && before.Mode().IsRegular() && fi.Mode().Perm() != before.Mode().Perm() {
					t.Errorf("%s: permissions %v, want the old %v", want, fi.Mode().Perm(), before.Mode().Perm())
				}
			}
			leftovers, _ := filepath.Glob(filepath.Join(dir, "*", ".*.json.*"))
			more, _ := filepath.Glob(filepath.Join(dir, ".*.json.*"))
			if len(leftovers)+len(more) > 0 {
				t.Errorf("temporary files left: %v %v", leftovers, more)
			}
		})
	}
}

// TestWriteAtomicFailedWriteKeepsOld: a write that fails leaves the old file whole and no
// temporary file behind.
func TestWriteAtomicFailedWriteKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	must(t, os.WriteFile(path, []byte("old"), 0o644))
	err := writeAtomic(path, func(w io.Writer) error {
		io.WriteString(w, "partial")
		return errors.New("disk on fire")
	})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("writeAtomic = %v, want the write's error naming %s", err, path)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Errorf("%s holds %q, want the old content", path, got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in %s, want only out.json", len(entries), dir)
	}
}

// TestSaveCalibRefusesFIFO: convert --save-calib on a FIFO fails with exit 1 and one line
// naming it, and leaves the FIFO a FIFO.
func TestSaveCalibRefusesFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calib.json")
	must(t, syscall.Mkfifo(path, 0o644))
	code, _, errOut := runCLI(t, "convert", "--save-calib", path)
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, path+" is a named pipe (FIFO), not a regular file") {
		t.Errorf("exit %d, stderr %q; want 1 and one line naming %s", code, errOut, path)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("%s is no longer a FIFO: %v %v", path, fi.Mode(), err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
