package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spikeyolo/model/zoo"
)

// TestEvalLabels: with the float network's own detections as an image's YOLO labels, eval
// gives the float network an mAP@0.5 of 1 (and a COCO mAP near 1: the labels are rounded to
// a tenth of a pixel) and the spiking one its fidelity, side by side, with the chip's energy
// per frame (detect's); a label line that does not parse is named with its file and line.
func TestEvalLabels(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded model three times")
	}
	dir := t.TempDir()
	dog := filepath.Join(dir, "dog.jpg")
	if err := os.WriteFile(dog, zoo.DogJPEG(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "detect", "--dnn", "--json", dog)
	if code != 0 {
		t.Fatalf("detect: exit %d: %s", code, errOut)
	}
	var d jsonImage
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Detections) < 3 {
		t.Fatalf("the float network finds %d objects on dog.jpg", len(d.Detections))
	}
	var labels strings.Builder
	for _, o := range d.Detections {
		l, tp, r, b := o.Box[0], o.Box[1], o.Box[2], o.Box[3]
		fmt.Fprintf(&labels, "%d %.6f %.6f %.6f %.6f\n", o.ClassID, (l+r)/2/float64(d.Width), (tp+b)/2/float64(d.Height), (r-l)/float64(d.Width), (b-tp)/float64(d.Height))
	}
	if err := os.WriteFile(filepath.Join(dir, "dog.txt"), []byte(labels.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "eval", "--timesteps", "8,16", "--json", "--engine", "chip", dir)
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("eval printed %d lines, want one per checkpoint:\n%s", len(lines), out)
	}
	for _, line := range lines {
		var p struct {
			Images      int     `json:"labelled_images"`
			Objects     int     `json:"labelled_objects"`
			Float       float64 `json:"float_map50"`
			Spiking     float64 `json:"spiking_map50"`
			FloatCOCO   float64 `json:"float_coco_map"`
			SpikingCOCO float64 `json:"spiking_coco_map"`
			Fidelity    float64 `json:"fidelity_map"`
			Ticks       int     `json:"timesteps"`
			Energy      float64 `json:"energy_per_frame_j"`
		}
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatal(err)
		}
		// The labels are the float detections the fidelity takes as its truth: the spiking
		// network's mAP@0.5 against them is its fidelity.
		if p.Images != 1 || p.Objects != len(d.Detections) || p.Float != 1 || p.FloatCOCO < 0.99 || p.Spiking != p.Fidelity || p.SpikingCOCO > p.Spiking {
			t.Errorf("eval against the labels: %s", line)
		}
		// The chip prices the run, as long as the last checkpoint: its energy equals detect's.
		if (p.Ticks == 16) != (p.Energy > 0) {
			t.Errorf("energy per frame %v at %d ticks: want it at the last checkpoint only", p.Energy, p.Ticks)
		}
		if p.Ticks == 16 {
			code, out, errOut := runCLI(t, "detect", "--json", "--timesteps", "16", dog)
			var d jsonImage
			if code != 0 || json.Unmarshal([]byte(out), &d) != nil || d.Energy.Total != p.Energy {
				t.Errorf("eval's energy per frame %v, detect's at 16 ticks %+v (exit %d, %s)", p.Energy, d.Energy, code, errOut)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "dog.txt"), []byte(labels.String()+"16 0.5 0.5 0.2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "eval", "--timesteps", "8", dir)
	if want := fmt.Sprintf("dog.txt:%d", len(d.Detections)+1); code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("a label line of four fields: exit %d, %q; want 1 naming %s", code, errOut, want)
	}
	// A --labels folder that is missing, or holds no image's labels, is an error, not an
	// evaluation without labels.
	empty := t.TempDir()
	for _, c := range []struct {
		dir  string
		exit int
	}{{filepath.Join(empty, "missing"), 2}, {empty, 1}} {
		code, _, errOut := runCLI(t, "eval", "--timesteps", "8", "--labels", c.dir, dir)
		if code != c.exit || !strings.Contains(errOut, "--labels "+c.dir) {
			t.Errorf("--labels %s: exit %d, %q; want %d naming it", c.dir, code, errOut, c.exit)
		}
	}
}
