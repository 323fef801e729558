package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spikeyolo/model/zoo"
)

// TestDetectSequence: detect --sequence runs a graded network over frames in order, keeping
// its state: a frame that repeats the last sends nothing, a frame that moved sends less than
// the first, every frame reports its fidelity against the float network, and the last
// frame's detections equal those of the same frame detected alone (graded coding sends every
// change, so a resumed run ends where a fresh one does). Rate coding is refused, and so is
// --trim with --sequence, or with eval --layers.
func TestDetectSequence(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded model on four frames")
	}
	dog, _, err := image.Decode(bytes.NewReader(zoo.DogJPEG()))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Frames: the dog photo's left 700 columns, the same again, then panned 2 and 4 pixels.
	for k, x := range []int{0, 0, 2, 4} {
		frame := image.NewRGBA(image.Rect(0, 0, 700, 576))
		draw.Draw(frame, frame.Bounds(), dog, image.Pt(x, 0), draw.Src)
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%d.png", k)))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, frame); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	args := []string{"detect", "--coding", "graded", "--arch", "loihi2", "--timesteps", "110", "--json"}
	code, out, errOut := runCLI(t, append(append(args, "--sequence"), dir)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var frames []jsonImage
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var f jsonImage
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	if len(frames) != 4 {
		t.Fatalf("%d frames, want 4", len(frames))
	}
	for k, f := range frames {
		if f.Fidelity == nil {
			t.Errorf("frame %d: no fidelity", k)
		}
	}
	if m := frames; m[0].Messages == 0 || m[1].Messages != 0 || m[2].Messages == 0 || m[2].Messages >= m[0].Messages || m[3].Messages >= m[0].Messages {
		t.Errorf("messages per frame %d, %d, %d, %d: want the repeated frame silent and the moved ones below the first", m[0].Messages, m[1].Messages, m[2].Messages, m[3].Messages)
	}
	code, alone, errOut := runCLI(t, append(args, filepath.Join(dir, "f3.png"))...)
	if code != 0 {
		t.Fatalf("alone: exit %d: %s", code, errOut)
	}
	var single jsonImage
	if err := json.Unmarshal([]byte(alone), &single); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(frames[3].Detections)
	want, _ := json.Marshal(single.Detections)
	if len(single.Detections) == 0 || string(got) != string(want) {
		t.Errorf("the last frame's detections in the sequence %s, alone %s", got, want)
	}
	if code, _, errOut := runCLI(t, "detect", "--sequence", dir); code != 2 || !strings.Contains(errOut, "--coding graded") {
		t.Errorf("a rate-coded sequence: exit %d, %q", code, errOut)
	}
	// --trim stops layers before a run's end: not for a sequence's next frame, nor for eval's
	// per-layer errors.
	if code, _, errOut := runCLI(t, append(args, "--sequence", "--trim", dir)...); code != 2 || !strings.Contains(errOut, "--trim") {
		t.Errorf("a trimmed sequence: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "eval", "--trim", "--layers", filepath.Join(dir, "f0.png")); code != 2 || !strings.Contains(errOut, "--trim") {
		t.Errorf("eval --trim --layers: exit %d, %q", code, errOut)
	}
}
