// Package core is one neuromorphic core's vocabulary and arithmetic: the shape of a neuron
// map, the kinds of neurons and how they fire, and the synapses that connect one map to
// another (weight-shared convolution kernels and max-pool windows), with the fan-out of an
// input spike computed from them.
//
// Everything is integer arithmetic: weights are int32, membranes int64, thresholds are
// positive integers, and a spike carries a signed count (+1, -1, or ±n for multi-spike
// neurons). Integer addition is exact and order-free, so any engine that delivers the same
// spikes in any order computes the same membranes, bit for bit.
//
// Neuron indices are CHW: neuron (c, y, x) of a map of shape (C, H, W) is (c·H + y)·W + x.
//
// Two hot loops have vector twins on amd64 CPUs with AVX2 (vector_amd64.s): a dense sweep's
// first pass (sweepLanes) and adding a packet's weight row (addScaled). Each computes what its
// Go form computes, bit for bit; the Go forms run elsewhere, and the tests compare the two.
package core

import "fmt"

// Shape is the shape of a neuron map: C channels of H rows of W columns.
type Shape struct{ C, H, W int }

// Size is the number of neurons, C·H·W.
func (s Shape) Size() int { return s.C * s.H * s.W }

func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.W, s.H, s.C) }

// Index is the CHW index of neuron (c, y, x).
func (s Shape) Index(c, y, x int) int { return (c*s.H+y)*s.W + x }

// Box is a block of a neuron map: channels [C0, C1), rows [Y0, Y1), columns [X0, X1). A
// core holds one box of one layer, its neurons stored position by position, the channels of
// a position side by side (HWC order within the box), so that the targets of a kernel tap,
// which share a position, are contiguous.
type Box struct{ C0, C1, Y0, Y1, X0, X1 int }

// Size is the number of neurons of the box.
func (b Box) Size() int { return (b.C1 - b.C0) * (b.Y1 - b.Y0) * (b.X1 - b.X0) }

// Contains reports whether neuron (c, y, x) lies in the box.
func (b Box) Contains(c, y, x int) bool {
	return c >= b.C0 && c < b.C1 && y >= b.Y0 && y < b.Y1 && x >= b.X0 && x < b.X1
}

// Local is the index within the box of neuron (c, y, x), which must lie in it.
func (b Box) Local(c, y, x int) int {
	return ((y-b.Y0)*(b.X1-b.X0)+x-b.X0)*(b.C1-b.C0) + c - b.C0
}

// At gives the neuron (c, y, x) of local index i.
func (b Box) At(i int) (c, y, x int) {
	nc, w := b.C1-b.C0, b.X1-b.X0
	p := i / nc
	return b.C0 + i%nc, b.Y0 + p/w, b.X0 + p%w
}
