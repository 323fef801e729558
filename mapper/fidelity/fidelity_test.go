package fidelity_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"spikeyolo/mapper"
	"spikeyolo/mapper/fidelity"
	"spikeyolo/model"
	"spikeyolo/model/darknet"
	"spikeyolo/model/preprocess"
)

const tiny = `[net]
width=16
height=16
channels=3
[convolutional]
filters=8
size=3
pad=1
activation=leaky
[maxpool]
size=2
stride=2
[convolutional]
filters=18
size=1
activation=linear
[yolo]
mask=0,1,2
anchors=3,3,6,6,12,12
classes=1
num=3
`

// setup converts a random tiny detector, calibrated (at the 100th percentile, so that
// nothing clips) on the images it is then measured on.
func setup(t *testing.T) (*mapper.Converted, []fidelity.Image) {
	net, err := darknet.ParseConfig(strings.NewReader(tiny), "tiny.cfg")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, l := range net.Layers {
		if c, ok := l.Op.(*model.Conv); ok {
			for k := range c.Weights {
				c.Weights[k] = float32(rng.NormFloat64() * 0.4)
			}
			for k := range c.Biases {
				c.Biases[k] = float32(rng.NormFloat64() * 0.5)
			}
		}
	}
	var images []fidelity.Image
	cal, err := mapper.NewCalibrator(net, 6, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		im := preprocess.Image{W: 16, H: 16, Data: make([]float32, 3*16*16)}
		for k := range im.Data {
			im.Data[k] = float32(rng.Float64())
		}
		images = append(images, fidelity.Image{Name: string(rune('a' + i)), Image: im})
		if err := cal.Add(im.Data); err != nil {
			t.Fatal(err)
		}
	}
	c, err := cal.Finish()
	if err != nil {
		t.Fatal(err)
	}
	cv, err := mapper.Convert(net, c, mapper.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return cv, images
}

// TestMeasureConverges: the spiking detections become the float ones as the ticks grow (the
// float detections are the ground truth, so the mAP reaches 1), and the output error falls.
func TestMeasureConverges(t *testing.T) {
	cv, images := setup(t)
	points, err := fidelity.Measure(cv, images, fidelity.DefaultConfig([]int{4, 2048}))
	if err != nil {
		t.Fatal(err)
	}
	if points[0].Classes != 1 {
		t.Fatalf("%d classes in the ground truth, want 1 (the test needs float detections)", points[0].Classes)
	}
	early, late := points[0], points[1]
	t.Logf("4 ticks: mAP %.3f rel. L2 %.3f; 2048 ticks: mAP %.3f rel. L2 %.4f", early.MAP, early.RelL2, late.MAP, late.RelL2)
	if late.MAP < 0.99 || late.RelL2 > 0.01 || late.RelL2 >= early.RelL2 {
		t.Errorf("at 2048 ticks: mAP %.3f, rel. L2 %.4f (at 4 ticks %.4f): want >= 0.99, <= 0.01 and falling", late.MAP, late.RelL2, early.RelL2)
	}
	if late.SpikesPerFrame <= early.SpikesPerFrame || late.FiringRate <= 0 || math.IsNaN(late.FiringRate) {
		t.Errorf("spikes %v then %v, firing rate %v", early.SpikesPerFrame, late.SpikesPerFrame, late.FiringRate)
	}
}

// TestMeasureDeterministic: one worker or three, the same points to the bit, per-layer
// errors included.
func TestMeasureDeterministic(t *testing.T) {
	cv, images := setup(t)
	cfg := fidelity.DefaultConfig([]int{16, 64})
	cfg.Layers = true
	cfg.Workers = 1
	one, err := fidelity.Measure(cv, images, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Workers = 3
	three, err := fidelity.Measure(cv, images, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range one {
		if !reflect.DeepEqual(one[i], three[i]) {
			t.Errorf("checkpoint %d: %+v with one worker, %+v with three", one[i].Ticks, one[i], three[i])
		}
	}
}

// TestLayerErrors: per-layer errors are measured only when asked; the output layer's is the
// output error; every layer's falls as the ticks grow, to within 0.5 % at 2048 ticks.
func TestLayerErrors(t *testing.T) {
	cv, images := setup(t)
	cfg := fidelity.DefaultConfig([]int{8, 2048})
	plain, err := fidelity.Measure(cv, images, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if plain[0].Layers != nil {
		t.Errorf("per-layer errors without Config.Layers: %v", plain[0].Layers)
	}
	cfg.Layers = true
	points, err := fidelity.Measure(cv, images, cfg)
	if err != nil {
		t.Fatal(err)
	}
	early, late := points[0], points[1]
	if n := len(cv.Net.Layers); len(early.Layers) != n || len(late.Layers) != n {
		t.Fatalf("%d and %d layer errors, want one per chip layer (%d)", len(early.Layers), len(late.Layers), n)
	}
	last := len(late.Layers) - 1
	if late.Layers[last] != late.RelL2 {
		t.Errorf("output layer error %v, output error %v: want equal (one output layer)", late.Layers[last], late.RelL2)
	}
	for li := range late.Layers {
		t.Logf("layer %d (%s): rel. L2 %.4f at 8 ticks, %.4f at 2048", li, cv.Net.Layers[li].Name, early.Layers[li], late.Layers[li])
		if !(late.Layers[li] < 0.005 && late.Layers[li] < early.Layers[li]) {
			t.Errorf("layer %d: rel. L2 %.4f at 2048 ticks (%.4f at 8): want below 0.005 and falling", li, late.Layers[li], early.Layers[li])
		}
	}
}
