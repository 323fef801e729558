package chip

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"spikeyolo/core"
	"spikeyolo/router"
)

// twoCores is a neuron driven at its threshold every tick (it fires in every tick) feeding an
// accumulator, one neuron per core.
func twoCores() (*Network, Stimulus) {
	src := Layer{Name: "src", Analog: true, Neurons: core.Neurons{Shape: core.Shape{C: 1, H: 1, W: 1}, Kind: core.Signed, MaxSpikes: 1,
		Threshold: []core.Threshold{{Pos: 100, Neg: 100}}, Bias: []int64{0}, V0: []int64{0}}}
	acc := Layer{Name: "acc", Readout: []float64{1}, Neurons: core.Neurons{Shape: core.Shape{C: 1, H: 1, W: 1}, Kind: core.Accumulator, Onset: 1,
		Bias: []int64{0}, V0: []int64{0}},
		Inputs: []Input{{From: 0, Synapses: core.Synapses{Src: src.Shape, NumC: 1, Upsample: 1, Dst: core.Shape{C: 1, H: 1, W: 1},
			DstC: 1, Size: 1, Stride: 1, Groups: 1, Weights: []int32{7}}}}}
	return &Network{Layers: []Layer{src, acc}}, Stimulus{{100}, nil}
}

// TestEnergyByHand: over T = 10 ticks the source fires 10 spikes (ticks 0-9), the accumulator
// integrates the 9 that arrive within the run (ticks 1-9): 9 synaptic operations, 10 + 9
// active neuron updates, 1 inactive (the accumulator in tick 0), 10 spike events and 10
// packets. The two cores share a Loihi tile (within-tile deliveries) but sit one hop apart
// on TrueNorth (one core per tile). Energies are the published constants, written here.
func TestEnergyByHand(t *testing.T) {
	const T = 10
	net, stim := twoCores()
	pJ, ns := 1e-12, 1e-9
	for _, c := range []struct {
		arch   string
		energy func(frame float64) float64 // the expected joules, given the frame time
		frame  float64                     // the expected frame time, seconds
	}{
		{"loihi", func(frame float64) float64 {
			// Davies 2018 Table 2: 23.6 pJ/synop, 81/52 pJ active/inactive update, 1.7 pJ within tile;
			// static 104 mW (Frady 2020) for one chip.
			return (9*23.6+19*81+1*52+10*1.7)*pJ + 0.104*frame
		},
			// Tick 0: the source's update (8.4 ns) is the slowest core; ticks 1-9: the accumulator's
			// synop + update (3.5 + 8.4 ns). Every tick: a within-tile packet (2.1 ns), the barrier (465 ns).
			(8.4+2.1+465)*ns + 9*(3.5+8.4+2.1+465)*ns},
		{"loihi-sanafe", func(frame float64) float64 {
			// SANA-FE: 24.0 pJ/synop, 72.8/51.2 pJ active/inactive, 69.3 pJ per spike, 111 pJ per message.
			return (9*24.0+19*72.8+1*51.2+10*69.3+10*111)*pJ + 0.104*frame
		},
			// Every tick the source (9.7 ns update + 30 ns spike out) is the slowest: the accumulator
			// takes 3.1 + 9.7 + 21.1 ns. Barrier 1.8 us.
			10 * (9.7 + 30 + 1800) * ns},
		{"truenorth", func(frame float64) float64 {
			// Merolla 2014: 26 pJ per synaptic event, 2.3 pJ per hop (10 packets, one hop east each).
			return (9*26 + 10*2.3) * pJ
		}, 10 * 1e-3},
	} {
		arch, err := Preset(c.arch)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := NewProgram(net, arch, []Grid{{1, 1, 1}, {1, 1, 1}}, router.XY, router.PerCore)
		if err != nil {
			t.Fatal(err)
		}
		res, err := prog.Run(stim, Probe{Ticks: []int{T}}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if m := res.Snapshots[0].Membranes[1][0]; m != 9*7 {
			t.Fatalf("%s: accumulator %d, want 63", c.arch, m)
		}
		r := prog.Report(res, 0, 0)
		near := func(got, want float64) bool { return math.Abs(got-want) <= 1e-9*math.Abs(want) }
		if !near(r.FrameTime, c.frame) {
			t.Errorf("%s: frame time %g s, want %g", c.arch, r.FrameTime, c.frame)
		}
		if want := c.energy(c.frame); !near(r.Energy, want) {
			t.Errorf("%s: %g J, want %g J (%v)", c.arch, r.Energy, want, r.ByCategory)
		}
		if r.Synops != 9 || r.Spikes != 10 || r.Packets != 10 {
			t.Errorf("%s: %d synops, %d spikes, %d packets; want 9, 10, 10", c.arch, r.Synops, r.Spikes, r.Packets)
		}
	}
}

// TestReportSameBits: pricing the same run again gives the same bits, for the total and for
// every core: sums run in category order, never in a map's order (which changes from run to
// run and, with floats, the last digits).
func TestReportSameBits(t *testing.T) {
	net, stim := randomNetwork(rand.New(rand.NewPCG(11, 11)), true, 2, core.PoolExact)
	arch, err := Preset("loihi-sanafe") // every category priced
	if err != nil {
		t.Fatal(err)
	}
	grids := make([]Grid, len(net.Layers))
	for i, l := range net.Layers {
		grids[i] = Grid{min(2, l.Shape.C), min(3, l.Shape.H), min(3, l.Shape.W)}
	}
	p, err := NewProgram(net, arch, grids, router.XY, router.PerCore)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Run(stim, Probe{Ticks: []int{40}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	first := p.Report(res, 12345, 678)
	for range 30 {
		r := p.Report(res, 12345, 678)
		if math.Float64bits(r.Energy) != math.Float64bits(first.Energy) || !slices.Equal(r.CoreEnergy, first.CoreEnergy) ||
			r.Energies != first.Energies {
			t.Fatalf("the same run priced twice: %v J, then %v J", first.Energy, r.Energy)
		}
	}
}
