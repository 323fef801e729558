package model

import (
	"fmt"
	"math"
	"runtime"

	"github.com/sourcegraph/conc"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Runner evaluates a network in float32 with darknet's semantics. It owns its buffers: the
// outputs returned by Run stay valid until the next Run. A Runner is not safe for concurrent
// use; make one per goroutine.
//
// A runner made by NewRunner keeps every layer's output; one made by NewRunnerKeeping keeps
// only the outputs asked for, and the others share buffers, each reused once the last layer
// that reads what it holds has run. Memory tells, before anything is allocated, how much the
// runner will hold.
//
// Results are deterministic: the same input gives the same bits for any GOMAXPROCS, because
// every output element is accumulated by one goroutine in a fixed order; and for any choice
// of outputs kept, because every layer writes every value of its output.
type Runner struct {
	net  *Network
	plan bufferPlan
	bufs [][]float32 // the buffers of plan, allocated at the first Run
	outs [][]float32
	col  []float32 // im2col scratch: the largest K·N of the convolutions that need it
	cols int       // len(col) once allocated
}

// NewRunner prepares a runner for net that keeps every layer's output.
func NewRunner(net *Network) *Runner {
	keep := make([]int, len(net.Layers))
	for i := range keep {
		keep[i] = i
	}
	return NewRunnerKeeping(net, keep)
}

// NewRunnerKeeping prepares a runner for net whose Run returns the outputs of the layers in
// keep (a dropout layer's output, its input's, is kept with its input); the other outputs
// are nil, their buffers shared. It panics if a layer in keep does not exist.
//
// A runner allocates nothing before its first Run, and net needs its weights only then:
// NewRunnerKeeping(net, keep).Memory() sizes a network read without them.
func NewRunnerKeeping(net *Network, keep []int) *Runner {
	r := &Runner{net: net, outs: make([][]float32, len(net.Layers))}
	for i, l := range net.Layers {
		if c, ok := l.Op.(*Conv); ok {
			if in := net.InShape(i); needsIm2col(c, in) && !isDepthwise(c, in) {
				r.cols = max(r.cols, in.C/c.Groups*c.Size*c.Size*l.Out.H*l.Out.W)
			}
		}
	}
	r.plan = planBuffers(net, keep)
	return r
}

// Memory is the memory, in bytes, the runner holds from its first Run on: its buffers for
// layer outputs (4 bytes a value) and its im2col scratch. It allocates nothing, so a caller
// can refuse a network too large for the machine before running it. The caller's input and
// the Go runtime's own overhead are not counted.
func (r *Runner) Memory() int64 {
	floats := int64(r.cols)
	for _, n := range r.plan.size {
		floats += int64(n)
	}
	return 4 * floats
}

// bufferPlan assigns every layer output a buffer, once for all runs. After the last layer
// that reads an output has run, its buffer is free for a later layer's output, grown to the
// largest it holds; the buffer of an output Run returns is never freed.
type bufferPlan struct {
	buf  []int  // layer → buffer; a dropout layer's is its input's (-1: the network input)
	kept []bool // layer → whether Run returns its output
	size []int  // buffer → values
}

func planBuffers(net *Network, keep []int) bufferPlan {
	n := len(net.Layers)
	// root[i] is the layer whose buffer holds layer i's output: i itself, or for dropout
	// the root of its input (-1 for the network input).
	root := make([]int, n)
	for i, l := range net.Layers {
		root[i] = i
		if _, ok := l.Op.(*Dropout); ok {
			root[i] = -1
			if in := l.Inputs[0]; in >= 0 {
				root[i] = root[in]
			}
		}
	}
	// last[j] is the last layer that reads the buffer of root j, or j if none does.
	last := make([]int, n)
	for i, l := range net.Layers {
		last[i] = i
		for _, in := range l.Inputs {
			if in >= 0 && root[in] >= 0 {
				last[root[in]] = max(last[root[in]], i)
			}
		}
	}
	kept := make([]bool, n+1) // kept[root+1]: index 0 is the network input
	for _, k := range keep {
		if k < 0 || k >= n {
			panic(fmt.Sprintf("model: keep layer %d of a network of %d layers", k, n))
		}
		kept[root[k]+1] = true
	}
	p := bufferPlan{buf: make([]int, n), kept: make([]bool, n)}
	var free []int                // buffers no live output holds
	freeAfter := make([][]int, n) // freeAfter[i]: buffers free once layer i has run
	for i, l := range net.Layers {
		p.kept[i] = kept[root[i]+1]
		if root[i] != i {
			p.buf[i] = -1
			if root[i] >= 0 {
				p.buf[i] = p.buf[root[i]]
			}
			continue
		}
		// The smallest free buffer that holds the output, else the largest, grown; a kept
		// output keeps the buffer it takes.
		need, b, pick := l.Out.Size(), -1, -1
		for k, f := range free {
			if pick < 0 || better(p.size[f], p.size[free[pick]], need) {
				pick = k
			}
		}
		if pick >= 0 {
			b = free[pick]
			free = append(free[:pick], free[pick+1:]...)
			p.size[b] = max(p.size[b], need)
		} else {
			b = len(p.size)
			p.size = append(p.size, need)
		}
		p.buf[i] = b
		if !p.kept[i] {
			freeAfter[last[i]] = append(freeAfter[last[i]], b)
		}
		free = append(free, freeAfter[i]...)
	}
	return p
}

// checkWeights panics unless every convolution has the weights and biases of its shape.
func (r *Runner) checkWeights() {
	for i, l := range r.net.Layers {
		c, ok := l.Op.(*Conv)
		if !ok {
			continue
		}
		in := r.net.InShape(i)
		if len(c.Weights) != c.WeightCount(in.C) || len(c.Biases) != c.Filters {
			panic(fmt.Sprintf("model: layer %d: %d weights and %d biases, want %d and %d", i, len(c.Weights), len(c.Biases), c.WeightCount(in.C), c.Filters))
		}
	}
}

// better reports whether a free buffer of a values suits an output of need values better
// than one of b: one that holds it, the smallest such; else the largest.
func better(a, b, need int) bool {
	if (a >= need) != (b >= need) {
		return a >= need
	}
	if a >= need {
		return a < b
	}
	return a > b
}

// Run evaluates the network on one input of the network's input shape (CHW) and returns the
// output of every layer the runner keeps (nil for the others). Layers that do not change
// their input (dropout) share its buffer. It panics if a convolution's weights do not match
// its shape (a network from the darknet reader always matches).
func (r *Runner) Run(input []float32) [][]float32 {
	net := r.net
	if len(input) != net.Input.Size() {
		panic(fmt.Sprintf("model: input has %d values, the network takes %v = %d", len(input), net.Input, net.Input.Size()))
	}
	if r.bufs == nil {
		r.checkWeights()
		r.bufs = make([][]float32, len(r.plan.size))
		for b, n := range r.plan.size {
			r.bufs[b] = make([]float32, n)
		}
		r.col = make([]float32, r.cols)
	}
	src := func(i int) []float32 {
		if i < 0 {
			return input
		}
		return r.outs[i]
	}
	for i, l := range net.Layers {
		if _, ok := l.Op.(*Dropout); ok {
			r.outs[i] = src(l.Inputs[0])
			continue
		}
		out := r.bufs[r.plan.buf[i]][:l.Out.Size()]
		r.outs[i] = out
		in := src(l.Inputs[0])
		inShape := net.InShape(i)
		switch op := l.Op.(type) {
		case *Conv:
			r.conv(op, in, inShape, l.Out, out)
		case *MaxPool:
			maxPool(op, in, inShape, l.Out, out)
		case *Route:
			off := 0
			for _, j := range l.Inputs {
				part := src(j)
				n := len(part) / op.Groups
				off += copy(out[off:], part[op.GroupID*n:(op.GroupID+1)*n])
			}
		case *Shortcut:
			add := src(l.Inputs[1])
			for k := range out {
				out[k] = in[k] + add[k]
			}
			op.Act.Apply(out)
		case *Upsample:
			upsample(op.Stride, in, inShape, out)
		case *Region:
			op.Activate(in, l.Out, out)
		case *Yolo:
			op.Activate(in, l.Out, out)
		default:
			panic(fmt.Sprintf("model: layer %d: no inference for %T", i, op))
		}
	}
	for i, kept := range r.plan.kept {
		if !kept {
			r.outs[i] = nil
		}
	}
	return r.outs
}

// Forward is a convenience for one evaluation: it returns the output of every layer.
func (n *Network) Forward(input []float32) [][]float32 { return NewRunner(n).Run(input) }

func isDepthwise(c *Conv, in Shape) bool { return c.Groups == in.C && c.Groups == c.Filters }

func needsIm2col(c *Conv, in Shape) bool { return c.Size != 1 || c.Stride != 1 || c.Padding != 0 }

// conv computes a convolution as darknet does: products summed into a zeroed output, then
// batch norm (or the bias), then the activation.
func (r *Runner) conv(c *Conv, in []float32, inS, outS Shape, out []float32) {
	n := outS.H * outS.W
	if isDepthwise(c, inS) {
		parallelFor(c.Filters, func(lo, hi int) {
			for f := lo; f < hi; f++ {
				depthwise(c, f, in[f*inS.H*inS.W:(f+1)*inS.H*inS.W], inS, outS, out[f*n:(f+1)*n])
				c.finish(f, out[f*n:(f+1)*n])
			}
		})
		return
	}
	cg, fg := inS.C/c.Groups, c.Filters/c.Groups
	k := cg * c.Size * c.Size
	for g := 0; g < c.Groups; g++ {
		inG := in[g*cg*inS.H*inS.W : (g+1)*cg*inS.H*inS.W]
		b := inG
		if needsIm2col(c, inS) {
			b = r.col[:k*n]
			im2col(inG, Shape{cg, inS.H, inS.W}, c.Size, c.Stride, c.Padding, outS, b)
		}
		blas32.Gemm(blas.NoTrans, blas.NoTrans, 1,
			blas32.General{Rows: fg, Cols: k, Stride: k, Data: c.Weights[g*fg*k : (g+1)*fg*k]},
			blas32.General{Rows: k, Cols: n, Stride: n, Data: b},
			0, blas32.General{Rows: fg, Cols: n, Stride: n, Data: out[g*fg*n : (g+1)*fg*n]})
	}
	parallelFor(c.Filters, func(lo, hi int) {
		for f := lo; f < hi; f++ {
			c.finish(f, out[f*n:(f+1)*n])
		}
	})
}

// finish applies batch norm (or the bias) and the activation to the sums of filter f.
func (c *Conv) finish(f int, plane []float32) {
	if c.HasBatchNorm() {
		mean, scale := c.BatchNorm.Mean[f], c.BatchNorm.Scales[f]
		// darknet: (x - mean)/(sqrt(variance) + .000001f), with sqrt in double precision.
		std := math.Sqrt(float64(c.BatchNorm.Variance[f])) + float64(BatchNormEpsilon)
		for k, x := range plane {
			plane[k] = float32(float64(x-mean)/std) * scale
		}
	}
	bias := c.Biases[f]
	for k := range plane {
		plane[k] += bias
	}
	c.Act.Apply(plane)
}

// depthwise convolves one channel with its own kernel, summing the taps in darknet's order
// (ky, then kx), so the result equals darknet's bit for bit.
func depthwise(c *Conv, f int, in []float32, inS, outS Shape, out []float32) {
	clear(out)
	kernel := c.Weights[f*c.Size*c.Size : (f+1)*c.Size*c.Size]
	for ky := 0; ky < c.Size; ky++ {
		for kx := 0; kx < c.Size; kx++ {
			w := kernel[ky*c.Size+kx]
			// Output columns whose tap x·stride + kx - padding lies inside the row.
			x0 := max(0, ceilDiv(c.Padding-kx, c.Stride))
			x1 := min(outS.W, ceilDiv(inS.W+c.Padding-kx, c.Stride))
			if x0 >= x1 {
				continue
			}
			for y := 0; y < outS.H; y++ {
				iy := y*c.Stride + ky - c.Padding
				if iy < 0 || iy >= inS.H {
					continue
				}
				row := in[iy*inS.W : (iy+1)*inS.W]
				o := out[y*outS.W+x0 : y*outS.W+x1]
				if c.Stride == 1 {
					taps := row[x0+kx-c.Padding:]
					taps = taps[:len(o)]
					for x := range o {
						o[x] += float32(w * taps[x]) // the conversion rounds the product: no fused multiply-add, as darknet's
					}
					continue
				}
				for x := range o {
					o[x] += float32(w * row[(x0+x)*c.Stride+kx-c.Padding])
				}
			}
		}
	}
}

// ceilDiv is ⌈a/b⌉ for b > 0 and any a.
func ceilDiv(a, b int) int {
	if a <= 0 {
		return -(-a / b)
	}
	return (a + b - 1) / b
}

// im2col lays out the receptive fields of a convolution as columns, darknet's layout: row
// (c·size + ky)·size + kx, column y·outW + x; taps in the padding are 0.
func im2col(in []float32, inS Shape, size, stride, pad int, outS Shape, col []float32) {
	n := outS.H * outS.W
	parallelFor(inS.C*size*size, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			ch, ky, kx := row/(size*size), row/size%size, row%size
			dst := col[row*n : (row+1)*n]
			src := in[ch*inS.H*inS.W : (ch+1)*inS.H*inS.W]
			for y := 0; y < outS.H; y++ {
				iy := y*stride + ky - pad
				d := dst[y*outS.W : (y+1)*outS.W]
				if iy < 0 || iy >= inS.H {
					clear(d)
					continue
				}
				for x := range d {
					ix := x*stride + kx - pad
					if ix >= 0 && ix < inS.W {
						d[x] = src[iy*inS.W+ix]
					} else {
						d[x] = 0
					}
				}
			}
		}
	})
}

// maxPool takes window maxima, treating taps outside the input as -FLT_MAX, as darknet does
// (a window that holds no real tap, possible only with an explicit large padding, gives
// -FLT_MAX there too).
func maxPool(m *MaxPool, in []float32, inS, outS Shape, out []float32) {
	off := -m.Padding / 2
	parallelFor(outS.C, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			maxPoolPlane(m, off, in[ch*inS.H*inS.W:(ch+1)*inS.H*inS.W], inS, outS, out[ch*outS.H*outS.W:(ch+1)*outS.H*outS.W])
		}
	})
}

func maxPoolPlane(m *MaxPool, off int, plane []float32, inS, outS Shape, out []float32) {
	{
		for y := 0; y < outS.H; y++ {
			for x := 0; x < outS.W; x++ {
				best := float32(-math.MaxFloat32)
				for ky := 0; ky < m.Size; ky++ {
					iy := off + y*m.Stride + ky
					if iy < 0 || iy >= inS.H {
						continue
					}
					for kx := 0; kx < m.Size; kx++ {
						ix := off + x*m.Stride + kx
						if ix >= 0 && ix < inS.W && plane[iy*inS.W+ix] > best {
							best = plane[iy*inS.W+ix]
						}
					}
				}
				out[y*outS.W+x] = best
			}
		}
	}
}

func upsample(stride int, in []float32, inS Shape, out []float32) {
	w := inS.W * stride
	for ch := 0; ch < inS.C; ch++ {
		for y := 0; y < inS.H*stride; y++ {
			src := in[(ch*inS.H+y/stride)*inS.W:]
			dst := out[(ch*inS.H*stride+y)*w : (ch*inS.H*stride+y+1)*w]
			for x := range dst {
				dst[x] = src[x/stride]
			}
		}
	}
}

// Apply applies the activation to xs in place with darknet's arithmetic (leaky and logistic
// are evaluated in double precision, as darknet's C does).
func (a Activation) Apply(xs []float32) {
	switch a {
	case Linear:
	case Leaky:
		for i, x := range xs {
			if !(x > 0) {
				xs[i] = float32(0.1 * float64(x))
			}
		}
	case ReLU:
		for i, x := range xs {
			if !(x > 0) {
				xs[i] = 0
			}
		}
	case Logistic:
		for i, x := range xs {
			xs[i] = logistic(x)
		}
	default:
		panic(fmt.Sprintf("model: unknown activation %v", a))
	}
}

func logistic(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

// Activate writes the region head's output for input in (shape s) to out: the logistic of
// x, y and objectness, and the softmax (or logistic) of the class scores of every anchor
// and cell. in and out may be the same slice.
func (r *Region) Activate(in []float32, s Shape, out []float32) {
	copy(out, in)
	hw := s.H * s.W
	per := (r.Coords + 1 + r.Classes) * hw
	for a := 0; a < r.Num; a++ {
		base := a * per
		for i := base; i < base+2*hw; i++ {
			out[i] = logistic(out[i])
		}
		obj := base + r.Coords*hw
		for i := obj; i < obj+hw; i++ {
			out[i] = logistic(out[i])
		}
		cls := out[obj+hw : base+per]
		if !r.Softmax {
			for i := range cls {
				cls[i] = logistic(cls[i])
			}
			continue
		}
		for cell := 0; cell < hw; cell++ {
			softmax(cls[cell:], r.Classes, hw)
		}
	}
}

// softmax normalizes n values at stride in place, as darknet's softmax (temperature 1).
func softmax(x []float32, n, stride int) {
	largest := float32(-math.MaxFloat32)
	for i := 0; i < n; i++ {
		largest = max(largest, x[i*stride])
	}
	var sum float32
	for i := 0; i < n; i++ {
		e := float32(math.Exp(float64(x[i*stride] - largest)))
		sum += e
		x[i*stride] = e
	}
	for i := 0; i < n; i++ {
		x[i*stride] /= sum
	}
}

// Activate writes the yolo head's output for input in (shape s) to out: the logistic of
// everything but the box width and height. in and out may be the same slice.
func (y *Yolo) Activate(in []float32, s Shape, out []float32) {
	copy(out, in)
	hw := s.H * s.W
	per := (y.Classes + 5) * hw
	for a := range y.Mask {
		base := a * per
		for i := base; i < base+2*hw; i++ {
			out[i] = logistic(out[i])
			if y.ScaleXY != 1 {
				out[i] = out[i]*y.ScaleXY - (y.ScaleXY-1)/2
			}
		}
		for i := base + 4*hw; i < base+per; i++ {
			out[i] = logistic(out[i])
		}
	}
}

// parallelFor splits [0, n) into one contiguous chunk per processor and runs fn on each.
func parallelFor(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg conc.WaitGroup // re-panics a worker's panic in the caller
	for w := 0; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}
