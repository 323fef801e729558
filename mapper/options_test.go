package mapper_test

import (
	"math"
	"slices"
	"testing"

	"spikeyolo/chip"
	"spikeyolo/core"
	"spikeyolo/mapper"
	"spikeyolo/model"
)

// The conversion tests below pin every conversion option's effect on one tiny network whose
// parameters are all computed by hand. The network reads one channel of 1×2 pixels (a, b):
//
//	layer 0: conv 1×1, 4 filters, leaky, reading the image (an analog chip layer):
//	         z = [x, -2x, -1, 0] (weights 1, -2, 0, 0; biases 0, 0, -1, 0)
//	layer 1: conv 1×1, 4 → 2 filters, linear (a quantized chip layer):
//	         z0 = a0 + 0.5, z1 = 0.5·a0 - a1 + 2·a2 + 0.25
//	layer 2: max-pool 2×2/2, padding 1 (both pixels into one): 2×1×1
//	layer 3: conv 1×1, 2 → 6 filters, linear, the output (an accumulator):
//	         z0 = p0 + 0.3, z1 = -0.5·p1, z2..z5 = 0
//	layer 4: region head (1 anchor, 1 class)
//
// The calibration set is three images (a, b) = (1, -4), (2, 0), (4, 1). Layer 0's
// activations (leaky: 0.1·z below zero), per image, at pixels a | b:
//
//	ch0 = x:            1, 2, 4          | -0.4, 0, 1
//	ch1 = leaky(-2x):   -0.2, -0.4, -0.8 | 8, 0, -0.2
//	ch2 = leaky(-1):    -0.1 everywhere
//	ch3 = 0:            0 everywhere
//
// Layer 1's (linear, so its activation is z):
//
//	z0 = a0 + 0.5:      1.5, 2.5, 4.5    | 0.1, 0.5, 1.5
//	z1:                 0.5+0.2-0.2+0.25 = 0.75, 1+0.4-0.2+0.25 = 1.45, 2+0.8-0.2+0.25 = 2.85 |
//	                    -0.2-8-0.2+0.25 = -8.15, 0-0-0.2+0.25 = 0.05, 0.5+0.2-0.2+0.25 = 0.75
//
// calibrate.go's percentile interpolates linearly between order statistics (numpy's
// default): with n = 3 images the rank is r = p/100·(n-1) in ascending order, and the value
// x(⌊r⌋) + (r-⌊r⌋)·(x(⌊r⌋+1) - x(⌊r⌋)). At p = 75, r = 1.5: the mean of the two largest
// values, (x(1) + x(2))/2 (exact for dyadic values; the leaky's 0.1·z is rounded to float32,
// so factors are compared to a relative 1e-6). A channel's statistic is the maximum over its
// pixels. At p = 75:
//
//	layer 0, Positive (of a):  ch0 max(3, 0.5) = 3;  ch1 max(-0.3, 4) = 4;   ch2 -0.1; ch3 0
//	layer 0, Abs (of |a|):     ch0 max(3, 0.7) = 3;  ch1 max(0.6, 4.1) = 4.1; ch2 0.1;  ch3 0
//	layer 1, Positive:         z0 max(3.5, 1) = 3.5; z1 max(2.15, 0.4) = 2.15
//	layer 1, Abs:              z0 max(3.5, 1) = 3.5; z1 max(2.15, (0.75+8.15)/2 = 4.45) = 4.45
//
// Thresholds and weights follow convert.go and layers.go: an analog layer's threshold is
// the largest weight, 2^(B-1) - 1 for B weight bits (127 at 8 bits); a quantized layer's
// filter f has normalized weights w·λ_in/λ_f and bias b/λ_f, threshold
// θ_f = ⌊(2^(B-1) - 1)/max|normalized weight|⌋, integer weights round(normalized·θ_f) and
// integer bias round(normalized bias·θ_f). An output layer has λ = 1 and reads 1/θ_f. None of
// the values below lies within 1e-3 of a rounding boundary, except where noted as exact.

// optP is the calibration percentile of the option tests.
const optP = 75

// optionsNet builds the network above.
func optionsNet(t *testing.T) *model.Network {
	t.Helper()
	net, err := model.NewNetwork(model.Shape{C: 1, H: 1, W: 2})
	if err != nil {
		t.Fatal(err)
	}
	add := func(op model.Op, in int) {
		t.Helper()
		if _, err := net.Add(op, []int{in}, ""); err != nil {
			t.Fatal(err)
		}
	}
	add(&model.Conv{Filters: 4, Size: 1, Stride: 1, Groups: 1, Act: model.Leaky,
		Weights: []float32{1, -2, 0, 0}, Biases: []float32{0, 0, -1, 0}}, -1)
	add(&model.Conv{Filters: 2, Size: 1, Stride: 1, Groups: 1, Act: model.Linear,
		Weights: []float32{1, 0, 0, 0, 0.5, -1, 2, 0}, Biases: []float32{0.5, 0.25}}, 0)
	add(&model.MaxPool{Size: 2, Stride: 2, Padding: 1}, 1)
	w := make([]float32, 12)
	w[0], w[3] = 1, -0.5 // filter 0 reads channel 0, filter 1 channel 1
	add(&model.Conv{Filters: 6, Size: 1, Stride: 1, Groups: 1, Act: model.Linear,
		Weights: w, Biases: []float32{0.3, 0, 0, 0, 0, 0}}, 2)
	add(&model.Region{Anchors: []float32{1, 1}, Classes: 1, Num: 1, Coords: 4}, 3)
	return net
}

// optionsCalibration calibrates optionsNet on the three images at percentile p.
func optionsCalibration(t *testing.T, net *model.Network, p float64) *mapper.Calibration {
	t.Helper()
	images := [][]float32{{1, -4}, {2, 0}, {4, 1}}
	cal, err := mapper.Calibrate(net, len(images), p, func(i int) ([]float32, error) { return images[i], nil })
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

// convertWith converts optionsNet, calibrated at p = 75, with the default options changed by set.
func convertWith(t *testing.T, set func(o *mapper.Options)) *mapper.Converted {
	t.Helper()
	net := optionsNet(t)
	opt := mapper.DefaultOptions()
	opt.WeightBits = 8
	if set != nil {
		set(&opt)
	}
	cv, err := mapper.Convert(net, optionsCalibration(t, net, optP), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(cv.Net.Layers) != 4 || !slices.Equal(cv.Source, []int{0, 1, 2, 3}) {
		t.Fatalf("chip layers from model layers %v, want one each of 0..3", cv.Source)
	}
	return cv
}

// nearRel reports whether got is within a relative 1e-6 of want (float32 arithmetic).
func nearRel(got, want float64) bool { return math.Abs(got-want) <= 1e-6*max(1, math.Abs(want)) }

func checkFloats[F float32 | float64](t *testing.T, what string, got []F, want []float64) {
	t.Helper()
	ok := len(got) == len(want)
	for k := 0; ok && k < len(got); k++ {
		ok = nearRel(float64(got[k]), want[k])
	}
	if !ok {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func checkInts[I int32 | int64](t *testing.T, what string, got, want []I) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// thresholdsOf returns a layer's Pos, Neg, BackPos and BackNeg per channel.
func thresholdsOf(l *chip.Layer) (pos, neg, backPos, backNeg []int64) {
	for _, th := range l.Threshold {
		pos, neg = append(pos, th.Pos), append(neg, th.Neg)
		backPos, backNeg = append(backPos, th.BackPos), append(backNeg, th.BackNeg)
	}
	return
}

func TestConversionOptions(t *testing.T) {
	// f32 is a value as the float32 network holds it: leaky's 0.1·z is rounded to float32.
	f32 := func(x float64) float64 { return float64(float32(x)) }

	t.Run("calibration percentile", func(t *testing.T) {
		net := optionsNet(t)
		for _, c := range []struct {
			p                      float64
			pos0, abs0, pos1, abs1 []float64
		}{
			// p = 75: the table in the file comment.
			{75, []float64{3, 4, -0.1, 0}, []float64{3, 4.1, 0.1, 0}, []float64{3.5, 2.15}, []float64{3.5, 4.45}},
			// p = 99.9: r = 0.999·2 = 1.998, x(1) + 0.998·(x(2) - x(1)) per pixel, then the max:
			// ch0 a 2 + 0.998·2 = 3.996 (b 0.998); ch1 Positive b 0 + 0.998·8 = 7.984,
			// Abs b 0.2 + 0.998·7.8 = 7.9844; ch2 -0.1 and 0.1; ch3 0. Layer 1: z0 a 2.5 + 0.998·2 = 4.496;
			// z1 Positive a 1.45 + 0.998·1.4 = 2.8472, Abs b 0.75 + 0.998·7.4 = 8.1352.
			{99.9, []float64{3.996, 7.984, -0.1, 0}, []float64{3.996, 7.9844, 0.1, 0}, []float64{4.496, 2.8472}, []float64{4.496, 8.1352}},
			// p = 50: r = 1, the median x(1): ch0 a 2 (b 0); ch1 Positive max(-0.4, 0) = 0,
			// Abs max(0.4, 0.2) = 0.4. Layer 1: z0 2.5; z1 Positive max(1.45, 0.05) = 1.45, Abs max(1.45, 0.75) = 1.45.
			{50, []float64{2, 0, -0.1, 0}, []float64{2, 0.4, 0.1, 0}, []float64{2.5, 1.45}, []float64{2.5, 1.45}},
		} {
			cal := optionsCalibration(t, net, c.p)
			if cal.Images != 3 || cal.Percentile != c.p {
				t.Errorf("p=%v: calibration of %d images at %v", c.p, cal.Images, cal.Percentile)
			}
			checkFloats(t, "layer 0 positive statistic", cal.Layers[0].Positive, c.pos0)
			checkFloats(t, "layer 0 abs statistic", cal.Layers[0].Abs, c.abs0)
			checkFloats(t, "layer 1 positive statistic", cal.Layers[1].Positive, c.pos1)
			checkFloats(t, "layer 1 abs statistic", cal.Layers[1].Abs, c.abs1)
		}
	})

	// Factors (convert.go's factors): channel-wise, each channel
	// its statistic; layer-wise, the layer's largest; under the positive statistic a leaky
	// channel with no positive activation (ch2, statistic -0.1) takes its |a| statistic 0.1,
	// a channel that never activates (ch3) the layer's largest, and linear layers always |a|.
	t.Run("norm and statistic", func(t *testing.T) {
		for _, c := range []struct {
			name         string
			norm         mapper.Norm
			stat         mapper.Stat
			l0, l1       []float64
			l1Pos, l1Neg []int64
			l1W          []int32
			l1Bias       []int64
			l0Bias       []int64
		}{
			{
				// λ0 = [3, 4.1, 0.1, max 4.1] (ch2's 0.1 is float32(0.1), the leaky's), λ1 = [3.5, 4.45].
				// Layer 0: bias of ch2 -1/0.1·127 = -1270. Layer 1, filter 0: normalized weight
				// 1·3/3.5 = 0.857143, θ = ⌊127/0.857143⌋ = ⌊148.17⌋ = 148, weight round(126.86) = 127,
				// bias round(0.5/3.5·148 = 21.14) = 21. Filter 1: [0.5·3, -4.1, 2·0.1, 0]/4.45 =
				// [0.337079, -0.921348, 0.044944, 0], θ = ⌊127/0.921348⌋ = ⌊137.84⌋ = 137, weights
				// round([46.18, -126.22, 6.16, 0]) = [46, -126, 6, 0], bias round(0.25/4.45·137 = 7.70) = 8.
				name: "channel abs", norm: mapper.ChannelWise, stat: mapper.StatAbs,
				l0: []float64{3, 4.1, f32(0.1), 4.1}, l1: []float64{3.5, 4.45},
				l1Pos: []int64{148, 137}, l1Neg: []int64{148, 137},
				l1W: []int32{127, 0, 0, 0, 46, -126, 6, 0}, l1Bias: []int64{21, 8}, l0Bias: []int64{0, 0, -1270, 0},
			},
			{
				// λ0 = [3, 4, |a| stat 0.1 (never positive), max 4 (never active)]; layer 1 is linear:
				// λ1 = [3.5, 4.45] still (its positive statistic 2.15 would clip -8.15).
				// Filter 0 as above. Filter 1: [1.5, -4, 0.2, 0]/4.45 = [0.337079, -0.898876, 0.044944, 0],
				// θ = ⌊127/0.898876⌋ = ⌊141.29⌋ = 141, weights round([47.53, -126.74, 6.34, 0]) = [48, -127, 6, 0],
				// bias round(0.25/4.45·141 = 7.92) = 8.
				name: "channel positive", norm: mapper.ChannelWise, stat: mapper.StatPositive,
				l0: []float64{3, 4, f32(0.1), 4}, l1: []float64{3.5, 4.45},
				l1Pos: []int64{148, 141}, l1Neg: []int64{148, 141},
				l1W: []int32{127, 0, 0, 0, 48, -127, 6, 0}, l1Bias: []int64{21, 8}, l0Bias: []int64{0, 0, -1270, 0},
			},
			{
				// λ0 = 4.1 and λ1 = 4.45 everywhere (the largest channel's, not the first's).
				// Layer 0: ch2 bias round(-1/4.1·127 = -30.98) = -31. Layer 1, filter 0: 4.1/4.45 =
				// 0.921348, θ = 137, weight round(126.22) = 126, bias round(0.5/4.45·137 = 15.39) = 15.
				// Filter 1: [0.5, -1, 2, 0]·4.1/4.45 = [0.460674, -0.921348, 1.842697, 0],
				// θ = ⌊127/1.842697⌋ = ⌊68.92⌋ = 68, weights round([31.33, -62.65, 125.30, 0]) =
				// [31, -63, 125, 0], bias round(0.25/4.45·68 = 3.82) = 4.
				name: "layer abs", norm: mapper.LayerWise, stat: mapper.StatAbs,
				l0: []float64{4.1, 4.1, 4.1, 4.1}, l1: []float64{4.45, 4.45},
				l1Pos: []int64{137, 68}, l1Neg: []int64{137, 68},
				l1W: []int32{126, 0, 0, 0, 31, -63, 125, 0}, l1Bias: []int64{15, 4}, l0Bias: []int64{0, 0, -31, 0},
			},
			{
				// λ0 = max(3, 4, -0.1, 0) = 4 everywhere; λ1 = 4.45 (linear: |a|). Layer 0: ch2 bias
				// round(-127/4 = -31.75) = -32. Layer 1, filter 0: 4/4.45 = 0.898876, θ = ⌊141.29⌋ = 141,
				// weight round(126.74) = 127, bias round(0.5/4.45·141 = 15.84) = 16. Filter 1:
				// [0.5, -1, 2, 0]·4/4.45 = [0.449438, -0.898876, 1.797753, 0], θ = ⌊127/1.797753⌋ =
				// ⌊70.64⌋ = 70, weights round([31.46, -62.92, 125.84, 0]) = [31, -63, 126, 0], bias
				// round(0.25/4.45·70 = 3.93) = 4.
				name: "layer positive", norm: mapper.LayerWise, stat: mapper.StatPositive,
				l0: []float64{4, 4, 4, 4}, l1: []float64{4.45, 4.45},
				l1Pos: []int64{141, 70}, l1Neg: []int64{141, 70},
				l1W: []int32{127, 0, 0, 0, 31, -63, 126, 0}, l1Bias: []int64{16, 4}, l0Bias: []int64{0, 0, -32, 0},
			},
		} {
			t.Run(c.name, func(t *testing.T) {
				cv := convertWith(t, func(o *mapper.Options) { o.Norm, o.Stat = c.norm, c.stat })
				checkFloats(t, "layer 0 factors", cv.Lambda[0], c.l0)
				checkFloats(t, "layer 1 factors", cv.Lambda[1], c.l1)
				checkFloats(t, "max-pool factors (its input's)", cv.Lambda[2], c.l1)
				checkFloats(t, "output factors", cv.Lambda[3], []float64{1, 1, 1, 1, 1, 1})
				checkInts(t, "layer 0 biases", cv.Net.Layers[0].Bias, c.l0Bias)
				l1 := &cv.Net.Layers[1]
				pos, neg, _, _ := thresholdsOf(l1)
				checkInts(t, "layer 1 Pos", pos, c.l1Pos)
				checkInts(t, "layer 1 Neg", neg, c.l1Neg)
				checkInts(t, "layer 1 weights", l1.Inputs[0].Synapses.Weights, c.l1W)
				checkInts(t, "layer 1 biases", l1.Bias, c.l1Bias)
			})
		}
	})

	// Neurons: the leaky analog layer 0 has θ = 127 at 8 bits. IBT: signed, Neg = θ/alpha =
	// round(127/float32(0.1)) = round(1269.99998) = 1270. Linear layer 1: symmetric signed,
	// Neg = Pos (148, 137). IF: layer 0 becomes plain IF (Pos 127); layer 1, linear, stays signed.
	t.Run("neuron", func(t *testing.T) {
		ibt := convertWith(t, func(o *mapper.Options) { o.Neuron = mapper.IBT })
		pos, neg, _, _ := thresholdsOf(&ibt.Net.Layers[0])
		if ibt.Net.Layers[0].Kind != core.Signed || !ibt.Net.Layers[0].Analog {
			t.Errorf("ibt: layer 0 is %v (analog %v), want an analog signed layer", ibt.Net.Layers[0].Kind, ibt.Net.Layers[0].Analog)
		}
		checkInts(t, "ibt: layer 0 Pos", pos, []int64{127, 127, 127, 127})
		checkInts(t, "ibt: layer 0 Neg", neg, []int64{1270, 1270, 1270, 1270})
		pos, neg, _, _ = thresholdsOf(&ibt.Net.Layers[1])
		if ibt.Net.Layers[1].Kind != core.Signed {
			t.Errorf("ibt: layer 1 is %v, want signed", ibt.Net.Layers[1].Kind)
		}
		checkInts(t, "ibt: layer 1 Pos", pos, []int64{148, 137})
		checkInts(t, "ibt: layer 1 Neg", neg, []int64{148, 137})

		ifn := convertWith(t, func(o *mapper.Options) { o.Neuron = mapper.IF })
		if ifn.Net.Layers[0].Kind != core.IF || ifn.Net.Layers[1].Kind != core.Signed {
			t.Errorf("if: layers 0 and 1 are %v and %v, want if and signed", ifn.Net.Layers[0].Kind, ifn.Net.Layers[1].Kind)
		}
		pos, _, _, _ = thresholdsOf(&ifn.Net.Layers[0])
		checkInts(t, "if: layer 0 Pos", pos, []int64{127, 127, 127, 127})
		pos, neg, _, _ = thresholdsOf(&ifn.Net.Layers[1])
		checkInts(t, "if: layer 1 Pos", pos, []int64{148, 137})
		checkInts(t, "if: layer 1 Neg", neg, []int64{148, 137})
	})

	// Undo: every signed layer's channels carry the Undo flag, and the margins
	// BackPos = int64(M·Pos), BackNeg = int64(M·Neg): the product in float64, truncated toward
	// zero (so rounded down, never to nearest: 0.5·127 = 63.5 gives 63). Layer 0 has
	// Pos 127, Neg 1270; layer 1 Pos = Neg = 148 and 137.
	t.Run("undo margin", func(t *testing.T) {
		for _, c := range []struct {
			name                      string
			margin                    float64
			l0Back, l0BackNeg, l1Back []int64
		}{
			// 0.25·127 = 31.75 → 31, 0.25·1270 = 317.5 → 317; 0.25·148 = 37, 0.25·137 = 34.25 → 34.
			{"quarter", 0.25, []int64{31, 31, 31, 31}, []int64{317, 317, 317, 317}, []int64{37, 34}},
			// 0.5·127 = 63.5 → 63, 0.5·1270 = 635; 0.5·148 = 74, 0.5·137 = 68.5 → 68.
			{"half", 0.5, []int64{63, 63, 63, 63}, []int64{635, 635, 635, 635}, []int64{74, 68}},
			// 1·θ: the thresholds themselves.
			{"one", 1, []int64{127, 127, 127, 127}, []int64{1270, 1270, 1270, 1270}, []int64{148, 137}},
			{"zero", 0, []int64{0, 0, 0, 0}, []int64{0, 0, 0, 0}, []int64{0, 0}},
		} {
			t.Run(c.name, func(t *testing.T) {
				cv := convertWith(t, func(o *mapper.Options) { o.Undo, o.UndoMargin = true, c.margin })
				for li := range 2 {
					for f, th := range cv.Net.Layers[li].Threshold {
						if !th.Undo {
							t.Errorf("layer %d channel %d: Undo off, want on", li, f)
						}
					}
				}
				_, _, bp, bn := thresholdsOf(&cv.Net.Layers[0])
				checkInts(t, "layer 0 BackPos", bp, c.l0Back)
				checkInts(t, "layer 0 BackNeg", bn, c.l0BackNeg)
				_, _, bp, bn = thresholdsOf(&cv.Net.Layers[1])
				checkInts(t, "layer 1 BackPos", bp, c.l1Back)
				checkInts(t, "layer 1 BackNeg", bn, c.l1Back)
			})
		}
		t.Run("off", func(t *testing.T) {
			cv := convertWith(t, func(o *mapper.Options) { o.Undo = false })
			for li := range 2 {
				for f, th := range cv.Net.Layers[li].Threshold {
					if th.Undo {
						t.Errorf("layer %d channel %d: Undo on, want off", li, f)
					}
				}
			}
		})
	})

	// Initial membrane: zero, or θ/2 in integer division (127/2 = 63, 148/2 = 74,
	// 137/2 = 68); the output accumulator starts at 0 either way.
	t.Run("init", func(t *testing.T) {
		for _, c := range []struct {
			init   mapper.Init
			l0, l1 []int64
		}{
			{mapper.InitZero, []int64{0, 0, 0, 0}, []int64{0, 0}},
			{mapper.InitHalf, []int64{63, 63, 63, 63}, []int64{74, 68}},
		} {
			t.Run(c.init.String(), func(t *testing.T) {
				cv := convertWith(t, func(o *mapper.Options) { o.Init = c.init })
				checkInts(t, "layer 0 V0", cv.Net.Layers[0].V0, c.l0)
				checkInts(t, "layer 1 V0", cv.Net.Layers[1].V0, c.l1)
				checkInts(t, "output V0", cv.Net.Layers[3].V0, []int64{0, 0, 0, 0, 0, 0})
			})
		}
	})

	// Max-pool: layer 2 becomes max-pool neurons with the option's rule, reading both channels
	// of layer 1 one-to-one over the 2×2 window (offset padding/2 = 0).
	t.Run("pool", func(t *testing.T) {
		for _, rule := range []core.PoolRule{core.PoolExact, core.PoolFirstMax} {
			cv := convertWith(t, func(o *mapper.Options) { o.Pool = rule })
			l := &cv.Net.Layers[2]
			if l.Kind != core.MaxPool || l.Pool != rule {
				t.Errorf("%v: layer 2 is %v with rule %v", rule, l.Kind, l.Pool)
			}
			if len(l.Inputs) != 1 || l.Inputs[0].From != 1 || l.Inputs[0].Synapses.Size != 2 || l.Inputs[0].Synapses.Stride != 2 ||
				l.Inputs[0].Synapses.Offset != 0 || l.Inputs[0].Synapses.Groups != 2 {
				t.Errorf("%v: max-pool inputs %+v", rule, l.Inputs)
			}
		}
	})

	// MaxSpikes: every layer's neurons, the max-pool's and the accumulator's included.
	// Graded codings, 8 payload bits: 2^4 = 16 levels per factor, messages of at most 127.
	// Spiking layers become graded neurons of the same thresholds (a ReLU, from --neuron if,
	// has no negative level), every layer takes its drive once, biases are 16 times the
	// rate's per-tick charge (layer 1: 0.5/3.5·148·16 = 338.29 and 0.25/4.45·137·16 = 123.15;
	// the rate's are 21 and 8), the input current too, and the read-out divides by the levels
	// over the whole run.
	t.Run("coding", func(t *testing.T) {
		rate := convertWith(t, nil)
		for _, c := range []struct {
			coding mapper.Coding
			delta  int
			neuron mapper.NeuronModel
		}{{mapper.Graded, 1, mapper.IBT}, {mapper.SigmaDelta, 3, mapper.IF}} {
			cv := convertWith(t, func(o *mapper.Options) { o.Coding, o.PayloadBits, o.Delta, o.Neuron = c.coding, 8, c.delta, c.neuron })
			ls := cv.Net.Layers
			for li, kind := range []core.Kind{core.Graded, core.Graded, core.MaxPool, core.Accumulator} {
				l := ls[li]
				if l.Kind != kind || l.Graded != (kind != core.Accumulator) || l.Once != (kind != core.MaxPool) || kind != core.Accumulator && l.MaxSpikes != 127 {
					t.Errorf("%v: layer %d is %v graded %v once %v max %d; want %v, graded, drive once but pools, messages of at most 127", c.coding, li, l.Kind,
						l.Graded, l.Once, l.MaxSpikes, kind)
				}
			}
			pos, neg, _, _ := thresholdsOf(&ls[1])
			checkInts(t, "graded: layer 1 Pos", pos, []int64{148, 137})
			checkInts(t, "graded: layer 1 Neg", neg, []int64{148, 137})
			checkInts(t, "graded: layer 1 bias", ls[1].Bias, []int64{338, 123})
			checkInts(t, "rate: layer 1 bias", rate.Net.Layers[1].Bias, []int64{21, 8})
			wantNeg := int64(1270)
			if c.neuron == mapper.IF {
				wantNeg = math.MaxInt64
			}
			for _, th := range ls[0].Threshold {
				if th.Delta != int64(c.delta) || th.Neg != wantNeg {
					t.Errorf("%v: layer 0 threshold %+v, want delta %d, Neg %d", c.coding, th, c.delta, wantNeg)
				}
			}
			in := []float32{2, 1}
			g, r := cv.Encode(in)[0], rate.Encode(in)[0]
			for n := range g {
				if abs := math.Abs(float64(g[n] - 16*r[n])); abs > 8 {
					t.Errorf("%v: input current %d, the rate's %d per tick: want 16 times it, rounded once", c.coding, g[n], r[n])
				}
			}
			if cv.WindowStart(100) != 0 || rate.WindowStart(100) != 25 {
				t.Errorf("read-out windows start at %d (graded) and %d (rate), want 0 and 25", cv.WindowStart(100), rate.WindowStart(100))
			}
			// The output layer (chip layer 3, model layer 3, linear) reads its membrane at the
			// checkpoint times 1/θ, over the 16 levels, not over the ticks.
			out := ls[3]
			snap := chip.Snapshot{Tick: 40, Membranes: make([][]int64, len(ls))}
			snap.Membranes[3] = make([]int64, out.Shape.Size())
			var want []float64
			for n := range snap.Membranes[3] {
				snap.Membranes[3][n] = int64(1000 * (n + 1))
				want = append(want, float64(1000*(n+1))*out.Readout[n/(out.Shape.H*out.Shape.W)]/16)
			}
			decoded, err := cv.Decode([]chip.Snapshot{snap}, 40)
			if err != nil {
				t.Fatal(err)
			}
			checkFloats(t, "graded read-out", decoded[3], want)
		}
		for _, bad := range []func(o *mapper.Options){
			func(o *mapper.Options) { o.Coding, o.Delta = mapper.Graded, 2 },
			func(o *mapper.Options) { o.PayloadBits = 4 },
			func(o *mapper.Options) { o.PayloadBits = 22 },
			func(o *mapper.Options) { o.Coding, o.Delta = mapper.SigmaDelta, 0 },
		} {
			o := mapper.DefaultOptions()
			bad(&o)
			if o.Validate() == nil {
				t.Errorf("options %+v validated", o)
			}
		}
	})

	t.Run("max spikes", func(t *testing.T) {
		for _, k := range []int{1, 3} {
			cv := convertWith(t, func(o *mapper.Options) { o.MaxSpikes = k })
			for li, l := range cv.Net.Layers {
				if l.MaxSpikes != int64(k) {
					t.Errorf("max spikes %d: layer %d has %d", k, li, l.MaxSpikes)
				}
			}
		}
	})

	// Weight bits, with the default factors λ0 = [3, 4.1, 0.1, 4.1], λ1 = [3.5, 4.45].
	t.Run("weight bits", func(t *testing.T) {
		// 8 bits (the largest weight 127). The analog layer 0: θ = 127, its input currents
		// round(w/λ·127·x) for the image (2, -4): ch0 2·127/3 = 84.67 → 85, -4·127/3 = -169.33 →
		// -169; ch1 -2·2·127/4.1 = -123.90 → -124, 8·127/4.1 = 247.80 → 248; ch2, ch3 0.
		// Layer 1 as in "channel abs". Output layer 3 (λ = 1, reading λ1): filter 0 weights
		// [1·3.5, 0], θ = ⌊127/3.5⌋ = ⌊36.29⌋ = 36, weight 3.5·36 = 126 (exact), bias
		// round(0.3·36 = 10.8) = 11, read-out 1/36; filter 1 [0, -0.5·4.45 = -2.225],
		// θ = ⌊127/2.225⌋ = ⌊57.08⌋ = 57, weight round(-126.83) = -127; filters 2..5 have no
		// weight: θ = 127, read-out 1/127.
		cv := convertWith(t, nil)
		pos, _, _, _ := thresholdsOf(&cv.Net.Layers[0])
		checkInts(t, "8 bits: layer 0 Pos", pos, []int64{127, 127, 127, 127})
		checkInts(t, "8 bits: layer 0 currents", cv.Encode([]float32{2, -4})[0], []int64{85, -169, -124, 248, 0, 0, 0, 0})
		pos, _, _, _ = thresholdsOf(&cv.Net.Layers[1])
		checkInts(t, "8 bits: layer 1 Pos", pos, []int64{148, 137})
		checkInts(t, "8 bits: layer 1 weights", cv.Net.Layers[1].Inputs[0].Synapses.Weights, []int32{127, 0, 0, 0, 46, -126, 6, 0})
		checkInts(t, "8 bits: layer 1 biases", cv.Net.Layers[1].Bias, []int64{21, 8})
		out := &cv.Net.Layers[3]
		if out.Kind != core.Accumulator {
			t.Errorf("output layer is %v, want an accumulator", out.Kind)
		}
		checkInts(t, "8 bits: output weights", out.Inputs[0].Synapses.Weights, []int32{126, 0, 0, -127, 0, 0, 0, 0, 0, 0, 0, 0})
		checkInts(t, "8 bits: output biases", out.Bias, []int64{11, 0, 0, 0, 0, 0})
		checkFloats(t, "8 bits: output read-out", out.Readout, []float64{1.0 / 36, 1.0 / 57, 1.0 / 127, 1.0 / 127, 1.0 / 127, 1.0 / 127})
		if cv.Clipped != 0 {
			t.Errorf("8 bits: %d weights clipped, want 0", cv.Clipped)
		}

		// 4 bits (the largest weight 7). Layer 0: θ = 7, Neg round(7/0.1) = 70, ch2's bias
		// round(-1/0.1·7) = -70. Layer 1, filter 0: θ = ⌊7/0.857143⌋ = ⌊8.17⌋ = 8, weight
		// round(6.86) = 7, bias round(0.142857·8 = 1.14) = 1; filter 1: θ = ⌊7/0.921348⌋ =
		// ⌊7.60⌋ = 7, weights round([2.36, -6.45, 0.31, 0]) = [2, -6, 0, 0], bias
		// round(0.25/4.45·7 = 0.39) = 0.
		cv = convertWith(t, func(o *mapper.Options) { o.WeightBits = 4 })
		pos, neg, _, _ := thresholdsOf(&cv.Net.Layers[0])
		checkInts(t, "4 bits: layer 0 Pos", pos, []int64{7, 7, 7, 7})
		checkInts(t, "4 bits: layer 0 Neg", neg, []int64{70, 70, 70, 70})
		checkInts(t, "4 bits: layer 0 biases", cv.Net.Layers[0].Bias, []int64{0, 0, -70, 0})
		pos, _, _, _ = thresholdsOf(&cv.Net.Layers[1])
		checkInts(t, "4 bits: layer 1 Pos", pos, []int64{8, 7})
		checkInts(t, "4 bits: layer 1 weights", cv.Net.Layers[1].Inputs[0].Synapses.Weights, []int32{7, 0, 0, 0, 2, -6, 0, 0})
		checkInts(t, "4 bits: layer 1 biases", cv.Net.Layers[1].Bias, []int64{1, 0})
	})

	// Warm-up: the read-out of a run of T ticks is the output membrane's growth from tick
	// s = int(F·T) to T, over the T - max(s, onset) ticks the layer integrated in that window,
	// times 1/θ. The chip layers' onsets are 0, 1, 2, 3 (one tick per layer), so the output
	// integrates from tick 3. The membranes are hand-made snapshots; with T = 16 and read-outs
	// 1/36, 1/57 and 1/127 (see "weight bits"):
	t.Run("warmup", func(t *testing.T) {
		snap := func(tick int, v ...int64) chip.Snapshot {
			return chip.Snapshot{Tick: tick, Membranes: [][]int64{nil, nil, nil, append(v, 0, 0, 0)}}
		}
		for _, c := range []struct {
			warmup float64
			ticks  []int // the snapshots a run must take
			snaps  []chip.Snapshot
			want   []float64
		}{
			// No warm-up: s = 0, 16 - 3 = 13 ticks: 936/36/13 = 2, -741/57/13 = -1, 381/127/13 = 3/13.
			{0, []int{16}, []chip.Snapshot{snap(16, 936, -741, 381)}, []float64{2, -1, 3.0 / 13}},
			// F = 0.1: s = int(1.6) = 1, before the onset: still 13 ticks, less the membrane at tick 1.
			{0.1, []int{1, 16}, []chip.Snapshot{snap(1, 0, 0, 0), snap(16, 936, -741, 381)}, []float64{2, -1, 3.0 / 13}},
			// F = 0.25: s = 4, 16 - 4 = 12 ticks: (964-100)/36/12 = 2, (-1418+50)/57/12 = -2,
			// (381-0)/127/12 = 0.25.
			{0.25, []int{4, 16}, []chip.Snapshot{snap(4, 100, -50, 0), snap(16, 964, -1418, 381)}, []float64{2, -2, 0.25}},
			// F = 0.5: s = 8, 8 ticks: (1000-136)/36/8 = 3, (-500+44)/57/8 = -1, (127-0)/127/8 = 0.125.
			{0.5, []int{8, 16}, []chip.Snapshot{snap(8, 136, -44, 0), snap(16, 1000, -500, 127)}, []float64{3, -1, 0.125}},
		} {
			cv := convertWith(t, func(o *mapper.Options) { o.Warmup = c.warmup })
			if onsets := []int{cv.Net.Layers[0].Onset, cv.Net.Layers[1].Onset, cv.Net.Layers[2].Onset, cv.Net.Layers[3].Onset}; !slices.Equal(onsets, []int{0, 1, 2, 3}) {
				t.Fatalf("onsets %v, want 0 1 2 3", onsets)
			}
			if got := cv.SnapshotTicks([]int{16}); !slices.Equal(got, c.ticks) {
				t.Errorf("warm-up %v: snapshot ticks %v, want %v", c.warmup, got, c.ticks)
			}
			out, err := cv.Decode(c.snaps, 16)
			if err != nil {
				t.Fatalf("warm-up %v: %v", c.warmup, err)
			}
			checkFloats(t, "decoded outputs", out[3], append(c.want, 0, 0, 0))
		}
		// The window starts at the whole tick the fraction names, although 0.29·100 is
		// 28.999999999999996 in floating point: 29; 0.07·100 is 7.000000000000001: 7.
		for _, c := range []struct {
			warmup float64
			want   int
		}{{0.29, 29}, {0.07, 7}, {0.555, 55}} {
			cv := convertWith(t, func(o *mapper.Options) { o.Warmup = c.warmup })
			if got := cv.WindowStart(100); got != c.want {
				t.Errorf("warm-up %v of 100 ticks starts at %d, want %d", c.warmup, got, c.want)
			}
		}
	})
}
