// Package model is the trained detector as its user brings it: a graph of layers with shapes,
// and float32 inference that reproduces the original darknet implementation.
//
// Tensors are float32 in CHW order (channel, row, column), one image at a time. A network's
// layers are numbered from 0 in file order; a layer reads the outputs of earlier layers (its
// Inputs), or the network input, written -1. Every layer's output shape is fixed when it is
// added, so a Network that was built without error can always be run.
//
// The package knows nothing of spikes; mapper converts a Network for the chip.
package model

import (
	"fmt"
	"strings"
)

// Shape is the shape of a CHW tensor: C channels of H rows of W columns.
type Shape struct{ C, H, W int }

// Size is the number of elements, C·H·W.
func (s Shape) Size() int { return s.C * s.H * s.W }

// String formats the shape as darknet prints it, "WxHxC".
func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.W, s.H, s.C) }

// Op is the operation of one layer. The concrete types are *Conv, *MaxPool, *Route, *Shortcut,
// *Upsample, *Dropout, *Region and *Yolo.
type Op interface {
	// Kind is darknet's section name of the operation, e.g. "convolutional".
	Kind() string
	// outShape checks the input shapes and gives the output shape.
	outShape(in []Shape) (Shape, error)
}

// Layer is one node of the network graph.
type Layer struct {
	Op     Op
	Inputs []int // absolute indices of the layers read, in order; -1 is the network input
	Out    Shape
	Source string // where the layer was defined, e.g. "yolo.cfg:42"; empty if built in code
}

// Network is a feed-forward detector: the input shape and the layers in evaluation order.
type Network struct {
	Input  Shape
	Layers []Layer
}

// Limits on what a network may hold, far above any real detector's, so that a malformed
// description is an error rather than an allocation that cannot succeed.
const (
	MaxDim    = 1 << 16 // any dimension, kernel size, stride, padding, filter or class count
	MaxValues = 1 << 28 // the values of one layer's output, or the weights of one layer
)

// checkShape verifies every dimension is in [1, MaxDim] and the size at most MaxValues.
func checkShape(s Shape) error {
	if s.C <= 0 || s.H <= 0 || s.W <= 0 || s.C > MaxDim || s.H > MaxDim || s.W > MaxDim {
		return fmt.Errorf("shape %v: every dimension must be in 1..%d", s, MaxDim)
	}
	if s.Size() > MaxValues {
		return fmt.Errorf("shape %v holds %d values, more than %d", s, s.Size(), MaxValues)
	}
	return nil
}

// inRange reports an error unless lo <= v <= MaxDim.
func inRange(name string, v, lo int) error {
	if v < lo || v > MaxDim {
		return fmt.Errorf("%s = %d, want %d..%d", name, v, lo, MaxDim)
	}
	return nil
}

// NewNetwork returns an empty network that takes inputs of the given shape.
func NewNetwork(input Shape) (*Network, error) {
	if err := checkShape(input); err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	return &Network{Input: input}, nil
}

// Add appends a layer that applies op to the outputs of the given layers (-1: the network
// input) and returns its index. It checks that every input exists and that op accepts their
// shapes; on error the network is unchanged.
func (n *Network) Add(op Op, inputs []int, source string) (int, error) {
	idx := len(n.Layers)
	if len(inputs) == 0 {
		return 0, fmt.Errorf("layer %d (%s): no inputs", idx, op.Kind())
	}
	shapes := make([]Shape, len(inputs))
	for i, in := range inputs {
		if in < -1 || in >= idx {
			return 0, fmt.Errorf("layer %d (%s): input %d is not an earlier layer (0..%d) or the network input (-1)", idx, op.Kind(), in, idx-1)
		}
		shapes[i] = n.shape(in)
	}
	out, err := op.outShape(shapes)
	if err == nil {
		err = checkShape(out)
	}
	if err != nil {
		return 0, fmt.Errorf("layer %d (%s): %w", idx, op.Kind(), err)
	}
	n.Layers = append(n.Layers, Layer{Op: op, Inputs: append([]int(nil), inputs...), Out: out, Source: source})
	return idx, nil
}

// shape is the output shape of layer i, or the input shape for i = -1.
func (n *Network) shape(i int) Shape {
	if i < 0 {
		return n.Input
	}
	return n.Layers[i].Out
}

// InShape is the shape of the first input of layer i.
func (n *Network) InShape(i int) Shape { return n.shape(n.Layers[i].Inputs[0]) }

// MACs is the number of multiply-accumulates of layer i for one image (zero for layers
// that do not multiply).
func (n *Network) MACs(i int) int64 {
	c, ok := n.Layers[i].Op.(*Conv)
	if !ok {
		return 0
	}
	in := n.InShape(i)
	out := n.Layers[i].Out
	return int64(out.Size()) * int64(in.C/c.Groups) * int64(c.Size*c.Size)
}

// Params is the number of trained parameters of layer i (weights, biases and batch-norm
// statistics), as stored in a darknet weights file.
func (n *Network) Params(i int) int {
	c, ok := n.Layers[i].Op.(*Conv)
	if !ok {
		return 0
	}
	return len(c.Weights) + len(c.Biases) + 3*len(c.BatchNorm.Scales)
}

// Heads are the indices of the detection layers ([region] and [yolo]), in order.
func (n *Network) Heads() []int {
	var heads []int
	for i, l := range n.Layers {
		switch l.Op.(type) {
		case *Region, *Yolo:
			heads = append(heads, i)
		}
	}
	return heads
}

// Describe lists the layers with their output shapes, parameters and MACs, and totals, as a
// table for people.
func (n *Network) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%5s  %-14s %-18s %14s %10s %14s\n", "layer", "type", "input", "output", "params", "MACs")
	var params, macs int64
	for i, l := range n.Layers {
		fmt.Fprintf(&b, "%5d  %-14s %-18s %14v %10d %14d\n", i, describeOp(l.Op), describeInputs(l.Inputs), l.Out, n.Params(i), n.MACs(i))
		params += int64(n.Params(i))
		macs += n.MACs(i)
	}
	fmt.Fprintf(&b, "input %v, %d layers, %d parameters, %d MACs (%.3f GMAC)\n", n.Input, len(n.Layers), params, macs, float64(macs)/1e9)
	return b.String()
}

func describeInputs(in []int) string {
	parts := make([]string, len(in))
	for i, x := range in {
		if x < 0 {
			parts[i] = "input"
		} else {
			parts[i] = fmt.Sprint(x)
		}
	}
	return strings.Join(parts, ",")
}

func describeOp(op Op) string {
	switch o := op.(type) {
	case *Conv:
		s := fmt.Sprintf("conv %dx%d/%d", o.Size, o.Size, o.Stride)
		if o.Groups > 1 {
			s += fmt.Sprintf(" g%d", o.Groups)
		}
		return s
	case *MaxPool:
		return fmt.Sprintf("max %dx%d/%d", o.Size, o.Size, o.Stride)
	default:
		return op.Kind()
	}
}
