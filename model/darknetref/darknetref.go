// Package darknetref reads what the original darknet computed on the project's test data
// (the folder shared/data beside the repository, or $SPIKEYOLO_DATA): the trained models,
// the sample images and darknet's outputs on them. Tests use it as their reference; they skip,
// with a message, where the data is absent (a user's clone does not have it), and fail instead
// when $SPIKEYOLO_REQUIRE_DATA is set (CI, which always has the data, sets it so that no test
// skips there unnoticed).
//
// The data is read-only: nothing here writes to it.
package darknetref

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"spikeyolo/model/preprocess"
)

// Model names a trained detector of the test data.
type Model struct {
	Name                string // folder under models/ and reference/
	Cfg, Weights, Names string // paths
}

// Models are the trained detectors, smallest first.
func Models(dir string) []Model {
	m := func(name, cfg, weights, names string) Model {
		d := filepath.Join(dir, "models", name)
		return Model{name, filepath.Join(d, cfg), filepath.Join(d, weights), filepath.Join(d, names)}
	}
	return []Model{
		m("yolo-lite-voc", "tiny-yolov2-trial3-noBatch.cfg", "tiny-yolov2-trial3-noBatch.weights", "voc.names"),
		m("yolo-lite-voc-bn", "tiny-yolov2-trial3.cfg", "tiny-yolov2-trial3.weights", "voc.names"),
		m("yolo-fastest-1.1-coco", "yolo-fastest-1.1.cfg", "yolo-fastest-1.1.weights", "coco.names"),
	}
}

// Images are the names of the sample images (images/<name>.jpg, reference/decoded/<name>.decoded.png);
// dog comes first.
var Images = []string{"dog", "eagle", "giraffe", "horses", "kite", "person", "scream"}

// Find returns the data folder: $SPIKEYOLO_DATA, or shared/data in the working directory or
// one of its parents' siblings (the layout of the project's machines).
func Find() (string, bool) {
	if d := os.Getenv("SPIKEYOLO_DATA"); d != "" {
		return d, isData(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; d = filepath.Dir(d) {
		for _, c := range []string{filepath.Join(d, "shared", "data"), filepath.Join(d, "data")} {
			if isData(c) {
				return c, true
			}
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

func isData(d string) bool {
	_, err := os.Stat(filepath.Join(d, "reference", "decoded"))
	return err == nil
}

// Dir returns the data folder. When it is absent the test skips, or fails if
// $SPIKEYOLO_REQUIRE_DATA is set.
func Dir(tb testing.TB) string {
	tb.Helper()
	d, ok := Find()
	if !ok {
		const msg = "darknet reference data not found: set SPIKEYOLO_DATA or place shared/data beside the repository"
		if os.Getenv("SPIKEYOLO_REQUIRE_DATA") != "" {
			tb.Fatal(msg + " ($SPIKEYOLO_REQUIRE_DATA is set)")
		}
		tb.Skip(msg)
	}
	return d
}

// ReadF32 reads a file of little-endian float32 values.
func ReadF32(path string) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%s: %d bytes is not a whole number of float32", path, len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// Det is one line of a <image>.dets.txt file: a (box, class) that darknet reported.
type Det struct {
	Class                    string
	Prob, Objectness         float64
	X, Y, W, H               float64 // relative to the image
	Left, Top, Right, Bottom int     // pixels, clipped
}

// ReadDets reads a <image>.dets.txt file. Class names may contain spaces: fields are taken
// from the right.
func ReadDets(path string) ([]Det, error) {
	var dets []Det
	err := eachLine(path, func(line string, n int) error {
		f := strings.Fields(line)
		if len(f) < 11 {
			return fmt.Errorf("%s:%d: %d fields, want 11", path, n, len(f))
		}
		k := len(f) - 10
		d := Det{Class: strings.Join(f[:k], " ")}
		fl := make([]float64, 10)
		for i := range fl {
			v, err := strconv.ParseFloat(f[k+i], 64)
			if err != nil {
				return fmt.Errorf("%s:%d: %v", path, n, err)
			}
			fl[i] = v
		}
		d.Prob, d.Objectness, d.X, d.Y, d.W, d.H = fl[0], fl[1], fl[2], fl[3], fl[4], fl[5]
		d.Left, d.Top, d.Right, d.Bottom = int(fl[6]), int(fl[7]), int(fl[8]), int(fl[9])
		dets = append(dets, d)
		return nil
	})
	return dets, err
}

// LayerStat is one line of a <image>.layers.txt file: a layer's output shape and statistics.
type LayerStat struct {
	Index          int
	Type           string
	C, H, W        int
	Min, Max, Mean float64
}

// ReadLayers reads a <image>.layers.txt file.
func ReadLayers(path string) ([]LayerStat, error) {
	var stats []LayerStat
	err := eachLine(path, func(line string, n int) error {
		var s LayerStat
		if _, err := fmt.Sscan(line, &s.Index, &s.Type, &s.C, &s.H, &s.W, &s.Min, &s.Max, &s.Mean); err != nil {
			return fmt.Errorf("%s:%d: %v", path, n, err)
		}
		stats = append(stats, s)
		return nil
	})
	return stats, err
}

// eachLine calls fn on every line that is not blank or a '#' comment.
func eachLine(path string, fn func(line string, n int) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if err := fn(line, n); err != nil {
			return err
		}
	}
	return sc.Err()
}

// SampleInputs loads the sample images (images/<name>.jpg, in the order of Images) resized
// to w×h by darknet's plain resize: network inputs.
func SampleInputs(dir string, w, h int) ([][]float32, error) {
	var inputs [][]float32
	for _, name := range Images {
		im, err := preprocess.Load(filepath.Join(dir, "images", name+".jpg"))
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, im.Resize(w, h).Data)
	}
	return inputs, nil
}
