package mapper

import (
	"fmt"
	"math"
	"slices"

	"spikeyolo/chip"
	"spikeyolo/core"
	"spikeyolo/model"
)

// Converted is a float detector converted into a chip network, with what it takes to feed it
// an image and to read its outputs back.
type Converted struct {
	Float   *model.Network
	Net     *chip.Network
	Options Options
	// Source is, for every chip layer, the model layer it implements.
	Source []int
	// Lambda is, for every model layer, the normalization factor of each output channel.
	Lambda [][]float64
	// Clipped counts the weights that did not fit the weight bits and were clipped.
	Clipped int

	cal     *Calibration   // the calibration converted with: Activity reads its means
	outputs map[int]int    // model layer of each output convolution → its chip accumulator
	encoder *model.Network // the analog layers' input currents, as float convolutions
	analog  []int          // chip layer of each encoder layer
	folds   map[int]bool   // model layers folded into their reader (Options.Fold)
}

// segment is a run of channels of a view that comes from one chip layer (or the image).
type segment struct {
	chip     int // chip layer, or -1 for the network input
	srcC0, n int // its channels [srcC0, srcC0+n)
	upsample int // nearest-neighbour enlargement on the way
	ch0      int // where the run starts in the view
}

// view is what a model layer's output is on the chip: runs of channels of chip layers, and
// the normalization factor of each channel; or a convolution folded into its reader.
type view struct {
	segs   []segment
	lambda []float64
	folded *foldedConv
}

// foldedConv is a linear convolution (model layer) that has no chip layer of its own: its
// reader (a shortcut, or an output 1x1 that composes them with its weights) takes its
// synapses from its input view.
type foldedConv struct {
	layer int
	conv  *model.Conv
	in    view
	inC   int
}

// slice returns channels [a, b) of v, renumbered from 0.
func (v view) slice(a, b int) view {
	out := view{lambda: v.lambda[a:b]}
	for _, s := range v.segs {
		lo, hi := max(a, s.ch0), min(b, s.ch0+s.n)
		if lo < hi {
			out.segs = append(out.segs, segment{s.chip, s.srcC0 + lo - s.ch0, hi - lo, s.upsample, lo - a})
		}
	}
	return out
}

// Convert converts net with the factors of cal (unused by output layers) and the options.
// Every [region] or [yolo] head must read a convolution; those convolutions become
// accumulators.
func Convert(net *model.Network, cal *Calibration, opt Options) (*Converted, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	cv := &Converted{Float: net, Net: &chip.Network{}, Options: opt, Lambda: make([][]float64, len(net.Layers)), cal: cal, outputs: map[int]int{}}
	var err error
	if cv.encoder, err = model.NewNetwork(net.Input); err != nil {
		return nil, err
	}
	isOutput := map[int]bool{}
	for _, h := range net.Heads() {
		in := net.Layers[h].Inputs[0]
		if in < 0 {
			return nil, fmt.Errorf("mapper: head %d reads the network input, not a convolution", h)
		}
		if _, ok := net.Layers[in].Op.(*model.Conv); !ok {
			return nil, fmt.Errorf("mapper: head %d reads layer %d (%s), not a convolution", h, in, net.Layers[in].Op.Kind())
		}
		isOutput[in] = true
	}
	if len(isOutput) == 0 {
		return nil, fmt.Errorf("mapper: the network has no [region] or [yolo] head")
	}
	for i, l := range net.Layers {
		switch l.Op.(type) {
		case *model.Region, *model.Yolo:
			continue
		}
		for _, in := range l.Inputs {
			if in >= 0 && isOutput[in] {
				return nil, fmt.Errorf("mapper: layer %d (%s) reads layer %d, which feeds a head and does not spike: not supported", i, l.Op.Kind(), in)
			}
		}
	}
	if opt.Fold {
		cv.folds = foldable(net, isOutput)
	}
	image := view{segs: []segment{{-1, 0, net.Input.C, 1, 0}}, lambda: ones(net.Input.C)}
	views := make([]view, len(net.Layers))
	viewOf := func(j int) view {
		if j < 0 {
			return image
		}
		return views[j]
	}
	for i, l := range net.Layers {
		var v view
		switch op := l.Op.(type) {
		case *model.Conv:
			v, err = cv.conv(i, op, viewOf(l.Inputs[0]), cal, isOutput[i])
		case *model.Shortcut:
			v, err = cv.shortcut(i, op, viewOf(l.Inputs[0]), viewOf(l.Inputs[1]), cal)
		case *model.MaxPool:
			v, err = cv.maxPool(i, op, viewOf(l.Inputs[0]))
		case *model.Route:
			for _, j := range l.Inputs {
				in := viewOf(j)
				per := len(in.lambda) / op.Groups
				part := in.slice(op.GroupID*per, (op.GroupID+1)*per)
				for _, s := range part.segs {
					s.ch0 += len(v.lambda)
					v.segs = append(v.segs, s)
				}
				v.lambda = append(v.lambda, part.lambda...)
			}
		case *model.Upsample:
			in := viewOf(l.Inputs[0])
			v.lambda = in.lambda
			for _, s := range in.segs {
				s.upsample *= op.Stride
				v.segs = append(v.segs, s)
			}
		case *model.Dropout:
			v = viewOf(l.Inputs[0])
		case *model.Region, *model.Yolo:
			v = viewOf(l.Inputs[0])
		default:
			return nil, fmt.Errorf("mapper: layer %d: no conversion for %s", i, l.Op.Kind())
		}
		if err != nil {
			return nil, fmt.Errorf("mapper: layer %d (%s, %s): %w", i, l.Op.Kind(), l.Source, err)
		}
		views[i] = v
		cv.Lambda[i] = v.lambda
	}
	if err := cv.Net.Validate(); err != nil {
		return nil, fmt.Errorf("mapper: %w", err)
	}
	return cv, nil
}

// foldable returns the linear convolutions, not outputs, that one layer alone reads (through
// dropouts) when that layer can absorb them: a shortcut, which adds their synapses and
// biases to its neurons, or an output 1x1 convolution of groups 1, which composes them with
// its weights when they have groups 1 too (its accumulators' channels are the fan-out
// either way). Both are exact (linear maps summed or composed) and spare a layer of
// neurons, its rounding of activations into spikes, their synaptic operations and a tick
// of latency. (Convert keeps one that reads the network input: it is an analog layer.)
func foldable(net *model.Network, isOutput map[int]bool) map[int]bool {
	readers := make([][]int, len(net.Layers))
	for i, l := range net.Layers {
		for _, in := range l.Inputs {
			if in >= 0 {
				readers[in] = append(readers[in], i)
			}
		}
	}
	var through func(j int) []int // the readers of layer j, seen through dropouts
	through = func(j int) []int {
		var out []int
		for _, r := range readers[j] {
			if _, ok := net.Layers[r].Op.(*model.Dropout); ok {
				out = append(out, through(r)...)
			} else {
				out = append(out, r)
			}
		}
		return out
	}
	folds := map[int]bool{}
	for i, l := range net.Layers {
		c, ok := l.Op.(*model.Conv)
		if !ok || c.Act != model.Linear || isOutput[i] {
			continue
		}
		r := through(i)
		if len(r) != 1 {
			continue
		}
		switch op := net.Layers[r[0]].Op.(type) {
		case *model.Shortcut:
			folds[i] = true
		case *model.Conv:
			folds[i] = isOutput[r[0]] && c.Groups == 1 && op.Size == 1 && op.Stride == 1 && op.Padding == 0 && op.Groups == 1
		}
	}
	return folds
}

func ones(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

// factors returns layer i's normalization factors by the options. The positive statistic
// (Spiking-YOLO's) applies only to rectifying layers, act leaky or relu, the only kind the
// paper converts; a linear layer's symmetric neurons carry both signs alike, so it is always
// normalized by |a|, which otherwise clips its negative side (measured on Yolo-Fastest's
// linear projections: see benchmarks/RESULTS.md). Under the positive statistic a channel
// with no positive activation, whose statistic the paper leaves undefined, takes |a|.
func (cv *Converted) factors(i int, act model.Activation, cal *Calibration) ([]float64, error) {
	if cal == nil {
		return nil, fmt.Errorf("no calibration")
	}
	st, ok := cal.Layers[i]
	if !ok {
		return nil, fmt.Errorf("the calibration has no statistics for this layer")
	}
	src := st.Abs
	positive := cv.Options.Stat == StatPositive && (act == model.Leaky || act == model.ReLU)
	if positive {
		src = st.Positive
	}
	if len(src) != cv.Float.Layers[i].Out.C {
		return nil, fmt.Errorf("the calibration has %d channels, the layer %d", len(src), cv.Float.Layers[i].Out.C)
	}
	layerMax := 0.0
	for _, x := range src {
		layerMax = max(layerMax, float64(x))
	}
	if !(layerMax > 0) || math.IsInf(layerMax, 0) {
		stat, top := "abs", slices.Max(src)
		if positive {
			stat = "positive"
		}
		return nil, fmt.Errorf("the calibration's %s statistics of this layer's %d channels are at most %v: want a positive finite maximum (a layer that never activates cannot be normalized by its positive statistic; use --norm-stat abs)",
			stat, len(src), top)
	}
	lambda := make([]float64, len(src))
	for c, x := range src {
		switch {
		case cv.Options.Norm == LayerWise:
			lambda[c] = layerMax
		case float64(x) > 1e-6*layerMax:
			lambda[c] = float64(x)
		case positive && float64(st.Abs[c]) > 1e-6*layerMax:
			// No positive activations: a leaky channel still carries its negative side, and
			// the layer's factor would make its rare negative spikes weigh many thresholds
			// downstream (measured on Yolo-Fastest: see benchmarks/RESULTS.md).
			lambda[c] = float64(st.Abs[c])
		default: // a channel that never activates: any factor works; the layer's keeps weights small
			lambda[c] = layerMax
		}
	}
	return lambda, nil
}

// addLayer appends a chip layer implementing model layer i, setting its onset one tick
// after its deepest source (0 for analog layers), and returns its view.
func (cv *Converted) addLayer(i int, l chip.Layer) view {
	onset := 0
	for _, in := range l.Inputs {
		onset = max(onset, cv.Net.Layers[in.From].Onset+1)
	}
	l.Onset = onset
	idx := len(cv.Net.Layers)
	cv.Net.Layers = append(cv.Net.Layers, l)
	cv.Source = append(cv.Source, i)
	return view{segs: []segment{{idx, 0, l.Shape.C, 1, 0}}}
}

func chipShape(s model.Shape) core.Shape { return core.Shape{C: s.C, H: s.H, W: s.W} }

// neuron sets the kind, thresholds, biases and initial membranes of a layer with activation
// act, given each channel's threshold theta and normalized bias (in thresholds).
func (cv *Converted) neuron(l *chip.Layer, act model.Activation, output bool, theta []int64, bias []float64) error {
	c := len(theta)
	l.Bias = make([]int64, c)
	l.V0 = make([]int64, c)
	l.MaxSpikes = int64(cv.Options.MaxSpikes)
	// A rate neuron takes its normalized bias in every tick, a graded one all its levels'
	// worth once.
	scale := 1.0
	if cv.Options.Coding != Rate {
		scale = float64(cv.Options.Levels())
		l.MaxSpikes, l.Once = cv.Options.maxPayload(), true
	}
	for f := range theta {
		l.Bias[f] = int64(math.Round(bias[f] * float64(theta[f]) * scale))
	}
	if output {
		l.Kind = core.Accumulator
		l.Readout = make([]float64, c)
		for f := range theta {
			l.Readout[f] = 1 / float64(theta[f])
		}
		return nil
	}
	// The negative threshold over the positive one: 1 for linear layers, 1/alpha for the
	// imbalanced threshold of leaky layers.
	ratio := 1.0
	switch {
	case act == model.Linear:
		l.Kind = core.Signed
	case act == model.Leaky && cv.Options.Neuron == IBT:
		l.Kind = core.Signed
		ratio = 1 / float64(model.LeakySlope)
	case act == model.Leaky || act == model.ReLU:
		l.Kind = core.IF
	default:
		return fmt.Errorf("activation %v has no spiking neuron (only an output layer may use it)", act)
	}
	l.Threshold = make([]core.Threshold, c)
	graded, relu := cv.Options.Coding != Rate, l.Kind == core.IF
	if graded {
		l.Kind, l.Graded = core.Graded, true
	}
	for f, t := range theta {
		neg := int64(math.Round(float64(t) * ratio))
		if !graded {
			l.Threshold[f] = core.Threshold{Pos: t, Neg: neg, Undo: cv.Options.Undo,
				BackPos: fractionOf(cv.Options.UndoMargin, t), BackNeg: fractionOf(cv.Options.UndoMargin, neg)}
			continue
		}
		// A graded neuron's levels are its activation in units of theta/Levels (the negative
		// side of a leaky layer in units of theta/(alpha·Levels)); a ReLU has none below 0.
		if relu {
			neg = math.MaxInt64
		}
		l.Threshold[f] = core.Threshold{Pos: t, Neg: neg, Delta: int64(cv.Options.Delta)}
	}
	if cv.Options.Init == InitHalf {
		for f, t := range theta {
			l.V0[f] = t / 2
		}
	}
	return nil
}

// quantizeParts is quantize for rows made of parts (widths: each part's weights per row,
// in order), each the synapses of one input. When a part has several weights per row (a
// folded convolution beside a shortcut's one-to-one input), the thresholds give the widest
// part the whole weight range and every other part the least shift (one per part, for all
// rows) that makes its weights mantissas of the weight bits times 2^shift (Loihi's weight
// exponent per connection): a large one-to-one weight does not take the convolution's
// precision. A shift stays within core.MaxWeightShift and an int32 weight; beyond that a
// weight is clipped (and counted). With one weight per part it is quantize, every shift 0.
func (cv *Converted) quantizeParts(w [][]float64, widths []int) (theta []int64, q [][]int32, shift []int) {
	shift = make([]int, len(widths))
	wide := 0 // the widest part
	for p, n := range widths {
		if n > widths[wide] {
			wide = p
		}
	}
	if widths[wide] == 1 {
		theta, q = cv.quantize(w)
		return theta, q, shift
	}
	start := make([]int, len(widths))
	for p := 1; p < len(widths); p++ {
		start[p] = start[p-1] + widths[p-1]
	}
	wmax := float64(int64(1)<<(cv.Options.WeightBits-1) - 1)
	theta = make([]int64, len(w))
	for f, ws := range w {
		m := 0.0
		for _, x := range ws[start[wide] : start[wide]+widths[wide]] {
			m = max(m, math.Abs(x))
		}
		t := wmax
		if m > 0 {
			t = math.Floor(wmax / m)
		}
		theta[f] = int64(max(1, min(t, maxTheta)))
	}
	maxShift := min(core.MaxWeightShift, 31-cv.Options.WeightBits) // wmax·2^shift < 2^30
	for p := range widths {
		if p == wide {
			continue
		}
		for f, ws := range w {
			for _, x := range ws[start[p] : start[p]+widths[p]] {
				for shift[p] < maxShift && math.Abs(x)*float64(theta[f]) > wmax*float64(int64(1)<<shift[p]) {
					shift[p]++
				}
			}
		}
	}
	q = make([][]int32, len(w))
	for f, ws := range w {
		q[f] = make([]int32, len(ws))
		for p := range widths {
			unit := float64(int64(1) << shift[p])
			for k := start[p]; k < start[p]+widths[p]; k++ {
				r := math.Round(ws[k] * float64(theta[f]) / unit)
				if math.Abs(r) > wmax {
					r = math.Copysign(wmax, r)
					cv.Clipped++
				}
				q[f][k] = int32(r * unit)
			}
		}
	}
	return theta, q, shift
}

// maxTheta bounds thresholds to what Loihi can hold (a 17-bit mantissa shifted by 6 bits).
const maxTheta = 1 << 23

// quantize picks each target channel's threshold so that its largest normalized weight
// uses the full weight range, and rounds the weights. w[f] lists channel f's weights.
func (cv *Converted) quantize(w [][]float64) (theta []int64, q [][]int32) {
	wmax := float64(int64(1)<<(cv.Options.WeightBits-1) - 1)
	theta = make([]int64, len(w))
	q = make([][]int32, len(w))
	for f, ws := range w {
		m := 0.0
		for _, x := range ws {
			m = max(m, math.Abs(x))
		}
		t := wmax
		if m > 0 {
			t = math.Floor(wmax / m)
		}
		theta[f] = int64(max(1, min(t, maxTheta)))
		q[f] = make([]int32, len(ws))
		for k, x := range ws {
			r := math.Round(x * float64(theta[f]))
			if math.Abs(r) > wmax {
				r = math.Copysign(wmax, r)
				cv.Clipped++
			}
			q[f][k] = int32(r)
		}
	}
	return theta, q
}
