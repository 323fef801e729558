package metrics

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// yoloEpsilon is how far outside [0, 1] a relative YOLO value may lie (from
// rounding in the tool that wrote it) before ParseYOLO rejects it. Accepted
// values are clamped to [0, 1].
const yoloEpsilon = 1e-6

// ReadYOLO reads the darknet/YOLO label file at path; see ParseYOLO.
func ReadYOLO(path string, imageW, imageH int) ([]Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseYOLO(f, path, imageW, imageH)
}

// ParseYOLO parses darknet/YOLO labels read from r for an image of
// imageW × imageH pixels. name, usually the label file's path, is used in
// error messages ("name:line: ...") and gives the image key stored in every
// returned Object: its base name without extension ("labels/000005.txt"
// gives "000005").
//
// Each non-blank line is one object, "class cx cy w h": a non-negative
// integer class index, then the box centre, width and height relative to the
// image size, each in [0, 1] (values up to 1e-6 outside are accepted and
// clamped). They are converted to pixels with Left = (cx-w/2)*imageW,
// Right = (cx+w/2)*imageW, and likewise for Top and Bottom with imageH; boxes
// are not clipped to the image.
func ParseYOLO(r io.Reader, name string, imageW, imageH int) ([]Object, error) {
	if imageW <= 0 || imageH <= 0 {
		return nil, fmt.Errorf("%s: expected a positive image size, got %dx%d", name, imageW, imageH)
	}
	image := strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	W, H := float64(imageW), float64(imageH)
	var objs []Object
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 5 {
			return nil, fmt.Errorf("%s:%d: expected 5 fields \"class cx cy w h\", got %d", name, line, len(f))
		}
		class, err := strconv.Atoi(f[0])
		if err != nil || class < 0 {
			return nil, fmt.Errorf("%s:%d: class: expected a non-negative integer, got %q", name, line, f[0])
		}
		var v [4]float64 // cx, cy, w, h
		for j, s := range f[1:] {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil || !(x >= -yoloEpsilon && x <= 1+yoloEpsilon) {
				field := [4]string{"cx", "cy", "w", "h"}[j]
				return nil, fmt.Errorf("%s:%d: %s: expected a number in [0, 1], got %q", name, line, field, s)
			}
			v[j] = min(max(x, 0), 1)
		}
		cx, cy, w, h := v[0], v[1], v[2], v[3]
		objs = append(objs, Object{
			Image: image,
			Class: class,
			Box:   Box{Left: (cx - w/2) * W, Top: (cy - h/2) * H, Right: (cx + w/2) * W, Bottom: (cy + h/2) * H},
		})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return objs, nil
}
