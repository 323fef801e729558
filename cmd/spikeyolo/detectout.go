package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"spikeyolo/chip"
	"spikeyolo/model/preprocess"
)

// annotate draws an image's detections on it: each box in its class's colour, two pixels
// wide, with the class name and score on a band of that colour above it (inside the image).
func annotate(im preprocess.Image, dets []jsonDetection) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, im.W, im.H))
	plane := im.W * im.H
	for y := range im.H {
		for x := range im.W {
			at := y*im.W + x
			out.SetRGBA(x, y, color.RGBA{level(im.Data[at]), level(im.Data[plane+at]), level(im.Data[2*plane+at]), 255})
		}
	}
	face := basicfont.Face7x13
	for _, d := range dets {
		c := classColor(d.ClassID)
		l, t, r, b := int(d.Box[0]), int(d.Box[1]), int(d.Box[2]), int(d.Box[3])
		for w := range 2 {
			box := image.Rect(l+w, t+w, r-w, b-w)
			for _, edge := range []image.Rectangle{
				image.Rect(box.Min.X, box.Min.Y, box.Max.X, box.Min.Y+1), image.Rect(box.Min.X, box.Max.Y-1, box.Max.X, box.Max.Y),
				image.Rect(box.Min.X, box.Min.Y, box.Min.X+1, box.Max.Y), image.Rect(box.Max.X-1, box.Min.Y, box.Max.X, box.Max.Y),
			} {
				draw.Draw(out, edge.Intersect(out.Bounds()), image.NewUniform(c), image.Point{}, draw.Src)
			}
		}
		text := fmt.Sprintf("%s %.0f%%", d.Class, 100*d.Score)
		width := font.MeasureString(face, text).Ceil() + 4
		top := max(0, t-face.Height)
		band := image.Rect(l, top, l+width, top+face.Height).Intersect(out.Bounds())
		draw.Draw(out, band, image.NewUniform(c), image.Point{}, draw.Src)
		dr := font.Drawer{Dst: out, Src: image.White, Face: face, Dot: fixed.P(l+2, top+face.Ascent)}
		dr.DrawString(text)
	}
	return out
}

// level is a colour channel in [0, 1] as 8 bits.
func level(v float32) uint8 { return uint8(math.Round(float64(min(max(v, 0), 1)) * 255)) }

// classColor is a dark, saturated colour per class (white text stays legible on it).
func classColor(class int) color.RGBA {
	palette := []color.RGBA{{200, 30, 30, 255}, {30, 120, 200, 255}, {20, 140, 60, 255}, {150, 50, 170, 255},
		{210, 110, 0, 255}, {0, 130, 130, 255}, {120, 90, 30, 255}, {190, 30, 120, 255}}
	return palette[class%len(palette)]
}

// writePNG writes an image as PNG.
func writePNG(w io.Writer, im image.Image) error { return png.Encode(w, im) }

// runSummary is run_summary.json: what a detect run did, with what, and what it cost.
type runSummary struct {
	Version      string            `json:"version"`       // the program's module version and VCS revision
	Config       map[string]string `json:"configuration"` // every flag's value
	ConfigHash   string            `json:"configuration_hash"`
	Architecture string            `json:"architecture,omitempty"`
	Images       []summaryImage    `json:"images"`
}

// summaryImage is one image of a run: detect --json's object, its annotated image, and the
// time model's parts.
type summaryImage struct {
	*jsonImage
	Annotated string       `json:"annotated"`
	Time      *chip.Timing `json:"time_s,omitempty"`
}

// newRunSummary records the flags and the program's version.
func newRunSummary(fs *pflag.FlagSet) *runSummary {
	s := &runSummary{Config: map[string]string{}, Version: "unknown"}
	h := sha256.New()
	fs.VisitAll(func(f *pflag.Flag) {
		s.Config[f.Name] = f.Value.String()
		fmt.Fprintf(h, "--%s=%s\n", f.Name, f.Value.String())
	})
	fmt.Fprintf(h, "%s\n", strings.Join(fs.Args(), "\n"))
	s.ConfigHash = hex.EncodeToString(h.Sum(nil)[:8])
	if bi, ok := debug.ReadBuildInfo(); ok {
		s.Version = bi.Main.Version
		for _, kv := range bi.Settings {
			if kv.Key == "vcs.revision" {
				s.Version += " " + kv.Value
			}
		}
	}
	return s
}

// annotatedName is the file an image's drawing goes to: its base name as PNG, numbered when
// two images share it.
func annotatedName(path string, taken map[string]bool) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	name := base + ".png"
	for i := 2; taken[name]; i++ {
		name = fmt.Sprintf("%s-%d.png", base, i)
	}
	taken[name] = true
	return name
}

func (s *runSummary) write(w io.Writer) error { return writeJSON(w, s) }
