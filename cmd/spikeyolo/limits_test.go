package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spikeyolo/model/preprocess"
)

// hugePNG writes a PNG of a few dozen bytes whose header declares w × h pixels.
func hugePNG(t *testing.T, w, h uint32) string {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	binary.BigEndian.PutUint32(b[16:], w) // IHDR: width, height, then its CRC at 29
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	path := filepath.Join(t.TempDir(), "huge.png")
	must(t, os.WriteFile(path, b, 0o644))
	return path
}

// deepCfg writes the cfg (1.4 KB) and weights of twenty 1×1 convolutions of 16 × 4096 × 4096
// (1 GiB of output each): 20 GiB kept whole, 2 GiB for the heads alone.
func deepCfg(t *testing.T) (cfg, weights string) {
	t.Helper()
	text := "[net]\nwidth=4096\nheight=4096\nchannels=16\n\n" +
		strings.Repeat("[convolutional]\nfilters=16\nsize=1\nstride=1\npad=0\nactivation=leaky\n\n", 20)
	dir := t.TempDir()
	cfg, weights = filepath.Join(dir, "deep.cfg"), filepath.Join(dir, "deep.weights")
	must(t, os.WriteFile(cfg, []byte(text), 0o644))
	// Version 0.2.0, seen (int64), then per layer 16 biases and 16 × 16 weights, all 0.
	must(t, os.WriteFile(weights, make([]byte, 20+4*20*(16+16*16)), 0o644))
	data, _ := os.ReadFile(weights)
	binary.LittleEndian.PutUint32(data[4:], 2)
	must(t, os.WriteFile(weights, data, 0o644))
	return cfg, weights
}

// TestOversizedInputsRefused: an image or a network too large for the limits is refused by
// every command that would load it: exit 1 (bad input, not the usage error Go's fatal
// out-of-memory would give), one line naming the file, what it holds and the limit, fast and
// before the allocation.
func TestOversizedInputsRefused(t *testing.T) {
	t.Cleanup(func() { preprocess.MaxPixels = preprocess.DefaultMaxPixels })
	huge := hugePNG(t, 60000, 60000)
	deep, deepWeights := deepCfg(t)
	tests := []struct {
		name string
		args []string
		want []string // in the error line
	}{
		{"detect --dnn, 60000² PNG", []string{"detect", "--dnn", huge}, []string{huge, "60000 × 60000", "limit of 67108864 pixels"}},
		{"eval, 60000² PNG", []string{"eval", huge}, []string{huge, "60000 × 60000", "limit of 67108864 pixels"}},
		{"convert --calib, 60000² PNG", []string{"convert", "--weights", "random", "--calib", huge}, []string{huge, "60000 × 60000"}},
		{"detect, --max-pixels below dog.jpg", []string{"detect", "--dnn", "--max-pixels", "442367"}, []string{"768 × 576", "limit of 442367 pixels"}},
		{"detect --dnn, deep cfg", []string{"detect", "--dnn", "--model", deep, "--weights", deepWeights},
			[]string{deep, "holds 2 GiB", deep + ":6", "4096x4096x16", "limit of 1 GiB", "--max-memory"}},
		// Drawing random weights runs the whole network, keeping every output.
		{"detect --dnn, deep cfg, random weights", []string{"detect", "--dnn", "--model", deep, "--weights", "random"}, []string{deep, "holds 20 GiB"}},
		{"inspect, deep cfg, random weights", []string{"inspect", "--model", deep, "--weights", "random"}, []string{deep, "holds 20 GiB"}},
		{"convert, deep cfg, weights", []string{"convert", "--model", deep, "--weights", deepWeights, "--calib", huge}, []string{deep, "holds 20 GiB"}},
		{"convert, deep cfg", []string{"convert", "--model", deep, "--weights", "random"}, []string{deep, "holds 20 GiB", "--max-memory"}},
		{"map, deep cfg", []string{"map", "--model", deep, "--weights", "random"}, []string{deep, "holds 20 GiB", "--max-memory"}},
		{"eval, deep cfg", []string{"eval", "--model", deep, "--weights", "random", huge}, []string{deep, "holds 20 GiB"}},
		// The embedded Yolo-Fastest holds 31 MB, its heads alone 7 MB.
		{"detect --dnn, --max-memory 4M", []string{"detect", "--dnn", "--max-memory", "4M"}, []string{"yolo-fastest", "6.726 MiB", "limit of 4 MiB"}},
		{"convert, --max-memory 16MiB", []string{"convert", "--max-memory", "16MiB"}, []string{"yolo-fastest", "29.75 MiB", "limit of 16 MiB"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			code, _, errOut := runCLI(t, tc.args...)
			if code != 1 || strings.Count(errOut, "\n") != 1 {
				t.Fatalf("exit %d, stderr %q; want 1 and one line", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("%q does not say %q", errOut, w)
				}
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
}

// TestLimitsRaised: the limits are flags; at or above what the input needs, it runs.
func TestLimitsRaised(t *testing.T) {
	t.Cleanup(func() { preprocess.MaxPixels = preprocess.DefaultMaxPixels })
	for _, args := range [][]string{
		{"detect", "--dnn", "--max-pixels", "442368"}, // 768 × 576
		{"detect", "--dnn", "--max-memory", "8M"},
	} {
		if code, out, errOut := runCLI(t, args...); code != 0 || !strings.Contains(out, "dog.jpg") {
			t.Errorf("%v: exit %d, %s%s", args, code, out, errOut)
		}
	}
	deep, deepWeights := deepCfg(t)
	if code, _, errOut := runCLI(t, "inspect", "--model", deep, "--weights", deepWeights); code != 0 {
		t.Errorf("inspect of the deep cfg: exit %d, %s (inspect runs nothing: no limit)", code, errOut)
	}
}

// TestLimitFlagsInvalid: a limit that is not a positive size is a usage error.
func TestLimitFlagsInvalid(t *testing.T) {
	t.Cleanup(func() { preprocess.MaxPixels = preprocess.DefaultMaxPixels })
	for _, args := range [][]string{
		{"detect", "--max-pixels", "0"}, {"detect", "--max-pixels", "-5"},
		{"detect", "--max-memory", "0"}, {"detect", "--max-memory", "-1G"}, {"detect", "--max-memory", "lots"},
		{"detect", "--max-memory", "1Q"}, {"detect", "--max-memory", "NaN"}, {"detect", "--max-memory", "9000000T"},
	} {
		if code, _, errOut := runCLI(t, args...); code != 2 || !strings.Contains(errOut, "--max-") {
			t.Errorf("%v: exit %d, %q; want a usage error naming the flag", args, code, errOut)
		}
	}
}

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want byteSize
		out  string
	}{
		{"1073741824", 1 << 30, "1 GiB"}, {"1G", 1 << 30, "1 GiB"}, {"1GiB", 1 << 30, "1 GiB"}, {"1gb", 1 << 30, "1 GiB"},
		{"1536M", 1536 << 20, "1.5 GiB"}, {"512k", 512 << 10, "512 KiB"}, {"0.5T", 1 << 39, "512 GiB"}, {"100B", 100, "100 B"},
	} {
		var b byteSize
		if err := b.Set(tc.in); err != nil || b != tc.want || b.String() != tc.out {
			t.Errorf("%q: %d %q (%v), want %d %q", tc.in, b, b.String(), err, tc.want, tc.out)
		}
	}
}

// TestHeadlessRefused: detect, eval and map need a detection head; a cfg without one is
// refused in one line naming it (it ran under --dnn and found nothing before).
func TestHeadlessRefused(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "backbone.cfg", []byte("[net]\nwidth=32\nheight=32\nchannels=3\n[convolutional]\nfilters=4\nsize=3\npad=1\nactivation=leaky\n"))
	for _, args := range [][]string{
		{"detect", "--dnn", "--model", cfg, "--weights", "random"},
		{"map", "--model", cfg, "--weights", "random"},
	} {
		code, _, errOut := runCLI(t, args...)
		if code != 1 || !strings.Contains(errOut, "backbone.cfg") || !strings.Contains(errOut, "no [region] or [yolo] head") {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
		}
	}
}
