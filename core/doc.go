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
package core

import "fmt"

// Shape is the shape of a neuron map: C channels of H rows of W columns.
type Shape struct{ C, H, W int }

// Size is the number of neurons, C·H·W.
func (s Shape) Size() int { return s.C * s.H * s.W }

func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.W, s.H, s.C) }

// Index is the CHW index of neuron (c, y, x).
func (s Shape) Index(c, y, x int) int { return (c*s.H+y)*s.W + x }
