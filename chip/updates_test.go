package chip

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"spikeyolo/core"
	"spikeyolo/router"
)

// This file is the oracle for active neuron updates (core.Counters.Updates), the count the
// energy report prices as neuron_active and from which it derives neuron_inactive.
//
// An ideal event-driven core updates, in tick t, exactly the neurons that are active in t. A
// neuron is active in tick t iff
//
//   - it received a synaptic event in t: a neuron of a source layer fired (its net count
//     changed) in tick t-1, and a synapse joins the two. For a kernel, a source neuron (c, ys,
//     xs) reaches every target channel of c's group (all the target channels of a dense
//     kernel, the group's channels of a grouped or depthwise one) at every target position
//     (ty, tx) whose window, rows ty·Stride-Offset .. +Size and likewise columns, holds one
//     of the Upsample² copies of (ys, xs). A max-pool window is the same geometry with one
//     target channel per source channel (DstC0 + c - SrcC0). The synapse counts whatever its
//     weight, zero included: weights are stored per kernel, and the hardware, like
//     Counters.Synops ("one per unit spike and target neuron reached"), walks every tap of a
//     spike's fan-out without looking at the weights; or
//   - it fires in t (its net count changes) without having received anything: a wake, on its
//     own drive (bias, input current) or, for an exact max-pool, because it still lags the
//     maximum of its window.
//
// A neuron is counted once per tick however many events reach it, and nothing else is
// updated: not a neuron woken before the tick its drive makes it fire, not the other channels
// of a grouped kernel's or a max-pool's touched position, not a whole accumulator core because
// some of its neurons were reached. Ticks are 0..T-1 for a run to T: spikes of tick T-1 reach
// no one. The oracle derives these sets from the dense reference (whose every neuron's net
// count, snapshot after every tick, says who fired when) and the synapses' geometry as
// Synapses documents it, in brute-force loops over target positions; it uses neither core's
// candidate bookkeeping nor its tap tables.

// activeOracle is the active neurons of a run: per tick, per core, how many.
type activeOracle struct {
	updates [][]int64 // [tick][core]
	// Activity of every kind, for checking that a network exercises the rules: neuron-ticks
	// reached (received input) without firing, reached and firing, and firing unreached (wakes).
	reachedOnly, reachedFired, wakes int64
	layerWakes                       []int64 // wakes per layer
}

// total is the oracle's active updates of core i over the run.
func (o *activeOracle) total(i int) int64 {
	var n int64
	for _, u := range o.updates {
		n += u[i]
	}
	return n
}

// newActiveOracle computes the active neurons of every core of p in each of the ticks 0..T-1
// of a run on stim.
func newActiveOracle(t *testing.T, p *Program, stim Stimulus, T int) *activeOracle {
	t.Helper()
	net := p.Net
	probe := Probe{Counts: true}
	for k := 1; k <= T; k++ {
		probe.Ticks = append(probe.Ticks, k)
	}
	snaps, err := Reference(net, stim, probe)
	if err != nil {
		t.Fatal(err)
	}
	// fired[tick][layer]: the neurons whose net count changed in the tick.
	fired := make([][][]int, T)
	for tk := range T {
		fired[tk] = make([][]int, len(net.Layers))
		for l := range net.Layers {
			for n, c := range snaps[tk].Counts[l] {
				before := int64(0)
				if tk > 0 {
					before = snaps[tk-1].Counts[l][n]
				}
				if c != before {
					fired[tk][l] = append(fired[tk][l], n)
				}
			}
		}
	}
	// owner[layer][neuron]: the core holding it, found by looking through every box.
	owner := make([][]int, len(net.Layers))
	for l, layer := range net.Layers {
		owner[l] = make([]int, layer.Shape.Size())
		for n := range owner[l] {
			owner[l][n] = -1
		}
	}
	for i, spec := range p.Cores {
		s := net.Layers[spec.Layer].Shape
		for c := 0; c < s.C; c++ {
			for y := 0; y < s.H; y++ {
				for x := 0; x < s.W; x++ {
					if spec.Box.Contains(c, y, x) {
						if o := owner[spec.Layer][s.Index(c, y, x)]; o >= 0 {
							t.Fatalf("layer %d neuron (%d, %d, %d) in cores %d and %d", spec.Layer, c, y, x, o, i)
						}
						owner[spec.Layer][s.Index(c, y, x)] = i
					}
				}
			}
		}
	}
	o := &activeOracle{updates: make([][]int64, T), layerWakes: make([]int64, len(net.Layers))}
	reached := make([][]bool, len(net.Layers))
	firing := make([][]bool, len(net.Layers))
	for l, layer := range net.Layers {
		reached[l] = make([]bool, layer.Shape.Size())
		firing[l] = make([]bool, layer.Shape.Size())
	}
	for tk := range T {
		for l, layer := range net.Layers {
			clear(reached[l])
			clear(firing[l])
			if tk > 0 {
				for _, in := range layer.Inputs {
					for _, src := range fired[tk-1][in.From] {
						reachTargets(&in.Synapses, src, func(f, y, x int) { reached[l][layer.Shape.Index(f, y, x)] = true })
					}
				}
			}
			for _, n := range fired[tk][l] {
				firing[l][n] = true
			}
		}
		o.updates[tk] = make([]int64, len(p.Cores))
		for l := range net.Layers {
			for n, r := range reached[l] {
				f := firing[l][n]
				switch {
				case r && f:
					o.reachedFired++
				case r:
					o.reachedOnly++
				case f:
					o.wakes++
					o.layerWakes[l]++
				default:
					continue
				}
				if owner[l][n] < 0 {
					t.Fatalf("layer %d neuron %d in no core", l, n)
				}
				o.updates[tk][owner[l][n]]++
			}
		}
	}
	return o
}

// reachTargets calls mark for every target neuron (f, ty, tx) of s that a spike of source
// neuron src reaches, each once, by the geometry Synapses documents: src's channel must be
// read; its targets are the channels of its group (one channel per group for a max-pool
// window); a target position is reached if its window holds one of src's Upsample² copies.
func reachTargets(s *core.Synapses, src int, mark func(f, ty, tx int)) {
	hw := s.Src.H * s.Src.W
	c, ys, xs := src/hw, src%hw/s.Src.W, src%s.Src.W
	if c < s.SrcC0 || c >= s.SrcC0+s.NumC {
		return
	}
	g := (c - s.SrcC0) / (s.NumC / s.Groups)
	per := s.DstC / s.Groups
	f0 := s.DstC0 + g*per
	// overlap reports whether the window starting at w0 holds one of the copies [c0, c0+u).
	u := s.Upsample
	overlap := func(w0, c0 int) bool { return w0 < c0+u && c0 < w0+s.Size }
	for ty := 0; ty < s.Dst.H; ty++ {
		if !overlap(ty*s.Stride-s.Offset, ys*u) {
			continue
		}
		for tx := 0; tx < s.Dst.W; tx++ {
			if !overlap(tx*s.Stride-s.Offset, xs*u) {
				continue
			}
			for f := f0; f < f0+per; f++ {
				mark(f, ty, tx)
			}
		}
	}
}

// chipUpdates runs p to each tick 1..T in turn and returns its active updates per tick and
// core ([tick][core]): the differences of the cumulative counters of consecutive runs. A
// run's horizon only drops wakes it would not reach, so the first k ticks of a run to T are
// those of a run to k.
func chipUpdates(t *testing.T, p *Program, stim Stimulus, T int) [][]int64 {
	t.Helper()
	out := make([][]int64, T)
	prev := make([]int64, len(p.Cores))
	for k := 1; k <= T; k++ {
		res, err := p.Run(stim, Probe{Ticks: []int{k}}, 1)
		if err != nil {
			t.Fatal(err)
		}
		out[k-1] = make([]int64, len(p.Cores))
		for i, c := range res.Cores {
			out[k-1][i] = c.Updates - prev[i]
			prev[i] = c.Updates
		}
	}
	return out
}

// compareUpdates fails t at the first few (tick, core) whose chip count differs from the oracle's.
func compareUpdates(t *testing.T, p *Program, got, want [][]int64) {
	t.Helper()
	bad := 0
	for tk := range want {
		for i := range want[tk] {
			if got[tk][i] != want[tk][i] {
				if bad++; bad <= 5 {
					spec := p.Cores[i]
					t.Errorf("tick %d core %d (layer %d %q, box %+v): %d active updates, want %d",
						tk, i, spec.Layer, p.Net.Layers[spec.Layer].Name, spec.Box, got[tk][i], want[tk][i])
				}
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d (tick, core) pairs differ in all", bad)
	}
}

// driveNetwork is randomNetwork made to run on its own drive: the analog layer sees a sparse
// image (most of its neurons get no current and no bias, so never fire), and the hidden layers'
// biases are a sizeable share of their thresholds, so that many of their neurons fire with
// no input at all, from their onset, and the wakes of the lazy update matter. Its max-pool
// emits one spike per tick while its inputs may emit several, so that an exact pool lags the
// maximum and is woken in the next tick to catch up.
func driveNetwork(rng *rand.Rand, undo bool, maxSpikes int64, rule core.PoolRule) (*Network, Stimulus) {
	net, stim := randomNetwork(rng, undo, maxSpikes, rule)
	l0 := &net.Layers[0]
	for c := range l0.Bias {
		l0.Bias[c] = 0
	}
	for n := range stim[0] {
		stim[0][n] = 0
		if rng.IntN(20) == 0 {
			stim[0][n] = 50 + rng.Int64N(400)
		}
	}
	for l := range net.Layers[1:] {
		layer := &net.Layers[1+l]
		if layer.Kind == core.MaxPool {
			layer.MaxSpikes = 1
		}
		if layer.Kind == core.MaxPool || layer.Kind == core.Accumulator {
			continue
		}
		for c := range layer.Bias {
			b := layer.Threshold[c].Pos / (2 + rng.Int64N(8))
			if layer.Kind == core.Signed && rng.IntN(3) == 0 {
				b = -b * (1 + rng.Int64N(4))
			}
			layer.Bias[c] = b
		}
	}
	return net, stim
}

// updateCase is a network, its stimulus and how to name it. A drive case must show wakes in
// its hidden layers, and in its max-pool if the rule is exact.
type updateCase struct {
	name  string
	net   *Network
	stim  Stimulus
	drive bool
}

// updateCases are the networks the oracle checks: randomNetwork with undo off and on, one to
// three spikes per tick and either pool rule, and driveNetwork, whose neurons fire on their
// own drive.
func updateCases() []updateCase {
	var cases []updateCase
	for seed := uint64(0); seed < 6; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		undo, maxSpikes, rule := seed%2 == 1, 1+int64(seed%3), core.PoolRule(seed/2%2)
		net, stim := randomNetwork(rng, undo, maxSpikes, rule)
		cases = append(cases, updateCase{fmt.Sprintf("random/seed=%d/undo=%v/max=%d/%v", seed, undo, maxSpikes, rule), net, stim, false})
	}
	for seed, c := range []struct {
		undo      bool
		maxSpikes int64
		rule      core.PoolRule
	}{{false, 2, core.PoolExact}, {true, 3, core.PoolExact}, {true, 2, core.PoolFirstMax}} {
		rng := rand.New(rand.NewPCG(uint64(seed), 8))
		undo, maxSpikes, rule := c.undo, c.maxSpikes, c.rule
		net, stim := driveNetwork(rng, undo, maxSpikes, rule)
		cases = append(cases, updateCase{fmt.Sprintf("drive/seed=%d/undo=%v/max=%d/%v", seed, undo, maxSpikes, rule), net, stim, true})
	}
	return cases
}

// updateGrids are the cuts of the layers into cores: one neuron per core, small boxes, row
// bands, channel groups that split the grouped convolution's groups, whole layers.
var updateGrids = []Grid{{1, 1, 1}, {2, 3, 4}, {1 << 10, 2, 1 << 10}, {3, 1 << 10, 2}, {1 << 10, 1 << 10, 1 << 10}}

// clipGrids cuts every layer of net by g, clipped to the layer's shape.
func clipGrids(net *Network, g Grid) []Grid {
	grids := make([]Grid, len(net.Layers))
	for i, l := range net.Layers {
		grids[i] = Grid{min(g.Channels, l.Shape.C), min(g.Rows, l.Shape.H), min(g.Cols, l.Shape.W)}
	}
	return grids
}

// TestActiveUpdatesPerCoreAndTick pins Counters.Updates to the oracle, per core and per tick:
// every core updates, in every tick, exactly the neurons that received a synaptic event or
// fire on their own drive (see the top of this file), for every kind of layer (analog,
// signed with and without undo, IF, grouped, depthwise, upsampled, both max-pool rules,
// accumulators), one or several spikes per tick, and every cut of the layers into cores. It
// catches what spike-exact tests cannot: a wake a tick early (the neuron is updated, does not
// fire, and is woken again), an update counted twice, a neuron updated for nothing.
func TestActiveUpdatesPerCoreAndTick(t *testing.T) {
	const T = 24
	arch, err := Preset("loihi")
	if err != nil {
		t.Fatal(err)
	}
	for k, c := range updateCases() {
		t.Run(c.name, func(t *testing.T) {
			var want *activeOracle
			for split, g := range updateGrids {
				// Every case runs on three of the cuts, in turn, and always on one neuron per core.
				if split != 0 && (split+k)%2 == 0 {
					continue
				}
				t.Run(fmt.Sprintf("grid=%dx%dx%d", g.Channels, g.Rows, g.Cols), func(t *testing.T) {
					p, err := NewProgram(c.net, arch, clipGrids(c.net, g), router.XY, router.PerCore)
					if err != nil {
						t.Fatal(err)
					}
					want = newActiveOracle(t, p, c.stim, T)
					for _, sw := range testSweeps() {
						p.sweep = sw.s
						t.Run(sw.name, func(t *testing.T) { compareUpdates(t, p, chipUpdates(t, p, c.stim, T), want.updates) })
					}
				})
			}
			// The case must exercise the rule: neurons reached that do not fire, and some that
			// fire on their own drive; in a drive case, hidden neurons and exact pools too.
			if want == nil {
				return
			}
			if want.reachedOnly == 0 || want.wakes == 0 || want.reachedFired == 0 {
				t.Errorf("oracle: %d reached only, %d reached and fired, %d wakes: want all > 0", want.reachedOnly, want.reachedFired, want.wakes)
			}
			for l, layer := range c.net.Layers {
				hidden := !layer.Analog && layer.Kind != core.MaxPool && layer.Kind != core.Accumulator
				lagging := layer.Kind == core.MaxPool && layer.Pool == core.PoolExact
				if c.drive && (hidden || lagging) && want.layerWakes[l] == 0 {
					t.Errorf("oracle: no wakes in layer %d (%s)", l, layer.Name)
				}
			}
		})
	}
}

// TestActiveUpdatesPriced pins the run's totals and their prices: over a run, the cores'
// Updates add up to the oracle's active neuron-ticks, core by core, and the report prices
// neuron_active from them and neuron_inactive from size × ticks − active updates, the
// oracle's figure, for every network and cut.
func TestActiveUpdatesPriced(t *testing.T) {
	const T = 30
	arch, err := Preset("loihi")
	if err != nil {
		t.Fatal(err)
	}
	e := &arch.Energy
	for _, c := range updateCases() {
		t.Run(c.name, func(t *testing.T) {
			for _, g := range updateGrids {
				p, err := NewProgram(c.net, arch, clipGrids(c.net, g), router.YX, router.Tree)
				if err != nil {
					t.Fatal(err)
				}
				want := newActiveOracle(t, p, c.stim, T)
				res, err := p.Run(c.stim, Probe{Ticks: []int{T}}, 2)
				if err != nil {
					t.Fatal(err)
				}
				var total, wantTotal int64
				var active, inactive float64
				for i, spec := range p.Cores {
					w := want.total(i)
					if got := res.Cores[i].Updates; got != w {
						t.Errorf("grid %v core %d (layer %d): %d active updates over %d ticks, want %d", g, i, spec.Layer, got, T, w)
					}
					total += res.Cores[i].Updates
					wantTotal += w
					active += float64(w) * e.NeuronActive
					inactive += float64(int64(spec.Box.Size())*T-w) * e.NeuronInactive
				}
				if total != wantTotal {
					t.Errorf("grid %v: %d active updates in all, want %d", g, total, wantTotal)
				}
				r := p.Report(res, 0, 0)
				near := func(got, want float64) bool { return math.Abs(got-want) <= 1e-12*math.Abs(want) }
				if got := r.ByCategory["neuron_active"]; !near(got, active) {
					t.Errorf("grid %v: neuron_active %g J, want %g J", g, got, active)
				}
				if got := r.ByCategory["neuron_inactive"]; !near(got, inactive) {
					t.Errorf("grid %v: neuron_inactive %g J, want %g J (%d neuron-ticks, %d active)",
						g, got, inactive, int64(c.net.Neurons())*T, wantTotal)
				}
			}
		})
	}
}

// TestActiveUpdatesByHand checks the oracle and the chip against counts worked out by hand. A
// neuron driven at a third of its threshold (V0 = 0) reaches it in ticks 2, 5, 8, ...: it is
// updated in those ticks only, woken each time by its own drive; the accumulator it feeds is
// updated in the ticks after, when the spikes arrive. A neuron driven at its threshold fires
// in every tick, and one with no drive is never updated. The counts are the same whether the
// synapse's weight is 7 or 0: a spike reaches its targets whatever the weights.
func TestActiveUpdatesByHand(t *testing.T) {
	const T = 10
	arch, err := Preset("loihi")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int64{ // [core][tick]: the three neurons, then their accumulators
		{0, 0, 1, 0, 0, 1, 0, 0, 1, 0},
		{1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		{0, 0, 0, 1, 0, 0, 1, 0, 0, 1},
		{0, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	}
	byTick := make([][]int64, T)
	for tk := range byTick {
		for i := range want {
			byTick[tk] = append(byTick[tk], want[i][tk])
		}
	}
	for _, w := range []int32{7, 0} {
		t.Run(fmt.Sprintf("weight=%d", w), func(t *testing.T) {
			net, _ := twoCores()
			net.Layers[0].Shape = core.Shape{C: 1, H: 1, W: 3}
			net.Layers[1].Shape = core.Shape{C: 1, H: 1, W: 3}
			net.Layers[0].Threshold[0].Pos = 300
			s := &net.Layers[1].Inputs[0].Synapses
			s.Src, s.Dst, s.Weights = net.Layers[0].Shape, net.Layers[1].Shape, []int32{w}
			stim := Stimulus{{100, 300, 0}, nil}
			// One neuron per core.
			p, err := NewProgram(net, arch, []Grid{{1, 1, 1}, {1, 1, 1}}, router.XY, router.PerCore)
			if err != nil {
				t.Fatal(err)
			}
			o := newActiveOracle(t, p, stim, T)
			t.Run("oracle", func(t *testing.T) {
				for tk := range byTick {
					if !slices.Equal(o.updates[tk], byTick[tk]) {
						t.Errorf("tick %d: oracle %v, want %v", tk, o.updates[tk], byTick[tk])
					}
				}
			})
			t.Run("chip", func(t *testing.T) { compareUpdates(t, p, chipUpdates(t, p, stim, T), byTick) })
		})
	}
}
