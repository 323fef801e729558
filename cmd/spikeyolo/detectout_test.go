package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestDetectOut: detect --out draws each image with its boxes in its class's colour, names
// two images of one name apart, and writes run_summary.json with the configuration's hash,
// the detections and, on the chip, the energy and the time model's parts.
func TestDetectOut(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded model three times")
	}
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "detect", "--dnn", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var s summaryRead
	read := func(path string) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	read(filepath.Join(dir, "run_summary.json"))
	if len(s.Hash) != 16 || s.Config["dnn"] != "true" || len(s.Images) != 1 || s.Images[0].Annotated != "dog.png" || len(s.Images[0].Detections) < 3 {
		t.Fatalf("run_summary.json: %+v", s)
	}
	f, err := os.Open(filepath.Join(dir, "dog.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	im, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := im.Bounds(); b.Dx() != 768 || b.Dy() != 576 {
		t.Errorf("dog.png is %v, want the image's 768x576", b)
	}
	for _, d := range s.Images[0].Detections {
		// The box's left edge, half way down: the class's colour.
		x, y := int(d.Box[0]), int((d.Box[1]+d.Box[3])/2)
		if r, g, b, _ := im.At(x, y).RGBA(); [3]uint32{r >> 8, g >> 8, b >> 8} != [3]uint32{uint32(classColor(d.ClassID).R), uint32(classColor(d.ClassID).G), uint32(classColor(d.ClassID).B)} {
			t.Errorf("%s: pixel (%d,%d) is %d,%d,%d, not its box's colour", d.Class, x, y, r>>8, g>>8, b>>8)
		}
	}
	firstHash := s.Hash

	chipDir := t.TempDir()
	dog := filepath.Join(chipDir, "dog.png")
	if err := os.Link(filepath.Join(dir, "dog.png"), dog); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(chipDir, "out")
	if code, _, errOut := runCLI(t, "detect", "--timesteps", "8", "--out", out, dog, dog); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	s = summaryRead{}
	read(filepath.Join(out, "run_summary.json"))
	if s.Hash == firstHash || s.Architecture != "loihi" || len(s.Images) != 2 || s.Images[0].Annotated != "dog.png" || s.Images[1].Annotated != "dog-2.png" {
		t.Fatalf("run_summary.json of two chip runs: %+v", s)
	}
	for _, im := range s.Images {
		if im.Energy == nil || im.Energy.Total <= 0 || im.Time == nil || im.Time.Frame <= 0 || im.Time.Frame < im.Time.Compute {
			t.Errorf("%s: energy %+v, time %+v", im.Annotated, im.Energy, im.Time)
		}
		if _, err := os.Stat(filepath.Join(out, im.Annotated)); err != nil {
			t.Error(err)
		}
	}
}

// summaryRead is what the test reads back of run_summary.json.
type summaryRead struct {
	Hash   string            `json:"configuration_hash"`
	Config map[string]string `json:"configuration"`
	Images []struct {
		Annotated  string
		Detections []jsonDetection
		Energy     *jsonEnergy
		Time       *struct{ Frame, Compute, Network, Barrier float64 } `json:"time_s"`
	}
	Architecture string
}
