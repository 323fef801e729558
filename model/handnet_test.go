package model_test

// Data-free tests of the float network: small networks written as darknet cfg files with
// hand-chosen weights, whose outputs are either computed by hand (TestForwardByHand) or by
// naive loops written from darknet's definitions, independently of forward.go
// (TestForwardMatchesNaive). They run on a clone without the shared reference data.

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"spikeyolo/model"
	"spikeyolo/model/darknet"
)

// build parses cfg and loads params, the float32 values of a weights file after its header
// (darknet's layout: per convolution, biases, then if batch_normalize scales, rolling means
// and rolling variances, then the weights [filter][channel of its group][ky][kx]).
func build(t *testing.T, cfg string, params []float32) *model.Network {
	t.Helper()
	net, err := darknet.ParseConfig(strings.NewReader(cfg), "hand.cfg")
	if err != nil {
		t.Fatal(err)
	}
	// Header: version 0.2.0, then seen as an int64.
	data := binary.LittleEndian.AppendUint32(nil, 0)
	data = binary.LittleEndian.AppendUint32(data, 2)
	data = binary.LittleEndian.AppendUint32(data, 0)
	data = binary.LittleEndian.AppendUint64(data, 0)
	for _, v := range params {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
	}
	if err := darknet.LoadWeights(net, data, "hand.weights"); err != nil {
		t.Fatal(err)
	}
	return net
}

func ln(x float64) float32 { return float32(math.Log(x)) }

// TestForwardByHand runs one tiny network per kind of layer, each output derived by hand.
// Tensors are written channel by channel, row by row.
func TestForwardByHand(t *testing.T) {
	tests := []struct {
		name   string
		cfg    string
		params []float32
		input  []float32
		want   map[int][]float32 // layer → output
	}{
		{
			// 3×3 input [1 2 3; 4 5 6; 7 8 9]; padding 1 (pad=1: size/2).
			// Filter 0: kernel [0 0 0; 0 1 0; 0 0 -1], so the sum at (y, x) is in(y,x) - in(y+1,x+1)
			// (0 outside): [-4 -4 3; -4 -4 6; 7 8 9]. Batch norm (darknet: (s - mean)/(sqrt(var) +
			// 0.000001)·scale + bias) with mean 1, var 4, scale 2, bias 0.5:
			// (s - 1)·2/2.000001 + 0.5 = (s - 1)·0.9999995 + 0.5:
			// s = -4 → -4.4999975, leaky (·0.1) → -0.44999975; s = 3 → 2.499999; s = 6 → 5.4999975;
			// s = 7 → 6.499997; s = 8 → 7.4999965; s = 9 → 8.499996.
			// Filter 1: kernel with only the centre tap 1, so s = in; mean 0, var 0, scale 1e-6,
			// bias 0: s/(0 + 0.000001)·1e-6 = s. (Were the 0.000001 added to the variance, this
			// would be s/sqrt(0.000001)·1e-6 = s/1000.)
			name: "conv 3x3 batch norm leaky",
			cfg: "[net]\nwidth=3\nheight=3\nchannels=1\n" +
				"[convolutional]\nbatch_normalize=1\nfilters=2\nsize=3\nstride=1\npad=1\nactivation=leaky\n",
			params: []float32{
				0.5, 0, // biases
				2, 1e-6, // scales
				1, 0, // rolling means
				4, 0, // rolling variances
				0, 0, 0, 0, 1, 0, 0, 0, -1, // filter 0
				0, 0, 0, 0, 1, 0, 0, 0, 0, // filter 1
			},
			input: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9},
			want: map[int][]float32{0: {
				-0.44999975, -0.44999975, 2.499999, -0.44999975, -0.44999975, 5.4999975, 6.499997, 7.4999965, 8.499996,
				1, 2, 3, 4, 5, 6, 7, 8, 9,
			}},
		},
		{
			// Two 1×4 channels [1 2 3 4] and [10 20 30 40]; 3×3 kernels, padding 1, linear. Only
			// the middle row of a kernel meets the one-row input.
			// Layer 0, depthwise (groups = channels = filters = 2): filter f sees channel f only.
			// f0 middle row (1, 2, 3): out(x) = in(x-1) + 2·in(x) + 3·in(x+1):
			// 0+2+6 = 8, 1+4+9 = 14, 2+6+12 = 20, 3+8+0 = 11; bias 0.5.
			// f1 middle row (0, 1, -1): out(x) = in(x) - in(x+1): -10, -10, -10, 40; bias -0.5.
			// Layer 1, stride 2 and 2 groups of 1 channel → 2 filters each (not depthwise):
			// output width (4 + 2 - 3)/2 + 1 = 2, columns 0 and 2 of the input (taps x-1, x, x+1).
			// Middle rows: f0 (1, 0, 0) → in0(x-1): 0, 14.5; f1 (0, 0, 1) → in0(x+1): 14.5, 11.5;
			// f2 (0, 1, 0) → in1(x): -10.5, -10.5; f3 (1, 1, 1) → -10.5-10.5 = -21 and
			// -10.5-10.5+39.5 = 18.5. Biases 0.
			name: "depthwise and grouped conv",
			cfg: "[net]\nwidth=4\nheight=1\nchannels=2\n" +
				"[convolutional]\nfilters=2\ngroups=2\nsize=3\nstride=1\npad=1\nactivation=linear\n" +
				"[convolutional]\nfilters=4\ngroups=2\nsize=3\nstride=2\npad=1\nactivation=linear\n",
			params: []float32{
				0.5, -0.5,
				0, 0, 0, 1, 2, 3, 0, 0, 0,
				0, 0, 0, 0, 1, -1, 0, 0, 0,
				0, 0, 0, 0,
				0, 0, 0, 1, 0, 0, 0, 0, 0,
				0, 0, 0, 0, 0, 1, 0, 0, 0,
				0, 0, 0, 0, 1, 0, 0, 0, 0,
				0, 0, 0, 1, 1, 1, 0, 0, 0,
			},
			input: []float32{1, 2, 3, 4, 10, 20, 30, 40},
			want: map[int][]float32{
				0: {8.5, 14.5, 20.5, 11.5, -10.5, -10.5, -10.5, 39.5},
				1: {0, 14.5, 14.5, 11.5, -10.5, -10.5, -21, 18.5},
			},
		},
		{
			// Input [-1 -2 -3; -4 -5 -6; -7 -8 -9], decreasing to the right and down. Layer 0 copies
			// it (a 1×1 convolution of weight 1); layers 2 and 4 route back to that copy, so that
			// the three maxpools all read it.
			// Layer 1: 2×2/1, padding 1 (size-1): 0 before, 1 after, padded with -inf: each window's
			// top-left tap is its maximum, so the output is the input (zero padding would give 0
			// in the last row and column).
			// Layer 3: 2×2/2, padding 1: output (3+1-2)/2+1 = 2; windows at rows 0-1 and 2-3,
			// columns alike: [-1 -3; -7 -9].
			// Layer 5: 3×3/1, padding 2: 1 before, 1 after: the window at (y, x) covers rows
			// y-1..y+1 and columns x-1..x+1; its maximum is at row max(y-1, 0), column max(x-1, 0):
			// [-1 -1 -2; -1 -1 -2; -4 -4 -5].
			name: "maxpool pads with -inf",
			cfg: "[net]\nwidth=3\nheight=3\nchannels=1\n" +
				"[convolutional]\nfilters=1\nsize=1\nactivation=linear\n" +
				"[maxpool]\nsize=2\nstride=1\n" +
				"[route]\nlayers=0\n" +
				"[maxpool]\nsize=2\nstride=2\n" +
				"[route]\nlayers=0\n" +
				"[maxpool]\nsize=3\nstride=1\n",
			params: []float32{0, 1}, // bias 0, weight 1
			input:  []float32{-1, -2, -3, -4, -5, -6, -7, -8, -9},
			want: map[int][]float32{
				1: {-1, -2, -3, -4, -5, -6, -7, -8, -9},
				3: {-1, -3, -7, -9},
				5: {-1, -1, -2, -1, -1, -2, -4, -4, -5},
			},
		},
		{
			// Two 2×2 channels [1 2; 3 4] and [5 6; 7 8], upsampled by 2: every value becomes a 2×2 block.
			name:   "upsample",
			cfg:    "[net]\nwidth=2\nheight=2\nchannels=2\n[upsample]\nstride=2\n",
			input:  []float32{1, 2, 3, 4, 5, 6, 7, 8},
			params: nil,
			want: map[int][]float32{0: {
				1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4,
				5, 5, 6, 6, 5, 5, 6, 6, 7, 7, 8, 8, 7, 7, 8, 8,
			}},
		},
		{
			// Input [1 2; 3 4]. Layer 0: 1×1 weight 2, bias 0: [2 4; 6 8]. Layer 1 (on 0): weight -2,
			// bias 1: [-3 -7; -11 -15]. Layer 2: shortcut 1 + 0 = [-1 -3; -5 -7], leaky:
			// [-0.1 -0.3; -0.5 -0.7]. Layer 3: route 2 then 0: [-0.1 -0.3 -0.5 -0.7 | 2 4 6 8].
			// Layer 4: route of 3 with groups=2, group_id=1: its second half of channels, [2 4 6 8].
			// Layer 5: dropout, the identity.
			name: "shortcut route dropout",
			cfg: "[net]\nwidth=2\nheight=2\nchannels=1\n" +
				"[convolutional]\nfilters=1\nsize=1\nactivation=linear\n" +
				"[convolutional]\nfilters=1\nsize=1\nactivation=linear\n" +
				"[shortcut]\nfrom=0\nactivation=leaky\n" +
				"[route]\nlayers=-1,0\n" +
				"[route]\nlayers=-1\ngroups=2\ngroup_id=1\n" +
				"[dropout]\nprobability=0.5\n",
			params: []float32{0, 2, 1, -2},
			input:  []float32{1, 2, 3, 4},
			want: map[int][]float32{
				0: {2, 4, 6, 8},
				1: {-3, -7, -11, -15},
				2: {-0.1, -0.3, -0.5, -0.7},
				3: {-0.1, -0.3, -0.5, -0.7, 2, 4, 6, 8},
				4: {2, 4, 6, 8},
				5: {2, 4, 6, 8},
			},
		},
		{
			// One cell, entries (tx, ty, tw, th, objectness, class 0, class 1) =
			// (0, ln 3, ln 2, -1, ln 4, -ln 3, 0). [yolo]: the logistic of all but tw, th:
			// (1/2, 3/4, ln 2, -1, 4/5, 1/4, 1/2).
			name:  "yolo activation",
			cfg:   "[net]\nwidth=1\nheight=1\nchannels=7\n[yolo]\nmask=0\nanchors=1,1\nclasses=2\nnum=1\n",
			input: []float32{0, ln(3), ln(2), -1, ln(4), -ln(3), 0},
			want:  map[int][]float32{0: {0.5, 0.75, ln(2), -1, 0.8, 0.25, 0.5}},
		},
		{
			// The same cell through a [region] head with softmax: x, y, objectness through the
			// logistic, the class scores (-ln 3, 0) through the softmax: (1/3, 1)/(4/3) = (1/4, 3/4).
			name:  "region activation",
			cfg:   "[net]\nwidth=1\nheight=1\nchannels=7\n[region]\nanchors=1,1\nclasses=2\nnum=1\nsoftmax=1\n",
			input: []float32{0, ln(3), ln(2), -1, ln(4), -ln(3), 0},
			want:  map[int][]float32{0: {0.5, 0.75, ln(2), -1, 0.8, 0.25, 0.75}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net := build(t, tt.cfg, tt.params)
			outs := net.Forward(tt.input)
			for layer, want := range tt.want {
				got := outs[layer]
				if len(got) != len(want) {
					t.Errorf("layer %d: %d values, want %d", layer, len(got), len(want))
					continue
				}
				for i := range want {
					if math.Abs(float64(got[i])-float64(want[i])) > 1e-6*max(1, math.Abs(float64(want[i]))) {
						t.Errorf("layer %d: got %v\nwant %v", layer, got, want)
						break
					}
				}
			}
		})
	}
}

// naiveCfg exercises every kind of layer darknet's reader accepts, on a 6-wide, 4-high,
// 2-channel input (not square, so that a width/height mix-up shows). Output shapes (C×H×W):
const naiveCfg = `[net]
width=6
height=4
channels=2

# 0: 3×3/1 convolution, batch norm, leaky: 3×4×6
[convolutional]
batch_normalize=1
filters=3
size=3
stride=1
pad=1
activation=leaky

# 1: 2×2/2 maxpool, padding 1 (0 before, 1 after): 3×2×3
[maxpool]
size=2
stride=2

# 2: 1×1 convolution, bias, logistic: 3×2×3
[convolutional]
filters=3
size=1
stride=1
activation=logistic

# 3: shortcut: layer 2 + layer 1, leaky: 3×2×3
[shortcut]
from=-2
activation=leaky

# 4: depthwise 3×3 convolution, batch norm, relu: 3×2×3
[convolutional]
batch_normalize=1
filters=3
groups=3
size=3
stride=1
pad=1
activation=relu

# 5: upsample ×2: 3×4×6
[upsample]
stride=2

# 6: route 5 then 0: 6×4×6
[route]
layers=-1,0

# 7: 3×3/1 maxpool, padding 2 (1 before, 1 after): 6×4×6
[maxpool]
size=3
stride=1

# 8: grouped 3×3/2 convolution, 2 groups of 3 channels, 4 filters, explicit padding 1: 4×2×3
[convolutional]
filters=4
groups=2
size=3
stride=2
padding=1
activation=leaky

# 9: dropout: 4×2×3
[dropout]
probability=0.5

# 10: route the second half of 9's channels: 2×2×3
[route]
layers=-1
groups=2
group_id=1

# 11: 1×1 convolution to 1·(4+1+2) channels, linear: 7×2×3
[convolutional]
filters=7
size=1
stride=1
activation=linear

# 12: yolo head, mask 1 of 2 anchors, 2 classes: 7×2×3
[yolo]
mask=1
anchors=2,3, 4,5
classes=2
num=2
`

// tens is a CHW tensor in float64 for the naive reference.
type tens struct {
	c, h, w int
	v       []float64
}

func newTens(c, h, w int) tens { return tens{c, h, w, make([]float64, c*h*w)} }

func (t tens) at(c, y, x int) *float64 { return &t.v[(c*t.h+y)*t.w+x] }

// stream hands out the parameters of a weights file in order.
type stream struct {
	v   []float32
	pos int
}

func (s *stream) next(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(s.v[s.pos+i])
	}
	s.pos += n
	return out
}

func activate(x float64, act string) float64 {
	switch act {
	case "leaky":
		if x > 0 {
			return x
		}
		return 0.1 * x
	case "relu":
		return max(x, 0)
	case "logistic":
		return 1 / (1 + math.Exp(-x))
	}
	return x
}

// naiveConv is darknet's convolution by its definition: filter f of group g = f/(filters/groups)
// sums weight[f][c][ky][kx]·in[g·cg + c][y·stride + ky - pad][x·stride + kx - pad] over the
// cg = in.c/groups channels of its group (0 outside the input); then batch norm
// (sum - mean)/(sqrt(var) + 0.000001)·scale, then the bias, then the activation.
func naiveConv(in tens, p *stream, filters, size, stride, pad, groups int, bn bool, act string) tens {
	bias := p.next(filters)
	var scale, mean, variance []float64
	if bn {
		scale, mean, variance = p.next(filters), p.next(filters), p.next(filters)
	}
	cg := in.c / groups
	w := p.next(filters * cg * size * size)
	out := newTens(filters, (in.h+2*pad-size)/stride+1, (in.w+2*pad-size)/stride+1)
	for f := 0; f < filters; f++ {
		g := f / (filters / groups)
		for y := 0; y < out.h; y++ {
			for x := 0; x < out.w; x++ {
				sum := 0.0
				for c := 0; c < cg; c++ {
					for ky := 0; ky < size; ky++ {
						for kx := 0; kx < size; kx++ {
							iy, ix := y*stride+ky-pad, x*stride+kx-pad
							if iy >= 0 && iy < in.h && ix >= 0 && ix < in.w {
								sum += w[((f*cg+c)*size+ky)*size+kx] * *in.at(g*cg+c, iy, ix)
							}
						}
					}
				}
				if bn {
					sum = (sum - mean[f]) / (math.Sqrt(variance[f]) + 0.000001) * scale[f]
				}
				*out.at(f, y, x) = activate(sum+bias[f], act)
			}
		}
	}
	return out
}

// naiveMaxPool is darknet's maxpool: output size (in + padding - size)/stride + 1, window
// at (y·stride - padding/2, x·stride - padding/2), taps outside the input ignored (-inf).
func naiveMaxPool(in tens, size, stride, padding int) tens {
	out := newTens(in.c, (in.h+padding-size)/stride+1, (in.w+padding-size)/stride+1)
	for c := 0; c < in.c; c++ {
		for y := 0; y < out.h; y++ {
			for x := 0; x < out.w; x++ {
				best := math.Inf(-1)
				for ky := 0; ky < size; ky++ {
					for kx := 0; kx < size; kx++ {
						iy, ix := y*stride-padding/2+ky, x*stride-padding/2+kx
						if iy >= 0 && iy < in.h && ix >= 0 && ix < in.w {
							best = max(best, *in.at(c, iy, ix))
						}
					}
				}
				*out.at(c, y, x) = best
			}
		}
	}
	return out
}

// naiveRoute concatenates, from each input, the id-th of groups equal slices of its channels.
func naiveRoute(groups, id int, ins ...tens) tens {
	var v []float64
	c := 0
	for _, in := range ins {
		n := len(in.v) / groups
		v = append(v, in.v[id*n:(id+1)*n]...)
		c += in.c / groups
	}
	return tens{c, ins[0].h, ins[0].w, v}
}

// naiveForward evaluates naiveCfg on input (2×4×6) with params, layer by layer.
func naiveForward(input []float32, params []float32) []tens {
	p := &stream{v: params}
	in := newTens(2, 4, 6)
	for i, x := range input {
		in.v[i] = float64(x)
	}
	var l []tens
	l = append(l, naiveConv(in, p, 3, 3, 1, 1, 1, true, "leaky")) // 0
	l = append(l, naiveMaxPool(l[0], 2, 2, 1))                    // 1
	l = append(l, naiveConv(l[1], p, 3, 1, 1, 0, 1, false, "logistic"))
	sc := newTens(3, 2, 3) // 3: shortcut
	for i := range sc.v {
		sc.v[i] = activate(l[2].v[i]+l[1].v[i], "leaky")
	}
	l = append(l, sc)
	l = append(l, naiveConv(l[3], p, 3, 3, 1, 1, 3, true, "relu")) // 4
	up := newTens(3, 4, 6)                                         // 5: upsample
	for c := 0; c < 3; c++ {
		for y := 0; y < 4; y++ {
			for x := 0; x < 6; x++ {
				*up.at(c, y, x) = *l[4].at(c, y/2, x/2)
			}
		}
	}
	l = append(l, up)
	l = append(l, naiveRoute(1, 0, l[5], l[0]))                      // 6
	l = append(l, naiveMaxPool(l[6], 3, 1, 2))                       // 7
	l = append(l, naiveConv(l[7], p, 4, 3, 2, 1, 2, false, "leaky")) // 8
	l = append(l, l[8])                                              // 9: dropout
	l = append(l, naiveRoute(2, 1, l[9]))                            // 10
	l = append(l, naiveConv(l[10], p, 7, 1, 1, 0, 1, false, "linear"))
	head := tens{7, 2, 3, append([]float64(nil), l[11].v...)} // 12: yolo
	for e := 0; e < 7; e++ {
		if e == 2 || e == 3 {
			continue // tw, th stay raw
		}
		for k := e * 6; k < (e+1)*6; k++ {
			head.v[k] = activate(head.v[k], "logistic")
		}
	}
	l = append(l, head)
	if p.pos != len(p.v) {
		panic("naiveForward: parameters left over")
	}
	return l
}

// pattern gives n values in [-0.5, 0.5] from a fixed formula (k = 0, 1, ...: (37k + seed) mod 17
// sixteenths, less one half).
func pattern(n, seed int) []float32 {
	v := make([]float32, n)
	for k := range v {
		v[k] = float32((37*k+seed)%17-8) / 16
	}
	return v
}

// naiveParams builds the weights of naiveCfg in darknet's order; variances are positive and
// scales away from 0.
func naiveParams() []float32 {
	var v []float32
	conv := func(filters, weights int, bn bool) {
		v = append(v, pattern(filters, len(v))...) // biases
		if bn {
			for _, s := range pattern(filters, len(v)) {
				v = append(v, 1+s) // scales
			}
			v = append(v, pattern(filters, len(v))...) // rolling means
			for _, s := range pattern(filters, len(v)) {
				v = append(v, 0.25+s*s) // rolling variances
			}
		}
		v = append(v, pattern(weights, len(v))...)
	}
	conv(3, 3*2*3*3, true)  // 0
	conv(3, 3*3*1*1, false) // 2
	conv(3, 3*1*3*3, true)  // 4: depthwise
	conv(4, 4*3*3*3, false) // 8: 2 groups of 3 channels
	conv(7, 7*2*1*1, false) // 11
	return v
}

// TestForwardMatchesNaive compares every layer of naiveCfg with the naive reference, on two
// inputs run one after the other through the same Runner (so that a buffer not cleared
// between runs shows).
func TestForwardMatchesNaive(t *testing.T) {
	params := naiveParams()
	net := build(t, naiveCfg, params)
	if len(net.Layers) != 13 {
		t.Fatalf("%d layers, want 13", len(net.Layers))
	}
	r := model.NewRunner(net)
	for run, seed := range []int{3, 11} {
		input := make([]float32, 2*4*6)
		for i := range input {
			input[i] = float32((29*i+seed)%23-11) / 8
		}
		outs := r.Run(input)
		want := naiveForward(input, params)
		for i, w := range want {
			l := net.Layers[i]
			if l.Out != (model.Shape{C: w.c, H: w.h, W: w.w}) {
				t.Fatalf("run %d layer %d (%s): shape %v, want %dx%dx%d", run, i, l.Op.Kind(), l.Out, w.w, w.h, w.c)
			}
			for k, x := range w.v {
				if e := math.Abs(float64(outs[i][k]) - x); e > 1e-5*max(1, math.Abs(x)) {
					t.Errorf("run %d layer %d (%s): value %d is %v, want %v", run, i, l.Op.Kind(), k, outs[i][k], x)
					break
				}
			}
		}
	}
}
