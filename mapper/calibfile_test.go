package mapper

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"spikeyolo/model"
	"spikeyolo/model/darknet"
)

// calibNet is a tiny detector: conv 0 (2 channels), max-pool 1, conv 2 (6 channels), yolo 3.
const calibNet = `[net]
width=4
height=4
channels=1
[convolutional]
filters=2
size=3
pad=1
activation=leaky
[maxpool]
size=2
stride=2
[convolutional]
filters=6
size=1
activation=linear
[yolo]
mask=0
anchors=1,1
num=1
classes=1
`

// calibFile is a valid calibration of calibNet, compact.
const calibFile = `{"percentile":99.9,"images":2,"layers":{"0":{"positive":[1,-0.5],"abs":[1,2],"mean_abs":[0.5,0.25]},` +
	`"1":{"mean_abs":[0.5,0.25]},"2":{"positive":[1,2,3,4,5,6],"abs":[1,2,3,4,5,6]}}}`

func parseCalibNet(t testing.TB) *model.Network {
	t.Helper()
	net, err := darknet.ParseConfig(strings.NewReader(calibNet), "calib.cfg")
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestReadCalibrationRejects: a statistic out of range names the layer, channel, statistic
// and value; data after the JSON object and statistics for a layer the network lacks are
// errors naming the file (issue 14, item 10 d and e).
func TestReadCalibrationRejects(t *testing.T) {
	net := parseCalibNet(t)
	if _, err := ReadCalibration(strings.NewReader(calibFile), "cal.json", net); err != nil {
		t.Fatalf("the valid file: %v", err)
	}
	if _, err := ReadCalibration(strings.NewReader(calibFile+"\n \n"), "cal.json", net); err != nil {
		t.Errorf("trailing white space: %v", err)
	}
	edit := func(from, to string) string {
		t.Helper()
		if !strings.Contains(calibFile, from) {
			t.Fatalf("no %q in the file", from)
		}
		return strings.Replace(calibFile, from, to, 1)
	}
	for _, c := range []struct {
		name, file string
		want       []string
	}{
		{"negative abs", edit(`"abs":[1,2,3,4,5,6]`, `"abs":[1,2,-1,4,5,6]`), []string{"cal.json:", "layer 2", "channel 2", "abs", "-1", ">= 0"}},
		{"all abs negative", edit(`"abs":[1,2]`, `"abs":[-1,-1]`), []string{"cal.json:", "layer 0", "channel 0", "abs -1", ">= 0"}},
		{"NaN-like huge", edit(`"abs":[1,2]`, `"abs":[1,1e39]`), []string{"cal.json:"}},
		{"negative mean", edit(`"1":{"mean_abs":[0.5,0.25]}`, `"1":{"mean_abs":[-1,0.25]}`), []string{"cal.json:", "layer 1", "channel 0", "mean_abs", "-1"}},
		{"trailing garbage", calibFile + "garbage", []string{"cal.json:", "after"}},
		{"a second object", calibFile + calibFile, []string{"cal.json:", "after"}},
		{"unknown layer", edit(`"layers":{`, `"layers":{"7":{"positive":[1],"abs":[1]},`), []string{"cal.json:", "layer 7", "0..3"}},
		{"negative layer", edit(`"layers":{`, `"layers":{"-1":{"abs":[1]},`), []string{"cal.json:", "layer -1"}},
		{"percentile statistics on a max-pool", edit(`"1":{"mean_abs"`, `"1":{"abs":[1,1],"mean_abs"`), []string{"cal.json:", "layer 1", "maxpool"}},
		{"statistics on the head", edit(`"layers":{`, `"layers":{"3":{"abs":[1,1,1,1,1,1]},`), []string{"cal.json:", "layer 3", "yolo"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadCalibration(strings.NewReader(c.file), "cal.json", net)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// FuzzReadCalibration: ReadCalibration never panics, and a calibration it accepts has, for
// each convolution and shortcut layer, finite statistics for every channel with abs >= 0,
// and statistics for no layer the network lacks. Seeded with a small valid file.
func FuzzReadCalibration(f *testing.F) {
	net := parseCalibNet(f)
	f.Add([]byte(calibFile))
	var buf bytes.Buffer
	if err := WriteCalibration(&buf, uniformCalibration(net, 2)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		cal, err := ReadCalibration(bytes.NewReader(data), "fuzz.json", net)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted data that is not one JSON value: %q", data)
		}
		for i := range cal.Layers {
			if i < 0 || i >= len(net.Layers) {
				t.Fatalf("statistics for layer %d of %d", i, len(net.Layers))
			}
		}
		for i, l := range net.Layers {
			st := cal.Layers[i]
			switch l.Op.(type) {
			case *model.Conv, *model.Shortcut:
				if len(st.Positive) != l.Out.C || len(st.Abs) != l.Out.C {
					t.Fatalf("layer %d: %d/%d statistics for %d channels", i, len(st.Positive), len(st.Abs), l.Out.C)
				}
				for c := range st.Abs {
					if p, a := float64(st.Positive[c]), float64(st.Abs[c]); math.IsNaN(p) || math.IsInf(p, 0) || !(a >= 0) || math.IsInf(a, 0) {
						t.Fatalf("layer %d channel %d: positive %v, abs %v", i, c, p, a)
					}
				}
			}
			for c, x := range st.MeanAbs {
				if !(x >= 0) || math.IsInf(float64(x), 0) {
					t.Fatalf("layer %d channel %d: mean_abs %v", i, c, x)
				}
			}
		}
	})
}
