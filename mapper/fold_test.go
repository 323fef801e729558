package mapper

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"spikeyolo/chip"
	"spikeyolo/model"
	"spikeyolo/model/darknet"
)

// foldDetector has a residual block whose linear projection (layer 3) only a shortcut reads,
// through a dropout, and a linear 1×1 (layer 6) that only an output 1×1 reads: both fold. A
// grouped linear 1×1 (layer 10) read by the other output does not (composing it would
// not keep its groups).
const foldDetector = `[net]
width=16
height=16
channels=3
[convolutional]
filters=8
size=3
stride=1
pad=1
batch_normalize=1
activation=leaky
[convolutional]
filters=16
size=1
activation=leaky
[convolutional]
filters=16
groups=16
size=3
pad=1
activation=leaky
[convolutional]
filters=8
size=1
batch_normalize=1
activation=linear
[dropout]
probability=.1
[shortcut]
from=-5
activation=linear
[convolutional]
filters=8
size=1
activation=linear
[convolutional]
filters=12
size=1
activation=linear
[yolo]
mask=0,1
anchors=2,3,4,5,6,7
classes=1
num=3
[route]
layers=5
[convolutional]
filters=8
groups=2
size=1
activation=linear
[convolutional]
filters=6
size=1
activation=linear
[yolo]
mask=2
anchors=2,3,4,5,6,7
classes=1
num=3
`

// TestFoldStructure checks which layers fold and what their readers become: the shortcut
// reads the depthwise layer through the projection's synapses and the first output reads the
// shortcut through composed ones, each a layer and a tick sooner.
func TestFoldStructure(t *testing.T) {
	net := randomNetwork(t, foldDetector, 1)
	cal := uniformCalibration(net, 2)
	for _, c := range []struct {
		fold                bool
		wantSource, wantOns []int
	}{
		{false, []int{0, 1, 2, 3, 5, 6, 7, 10, 11}, []int{0, 1, 2, 3, 4, 5, 6, 5, 6}},
		{true, []int{0, 1, 2, 5, 7, 10, 11}, []int{0, 1, 2, 3, 4, 4, 5}},
	} {
		opt := DefaultOptions()
		opt.Fold = c.fold
		cv, err := Convert(net, cal, opt)
		if err != nil {
			t.Fatal(err)
		}
		var onsets []int
		for _, l := range cv.Net.Layers {
			onsets = append(onsets, l.Onset)
		}
		if !slices.Equal(cv.Source, c.wantSource) || !slices.Equal(onsets, c.wantOns) {
			t.Errorf("fold %v: sources %v onsets %v, want %v and %v", c.fold, cv.Source, onsets, c.wantSource, c.wantOns)
		}
		if !c.fold {
			continue
		}
		sc := cv.Net.Layers[3]
		if len(sc.Inputs) != 2 || sc.Inputs[0].From != 2 || sc.Inputs[0].Synapses.DstC != 8 || sc.Inputs[0].Synapses.Groups != 1 ||
			sc.Inputs[1].From != 0 || sc.Inputs[1].Synapses.Groups != 8 {
			t.Errorf("folded shortcut inputs %+v", sc.Inputs)
		}
		if out := cv.Net.Layers[4]; len(out.Inputs) != 1 || out.Inputs[0].From != 3 || out.Inputs[0].Synapses.DstC != 12 {
			t.Errorf("composed output inputs %+v", out.Inputs)
		}
	}
}

// TestFoldedWeights checks the folded integers by hand with every factor 2 and 8-bit
// weights. The shortcut's channel c has the projection's batch-norm-folded weights w3·2/2
// and the identity 2/2 = 1: threshold floor(127 / max|w3|), weights round(w·theta), bias
// round(b3/2·theta); the identity weight is theta rounded to a multiple of 2^e, with e the
// least shift that fits every channel's theta in 127·2^e. The output's filter o reads the
// shortcut (factor 2) through sum_m w7[o][m]·w6[m][k]·2 with bias b7[o] + sum_m
// w7[o][m]·b6[m], at factor 1.
func TestFoldedWeights(t *testing.T) {
	net := randomNetwork(t, foldDetector, 2)
	opt := DefaultOptions()
	opt.WeightBits, opt.Fold = 8, true
	cv, err := Convert(net, uniformCalibration(net, 2), opt)
	if err != nil {
		t.Fatal(err)
	}
	checkFoldedShortcut(t, cv.Net.Layers[3], 0, 1, net.Layers[3].Op.(*model.Conv), 2)
	w6, b6 := foldBatchNorm(net.Layers[6].Op.(*model.Conv))
	w7, b7 := foldBatchNorm(net.Layers[7].Op.(*model.Conv))
	out := cv.Net.Layers[4]
	for o := 0; o < 12; o++ {
		row := make([]float64, 8)
		bias := b7[o]
		for mid := 0; mid < 8; mid++ {
			for k := range row {
				row[k] += w7[o*8+mid] * w6[mid*8+k] * 2
			}
			bias += w7[o*8+mid] * b6[mid]
		}
		m := 0.0
		for _, x := range row {
			m = max(m, math.Abs(x))
		}
		theta := math.Floor(127 / m)
		if got := out.Readout[o]; got != 1/theta {
			t.Fatalf("output filter %d: read-out %v, want 1/%v", o, got, theta)
		}
		for k, x := range row {
			if got, want := out.Inputs[0].Synapses.Weights[o*8+k], int32(math.Round(x*theta)); got != want {
				t.Fatalf("output filter %d, weight %d: %d, want %d", o, k, got, want)
			}
		}
		if got, want := out.Bias[o], int64(math.Round(bias*theta)); got != want {
			t.Errorf("output filter %d: bias %d, want %d", o, got, want)
		}
	}
}

// checkFoldedShortcut checks shortcut sc, whose input proj is the folded 1×1 convolution
// conv and whose input ident is one-to-one, every factor lambda and 8-bit weights, by hand
// (see TestFoldedWeights): thresholds floor(127 / max|w|) from the convolution alone, its
// weights round(w·theta) at shift 0, the identity theta rounded to a multiple of 2^e with e
// the least shift that fits every channel's theta in 127·2^e, biases round(b/lambda·theta).
func checkFoldedShortcut(t *testing.T, sc chip.Layer, proj, ident int, conv *model.Conv, lambda float64) {
	t.Helper()
	w, b := foldBatchNorm(conv)
	per := len(w) / conv.Filters
	thetas := make([]float64, conv.Filters)
	e := 0
	for c := range thetas {
		m := 0.0
		for k := 0; k < per; k++ {
			m = max(m, math.Abs(w[c*per+k]))
		}
		thetas[c] = math.Floor(127 / m)
		for thetas[c] > 127*float64(int(1)<<e) {
			e++
		}
	}
	if e == 0 {
		t.Fatal("the test wants thresholds above 127, so that the identity needs a shift")
	}
	if got := sc.Inputs[ident].Synapses.WeightShift; got != e || sc.Inputs[proj].Synapses.WeightShift != 0 {
		t.Errorf("weight shifts %d (projection) and %d (identity), want 0 and %d", sc.Inputs[proj].Synapses.WeightShift, got, e)
	}
	for c, theta := range thetas {
		if got := sc.Threshold[c].Pos; got != int64(theta) {
			t.Fatalf("shortcut channel %d: threshold %d, want %v", c, got, theta)
		}
		for k := 0; k < per; k++ {
			if got, want := sc.Inputs[proj].Synapses.Weights[c*per+k], int32(math.Round(w[c*per+k]*theta)); got != want {
				t.Fatalf("shortcut channel %d, projection weight %d: %d, want %d", c, k, got, want)
			}
		}
		unit := float64(int(1) << e)
		if got, want := sc.Inputs[ident].Synapses.Weights[c], int32(math.Round(theta/unit)*unit); got != want {
			t.Errorf("shortcut channel %d: identity weight %d, want %d", c, got, want)
		}
		if got, want := sc.Bias[c], int64(math.Round(b[c]/lambda*theta)); got != want {
			t.Errorf("shortcut channel %d: bias %d, want %d", c, got, want)
		}
	}
}

// foldSecondSide's shortcut (layer 4) reads the linear 1×1 it folds (layer 1) as its second
// input, the one darknet names by from=.
const foldSecondSide = `[net]
width=16
height=16
channels=3
[convolutional]
filters=8
size=3
pad=1
batch_normalize=1
activation=leaky
[convolutional]
filters=8
size=1
batch_normalize=1
activation=linear
[route]
layers=-2
[convolutional]
filters=8
groups=8
size=3
pad=1
activation=leaky
[shortcut]
from=-3
activation=linear
[convolutional]
filters=6
size=1
activation=linear
[yolo]
mask=0
anchors=2,3
classes=1
num=1
`

// TestFoldSecondSide: a convolution folded as a shortcut's second input gets the whole
// weight range and the one-to-one first input the shift, as on the first side.
func TestFoldSecondSide(t *testing.T) {
	net := randomNetwork(t, foldSecondSide, 4)
	opt := DefaultOptions()
	opt.WeightBits = 8
	cv, err := Convert(net, uniformCalibration(net, 2), opt)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 3, 4, 5}; !slices.Equal(cv.Source, want) {
		t.Fatalf("chip layers from model layers %v, want %v", cv.Source, want)
	}
	sc := cv.Net.Layers[2]
	if len(sc.Inputs) != 2 || sc.Inputs[0].From != 1 || sc.Inputs[1].From != 0 {
		t.Fatalf("shortcut inputs %+v: want the depthwise layer one-to-one, then layer 0 through the folded 1×1", sc.Inputs)
	}
	checkFoldedShortcut(t, sc, 1, 0, net.Layers[1].Op.(*model.Conv), 2)
}

// TestFoldKeepsTheFunction: with graded messages of 21 bits (2^17 levels per factor) the
// spiking network computes the float one to within its rounding, folded or not; a folded
// network whose synapses or biases were wrong would be off by the missing layer's share.
func TestFoldKeepsTheFunction(t *testing.T) {
	net := randomNetwork(t, foldDetector, 3)
	rng := rand.New(rand.NewPCG(8, 9))
	c := randomCalibration(t, net, rng)
	input := randomInput(rng, net.Input.Size())
	float := net.Forward(input)
	for _, fold := range []bool{false, true} {
		opt := DefaultOptions()
		opt.Coding, opt.PayloadBits, opt.WeightBits, opt.Fold = Graded, 21, 24, fold
		cv, err := Convert(net, c, opt)
		if err != nil {
			t.Fatal(err)
		}
		const T = 16
		snaps, err := chip.Reference(cv.Net, cv.Encode(input), chip.Probe{Ticks: cv.SnapshotTicks([]int{T})})
		if err != nil {
			t.Fatal(err)
		}
		out, err := cv.Decode(snaps, T)
		if err != nil {
			t.Fatal(err)
		}
		if e := relativeL2(out, float); !(e < 1e-4) {
			t.Errorf("fold %v: relative L2 error %.2g against the float network, want below 1e-4", fold, e)
		}
	}
}

// randomNetwork parses cfg with random weights and batch norm statistics.
func randomNetwork(t *testing.T, cfg string, seed uint64) *model.Network {
	t.Helper()
	net, err := darknet.ParseConfig(strings.NewReader(cfg), "tiny.cfg")
	if err != nil {
		t.Fatal(err)
	}
	randomize(net, seed)
	return net
}

// TestQuantizePartsBounds: with 24-bit weights a one-to-one weight of 1000 beside
// convolution weights of 1e-6 and -2e-6 cannot fit. The threshold is the largest Loihi
// holds (2^23, the convolution asking for more), so the convolution weights are
// round(1e-6·2^23) = 8 and round(-2e-6·2^23) = -17; the one-to-one part's shift stops at 7
// (2^23·2^7 stays an int32) and its weight is clipped to (2^23 - 1)·2^7, and counted.
func TestQuantizePartsBounds(t *testing.T) {
	cv := &Converted{Options: Options{WeightBits: 24}}
	theta, q, shift := cv.quantizeParts([][]float64{{1e-6, -2e-6, 1000}}, []int{2, 1})
	if theta[0] != 1<<23 || !slices.Equal(shift, []int{0, 7}) || !slices.Equal(q[0], []int32{8, -17, (1<<23 - 1) << 7}) || cv.Clipped != 1 {
		t.Errorf("theta %v, shifts %v, weights %v, %d clipped; want [8388608], [0 7], [8 -17 %d], 1", theta, shift, q[0], cv.Clipped, (1<<23-1)<<7)
	}
}
