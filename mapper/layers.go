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

// conv converts convolution i reading in.
func (cv *Converted) conv(i int, c *model.Conv, in view, cal *Calibration, output bool) (view, error) {
	inC := cv.Float.InShape(i).C
	out := cv.Float.Layers[i].Out
	w, b := foldBatchNorm(c)
	lambda := ones(c.Filters)
	if !output {
		var err error
		if lambda, err = cv.factors(i, c.Act, cal); err != nil {
			return view{}, err
		}
	}
	cpg, fpg, k2 := inC/c.Groups, c.Filters/c.Groups, c.Size*c.Size
	norm := make([][]float64, c.Filters) // per filter: [channel of its group][ky][kx]
	bias := make([]float64, c.Filters)
	for f := range norm {
		g := f / fpg
		norm[f] = make([]float64, cpg*k2)
		for ch := 0; ch < cpg; ch++ {
			for k := 0; k < k2; k++ {
				norm[f][ch*k2+k] = w[(f*cpg+ch)*k2+k] * in.lambda[g*cpg+ch] / lambda[f]
			}
		}
		bias[f] = b[f] / lambda[f]
	}
	l := chip.Layer{Name: fmt.Sprintf("%d conv %dx%d/%d %v", i, c.Size, c.Size, c.Stride, c.Act), Neurons: core.Neurons{Shape: chipShape(out)}}
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
		for _, s := range in.segs {
			if s.chip < 0 {
				return view{}, errors.New("reads the network input together with other layers: not supported")
			}
			syn := core.Synapses{
				Src: cv.Net.Layers[s.chip].Shape, SrcC0: s.srcC0, NumC: s.n, Upsample: s.upsample, Dst: l.Shape,
				Size: c.Size, Stride: c.Stride, Offset: c.Padding, Groups: 1, DstC: c.Filters,
			}
			lo := s.ch0 // first channel of the filters' group that the segment holds
			if c.Groups > 1 {
				if s.ch0%cpg != 0 || s.n%cpg != 0 {
					return view{}, fmt.Errorf("a route boundary splits a group of %d channels: not supported", cpg)
				}
				syn.Groups = s.n / cpg
				syn.DstC0, syn.DstC = s.ch0/cpg*fpg, s.n/cpg*fpg
				lo = 0
			}
			per := syn.NumC / syn.Groups * k2
			for f := syn.DstC0; f < syn.DstC0+syn.DstC; f++ {
				syn.Weights = append(syn.Weights, q[f][lo*k2:lo*k2+per]...)
			}
			l.Inputs = append(l.Inputs, chip.Input{From: s.chip, Synapses: syn})
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

// shortcut converts shortcut layer i, the sum of views a and b: neurons with two one-to-one
// inputs whose weights bring both to the layer's own scale.
func (cv *Converted) shortcut(i int, s *model.Shortcut, a, b view, cal *Calibration) (view, error) {
	lambda, err := cv.factors(i, s.Act, cal)
	if err != nil {
		return view{}, err
	}
	w := make([][]float64, len(lambda))
	for c := range w {
		w[c] = []float64{a.lambda[c] / lambda[c], b.lambda[c] / lambda[c]}
	}
	theta, q := cv.quantize(w)
	l := chip.Layer{Name: fmt.Sprintf("%d shortcut %v", i, s.Act), Neurons: core.Neurons{Shape: chipShape(cv.Float.Layers[i].Out)}}
	for side, in := range []view{a, b} {
		for _, sg := range in.segs {
			if sg.chip < 0 {
				return view{}, errors.New("adds the network input: not supported")
			}
			syn := core.Synapses{
				Src: cv.Net.Layers[sg.chip].Shape, SrcC0: sg.srcC0, NumC: sg.n, Upsample: sg.upsample, Dst: l.Shape,
				DstC0: sg.ch0, DstC: sg.n, Size: 1, Stride: 1, Groups: sg.n,
			}
			for c := sg.ch0; c < sg.ch0+sg.n; c++ {
				syn.Weights = append(syn.Weights, q[c][side])
			}
			l.Inputs = append(l.Inputs, chip.Input{From: sg.chip, Synapses: syn})
		}
	}
	if err := cv.neuron(&l, s.Act, false, theta, make([]float64, len(lambda))); err != nil {
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
