package mapper

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"spikeyolo/chip"
	"spikeyolo/core"
	"spikeyolo/model"
	"spikeyolo/model/darknet"
)

// TestFoldBatchNorm checks darknet's convention by hand: y = (x - mean)/(sqrt(var) + 1e-6)·scale
// + bias. With scale 2, mean 1, variance 4, bias 0.5: s = 2/(2 + 1e-6), w' = 3·s, b' = 0.5 - s.
func TestFoldBatchNorm(t *testing.T) {
	c := &model.Conv{Filters: 1, Size: 1, Stride: 1, Groups: 1, Weights: []float32{3}, Biases: []float32{0.5},
		BatchNorm: model.BatchNorm{Scales: []float32{2}, Mean: []float32{1}, Variance: []float32{4}}}
	w, b := foldBatchNorm(c)
	s := 2 / (2 + float64(float32(1e-6)))
	if math.Abs(w[0]-3*s) > 1e-12 || math.Abs(b[0]-(0.5-s)) > 1e-12 {
		t.Errorf("folded w = %v, b = %v; want %v, %v", w[0], b[0], 3*s, 0.5-s)
	}
}

// TestCalibratorPercentile feeds a one-channel identity network the values 1..n at one
// neuron and checks the percentile by linear interpolation between order statistics.
func TestCalibratorPercentile(t *testing.T) {
	net := identityNet(t, 2)
	for _, c := range []struct {
		n    int
		p    float64
		want float32
	}{
		{5, 100, 5},        // the maximum
		{5, 50, 3},         // rank 0.5·4 = 2 → the 3rd smallest
		{5, 90, 4.6},       // rank 3.6 → 4 + 0.6·(5 - 4)
		{17, 99.9, 16.984}, // rank 15.984 → 16 + 0.984
		{1, 99.9, 1},
	} {
		cal, err := NewCalibrator(net, c.n, c.p)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= c.n; i++ {
			// Neuron 0 sees i, neuron 1 sees -2i: its magnitude is twice as large.
			if err := cal.Add([]float32{float32(i), float32(-2 * i)}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := cal.Finish()
		if err != nil {
			t.Fatal(err)
		}
		st := res.Layers[0]
		if math.Abs(float64(st.Positive[0]-c.want)) > 1e-4 || math.Abs(float64(st.Abs[0]-2*c.want)) > 1e-4 {
			t.Errorf("n=%d p=%v: positive %v, abs %v; want %v and %v", c.n, c.p, st.Positive[0], st.Abs[0], c.want, 2*c.want)
		}
	}
	if _, err := NewCalibrator(net, 0, 99); err == nil {
		t.Error("zero images: no error")
	}
	if _, err := NewCalibrator(net, 3, 0); err == nil {
		t.Error("percentile 0: no error")
	}
}

// identityNet is a 1×1×w input through a linear 1×1 convolution of weight 1, read by a
// region head (so that it converts): its activations are its inputs.
func identityNet(t *testing.T, w int) *model.Network {
	t.Helper()
	net, err := darknet.ParseConfig(strings.NewReader("[net]\nwidth="+itoa(w)+"\nheight=1\nchannels=1\n"+
		"[convolutional]\nfilters=1\nsize=1\nactivation=linear\n"+
		"[convolutional]\nfilters=6\nsize=1\nactivation=linear\n"+
		"[region]\nanchors=1,1\nclasses=1\nnum=1\n"), "identity.cfg")
	if err != nil {
		t.Fatal(err)
	}
	net.Layers[0].Op.(*model.Conv).Weights[0] = 1
	return net
}

func itoa(i int) string { return string(rune('0' + i)) }

// tinyDetector is a small network with every layer kind the converter handles: leaky and
// linear convolutions, grouped and depthwise ones, max-pool, shortcut, route with groups,
// upsample, dropout, and two yolo heads, with random weights.
const tinyDetector = `[net]
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
[maxpool]
size=2
stride=2
[convolutional]
filters=8
groups=8
size=3
pad=1
activation=leaky
[convolutional]
filters=8
size=1
activation=linear
[dropout]
probability=.1
[shortcut]
from=-4
activation=linear
[convolutional]
filters=16
groups=2
size=3
stride=2
pad=1
activation=leaky
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
layers=-3
groups=2
group_id=1
[upsample]
stride=2
[route]
layers=-1,4
[maxpool]
size=3
stride=1
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

// randomDetector parses tinyDetector with random weights and batch norm statistics.
func randomDetector(t *testing.T, seed uint64) *model.Network {
	t.Helper()
	return randomNetwork(t, tinyDetector, seed)
}

// randomize gives net's convolutions random weights, biases and batch norm statistics.
func randomize(net *model.Network, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, l := range net.Layers {
		c, ok := l.Op.(*model.Conv)
		if !ok {
			continue
		}
		fanIn := float64(len(c.Weights) / c.Filters)
		for k := range c.Weights {
			c.Weights[k] = float32(rng.NormFloat64() * 1.5 / math.Sqrt(fanIn))
		}
		for f := range c.Biases {
			c.Biases[f] = float32(rng.NormFloat64() * 0.1)
		}
		if c.HasBatchNorm() {
			for f := range c.BatchNorm.Scales {
				c.BatchNorm.Scales[f] = float32(0.5 + rng.Float64())
				c.BatchNorm.Mean[f] = float32(rng.NormFloat64() * 0.1)
				c.BatchNorm.Variance[f] = float32(0.5 + rng.Float64())
			}
		}
	}
}

func randomInput(rng *rand.Rand, n int) []float32 {
	in := make([]float32, n)
	for i := range in {
		in[i] = float32(rng.Float64())
	}
	return in
}

// TestSpikingApproximatesFloat converts the tiny detector and checks that the decoded
// outputs of the spiking network approach the float network's as the ticks grow, for the
// default and the paper's settings, on an input not used for calibration.
func TestSpikingApproximatesFloat(t *testing.T) {
	net := randomDetector(t, 1)
	rng := rand.New(rand.NewPCG(5, 6))
	c := randomCalibration(t, net, rng)
	input := randomInput(rng, net.Input.Size())
	float := net.Forward(input)
	for _, o := range []struct {
		name string
		opt  Options
		tol  float64 // relative L2 error allowed at 4096 ticks
	}{
		{"default", DefaultOptions(), 0.005},
		{"paper", PaperOptions(), 0.05},
		{"no undo, one spike per tick", func() Options { o := DefaultOptions(); o.MaxSpikes, o.Undo = 1, false; return o }(), 0.03},
	} {
		cv, err := Convert(net, c, o.opt)
		if err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		checkpoints := []int{64, 4096}
		snaps, err := chip.Reference(cv.Net, cv.Encode(input), chip.Probe{Ticks: cv.SnapshotTicks(checkpoints)})
		if err != nil {
			t.Fatal(err)
		}
		var errs []float64
		for _, T := range checkpoints {
			out, err := cv.Decode(snaps, T)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 2 {
				t.Fatalf("%s: %d output layers, want 2", o.name, len(out))
			}
			errs = append(errs, relativeL2(out, float))
		}
		t.Logf("%s: relative L2 error %.4f at %d ticks, %.4f at %d", o.name, errs[0], checkpoints[0], errs[1], checkpoints[1])
		if errs[1] > o.tol || errs[1] >= errs[0] {
			t.Errorf("%s: relative L2 error %.4f at %d ticks (%.4f at %d): want below %v and falling", o.name, errs[1], checkpoints[1], errs[0], checkpoints[0], o.tol)
		}
	}
}

// randomCalibration calibrates net at percentile 100 on 8 inputs drawn from rng.
func randomCalibration(t *testing.T, net *model.Network, rng *rand.Rand) *Calibration {
	t.Helper()
	cal, err := NewCalibrator(net, 8, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		if err := cal.Add(randomInput(rng, net.Input.Size())); err != nil {
			t.Fatal(err)
		}
	}
	c, err := cal.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// relativeL2 is the L2 norm of out - float over that of float, over every output layer out
// decodes (float: every layer's float output).
func relativeL2(out map[int][]float32, float [][]float32) float64 {
	var num, den float64
	for layer, v := range out {
		for k := range v {
			d := float64(v[k] - float[layer][k])
			num, den = num+d*d, den+float64(float[layer][k])*float64(float[layer][k])
		}
	}
	return math.Sqrt(num / den)
}

// TestConvertStructure checks what the tiny detector becomes: route, upsample and dropout are
// wiring, shortcuts and max-pools are neurons, the head convolutions accumulators, and a
// layer's onset is one tick after its deepest source.
func TestConvertStructure(t *testing.T) {
	net := randomDetector(t, 2)
	c := uniformCalibration(net, 2)
	cv, err := Convert(net, c, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, l := range cv.Net.Layers {
		kinds = append(kinds, l.Kind.String())
	}
	// Model layers 0 conv, 1 maxpool, 2 dw conv, 3 conv, 5 shortcut, 6 grouped conv, 7 output,
	// 12 maxpool (over route of upsample(6) and 4 = dropout of 3), 13 output.
	want := "signed maxpool signed signed signed signed accumulator maxpool accumulator"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("chip layers %s, want %s", got, want)
	}
	wantSource := []int{0, 1, 2, 3, 5, 6, 7, 12, 13}
	wantOnset := []int{0, 1, 2, 3, 4, 5, 6, 6, 7}
	for i := range wantSource {
		if cv.Source[i] != wantSource[i] || cv.Net.Layers[i].Onset != wantOnset[i] {
			t.Errorf("chip layer %d: source %d onset %d, want %d and %d", i, cv.Source[i], cv.Net.Layers[i].Onset, wantSource[i], wantOnset[i])
		}
	}
	// The shortcut adds conv 3 and maxpool 1 one-to-one: two depthwise 1×1 inputs.
	sc := cv.Net.Layers[4]
	if len(sc.Inputs) != 2 || sc.Inputs[0].From != 3 || sc.Inputs[1].From != 1 || sc.Inputs[0].Synapses.Groups != 8 {
		t.Errorf("shortcut inputs %+v", sc.Inputs)
	}
	// The last max-pool reads the upsampled second half of conv 6 and the first half of the route: channels
	// [8, 16) of chip layer 5 enlarged twice, then conv 3's 8 channels.
	mp := cv.Net.Layers[7]
	if len(mp.Inputs) != 2 || mp.Inputs[0].From != 5 || mp.Inputs[0].Synapses.SrcC0 != 8 || mp.Inputs[0].Synapses.Upsample != 2 ||
		mp.Inputs[1].From != 3 || mp.Inputs[1].Synapses.DstC0 != 8 {
		t.Errorf("route max-pool inputs %+v", mp.Inputs)
	}
	if cv.Net.Layers[0].Kind != core.Signed || !cv.Net.Layers[0].Analog {
		t.Error("the first convolution must be an analog signed layer")
	}
}

// uniformCalibration gives every channel the factor lambda.
func uniformCalibration(net *model.Network, lambda float32) *Calibration {
	c := &Calibration{Percentile: 99.9, Images: 1, Layers: map[int]ChannelStats{}}
	for i, l := range net.Layers {
		switch l.Op.(type) {
		case *model.Conv, *model.Shortcut:
			v := make([]float32, l.Out.C)
			for k := range v {
				v[k] = lambda
			}
			c.Layers[i] = ChannelStats{Positive: v, Abs: v}
		}
	}
	return c
}

// TestQuantization checks a layer's integers by hand: conv 3 (8 filters, 1×1, linear) of the
// tiny detector with every factor 2 has normalized weights w·2/2 = w; with 8-bit weights the
// threshold of filter f is floor(127 / max|w_f|) and each weight round(w·theta).
func TestQuantization(t *testing.T) {
	net := randomDetector(t, 3)
	opt := DefaultOptions()
	opt.WeightBits = 8
	cv, err := Convert(net, uniformCalibration(net, 2), opt)
	if err != nil {
		t.Fatal(err)
	}
	conv := net.Layers[3].Op.(*model.Conv)
	l := cv.Net.Layers[3]
	w := l.Inputs[0].Synapses.Weights
	for f := 0; f < 8; f++ {
		m := 0.0
		for c := 0; c < 8; c++ {
			m = max(m, math.Abs(float64(conv.Weights[f*8+c])))
		}
		theta := int64(math.Floor(127 / m))
		if th := l.Threshold[f]; th.Pos != theta || th.Neg != theta {
			t.Fatalf("filter %d: thresholds %d/%d, want %d", f, th.Pos, th.Neg, theta)
		}
		for c := 0; c < 8; c++ {
			if want := int32(math.Round(float64(conv.Weights[f*8+c]) * float64(theta))); w[f*8+c] != want {
				t.Fatalf("filter %d channel %d: weight %d, want %d", f, c, w[f*8+c], want)
			}
		}
		if want := int64(math.Round(float64(conv.Biases[f]) / 2 * float64(theta))); l.Bias[f] != want {
			t.Errorf("filter %d: bias %d, want %d", f, l.Bias[f], want)
		}
	}
	// Leaky layers get the imbalanced threshold theta/0.1.
	if th := cv.Net.Layers[0].Threshold[0]; th.Neg != 10*th.Pos {
		t.Errorf("leaky layer thresholds %d/%d, want a ratio of 10", th.Pos, th.Neg)
	}
}

func TestCalibrationFileRoundTrip(t *testing.T) {
	net := randomDetector(t, 4)
	c := uniformCalibration(net, 3)
	var buf bytes.Buffer
	if err := WriteCalibration(&buf, c); err != nil {
		t.Fatal(err)
	}
	back, err := ReadCalibration(bytes.NewReader(buf.Bytes()), "cal.json", net)
	if err != nil {
		t.Fatal(err)
	}
	if back.Layers[3].Abs[7] != 3 || back.Percentile != 99.9 {
		t.Errorf("read back %+v", back.Layers[3])
	}
	other := identityNet(t, 2)
	for name, data := range map[string]string{
		"other model": buf.String(),
		"not json":    "hello",
		"bad field":   `{"percentile": 99, "images": 1, "layers": {}, "extra": 1}`,
		"percentile":  `{"percentile": 0, "images": 1, "layers": {}}`,
	} {
		if _, err := ReadCalibration(strings.NewReader(data), "cal.json", other); err == nil || !strings.Contains(err.Error(), "cal.json") {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
}

// TestConvertRejects: networks the converter cannot carry give an error, not a wrong network.
func TestConvertRejects(t *testing.T) {
	for name, cfg := range map[string]string{
		"no head": "[net]\nwidth=4\nheight=4\nchannels=1\n[convolutional]\nfilters=2\nsize=1\nactivation=leaky\n",
		"head output read again": "[net]\nwidth=4\nheight=4\nchannels=1\n[convolutional]\nfilters=6\nsize=1\nactivation=linear\n" +
			"[region]\nanchors=1,1\nclasses=1\nnum=1\n[route]\nlayers=0\n[convolutional]\nfilters=6\nsize=1\nactivation=linear\n[region]\nanchors=1,1\nclasses=1\nnum=1\n",
		"logistic hidden layer": "[net]\nwidth=4\nheight=4\nchannels=1\n[convolutional]\nfilters=2\nsize=1\nactivation=logistic\n" +
			"[convolutional]\nfilters=6\nsize=1\nactivation=linear\n[region]\nanchors=1,1\nclasses=1\nnum=1\n",
	} {
		net, err := darknet.ParseConfig(strings.NewReader(cfg), "x.cfg")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := Convert(net, uniformCalibration(net, 1), DefaultOptions()); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestPositiveStatisticOnlyForRectifiers: Spiking-YOLO's statistic (the positive
// activation) sets the factors of leaky and relu layers; linear layers, whose neurons are
// symmetric, keep |a| under every option, as do all layers under the default.
func TestPositiveStatisticOnlyForRectifiers(t *testing.T) {
	net := randomDetector(t, 3)
	cal := uniformCalibration(net, 1)
	for i, st := range cal.Layers {
		abs := make([]float32, len(st.Abs))
		for k := range abs {
			abs[k] = 3
		}
		cal.Layers[i] = ChannelStats{Positive: st.Positive, Abs: abs}
	}
	for _, opt := range []Options{PaperOptions(), DefaultOptions()} {
		cv, err := Convert(net, cal, opt)
		if err != nil {
			t.Fatal(err)
		}
		checked := map[model.Activation]bool{}
		for i, l := range net.Layers {
			var act model.Activation
			switch op := l.Op.(type) {
			case *model.Conv:
				act = op.Act
			case *model.Shortcut:
				act = op.Act
			default:
				continue
			}
			if _, isOut := cv.outputs[i]; isOut {
				continue
			}
			want := 3.0
			if opt.Stat == StatPositive && (act == model.Leaky || act == model.ReLU) {
				want = 1
			}
			for c, got := range cv.Lambda[i] {
				if got != want {
					t.Fatalf("%v: layer %d (%v) channel %d: factor %v, want %v", opt.Stat, i, act, c, got, want)
				}
			}
			checked[act] = true
		}
		if !checked[model.Leaky] || !checked[model.Linear] {
			t.Fatalf("the tiny detector should have leaky and linear hidden layers, has %v", checked)
		}
	}
}

// TestPositiveStatisticOfNegativeChannels: under the positive statistic, a leaky channel
// whose activations are never positive is normalized by its |a| statistic, not by the
// layer's largest factor, which would make each of its negative spikes weigh many
// thresholds downstream; relu channels and the other channels are unaffected.
func TestPositiveStatisticOfNegativeChannels(t *testing.T) {
	net := randomDetector(t, 3)
	cal := uniformCalibration(net, 1)
	const abs = 0.25
	for i, st := range cal.Layers {
		pos := slices.Clone(st.Positive)
		pos[0] = -0.5 // channel 0 never activates positively
		absStat := slices.Clone(st.Abs)
		absStat[0] = abs
		cal.Layers[i] = ChannelStats{Positive: pos, Abs: absStat}
	}
	cv, err := Convert(net, cal, PaperOptions())
	if err != nil {
		t.Fatal(err)
	}
	checked := false
	for i, l := range net.Layers {
		op, ok := l.Op.(*model.Conv)
		if _, isOut := cv.outputs[i]; !ok || isOut || op.Act != model.Leaky {
			continue
		}
		if got := cv.Lambda[i][0]; got != abs {
			t.Errorf("layer %d channel 0 (no positive activation): factor %v, want its |a| statistic %v", i, got, abs)
		}
		for c, got := range cv.Lambda[i][1:] {
			if got != 1 {
				t.Errorf("layer %d channel %d: factor %v, want 1", i, c+1, got)
			}
		}
		checked = true
	}
	if !checked {
		t.Fatal("the tiny detector should have leaky hidden convolutions")
	}
}

// TestDecodeCounts checks per-layer decoding by hand on the identity network with factor 2
// (threshold theta = 32767, 16-bit weights): inputs 0.5, -1 and 0.6 are currents
// round(x/2·theta) = 8192, -16384 and 9830 per tick. After 10 ticks the symmetric neurons
// (one spike per tick, no undo) have net counts floor(10·8192/theta) = 2, -5 (a negative
// spike every second tick) and floor(10·9830/theta) = 2, decoded as count·2/10. With a
// warm-up of half the ticks, 64 ticks decode the counts' growth from tick 32: 8, -16 and
// floor(64·9830/theta) - floor(32·9830/theta) = 19 - 9 = 10, times 2/32.
func TestDecodeCounts(t *testing.T) {
	net := identityNet(t, 3)
	input := []float32{0.5, -1, 0.6}
	for _, c := range []struct {
		warmup float64
		T      int
		want   []float32
	}{
		{0, 10, []float32{0.4, -1.0, 0.4}},
		{0.5, 64, []float32{0.5, -1.0, 0.625}},
	} {
		opt := DefaultOptions()
		opt.MaxSpikes, opt.Undo, opt.Warmup = 1, false, c.warmup
		cv, err := Convert(net, uniformCalibration(net, 2), opt)
		if err != nil {
			t.Fatal(err)
		}
		snaps, err := chip.Reference(cv.Net, cv.Encode(input), chip.Probe{Ticks: cv.SnapshotTicks([]int{c.T}), Counts: true})
		if err != nil {
			t.Fatal(err)
		}
		got, err := cv.DecodeCounts(snaps, c.T, 0)
		if err != nil {
			t.Fatal(err)
		}
		for k := range got {
			if math.Abs(float64(got[k]-c.want[k])) > 1e-6 {
				t.Errorf("warm-up %v, %d ticks: decoded %v, want %v", c.warmup, c.T, got, c.want)
				break
			}
		}
		if _, err := cv.DecodeCounts(snaps, c.T, 1); err == nil || !strings.Contains(err.Error(), "does not spike") {
			t.Errorf("decoding the counts of an accumulator: error %v", err)
		}
		noCounts, err := chip.Reference(cv.Net, cv.Encode(input), chip.Probe{Ticks: cv.SnapshotTicks([]int{c.T})})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cv.DecodeCounts(noCounts, c.T, 0); err == nil || !strings.Contains(err.Error(), "lacks") {
			t.Errorf("decoding snapshots without counts: error %v", err)
		}
	}
}

// TestNeverPositiveLayerNamed: under the positive statistic a leaky layer that never
// activates cannot be normalized; the error says which statistic, its largest value and the
// way out (it said "calibration statistic 0").
func TestNeverPositiveLayerNamed(t *testing.T) {
	net := randomDetector(t, 5)
	cal := uniformCalibration(net, 2)
	for i, l := range net.Layers {
		if c, ok := l.Op.(*model.Conv); ok && c.Act == model.Leaky {
			st := cal.Layers[i]
			st.Positive = make([]float32, len(st.Positive))
			for k := range st.Positive {
				st.Positive[k] = -1
			}
			cal.Layers[i] = st
			break
		}
	}
	opt := DefaultOptions()
	opt.Stat = StatPositive
	_, err := Convert(net, cal, opt)
	if err == nil || !strings.Contains(err.Error(), "positive statistics") || !strings.Contains(err.Error(), "at most -1") ||
		!strings.Contains(err.Error(), "layer 0") {
		t.Errorf("error %v", err)
	}
}
