package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spikeyolo/model/darknetref"
)

// runCLI runs one command line in-process and returns its exit status and outputs.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestDetectDefault: with no arguments, detect runs the embedded Yolo-Fastest, converted to
// a spiking network, on the Loihi chip, and finds darknet's dog.jpg objects (darknet reports
// a dog, a bicycle and a car above 0.25 on it), with an energy and latency report.
func TestDetectDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole spiking detection takes about a minute")
	}
	code, out, errOut := runCLI(t, "detect", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res jsonImage
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	if res.Image != "dog.jpg" || res.Width != 768 || res.Height != 576 || res.Engine != "chip" || res.Timesteps != defaultTimesteps {
		t.Errorf("header = %+v", res)
	}
	if res.Cores < 1 || res.Packets < 1 || res.Spikes < 1 || res.Energy == nil || res.Energy.Total <= 0 || res.Latency == nil || res.Latency.Frame <= 0 {
		t.Errorf("chip report missing: %+v", res)
	}
	for _, want := range []string{"dog", "bicycle", "car"} {
		found := false
		for _, d := range res.Detections {
			found = found || d.Class == want
			if d.Score <= 0.25 || d.Box[0] < 0 || d.Box[2] > 767 || d.Box[1] < 0 || d.Box[3] > 575 || d.Box[0] > d.Box[2] {
				t.Errorf("detection %+v: score must exceed --thresh and the box lie in the image", d)
			}
		}
		if !found {
			t.Errorf("no %s in %s", want, out)
		}
	}
}

// TestDetectFloat: --dnn runs the float network; the human output has one line per object.
func TestDetectFloat(t *testing.T) {
	code, human, _ := runCLI(t, "detect", "--dnn")
	if code != 0 || !strings.Contains(human, "bicycle") || !strings.Contains(human, "dog.jpg: 768x576") || !strings.Contains(human, "dnn") {
		t.Errorf("human output (exit %d):\n%s", code, human)
	}
	if n := strings.Count(human, "box"); n < 3 {
		t.Errorf("%d object lines, want at least 3:\n%s", n, human)
	}
}

// TestDetectMatchesDarknet runs the CLI on a shared model and image and checks the bicycle
// darknet reports (0.9729 at 165,140,592,452 on dog.jpg with yolo-lite-voc).
func TestDetectMatchesDarknet(t *testing.T) {
	dir := darknetref.Dir(t)
	m := darknetref.Models(dir)[0]
	code, out, errOut := runCLI(t, "detect", "--dnn", "--json", "--thresh", "0.5", "--model", m.Cfg, "--weights", m.Weights, "--names", m.Names,
		filepath.Join(dir, "reference", "decoded", "dog.decoded.png"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res jsonImage
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Detections) == 0 || res.Detections[0].Class != "bicycle" {
		t.Fatalf("detections %+v, want the bicycle first", res.Detections)
	}
	d := res.Detections[0]
	want := [4]float64{165, 140, 592, 452}
	for i := range want {
		if d.Box[i] < want[i]-1.5 || d.Box[i] > want[i]+1.5 {
			t.Errorf("box %v, darknet %v", d.Box, want)
		}
	}
	if d.Score < 0.9729-0.005 || d.Score > 0.9729+0.005 {
		t.Errorf("score %v, darknet 0.9729", d.Score)
	}
}

// TestBadInput: each mistake gives one error line that names the culprit, a non-zero exit
// and no panic.
func TestBadInput(t *testing.T) {
	tmp := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := write("tiny.cfg", "[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters=2\nsize=1\nactivation=leaky\n")
	typo := write("typo.cfg", "[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilers=2\nsize=1\nactivation=leaky\n")
	// 2 biases + 2·3 weights after a 20-byte header = 52 bytes; give 40.
	truncated := write("tiny.weights", string(append([]byte{0, 0, 0, 0, 2, 0, 0, 0}, make([]byte, 32)...)))
	notImage := write("notes.txt", "this is not an image\n")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string // in the one error line
	}{
		{"missing image", []string{"detect", filepath.Join(tmp, "nope.jpg")}, 1, "nope.jpg"},
		{"not an image", []string{"detect", notImage}, 1, "notes.txt: not a JPEG or PNG image"},
		{"cfg typo", []string{"detect", "--model", typo, "--weights", truncated}, 1, `typo.cfg:6: [convolutional] has no key "filers"`},
		{"truncated weights", []string{"detect", "--model", cfg, "--weights", truncated}, 1, "tiny.weights: 40 bytes, but the network needs 52"},
		{"missing weights", []string{"detect", "--model", cfg, "--weights", filepath.Join(tmp, "no.weights")}, 1, "no.weights"},
		{"model without weights", []string{"detect", "--model", cfg}, 2, "--model and --weights go together"},
		{"bad resize", []string{"detect", "--resize", "crop"}, 2, `resize mode "crop"`},
		{"bad flag", []string{"detect", "--threshold", "0.3"}, 2, "unknown flag: --threshold"},
		{"bad thresh", []string{"detect", "--thresh", "1.5"}, 2, "--thresh 1.5"},
		{"unknown command", []string{"detcet"}, 2, `unknown command "detcet"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d", code, c.code)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != 1 || !strings.Contains(errOut, c.want) {
				t.Errorf("stderr = %q, want one line containing %q", errOut, c.want)
			}
		})
	}
}

// TestInspect lists the embedded model: 131 layers, 346,062 parameters (the size of its
// weights file, 1,384,268 bytes, less the 20-byte header, over 4).
func TestInspect(t *testing.T) {
	code, out, errOut := runCLI(t, "inspect")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "131 layers, 346062 parameters") {
		t.Errorf("totals missing:\n%s", out)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"detect", "--help"}, {"inspect", "-h"}, {"help"}} {
		code, out, _ := runCLI(t, args...)
		if code != 0 || strings.Count(out, "Usage:") != 1 {
			t.Errorf("%v: exit %d, output %q, want the usage once", args, code, out)
		}
	}
	// Commands that run on an architecture take its weight bits unless told otherwise.
	for _, cmd := range []string{"detect", "eval", "convert"} {
		_, out, _ := runCLI(t, cmd, "--help")
		want := "(default: the architecture's"
		if cmd == "convert" {
			want = "(default 16)"
		}
		line := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "--weight-bits") {
				line = l
			}
		}
		if !strings.Contains(line, want) {
			t.Errorf("%s --help: weight bits %q, want %q", cmd, line, want)
		}
	}
}

// TestDetectSpiking runs yolo-lite-voc converted (calibrated on the sample images) for 128
// ticks on each engine: both find dog.jpg's bicycle, with identical detections, spikes and
// synaptic operations (the engines are exact), and the chip reports its cores and energy.
func TestDetectSpiking(t *testing.T) {
	dir := darknetref.Dir(t)
	m := darknetref.Models(dir)[0]
	var results []jsonImage
	for _, engine := range []string{"chip", "reference"} {
		code, out, errOut := runCLI(t, "detect", "--json", "--engine", engine, "--timesteps", "128", "--model", m.Cfg, "--weights", m.Weights,
			"--names", m.Names, "--calib", filepath.Join(dir, "images"), filepath.Join(dir, "images", "dog.jpg"))
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", engine, code, errOut)
		}
		var res jsonImage
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		if res.Engine != engine || res.Timesteps != 128 || res.Spikes <= 0 || res.Synops <= 0 || len(res.Layers) != 12 {
			t.Errorf("%s: %+v", engine, res)
		}
		found := false
		for _, d := range res.Detections {
			found = found || d.Class == "bicycle" && d.Score > 0.5
		}
		if !found {
			t.Errorf("%s: no bicycle above 0.5 in %+v", engine, res.Detections)
		}
		results = append(results, res)
	}
	chipRes, ref := results[0], results[1]
	if chipRes.Spikes != ref.Spikes || chipRes.Synops != ref.Synops || len(chipRes.Detections) != len(ref.Detections) {
		t.Errorf("chip: %d spikes, %d synops, %d detections; reference: %d, %d, %d", chipRes.Spikes, chipRes.Synops, len(chipRes.Detections), ref.Spikes, ref.Synops, len(ref.Detections))
	}
	for i := range ref.Detections {
		if i < len(chipRes.Detections) && chipRes.Detections[i] != ref.Detections[i] {
			t.Errorf("detection %d: chip %+v, reference %+v", i, chipRes.Detections[i], ref.Detections[i])
		}
	}
	if chipRes.Cores < 1 || chipRes.Energy == nil || chipRes.Energy.ByCategory["synapse"] <= 0 || ref.Energy != nil {
		t.Errorf("chip report %+v %+v; reference energy %+v", chipRes.Cores, chipRes.Energy, ref.Energy)
	}
}

// TestEvalAndConvert: eval prints a row per checkpoint, convert a row per chip layer.
func TestEvalAndConvert(t *testing.T) {
	dir := darknetref.Dir(t)
	m := darknetref.Models(dir)[0]
	model := []string{"--model", m.Cfg, "--weights", m.Weights, "--calib", filepath.Join(dir, "images")}
	code, out, errOut := runCLI(t, append(append([]string{"eval", "--json", "--layers", "--timesteps", "8,16"}, model...), filepath.Join(dir, "reference", "decoded", "dog.decoded.png"))...)
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("eval: %d lines, want 2:\n%s", len(lines), out)
	}
	for i, l := range lines {
		var p map[string]any
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatal(err)
		}
		if p["timesteps"] != float64(8*(i+1)) || p["fidelity_map"] == nil || p["synops_per_frame"].(float64) <= 0 {
			t.Errorf("eval line %d: %v", i, p)
		}
		// yolo-lite-voc is 12 chip layers; the last, the output, has the output's error.
		if layers, ok := p["layer_rel_l2"].([]any); !ok || len(layers) != 12 || layers[11] != p["rel_l2"] {
			t.Errorf("eval line %d: layer errors %v, want 12 ending with rel_l2 %v", i, p["layer_rel_l2"], p["rel_l2"])
		}
	}
	code, out, errOut = runCLI(t, append([]string{"convert"}, model...)...)
	if code != 0 || strings.Count(out, " conv ") != 7 || strings.Count(out, "maxpool 2x2/2") != 5 || !strings.Contains(out, "12 chip layers") {
		t.Errorf("convert: exit %d %s\n%s", code, errOut, out)
	}
}
