package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spikeyolo/model/zoo"
)

// TestWeightsFlag: --weights takes a file, random (seed 1) or random:SEED with SEED a
// decimal uint64; anything else after "random:" is a mistake.
func TestWeightsFlag(t *testing.T) {
	for _, c := range []struct {
		in     string
		file   string
		random bool
		seed   uint64
		bad    bool
	}{
		{in: "yolo.weights", file: "yolo.weights"},
		{in: "./random", file: "./random"},
		{in: "randomness.weights", file: "randomness.weights"},
		{in: "random", random: true, seed: 1},
		{in: "random:42", random: true, seed: 42},
		{in: "random:0", random: true, seed: 0},
		{in: "random:007", random: true, seed: 7},
		{in: "random:18446744073709551615", random: true, seed: 1<<64 - 1},
		{in: "random:", bad: true},
		{in: "random:abc", bad: true},
		{in: "random:-1", bad: true},
		{in: "random:+1", bad: true},
		{in: "random:1.5", bad: true},
		{in: "random:0x10", bad: true},
		{in: "random:18446744073709551616", bad: true},
	} {
		t.Run(c.in, func(t *testing.T) {
			var w weightsFlag
			err := w.Set(c.in)
			if c.bad {
				if err == nil || !strings.Contains(err.Error(), "want random or random:SEED") {
					t.Errorf("Set(%q) = %v, want an error saying what is expected", c.in, err)
				}
				return
			}
			if err != nil || w.file != c.file || w.random != c.random || w.seed != c.seed {
				t.Errorf("Set(%q) = %+v, %v; want file %q, random %v, seed %d", c.in, w, err, c.file, c.random, c.seed)
			}
			if want := strings.Replace(c.in, ":007", ":7", 1); w.String() != want {
				t.Errorf("String() = %q, want %q", w.String(), want)
			}
		})
	}
}

// randomCfg is a small detector written for the tests: 64×64 input, leaky convolutions with
// and without batch norm, max-pools and a yolo head of 2 classes.
const randomCfg = `[net]
width=64
height=64
channels=3
[convolutional]
batch_normalize=1
filters=8
size=3
pad=1
activation=leaky
[maxpool]
size=2
stride=2
[convolutional]
filters=16
size=3
pad=1
activation=leaky
[maxpool]
size=2
stride=2
[convolutional]
batch_normalize=1
filters=16
size=3
pad=1
activation=leaky
[convolutional]
filters=21
size=1
activation=linear
[yolo]
mask=0,1,2
anchors=10,14,23,27,37,58
classes=2
num=3
`

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRandomWeightsUsage: a bad seed or a weights file without a cfg is a usage error (exit
// 2) that names the flag and what it expects; the help says what random weights are.
func TestRandomWeightsUsage(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "tiny.cfg", []byte(randomCfg))
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"letters", []string{"convert", "--model", cfg, "--weights", "random:abc"},
			`invalid argument "random:abc" for "--weights" flag: want random or random:SEED, SEED a decimal integer from 0 to 18446744073709551615`},
		{"negative", []string{"detect", "--weights", "random:-1"}, `invalid argument "random:-1" for "--weights" flag`},
		{"eval", []string{"eval", "--weights", "random:", "x.jpg"}, `invalid argument "random:" for "--weights" flag`},
		{"inspect", []string{"inspect", "--weights", "random:1e3"}, `invalid argument "random:1e3" for "--weights" flag`},
		{"file without cfg", []string{"inspect", "--weights", "yolo.weights"}, "--weights yolo.weights needs --model (on the embedded model only --weights random[:SEED] applies)"},
		{"cfg without weights", []string{"convert", "--model", cfg}, "--model and --weights go together (--weights FILE, or random[:SEED] for random weights)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, c.args...)
			if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and one line containing %q", code, errOut, c.want)
			}
		})
	}
	for _, cmd := range []string{"detect", "convert", "eval", "inspect"} {
		_, out, _ := runCLI(t, cmd, "--help")
		if !strings.Contains(out, "random[:SEED]") || !strings.Contains(out, "seed 1 by default") {
			t.Errorf("%s --help does not document --weights random[:SEED]:\n%s", cmd, out)
		}
	}
}

// TestInspectRandomWeights: random weights replace the embedded model's, parameter for
// parameter.
func TestInspectRandomWeights(t *testing.T) {
	code, out, errOut := runCLI(t, "inspect", "--weights", "random")
	if code != 0 || !strings.Contains(out, "yolo-fastest-1.1 (embedded), random weights (seed 1)") || !strings.Contains(out, "131 layers, 346062 parameters") {
		t.Errorf("exit %d %s\n%s", code, errOut, out)
	}
}

// TestConvertRandomWeights converts a cfg that has no weights: without --calib it calibrates
// on the embedded dog.jpg (the same as --calib on a copy of it), the same seed gives the
// same conversion and another seed another one.
func TestConvertRandomWeights(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tiny.cfg", []byte(randomCfg))
	dog := writeFile(t, dir, "dog.jpg", zoo.DogJPEG())
	convert := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, append([]string{"convert", "--model", cfg}, args...)...)
		if code != 0 {
			t.Fatalf("convert %v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	out := convert("--weights", "random:7")
	if !strings.Contains(out, "random weights (seed 7), calibration: 1 images") || !strings.Contains(out, "6 chip layers") {
		t.Errorf("convert output:\n%s", out)
	}
	if again := convert("--weights", "random:7"); again != out {
		t.Errorf("seed 7 converted twice differently:\n%s\n%s", out, again)
	}
	calibrated := convert("--weights", "random:7", "--calib", dog)
	if strings.Replace(calibrated, "calibration: 1 images", "", 1) != strings.Replace(out, "calibration: 1 images", "", 1) {
		t.Errorf("--calib dog.jpg differs from the default calibration on the embedded dog.jpg:\n%s\n%s", calibrated, out)
	}
	other := convert("--weights", "random:8")
	if strings.Replace(other, "seed 8", "seed 7", 1) == out {
		t.Errorf("seeds 7 and 8 converted alike:\n%s", out)
	}
	if def := convert("--weights", "random"); !strings.Contains(def, "random weights (seed 1)") {
		t.Errorf("--weights random:\n%s", def)
	}
}

// TestDetectRandomWeights maps a random network onto the chip and runs it: every spiking
// layer fires, none near its ceiling (4 spikes a tick), the report prices the run, and the
// untrained detector, its objectness starting at 0.01, reports few objects. Eval runs too.
func TestDetectRandomWeights(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tiny.cfg", []byte(randomCfg))
	const ticks = 64
	code, out, errOut := runCLI(t, "detect", "--json", "--model", cfg, "--weights", "random:7", "--timesteps", "64")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res jsonImage
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Cores < 1 || res.Energy == nil || res.Energy.Total <= 0 || res.Synops <= 0 {
		t.Errorf("no chip report: %+v", res)
	}
	if len(res.Detections) > 10 {
		t.Errorf("%d detections from an untrained detector, want few", len(res.Detections))
	}
	for _, l := range res.Layers[:len(res.Layers)-1] { // the last is the output, which accumulates
		rate := float64(l.Spikes) / float64(l.Neurons) / ticks
		if !(rate > 0.01 && rate < 2) {
			t.Errorf("layer %d (%s): %.3f spikes per neuron and tick, want neither silent nor saturated", l.Index, l.Type, rate)
		}
	}
	dog := writeFile(t, dir, "dog.jpg", zoo.DogJPEG())
	// The float network detects nothing to measure fidelity against: the mAP is null.
	code, out, errOut = runCLI(t, "eval", "--json", "--model", cfg, "--weights", "random:7", "--timesteps", "8,16", dog)
	if code != 0 || strings.Count(strings.TrimSpace(out), "\n") != 1 || !strings.Contains(out, `"fidelity_map":null`) {
		t.Errorf("eval: exit %d %s\n%s", code, errOut, out)
	}
}
