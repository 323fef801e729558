package model_test

import (
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

// relL2 is ||got - want|| / ||want||.
func relL2(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		d := float64(got[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(num / den)
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
// compares the last convolution and the head with darknet's outputs.
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
			tol := 1e-5
			if len(net.Layers) > 50 {
				tol = 1e-4 // Yolo-Fastest: 84 convolutions, float32 sums in another order
			}
			for _, c := range []struct {
				file  string
				layer int
			}{{"dog.lastconv.f32", lastConv(net)}, {"dog.head.f32", len(net.Layers) - 1}} {
				want, err := darknetref.ReadF32(filepath.Join(dir, "reference", m.Name, c.file))
				if err != nil {
					t.Fatal(err)
				}
				got := outs[c.layer]
				if len(got) != len(want) {
					t.Fatalf("%s: layer %d has %d values, darknet %d", c.file, c.layer, len(got), len(want))
				}
				e := relL2(got, want)
				t.Logf("%s: layer %d relative L2 error %.3g", c.file, c.layer, e)
				if e > tol {
					t.Errorf("%s: relative L2 error %.3g > %g", c.file, e, tol)
				}
			}
		})
	}
}

// TestLayerStatsMatchDarknet compares every layer's min, max and mean with darknet's for
// every model and image, starting from darknet's decoded bytes.
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
				worst := 0.0
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
					scale := max(math.Abs(w.Min), math.Abs(w.Max))
					for _, s := range []struct {
						name      string
						got, want float64
					}{{"min", lo, w.Min}, {"max", hi, w.Max}, {"mean", mean, w.Mean}} {
						// Relative to the value, or to the layer's range for values near 0.
						e := math.Abs(s.got-s.want) / max(math.Abs(s.want), 1e-2*scale)
						worst = max(worst, e)
						if e > 1e-3 {
							t.Errorf("layer %d %s: %s = %.6g, darknet %.6g (relative error %.2g)", i, w.Type, s.name, s.got, s.want, e)
						}
					}
				}
				t.Logf("worst relative error %.2g", worst)
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
