// Package chip runs spiking networks the way a neuromorphic chip does, and proves it.
//
// A Network is a converted detector before it is placed on cores: layers of integer neurons
// (see core) joined by synapses. Time is integer ticks: a spike fired in tick t is integrated
// by its targets in tick t+1. In every tick from its Onset (in tick Onset only for a layer
// marked Once: graded codings), a neuron integrates its layer's bias (and, in an analog layer,
// its constant input current), plus the spikes delivered to it, then fires by its kind's rule. Output layers (Accumulator) never fire; their membranes,
// integrated over a window of ticks and multiplied by Readout, are the float network's output.
//
// Reference runs a Network with the simplest loop that is obviously right: ticks in order,
// layers in order, every neuron of a layer updated every tick, each spike adding its fan-out.
// It is the ground truth the event-driven engine must equal bit for bit.
package chip

import (
	"errors"
	"fmt"
	"math"

	"spikeyolo/core"
)

// Layer is one population of neurons.
type Layer struct {
	Name string // for people, e.g. "conv 4 (leaky)"
	core.Neurons
	// Analog marks a layer driven by the image: each neuron integrates a constant current
	// (a Stimulus) every tick from Onset (once if Once), on top of the bias.
	Analog bool
	// Inputs are the synapses from earlier layers.
	Inputs []Input
	// Readout converts an accumulator's membrane per tick to the float network's output,
	// per channel. Accumulators only.
	Readout []float64
	// Graded marks a layer whose spikes are graded messages (Loihi 2's graded spikes): its
	// neurons are Graded, or it is a max-pool of graded inputs. A message costs one
	// multiply-accumulate per target (core.Counters.MACs), whatever its payload.
	Graded bool
}

// Input is a set of synapses from an earlier layer.
type Input struct {
	From     int // index of the source layer, < this layer's
	Synapses core.Synapses
}

// Network is a converted detector: its layers in evaluation order.
type Network struct {
	Layers []Layer
}

// Stimulus is the input current of every analog layer for one image: per layer (nil for the
// others), per neuron, the charge added every tick (once, for a layer marked Once).
type Stimulus [][]int64

// Validate checks that every layer and every synapse is consistent.
func (n *Network) Validate() error {
	for i := range n.Layers {
		if err := n.validateLayer(i); err != nil {
			return fmt.Errorf("chip: layer %d (%s): %w", i, n.Layers[i].Name, err)
		}
	}
	return nil
}

func (n *Network) validateLayer(i int) error {
	l := &n.Layers[i]
	c := l.Shape.C
	if c <= 0 || l.Shape.H <= 0 || l.Shape.W <= 0 {
		return fmt.Errorf("empty shape %v", l.Shape)
	}
	if l.Onset < 0 {
		return fmt.Errorf("onset %d < 0", l.Onset)
	}
	if l.Graded != (l.Kind == core.Graded) && !(l.Graded && l.Kind == core.MaxPool) {
		return fmt.Errorf("a %v layer marked graded %v: graded layers are graded neurons or max-pools", l.Kind, l.Graded)
	}
	if l.Kind == core.Graded && !l.Once {
		return errors.New("graded neurons integrate their drive once (Once)")
	}
	switch l.Kind {
	case core.Signed, core.IF, core.Accumulator, core.Graded:
		if len(l.Bias) != c || len(l.V0) != c {
			return fmt.Errorf("%d biases and %d initial membranes for %d channels", len(l.Bias), len(l.V0), c)
		}
		if l.Kind != core.Accumulator {
			if len(l.Threshold) != c {
				return fmt.Errorf("%d thresholds for %d channels", len(l.Threshold), c)
			}
			for ch, th := range l.Threshold {
				if th.Pos <= 0 || th.Neg <= 0 || th.BackPos < 0 || th.BackNeg < 0 {
					return fmt.Errorf("channel %d: thresholds %d, -%d, margins %d, %d: want positive thresholds, margins >= 0", ch, th.Pos, th.Neg, th.BackPos, th.BackNeg)
				}
				if l.Kind == core.Graded && th.Delta < 1 {
					return fmt.Errorf("channel %d: delta %d: want a graded neuron to send changes of at least 1", ch, th.Delta)
				}
			}
			if l.MaxSpikes < 1 || l.MaxSpikes > core.MaxSpikesLimit {
				return fmt.Errorf("max spikes %d: want 1..%d", l.MaxSpikes, core.MaxSpikesLimit)
			}
		} else if len(l.Readout) != c {
			return fmt.Errorf("%d readout scales for %d channels", len(l.Readout), c)
		}
	case core.MaxPool:
		if l.Analog {
			return errors.New("a max-pool layer cannot be analog")
		}
		if l.MaxSpikes < 1 || l.MaxSpikes > core.MaxSpikesLimit {
			return fmt.Errorf("max spikes %d: want 1..%d", l.MaxSpikes, core.MaxSpikesLimit)
		}
	default:
		return fmt.Errorf("unknown kind %v", l.Kind)
	}
	if !l.Analog && len(l.Inputs) == 0 {
		return errors.New("no inputs: a layer is analog or has synapses")
	}
	var hv, wv int
	for j, in := range l.Inputs {
		if in.From < 0 || in.From >= i {
			return fmt.Errorf("input %d: source layer %d is not an earlier layer", j, in.From)
		}
		s := &in.Synapses
		if s.Src != n.Layers[in.From].Shape || s.Dst != l.Shape {
			return fmt.Errorf("input %d: synapses from %v to %v, but the layers are %v and %v", j, s.Src, s.Dst, n.Layers[in.From].Shape, l.Shape)
		}
		if err := s.Validate(); err != nil {
			return fmt.Errorf("input %d: %w", j, err)
		}
		if s.IsPool() != (l.Kind == core.MaxPool) {
			return fmt.Errorf("input %d: max-pool layers take max-pool windows, other layers kernels", j)
		}
		if l.Kind == core.MaxPool {
			if j > 0 && (s.Src.H*s.Upsample != hv || s.Src.W*s.Upsample != wv) {
				return fmt.Errorf("input %d: its virtual map is %dx%d, input 0's %dx%d", j, s.Src.W*s.Upsample, s.Src.H*s.Upsample, wv, hv)
			}
			hv, wv = s.Src.H*s.Upsample, s.Src.W*s.Upsample
		}
	}
	return nil
}

// Neurons is the total number of neurons.
func (n *Network) Neurons() int {
	total := 0
	for _, l := range n.Layers {
		total += l.Shape.Size()
	}
	return total
}

// Tails gives, per layer, the fewest ticks its spikes take to reach an output layer (an
// accumulator; 0 for the accumulators themselves): one per synapse on the way. A spike a
// layer fires in tick t reaches an output in tick t+tail at the earliest, so a run that ends
// after tick T-1 reads none of the spikes the layer fires from tick T-tail on (see
// Probe.Trim). A layer no path leads from to an output has math.MaxInt32.
func (n *Network) Tails() []int {
	tails := make([]int, len(n.Layers))
	for i := len(n.Layers) - 1; i >= 0; i-- {
		tails[i] = math.MaxInt32
		if n.Layers[i].Kind == core.Accumulator {
			tails[i] = 0
		}
	}
	// Inputs come from earlier layers: one pass from the last layer back settles every tail.
	for i := len(n.Layers) - 1; i >= 0; i-- {
		if tails[i] == math.MaxInt32 {
			continue
		}
		for _, in := range n.Layers[i].Inputs {
			tails[in.From] = min(tails[in.From], tails[i]+1)
		}
	}
	return tails
}
