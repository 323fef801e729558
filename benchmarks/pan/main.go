// Command pan makes a reproducible test video for detect --sequence (benchmarks/RESULTS.md,
// "Frame sequences"): a window of a photograph panning a few pixels per frame from its left
// edge to the right, written as PNG frames frame-000.png, frame-001.png, ... (lossless, so the
// frames differ only by the pan).
//
// Usage: go run ./benchmarks/pan -src PHOTO -out DIR [-frames 30] [-step 4] [-width W] [-height H]
package main

import (
	"flag"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg"
	"image/png"
	"os"
	"path/filepath"
)

func main() {
	src := flag.String("src", "", "the photograph (JPEG or PNG)")
	out := flag.String("out", "", "the folder for the frames (created if need be)")
	frames := flag.Int("frames", 30, "frames")
	step := flag.Int("step", 4, "pixels the window moves right per frame")
	width := flag.Int("width", 0, "window width (default: the photograph's, less the pan)")
	height := flag.Int("height", 0, "window height (default: the photograph's)")
	flag.Parse()
	if err := run(*src, *out, *frames, *step, *width, *height); err != nil {
		fmt.Fprintln(os.Stderr, "pan:", err)
		os.Exit(1)
	}
}

func run(src, out string, frames, step, width, height int) error {
	if src == "" || out == "" || frames < 1 || step < 0 {
		return fmt.Errorf("want -src PHOTO -out DIR, -frames >= 1 and -step >= 0")
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	photo, _, err := image.Decode(f)
	if err != nil {
		return fmt.Errorf("%s: %v", src, err)
	}
	b := photo.Bounds()
	pan := step * (frames - 1)
	if width == 0 {
		width = b.Dx() - pan
	}
	if height == 0 {
		height = b.Dy()
	}
	if width < 1 || height < 1 || width+pan > b.Dx() || height > b.Dy() {
		return fmt.Errorf("%s is %dx%d: a %dx%d window panning %d pixels does not fit", src, b.Dx(), b.Dy(), width, height, pan)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for k := range frames {
		frame := image.NewRGBA(image.Rect(0, 0, width, height))
		draw.Draw(frame, frame.Bounds(), photo, b.Min.Add(image.Pt(k*step, (b.Dy()-height)/2)), draw.Src)
		if err := writePNG(filepath.Join(out, fmt.Sprintf("frame-%03d.png", k)), frame); err != nil {
			return err
		}
	}
	return nil
}

// writePNG writes img to path whole or not at all.
func writePNG(path string, img image.Image) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".frame-*")
	if err != nil {
		return err
	}
	if err := png.Encode(tmp, img); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
