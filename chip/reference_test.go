package chip

import (
	"math"
	"testing"

	"spikeyolo/core"
)

// analogNet is one analog layer of neurons driven by the given currents, with threshold theta
// (and theta/alpha below zero) and initial membrane v0.
func analogNet(currents []int64, theta int64, alpha float64, v0 int64) (*Network, Stimulus) {
	l := Layer{Name: "analog", Analog: true, Neurons: core.Neurons{
		Shape: core.Shape{C: 1, H: 1, W: len(currents)}, Kind: core.Signed, MaxSpikes: 1,
		Threshold: []core.Threshold{{Pos: theta, Neg: int64(math.Round(float64(theta) / alpha))}}, Bias: []int64{0}, V0: []int64{v0},
	}}
	return &Network{Layers: []Layer{l}}, Stimulus{currents}
}

// TestNeuronCountsMatchFormulas checks integrate-and-fire with reset by subtraction against
// the closed forms: constant input x in [0, theta] for T ticks gives floor(T·x/theta) spikes
// from V0 = 0 and floor(T·x/theta + 1/2) from V0 = theta/2; x < 0 gives floor(T·alpha·|x|/theta)
// negative spikes with the imbalanced threshold theta/alpha.
func TestNeuronCountsMatchFormulas(t *testing.T) {
	const theta, alpha, T = 1000, 0.1, 257
	var xs []int64
	for x := int64(-1000); x <= 1000; x += 37 {
		xs = append(xs, x)
	}
	xs = append(xs, 0, 1, 999, 1000, 500, -100, -1, -999)
	for _, v0 := range []int64{0, theta / 2} {
		net, stim := analogNet(xs, theta, alpha, v0)
		snaps, err := Reference(net, stim, Probe{Ticks: []int{T}, Counts: true})
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range xs {
			var want int64
			switch {
			case x >= 0 && v0 == 0:
				want = T * x / theta
			case x >= 0:
				want = (2*T*x + theta) / (2 * theta) // floor(T·x/theta + 1/2)
			case v0 == 0:
				want = -(T * -x / (theta * 10)) // floor(T·alpha·|x|/theta) with alpha = 1/10
			default:
				// From theta/2 the membrane must first fall theta/2 + theta/alpha.
				want = -max(0, (T*-x-theta/2)/(theta*10))
			}
			if got := snaps[0].Counts[0][i]; got != want {
				t.Errorf("x = %d, V0 = %d: %d spikes after %d ticks, want %d", x, v0, got, T, want)
			}
		}
	}
}

// TestMultiSpike: a neuron allowed k spikes per tick fires min(k, floor(V/theta)) and keeps the
// rest of its charge: input 2.5·theta per tick with k = 4 gives 2, 3, 2, 3, ... spikes.
func TestMultiSpike(t *testing.T) {
	net, stim := analogNet([]int64{2500, -25000}, 1000, 0.1, 0)
	net.Layers[0].MaxSpikes = 4
	snaps, err := Reference(net, stim, Probe{Ticks: []int{1, 2, 3, 4}, Counts: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{2, 5, 7, 10}
	for i, s := range snaps {
		if s.Counts[0][0] != want[i] || s.Counts[0][1] != -want[i] {
			t.Errorf("after %d ticks: counts %v, want ±%d", s.Tick, s.Counts[0], want[i])
		}
	}
}

// TestBiasOnsetAndDelay: a spike fired in tick t reaches its target in tick t+1, and a layer's
// bias starts at its onset.
func TestBiasOnsetAndDelay(t *testing.T) {
	src := Layer{Name: "src", Analog: true, Neurons: core.Neurons{Shape: core.Shape{C: 1, H: 1, W: 1}, Kind: core.Signed, MaxSpikes: 1,
		Threshold: []core.Threshold{{Pos: 10, Neg: 10}}, Bias: []int64{0}, V0: []int64{0}}}
	acc := Layer{Name: "acc", Readout: []float64{1}, Neurons: core.Neurons{Shape: core.Shape{C: 1, H: 1, W: 1}, Kind: core.Accumulator, Onset: 3,
		Bias: []int64{1}, V0: []int64{0}},
		Inputs: []Input{{From: 0, Synapses: core.Synapses{Src: src.Shape, NumC: 1, Upsample: 1, Dst: core.Shape{C: 1, H: 1, W: 1},
			DstC: 1, Size: 1, Stride: 1, Groups: 1, Weights: []int32{100}}}}}
	net := &Network{Layers: []Layer{src, acc}}
	// The source integrates 10 per tick and fires in every tick from tick 0; the accumulator
	// receives 100 from tick 1 and its bias 1 from tick 3.
	snaps, err := Reference(net, Stimulus{{10}, nil}, Probe{Ticks: []int{1, 2, 3, 4, 5}})
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{0, 100, 200, 301, 402}
	for i, s := range snaps {
		if s.Membranes[1][0] != want[i] {
			t.Errorf("after %d ticks: membrane %d, want %d", s.Tick, s.Membranes[1][0], want[i])
		}
		if s.Spikes[0] != int64(i+1) || s.Synops[1] != int64(i) {
			t.Errorf("after %d ticks: %d spikes and %d synops, want %d and %d", s.Tick, s.Spikes[0], s.Synops[1], i+1, i)
		}
	}
}

func TestReferenceRejectsBadInput(t *testing.T) {
	net, stim := analogNet([]int64{1, 2}, 10, 0.1, 0)
	for _, c := range []struct {
		name  string
		stim  Stimulus
		probe Probe
	}{
		{"no ticks", stim, Probe{}},
		{"descending ticks", stim, Probe{Ticks: []int{5, 3}}},
		{"tick zero", stim, Probe{Ticks: []int{0}}},
		{"short stimulus", Stimulus{{1}}, Probe{Ticks: []int{1}}},
		{"missing stimulus", Stimulus{}, Probe{Ticks: []int{1}}},
	} {
		if _, err := Reference(net, c.stim, c.probe); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	bad := *net
	bad.Layers = []Layer{net.Layers[0]}
	bad.Layers[0].Threshold = []core.Threshold{{Pos: 0, Neg: 10}}
	if _, err := Reference(&bad, stim, Probe{Ticks: []int{1}}); err == nil {
		t.Error("zero threshold: no error")
	}
}
