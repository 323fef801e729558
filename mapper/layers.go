package mapper

import (
	"errors"
	"fmt"
	"math"

	"spikeyolo/chip"
	"spikeyolo/core"
	"spikeyolo/model"
)

// foldBatchNorm returns a convolution's weights and biases with batch norm folded in, in
// darknet's convention: y = (x - mean)/(sqrt(variance) + 1e-6)·scale + bias, so
// w' = w·scale/(sqrt(variance) + 1e-6) and b' = bias - mean·scale/(sqrt(variance) + 1e-6).
// The epsilon is added to the standard deviation, not to the variance.
func foldBatchNorm(c *model.Conv) (w, b []float64) {
	w = make([]float64, len(c.Weights))
	b = make([]float64, c.Filters)
	per := len(c.Weights) / c.Filters
	for f := 0; f < c.Filters; f++ {
		scale, shift := 1.0, float64(c.Biases[f])
		if c.HasBatchNorm() {
			s := float64(c.BatchNorm.Scales[f]) / (math.Sqrt(float64(c.BatchNorm.Variance[f])) + float64(model.BatchNormEpsilon))
			scale, shift = s, shift-float64(c.BatchNorm.Mean[f])*s
		}
		for k := f * per; k < (f+1)*per; k++ {
			w[k] = float64(c.Weights[k]) * scale
		}
		b[f] = shift
	}
	return w, b
}

// conv converts convolution i reading in. A linear convolution folded into its reader
// (Options.Fold, see foldable) becomes no chip layer: its view carries it to the reader,
// which takes its synapses (a shortcut) or composes them with its own (an output 1x1).
func (cv *Converted) conv(i int, c *model.Conv, in view, cal *Calibration, output bool) (view, error) {
	inC := cv.Float.InShape(i).C
	if cv.folds[i] && len(in.segs) > 0 && in.segs[0].chip >= 0 {
		return view{folded: &foldedConv{layer: i, conv: c, in: in, inC: inC}}, nil
	}
	lambda := ones(c.Filters)
	if !output {
		var err error
		if lambda, err = cv.factors(i, c.Act, cal); err != nil {
			return view{}, err
		}
	}
	name := fmt.Sprintf("%d conv %dx%d/%d %v", i, c.Size, c.Size, c.Stride, c.Act)
	var norm [][]float64
	var bias []float64
	if f := in.folded; f != nil {
		norm, bias = composeRows(c, f)
		name += fmt.Sprintf(" + conv %d", f.layer)
		in, c = f.in, &model.Conv{Filters: c.Filters, Size: f.conv.Size, Stride: f.conv.Stride, Padding: f.conv.Padding, Groups: 1}
	} else {
		norm, bias = convRows(c, inC, in, lambda)
	}
	l := chip.Layer{Name: name, Neurons: core.Neurons{Shape: chipShape(cv.Float.Layers[i].Out)}}
	var theta []int64
	if in.segs[0].chip < 0 {
		if len(in.segs) != 1 || in.segs[0].upsample != 1 {
			return view{}, errors.New("reads the network input through a route or upsample: not supported")
		}
		theta = cv.analogLayer(i, c, norm)
		l.Analog = true
	} else {
		var q [][]int32
		theta, q = cv.quantize(norm)
		var err error
		if l.Inputs, err = cv.convInputs(c, in, l.Shape, q); err != nil {
			return view{}, err
		}
	}
	if err := cv.neuron(&l, c.Act, output, theta, bias); err != nil {
		return view{}, err
	}
	v := cv.addLayer(i, l)
	if output {
		cv.outputs[i] = len(cv.Net.Layers) - 1
	}
	v.lambda = lambda
	return v, nil
}

// convRows returns convolution c's batch-norm-folded weights reading in (inC channels),
// normalized to the output factors lambda, per filter [channel of its group][ky][kx], and its
// biases in units of lambda.
func convRows(c *model.Conv, inC int, in view, lambda []float64) (rows [][]float64, bias []float64) {
	w, b := foldBatchNorm(c)
	cpg, fpg, k2 := inC/c.Groups, c.Filters/c.Groups, c.Size*c.Size
	rows = make([][]float64, c.Filters)
	bias = make([]float64, c.Filters)
	for f := range rows {
		g := f / fpg
		rows[f] = make([]float64, cpg*k2)
		for ch := 0; ch < cpg; ch++ {
			for k := 0; k < k2; k++ {
				rows[f][ch*k2+k] = w[(f*cpg+ch)*k2+k] * in.lambda[g*cpg+ch] / lambda[f]
			}
		}
		bias[f] = b[f] / lambda[f]
	}
	return rows, bias
}

// composeRows returns the rows and biases (convRows') of output 1x1 convolution r (factor 1)
// reading folded convolution f: r's weights times f's rows, summed over f's filters, a
// convolution of f's kernel and groups 1 (foldable admits only such pairs).
func composeRows(r *model.Conv, f *foldedConv) (rows [][]float64, bias []float64) {
	fRows, fBias := convRows(f.conv, f.inC, f.in, ones(f.conv.Filters))
	w, b := foldBatchNorm(r)
	mid := f.conv.Filters
	rows = make([][]float64, r.Filters)
	bias = make([]float64, r.Filters)
	for o := range rows {
		rows[o] = make([]float64, len(fRows[0]))
		bias[o] = b[o]
		for m := 0; m < mid; m++ {
			wm := w[o*mid+m]
			for k, x := range fRows[m] {
				rows[o][k] += wm * x
			}
			bias[o] += wm * fBias[m]
		}
	}
	return rows, bias
}

// convInputs returns the synapses by which convolution c reads in into a layer of shape dst;
// q[f] starts with filter f's quantized weights in convRows' order.
func (cv *Converted) convInputs(c *model.Conv, in view, dst core.Shape, q [][]int32) ([]chip.Input, error) {
	inC := len(in.lambda)
	cpg, fpg, k2 := inC/c.Groups, c.Filters/c.Groups, c.Size*c.Size
	var inputs []chip.Input
	for _, s := range in.segs {
		if s.chip < 0 {
			return nil, errors.New("reads the network input together with other layers: not supported")
		}
		syn := core.Synapses{
			Src: cv.Net.Layers[s.chip].Shape, SrcC0: s.srcC0, NumC: s.n, Upsample: s.upsample, Dst: dst,
			Size: c.Size, Stride: c.Stride, Offset: c.Padding, Groups: 1, DstC: c.Filters,
		}
		lo := s.ch0 // first channel of the filters' group that the segment holds
		if c.Groups > 1 {
			if s.ch0%cpg != 0 || s.n%cpg != 0 {
				return nil, fmt.Errorf("a route boundary splits a group of %d channels: not supported", cpg)
			}
			syn.Groups = s.n / cpg
			syn.DstC0, syn.DstC = s.ch0/cpg*fpg, s.n/cpg*fpg
			lo = 0
		}
		per := syn.NumC / syn.Groups * k2
		for f := syn.DstC0; f < syn.DstC0+syn.DstC; f++ {
			syn.Weights = append(syn.Weights, q[f][lo*k2:lo*k2+per]...)
		}
		inputs = append(inputs, chip.Input{From: s.chip, Synapses: syn})
	}
	return inputs, nil
}

// analogLayer records convolution i of the network input as a float convolution that
// computes the layer's input current, and returns its thresholds: the current is the
// normalized pre-activation times the threshold, rounded, every tick.
func (cv *Converted) analogLayer(i int, c *model.Conv, norm [][]float64) []int64 {
	t := int64(1)<<(cv.Options.WeightBits-1) - 1
	theta := make([]int64, c.Filters)
	enc := &model.Conv{Filters: c.Filters, Size: c.Size, Stride: c.Stride, Padding: c.Padding, Groups: c.Groups, Act: model.Linear,
		Biases: make([]float32, c.Filters)}
	for f := range theta {
		theta[f] = t
		for _, x := range norm[f] {
			enc.Weights = append(enc.Weights, float32(x*float64(t)))
		}
	}
	if _, err := cv.encoder.Add(enc, []int{-1}, cv.Float.Layers[i].Source); err != nil {
		panic(fmt.Sprintf("mapper: encoder of layer %d: %v", i, err)) // the model layer was valid
	}
	cv.analog = append(cv.analog, len(cv.Net.Layers))
	return theta
}

// shortcut converts shortcut layer i, the sum of views a and b: neurons with two inputs
// whose weights bring both to the layer's own scale, one-to-one from a spiking view, or a
// folded convolution's synapses (whose biases the layer takes).
func (cv *Converted) shortcut(i int, s *model.Shortcut, a, b view, cal *Calibration) (view, error) {
	lambda, err := cv.factors(i, s.Act, cal)
	if err != nil {
		return view{}, err
	}
	sides := []view{a, b}
	w := make([][]float64, len(lambda))
	bias := make([]float64, len(lambda))
	width := make([]int, len(sides)) // weights per channel of each side
	name := fmt.Sprintf("%d shortcut %v", i, s.Act)
	for side, in := range sides {
		if f := in.folded; f != nil {
			rows, bs := convRows(f.conv, f.inC, f.in, lambda)
			for c := range w {
				w[c], bias[c] = append(w[c], rows[c]...), bias[c]+bs[c]
			}
			width[side] = len(rows[0])
			name += fmt.Sprintf(" + conv %d", f.layer)
			continue
		}
		for c := range w {
			w[c] = append(w[c], in.lambda[c]/lambda[c])
		}
		width[side] = 1
	}
	theta, q, shift := cv.quantizeParts(w, width)
	l := chip.Layer{Name: name, Neurons: core.Neurons{Shape: chipShape(cv.Float.Layers[i].Out)}}
	at := 0 // where the side's weights start in each row
	for side, in := range sides {
		if f := in.folded; f != nil {
			part := make([][]int32, len(q))
			for c := range q {
				part[c] = q[c][at : at+width[side]]
			}
			inputs, err := cv.convInputs(f.conv, f.in, l.Shape, part)
			if err != nil {
				return view{}, err
			}
			for k := range inputs {
				inputs[k].Synapses.WeightShift = shift[side]
			}
			l.Inputs = append(l.Inputs, inputs...)
			at += width[side]
			continue
		}
		for _, sg := range in.segs {
			if sg.chip < 0 {
				return view{}, errors.New("adds the network input: not supported")
			}
			syn := core.Synapses{
				Src: cv.Net.Layers[sg.chip].Shape, SrcC0: sg.srcC0, NumC: sg.n, Upsample: sg.upsample, Dst: l.Shape,
				DstC0: sg.ch0, DstC: sg.n, Size: 1, Stride: 1, Groups: sg.n, WeightShift: shift[side],
			}
			for c := sg.ch0; c < sg.ch0+sg.n; c++ {
				syn.Weights = append(syn.Weights, q[c][at])
			}
			l.Inputs = append(l.Inputs, chip.Input{From: sg.chip, Synapses: syn})
		}
		at++
	}
	if err := cv.neuron(&l, s.Act, false, theta, bias); err != nil {
		return view{}, err
	}
	v := cv.addLayer(i, l)
	v.lambda = lambda
	return v, nil
}

// maxPool converts max-pool layer i reading in into spiking max-pool neurons; the maximum
// keeps each channel's scale.
func (cv *Converted) maxPool(i int, m *model.MaxPool, in view) (view, error) {
	l := chip.Layer{Name: fmt.Sprintf("%d maxpool %dx%d/%d", i, m.Size, m.Size, m.Stride),
		Neurons: core.Neurons{Shape: chipShape(cv.Float.Layers[i].Out), Kind: core.MaxPool, Pool: cv.Options.Pool, MaxSpikes: int64(cv.Options.MaxSpikes)}}
	if cv.Options.Coding != Rate { // the maximum of graded inputs, sent as graded messages
		l.MaxSpikes, l.Graded = cv.Options.maxPayload(), true
	}
	for _, s := range in.segs {
		if s.chip < 0 {
			return view{}, errors.New("pools the network input: not supported")
		}
		l.Inputs = append(l.Inputs, chip.Input{From: s.chip, Synapses: core.Synapses{
			Src: cv.Net.Layers[s.chip].Shape, SrcC0: s.srcC0, NumC: s.n, Upsample: s.upsample, Dst: l.Shape,
			DstC0: s.ch0, DstC: s.n, Size: m.Size, Stride: m.Stride, Offset: m.Padding / 2, Groups: s.n,
		}})
	}
	v := cv.addLayer(i, l)
	v.lambda = in.lambda
	return v, nil
}
