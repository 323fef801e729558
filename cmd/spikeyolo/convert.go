package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"spikeyolo/core"
	"spikeyolo/mapper"
	"spikeyolo/model/preprocess"
)

func runConvert(args []string, stdout, stderr io.Writer) error {
	var mf modelFlags
	var cf convFlags
	var saveCalib, resize string
	fs := newFlags("convert", "[flags]", "Converts a detector into a spiking network and prints, per layer, its neurons, normalization\nfactors and thresholds.", stdout)
	mf.register(fs)
	cf.register(fs)
	fs.StringVar(&resize, "resize", "plain", "fit calibration images to the network input: plain or letterbox")
	fs.StringVar(&saveCalib, "save-calib", "", "write the calibration to `FILE` (JSON) for --calib")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	mode, err := preprocess.ParseMode(resize)
	if err != nil {
		return usagef("--resize: %v", err)
	}
	m, err := mf.load()
	if err != nil {
		return err
	}
	cv, cal, err := convertModel(m, &cf, mode)
	if err != nil {
		return err
	}
	if saveCalib != "" {
		if err := writeAtomic(saveCalib, func(w io.Writer) error { return mapper.WriteCalibration(w, cal) }); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "model %s, calibration: %d images at percentile %v; options %+v\n", m.name, cal.Images, cal.Percentile, cv.Options)
	fmt.Fprintf(stdout, "%5s  %-26s %-11s %9s %5s %23s %15s\n", "chip", "model layer", "kind", "neurons", "onset", "lambda min/median/max", "theta min/max")
	for i, l := range cv.Net.Layers {
		src := cv.Source[i]
		lam := slices.Clone(cv.Lambda[src])
		slices.Sort(lam)
		th := "-"
		kind := l.Kind.String()
		if len(l.Threshold) > 0 {
			pos := make([]int64, len(l.Threshold))
			for c, t := range l.Threshold {
				pos[c] = t.Pos
			}
			th = fmt.Sprintf("%d/%d", slices.Min(pos), slices.Max(pos))
			if l.Kind == core.Signed && l.Threshold[0].Neg != l.Threshold[0].Pos {
				kind = "ibt"
			}
		}
		fmt.Fprintf(stdout, "%5d  %-26s %-11s %9d %5d %7.3g %7.3g %7.3g %15s\n", i, l.Name, kind, l.Shape.Size(), l.Onset,
			lam[0], lam[len(lam)/2], lam[len(lam)-1], th)
	}
	fmt.Fprintf(stdout, "%d chip layers, %d neurons, %d analog MACs per image, %d weights clipped to %d bits\n",
		len(cv.Net.Layers), cv.Net.Neurons(), cv.AnalogMACs(), cv.Clipped, cv.Options.WeightBits)
	return nil
}

// convertModel calibrates (or loads the calibration of) m and converts it.
func convertModel(m *loadedModel, cf *convFlags, mode preprocess.Mode) (*mapper.Converted, *mapper.Calibration, error) {
	opt, err := cf.options()
	if err != nil {
		return nil, nil, err
	}
	cal, err := cf.calibration(m, mode)
	if err != nil {
		return nil, nil, err
	}
	cv, err := mapper.Convert(m.net, cal, opt)
	return cv, cal, err
}

// writeAtomic writes a file whole or not at all: into a temporary file beside it, synced to
// disk, then renamed over it. It replaces only a regular file (or creates one): a symbolic
// link is written through, atomically beside its final target, and anything else at path (a
// directory, a device, a FIFO, a socket) is refused with an error naming path, never replaced.
// An existing file keeps its permissions; a new one gets 0644.
func writeAtomic(path string, write func(w io.Writer) error) error {
	target, perm, err := outputTarget(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".*")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	fail := func(err error) error {
		tmp.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := write(tmp); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// Between the check and the rename something else may have taken target's place: check
	// again, as close to the rename as the file system lets us.
	if _, _, err := outputTarget(target); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// The rename is durable once the directory is synced; a file system that cannot sync a
	// directory has no more to give.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// outputTarget is the file writeAtomic replaces for path: path itself, or the final target
// of the symbolic links path names, and the permissions the new file takes. It refuses, with
// an error naming path, anything that is not a regular file or absent.
func outputTarget(path string) (target string, perm os.FileMode, err error) {
	target = path
	for hops := 0; ; hops++ {
		fi, err := os.Lstat(target)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return target, 0o644, nil
		case err != nil:
			return "", 0, err
		case fi.Mode().IsRegular():
			return target, fi.Mode().Perm(), nil
		case fi.Mode()&os.ModeSymlink == 0:
			what := "is " + fileKind(fi.Mode())
			if target != path {
				what = fmt.Sprintf("links to %s, which is %s", target, fileKind(fi.Mode()))
			}
			return "", 0, fmt.Errorf("%s %s, not a regular file: refusing to replace it", path, what)
		case hops == 40: // as Linux's MAXSYMLINKS
			return "", 0, fmt.Errorf("%s: too many levels of symbolic links", path)
		}
		link, err := os.Readlink(target)
		if err != nil {
			return "", 0, err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(target), link)
		}
		target = link
	}
}

// fileKind names the type of a file that is not a regular file or a symbolic link.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "a file of type " + m.Type().String()
}
