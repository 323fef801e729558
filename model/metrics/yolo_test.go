package metrics_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"spikeyolo/model/metrics"
)

// A 640 × 480 image. Values are multiples of 1/8 so the pixels are exact.
const yoloLabels = "0 0.5 0.5 0.25 0.5\n" +
	"\n" +
	"  3 0.25 0.75 0.5 0.25 \r\n" +
	"2 1.0000001 0.5 0 0\n"

func TestParseYOLO(t *testing.T) {
	objs, err := metrics.ParseYOLO(strings.NewReader(yoloLabels), "labels/000005.txt", 640, 480)
	if err != nil {
		t.Fatal(err)
	}
	want := []metrics.Object{
		// x: (0.5 ∓ 0.125)*640 = 240, 400; y: (0.5 ∓ 0.25)*480 = 120, 360.
		{Image: "000005", Class: 0, Box: metrics.Box{Left: 240, Top: 120, Right: 400, Bottom: 360}},
		// x: (0.25 ∓ 0.25)*640 = 0, 320; y: (0.75 ∓ 0.125)*480 = 300, 420.
		{Image: "000005", Class: 3, Box: metrics.Box{Left: 0, Top: 300, Right: 320, Bottom: 420}},
		// cx 1.0000001 is within 1e-6 of 1: clamped to 1, x = 640; y = 0.5*480 = 240.
		{Image: "000005", Class: 2, Box: metrics.Box{Left: 640, Top: 240, Right: 640, Bottom: 240}},
	}
	if !slices.Equal(objs, want) {
		t.Errorf("ParseYOLO = %v, want %v", objs, want)
	}

	objs, err = metrics.ParseYOLO(strings.NewReader("\n \n"), "empty.txt", 640, 480)
	if err != nil || len(objs) != 0 {
		t.Errorf("ParseYOLO(blank) = %v, %v; want [], nil", objs, err)
	}
}

func TestParseYOLOErrors(t *testing.T) {
	tests := []struct {
		name, text string
		w, h       int
		want       string
	}{
		{"4 fields", "0 0.5 0.5 0.5\n", 640, 480, `x.txt:1: expected 5 fields "class cx cy w h", got 4`},
		{"6 fields on line 3", "0 0.5 0.5 0.5 0.5\n\n0 0.5 0.5 0.5 0.5 7\n", 640, 480, "x.txt:3: expected 5 fields"},
		{"negative class", "-1 0.5 0.5 0.5 0.5", 640, 480, `x.txt:1: class: expected a non-negative integer, got "-1"`},
		{"fractional class", "1.0 0.5 0.5 0.5 0.5", 640, 480, `x.txt:1: class: expected a non-negative integer, got "1.0"`},
		{"non-number", "0 a 0.5 0.5 0.5", 640, 480, `x.txt:1: cx: expected a number in [0, 1], got "a"`},
		{"above 1", "0 0.5 1.1 0.5 0.5", 640, 480, `x.txt:1: cy: expected a number in [0, 1], got "1.1"`},
		{"below 0", "0 0.5 0.5 0.5 -0.01", 640, 480, `x.txt:1: h: expected a number in [0, 1], got "-0.01"`},
		{"NaN", "0 0.5 0.5 NaN 0.5", 640, 480, `x.txt:1: w: expected a number in [0, 1], got "NaN"`},
		{"Inf", "0 0.5 0.5 0.5 +Inf", 640, 480, `x.txt:1: h: expected a number in [0, 1]`},
		{"line too long", "0 0.5 0.5 0.5 0.5\n" + strings.Repeat(" ", 1<<17), 640, 480, "x.txt:2: "},
		{"zero width image", "0 0.5 0.5 0.5 0.5", 0, 480, "x.txt: expected a positive image size, got 0x480"},
	}
	for _, tc := range tests {
		_, err := metrics.ParseYOLO(strings.NewReader(tc.text), "x.txt", tc.w, tc.h)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestReadYOLO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "000005.txt")
	if err := os.WriteFile(path, []byte(yoloLabels+"0 0.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// yoloLabels has 4 lines; the bad one is line 5.
	if _, err := metrics.ReadYOLO(path, 640, 480); err == nil || !strings.Contains(err.Error(), path+":5: ") {
		t.Errorf("ReadYOLO: error %v; want one containing %q", err, path+":5: ")
	}
	if err := os.WriteFile(path, []byte(yoloLabels), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := metrics.ReadYOLO(path, 640, 480)
	if err != nil || len(objs) != 3 || objs[0].Image != "000005" {
		t.Errorf("ReadYOLO = %v, %v; want 3 objects of image \"000005\"", objs, err)
	}
	missing := filepath.Join(t.TempDir(), "missing.txt")
	if _, err := metrics.ReadYOLO(missing, 640, 480); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("ReadYOLO(missing file): error %v; want one naming %s", err, missing)
	}
}

func FuzzParseYOLO(f *testing.F) {
	f.Add(yoloLabels, uint16(640), uint16(480))
	f.Add("0 0 0 1 1\n1 1 1 0.000001 1e-7\n", uint16(1), uint16(65535))
	f.Add("0 0.5 0.5 0.5\n", uint16(0), uint16(1))
	f.Fuzz(func(t *testing.T, text string, w, h uint16) {
		objs, err := metrics.ParseYOLO(strings.NewReader(text), "fuzz.txt", int(w), int(h))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.txt:") {
				t.Errorf("error %q does not start with the name", err)
			}
			return
		}
		for _, o := range objs {
			checkBox(t, o.Box)
			if o.Image != "fuzz" || o.Class < 0 {
				t.Errorf("object %+v: want image \"fuzz\" and class >= 0", o)
			}
		}
	})
}
