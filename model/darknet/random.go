package darknet

import (
	"fmt"
	"math"
	"math/rand/v2"

	"spikeyolo/model"
)

// DefaultSeed is the seed of random weights when none is given ("--weights random").
const DefaultSeed uint64 = 1

// RandomWeights replaces every parameter that LoadWeights would read (the biases, batch-norm
// statistics and kernel weights of each convolution) with untrained values drawn from seed,
// so that an architecture can be converted, mapped and costed before it is trained: they are
// those of a freshly initialized network whose batch norm has seen one image.
//
//   - Kernel weights are uniform with variance 1/fan_in, fan_in = (C/groups)·size², and
//     biases (batch norm's shift) uniform in [-0.1, 0.1], each convolution from its own
//     PCG-DXSM stream, math/rand/v2's NewPCG(seed, layer index), turned into floating point
//     by exact operations: the draws depend on nothing but the seed and the layer's shape.
//   - The scale is then set from data, as in Salimans and Kingma's data-dependent
//     initialization (Weight Normalization, 2016): the network runs, layer by layer, on
//     ProbeImage, a fixed synthetic image with the statistics of natural images, and each
//     filter's sums are normalized to mean 0 and variance 1 on it. With batch norm
//     (batch_normalize=1), its rolling mean and variance are the mean and variance of the
//     sums and its scales 1, as after training; without, the filter's weights are divided by
//     the sums' standard deviation and its bias subtracts their mean divided by it. Every
//     filter is thus centered (none dead or linear by chance) and every layer's activations
//     stay near unit size however deep or narrow the network, through shortcuts, routes,
//     max-pools and grouped convolutions, whose effect on the scale no formula predicts
//     well. (A filter whose sums do not vary on the image keeps its scale.)
//   - Where a convolution feeds a head's probabilities, the objectness of a [region] or
//     [yolo] head and the logistic class scores of a [yolo] head, the bias is -ln(99) instead,
//     a prior of 0.01 as RetinaNet initializes its classifier, so that an untrained detector
//     reports a few objects rather than thousands.
//
// The same seed gives the same bits, for any GOMAXPROCS (model's float inference, which sets
// the scale, is deterministic). It costs about one float evaluation of the network.
// Parameters are fresh slices of the sizes the layers' shapes imply. It panics on an
// operation it does not know.
func RandomWeights(net *model.Network, seed uint64) {
	prior := priorChannels(net)
	input := ProbeImage(net.Input)
	outs := make([][]float32, len(net.Layers))
	src := func(j int) []float32 {
		if j < 0 {
			return input
		}
		return outs[j]
	}
	for i, l := range net.Layers {
		c, ok := l.Op.(*model.Conv)
		if !ok {
			outs[i] = evalLayer(net, i, src)
			continue
		}
		inShape := net.InShape(i)
		r := rand.NewPCG(seed, uint64(i))
		bias := make([]float32, c.Filters)
		for f := range bias {
			bias[f] = float32(0.1 * (2*unit(r) - 1))
			if prior[i][f] {
				bias[f] = priorBias
			}
		}
		w := make([]float32, c.WeightCount(inShape.C))
		fanIn := len(w) / c.Filters
		a := math.Sqrt(3 / float64(fanIn)) // uniform on [-a, a) has variance a²/3
		for k := range w {
			w[k] = float32(a * (2*unit(r) - 1))
		}
		// The sums alone: no batch norm, no bias, no activation.
		raw := &model.Conv{Filters: c.Filters, Size: c.Size, Stride: c.Stride, Padding: c.Padding, Groups: c.Groups,
			Act: model.Linear, Weights: w, Biases: make([]float32, c.Filters)}
		sums := evalOp(raw, inShape, src(l.Inputs[0]))
		n := l.Out.H * l.Out.W
		mean, sd := make([]float64, c.Filters), make([]float64, c.Filters)
		for f := range mean {
			mean[f], sd[f] = moments(sums[f*n : (f+1)*n])
			if !(sd[f] > minStdDev) {
				sd[f] = 1 // a filter that sees a constant: leave its scale
			}
		}
		// The layer's output on the image, from the sums: normalized, shifted, activated.
		for f := 0; f < c.Filters; f++ {
			plane := sums[f*n : (f+1)*n]
			for k, x := range plane {
				plane[k] = float32((float64(x)-mean[f])/sd[f]) + bias[f]
			}
			c.Act.Apply(plane)
		}
		var bn model.BatchNorm
		if c.HasBatchNorm() {
			bn = model.BatchNorm{Scales: make([]float32, c.Filters), Mean: make([]float32, c.Filters), Variance: make([]float32, c.Filters)}
			for f := range bn.Scales {
				bn.Scales[f], bn.Mean[f], bn.Variance[f] = 1, float32(mean[f]), float32(float64(sd[f]*sd[f]))
			}
		} else {
			for f := range bias {
				for k := f * fanIn; k < (f+1)*fanIn; k++ {
					w[k] = float32(float64(w[k]) / sd[f])
				}
				bias[f] -= float32(mean[f] / sd[f])
			}
		}
		c.Weights, c.Biases, c.BatchNorm = w, bias, bn
		outs[i] = sums
	}
}

// minStdDev is the standard deviation below which a filter's sums count as constant.
const minStdDev = 1e-12

// priorBias is -ln(99): its logistic is a prior of 0.01.
const priorBias = -4.59511985013459

// unit is uniform on [0, 1): the top 53 bits of r's next output, exactly.
func unit(r *rand.PCG) float64 { return float64(r.Uint64()>>11) * 0x1p-53 }

// moments are the mean and standard deviation of v.
func moments(v []float32) (mean, sd float64) {
	for _, x := range v {
		mean += float64(x)
	}
	mean /= float64(len(v))
	var ss float64
	for _, x := range v {
		d := float64(x) - mean
		ss += float64(d * d)
	}
	return mean, math.Sqrt(ss / float64(len(v)))
}

// evalLayer computes the output of net's layer i from the outputs of the layers it reads.
func evalLayer(net *model.Network, i int, src func(j int) []float32) []float32 {
	l := net.Layers[i]
	switch op := l.Op.(type) {
	case *model.Dropout:
		return src(l.Inputs[0])
	case *model.Route:
		out := make([]float32, 0, l.Out.Size())
		for _, j := range l.Inputs {
			part := src(j)
			n := len(part) / op.Groups
			out = append(out, part[op.GroupID*n:(op.GroupID+1)*n]...)
		}
		return out
	case *model.Shortcut:
		a, b := src(l.Inputs[0]), src(l.Inputs[1])
		out := make([]float32, len(a))
		for k := range out {
			out[k] = a[k] + b[k]
		}
		op.Act.Apply(out)
		return out
	case *model.MaxPool, *model.Upsample, *model.Region, *model.Yolo:
		return evalOp(op, net.InShape(i), src(l.Inputs[0]))
	default:
		panic(fmt.Sprintf("darknet: RandomWeights: layer %d: unknown operation %T", i, op))
	}
}

// evalOp applies a one-input operation to in, of shape s, with model's float inference.
func evalOp(op model.Op, s model.Shape, in []float32) []float32 {
	one, err := model.NewNetwork(s)
	if err == nil {
		_, err = one.Add(op, []int{-1}, "")
	}
	if err != nil {
		panic(fmt.Sprintf("darknet: RandomWeights: %v", err)) // the layer is already in a network of the same shapes
	}
	return one.Forward(in)[0]
}

// ProbeImage is the image RandomWeights sets the scale on: a fixed synthetic picture of
// shape s (CHW, values in [0, 1]) with the statistics of natural images that matter to a
// convolution's scale, a "dead leaves" image (Matheron; Lee, Mumford and Huang 2001): opaque
// discs of random colours, their radii drawn with density proportional to 1/r³ from one pixel
// to half the image, painted over each other until they cover it several times. Its edges
// and flat regions at every scale give the 1/f amplitude spectrum of natural images, and its
// colours move together (a shared luminance, a little colour of their own).
func ProbeImage(s model.Shape) []float32 {
	r := rand.NewPCG(0x70726f6265, 0) // "probe"
	hw := s.H * s.W
	out := make([]float32, s.Size())
	for k := range out {
		out[k] = 0.45
	}
	rmax := max(float64(max(s.H, s.W))/2, 1)
	colour := make([]float32, s.C)
	for covered := 0.0; covered < 4*float64(hw); {
		// Inverse transform of the density 2r⁻³/(1-rmax⁻²) on [1, rmax].
		u := unit(r)
		rad := 1 / math.Sqrt(1-float64(u*(1-1/float64(rmax*rmax))))
		cy, cx := unit(r)*float64(s.H), unit(r)*float64(s.W)
		lum := unit(r)
		for c := range colour {
			colour[c] = float32(min(max(0.1+float64(0.8*lum)+float64(0.3*(unit(r)-0.5)), 0), 1))
		}
		y0, y1 := max(int(cy-rad), 0), min(int(cy+rad)+1, s.H)
		x0, x1 := max(int(cx-rad), 0), min(int(cx+rad)+1, s.W)
		for y := y0; y < y1; y++ {
			dy := float64(y) + 0.5 - cy
			for x := x0; x < x1; x++ {
				dx := float64(x) + 0.5 - cx
				if float64(dy*dy)+float64(dx*dx) <= float64(rad*rad) {
					for c, v := range colour {
						out[c*hw+y*s.W+x] = v
					}
				}
			}
		}
		covered += float64(math.Pi * float64(rad*rad))
	}
	return out
}

// priorChannels are, by convolution, the filters that feed a head's probabilities (they
// start at a prior of 0.01): the objectness of every anchor of a [region] or [yolo] head, and
// the class scores of a [yolo] head (logistic; a region's softmax ignores a common shift), of
// the convolution directly before the head if it has one filter per channel of the head.
func priorChannels(net *model.Network) map[int]map[int]bool {
	out := map[int]map[int]bool{}
	for _, h := range net.Heads() {
		l := net.Layers[h]
		j := l.Inputs[0]
		if j < 0 {
			continue
		}
		c, ok := net.Layers[j].Op.(*model.Conv)
		if !ok || c.Filters != l.Out.C {
			continue
		}
		var anchors, per, from, to int // channels [from, to) of each anchor's per
		switch op := l.Op.(type) {
		case *model.Region:
			anchors, per, from, to = op.Num, op.Coords+1+op.Classes, op.Coords, op.Coords+1
		case *model.Yolo:
			anchors, per, from, to = len(op.Mask), op.Classes+5, 4, op.Classes+5
		}
		for a := 0; a < anchors; a++ {
			for k := a*per + from; k < a*per+to && k < c.Filters; k++ {
				if out[j] == nil {
					out[j] = map[int]bool{}
				}
				out[j][k] = true
			}
		}
	}
	return out
}
