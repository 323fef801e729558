package model_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"spikeyolo/model"
	"spikeyolo/model/darknet"
	"spikeyolo/model/darknetref"
	"spikeyolo/model/preprocess"
)

func loadModel(t testing.TB, m darknetref.Model) *model.Network {
	t.Helper()
	net, err := darknet.Load(m.Cfg, m.Weights)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// ulps is the distance between a and b in units in the last place of float32: the number of
// float32 values from one to the other (0 when their bits are equal).
func ulps(a, b float32) int64 {
	// Map the bits to integers ordered like the values (negative values count down from 0).
	key := func(x float32) int64 {
		u := int64(math.Float32bits(x))
		if u&(1<<31) != 0 {
			return -(u &^ (1 << 31))
		}
		return u
	}
	d := key(a) - key(b)
	return max(d, -d)
}

func lastConv(net *model.Network) int {
	last := -1
	for i, l := range net.Layers {
		if _, ok := l.Op.(*model.Conv); ok {
			last = i
		}
	}
	return last
}

// TestForwardMatchesDarknet runs darknet's own input of dog.jpg through each model and
// compares the last convolution and the head with darknet's outputs. The last convolution
// must equal darknet's bit for bit; so must a [yolo] head (the logistic, in double precision
// as darknet's C). A [region] head's softmax differs from darknet's in the last bits
// (measured: at most 7 float32 ulps on the class scores of the two YOLO-LITE models, x, y, w,
// h and objectness equal), so it is held to 8 ulps.
func TestForwardMatchesDarknet(t *testing.T) {
	dir := darknetref.Dir(t)
	for _, m := range darknetref.Models(dir) {
		t.Run(m.Name, func(t *testing.T) {
			net := loadModel(t, m)
			inputDir := m.Name
			if net.Input.W == 224 {
				inputDir = "yolo-lite-voc" // both 224 models share darknet's input file
			}
			input, err := darknetref.ReadF32(filepath.Join(dir, "reference", inputDir, "dog.input.f32"))
			if err != nil {
				t.Fatal(err)
			}
			outs := net.Forward(input)
			headULPs := int64(0)
			if _, ok := net.Layers[len(net.Layers)-1].Op.(*model.Region); ok {
				headULPs = 8
			}
			for _, c := range []struct {
				file    string
				layer   int
				maxULPs int64
			}{{"dog.lastconv.f32", lastConv(net), 0}, {"dog.head.f32", len(net.Layers) - 1, headULPs}} {
				want, err := darknetref.ReadF32(filepath.Join(dir, "reference", m.Name, c.file))
				if err != nil {
					t.Fatal(err)
				}
				got := outs[c.layer]
				if len(got) != len(want) {
					t.Fatalf("%s: layer %d has %d values, darknet %d", c.file, c.layer, len(got), len(want))
				}
				differ, worst, at := 0, int64(0), -1
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						differ++
					}
					if u := ulps(got[i], want[i]); u > worst {
						worst, at = u, i
					}
				}
				t.Logf("%s: layer %d: %d of %d values differ from darknet's, by at most %d ulps", c.file, c.layer, differ, len(want), worst)
				if worst > c.maxULPs {
					t.Errorf("%s: layer %d: %d of %d values differ from darknet's, up to %d ulps (value %d: %v, darknet %v); want at most %d",
						c.file, c.layer, differ, len(want), worst, at, got[at], want[at], c.maxULPs)
				}
			}
		})
	}
}

// TestLayerStatsMatchDarknet compares every layer's min, max and mean with darknet's for
// every model and image, starting from darknet's decoded bytes: all three must agree to the
// 6 significant digits darknet printed (the mean is summed in float64).
func TestLayerStatsMatchDarknet(t *testing.T) {
	dir := darknetref.Dir(t)
	for _, m := range darknetref.Models(dir) {
		net := loadModel(t, m)
		r := model.NewRunner(net)
		for _, img := range darknetref.Images {
			t.Run(m.Name+"/"+img, func(t *testing.T) {
				im, err := preprocess.Load(filepath.Join(dir, "reference", "decoded", img+".decoded.png"))
				if err != nil {
					t.Fatal(err)
				}
				want, err := darknetref.ReadLayers(filepath.Join(dir, "reference", m.Name, img+".layers.txt"))
				if err != nil {
					t.Fatal(err)
				}
				if len(want) != len(net.Layers) {
					t.Fatalf("darknet lists %d layers, the network has %d", len(want), len(net.Layers))
				}
				outs := r.Run(im.Resize(net.Input.W, net.Input.H).Data)
				for i, w := range want {
					l := net.Layers[i]
					kind := l.Op.Kind()
					if kind == "upsample" {
						kind = "none" // pjreddie's darknet has no name for it
					}
					if w.Type != kind || w.C != l.Out.C || w.H != l.Out.H || w.W != l.Out.W {
						t.Fatalf("layer %d: darknet %s %dx%dx%d, ours %s %v", i, w.Type, w.W, w.H, w.C, l.Op.Kind(), l.Out)
					}
					lo, hi, mean := stats(outs[i])
					for _, s := range []struct {
						name      string
						got, want float64
					}{{"min", lo, w.Min}, {"max", hi, w.Max}, {"mean", mean, w.Mean}} {
						// darknet printed them with %g: 6 significant digits. Printing darknet's
						// value again with %.6g gives back the digits it printed.
						got, want := fmt.Sprintf("%.6g", s.got), fmt.Sprintf("%.6g", s.want)
						if got != want {
							t.Errorf("layer %d %s: %s = %s (%.9g), darknet printed %s", i, w.Type, s.name, got, s.got, want)
						}
					}
				}
			})
		}
	}
}

func stats(v []float32) (lo, hi, mean float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	var sum float64
	for _, x := range v {
		lo = min(lo, float64(x))
		hi = max(hi, float64(x))
		sum += float64(x)
	}
	return lo, hi, sum / float64(len(v))
}
