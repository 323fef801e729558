package chip

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"spikeyolo/core"
	"spikeyolo/router"
)

// Units of the hand-computed figures below.
const picoJ, nanoS = 1e-12, 1e-9

// handArch is a made-up board of 2×2 chips, each 2×2 tiles of 2 cores (32 cores), with tiny
// cores (4 neurons) and a distinct prime for every price, so that swapping two prices, zeroing
// one or counting the wrong thing changes the figures of the tests below:
//
//	energy (pJ):  synop 2, active update 3, inactive update 5, spike out 7, message 11,
//	              within tile 13, east-west hop 17, north-south hop 19, chip crossing 23, barrier 29
//	latency (ns): synop 37, active update 41, inactive update 43, spike out 47, message 53,
//	              within tile 59, east-west hop 61, north-south hop 67, chip crossing 71, barrier 73
//	static power: 31 µW per chip; minimum tick tickMin.
//
// Core c sits on tile Place(c) (x east, y south): cores 0-7 on chip 0, two to a tile, on tiles
// (0,0) (1,0) (0,1) (1,1); 8-15 on chip 1, tiles (2,0) (3,0) (2,1) (3,1); 16-23 on chip 2,
// tiles (0,2) (1,2) (0,3) (1,3); 24-31 on chip 3. The chip boundaries lie between x = 1 and 2
// and between y = 1 and 2.
func handArch(tickMin float64) *Arch {
	return &Arch{Name: "hand", Description: "hand-computed report tests",
		Topology:   router.Topology{TilesX: 2, TilesY: 2, CoresPerTile: 2, ChipsX: 2, ChipsY: 2},
		Limits:     Limits{Neurons: 4, SynapseBytes: 16, InputAxons: 4, OutputAxons: 4},
		WeightBits: 8,
		Energy: Costs{Synop: 2 * picoJ, NeuronActive: 3 * picoJ, NeuronInactive: 5 * picoJ, SpikeOut: 7 * picoJ,
			Message: 11 * picoJ, WithinTile: 13 * picoJ, HopEastWest: 17 * picoJ, HopNorthSouth: 19 * picoJ,
			ChipCrossing: 23 * picoJ, Barrier: 29 * picoJ},
		Latency: Costs{Synop: 37 * nanoS, NeuronActive: 41 * nanoS, NeuronInactive: 43 * nanoS, SpikeOut: 47 * nanoS,
			Message: 53 * nanoS, WithinTile: 59 * nanoS, HopEastWest: 61 * nanoS, HopNorthSouth: 67 * nanoS,
			ChipCrossing: 71 * nanoS, Barrier: 73 * nanoS},
		TickMin:     tickMin,
		StaticPower: 31e-6,
	}
}

// handSource is an analog layer of c channels of one neuron, signed, with thresholds ±th and
// at most maxSpikes spikes a tick, no bias: a neuron driven by a current of k·th fires k
// spikes (one event) in every tick, one driven by 0 never fires nor updates.
func handSource(name string, c int, th, maxSpikes int64) Layer {
	n := core.Neurons{Shape: core.Shape{C: c, H: 1, W: 1}, Kind: core.Signed, MaxSpikes: maxSpikes,
		Bias: make([]int64, c), V0: make([]int64, c)}
	for range c {
		n.Threshold = append(n.Threshold, core.Threshold{Pos: th, Neg: th})
	}
	return Layer{Name: name, Analog: true, Neurons: n}
}

// handSink is an accumulator of c channels of one neuron, each reading channel ch of layer
// from (of shape src) through a 1×1 kernel of weight 1: a spike of that channel reaches every
// channel, and a packet of n spikes costs each target core n synaptic operations.
func handSink(name string, c, from, ch int, src core.Shape) Layer {
	dst := core.Shape{C: c, H: 1, W: 1}
	w := make([]int32, c)
	readout := make([]float64, c)
	for i := range w {
		w[i], readout[i] = 1, 1
	}
	return Layer{Name: name, Readout: readout,
		Neurons: core.Neurons{Shape: dst, Kind: core.Accumulator, Bias: make([]int64, c), V0: make([]int64, c)},
		Inputs: []Input{{From: from, Synapses: core.Synapses{Src: src, SrcC0: ch, NumC: 1, Upsample: 1, Dst: dst,
			DstC: c, Size: 1, Stride: 1, Groups: 1, Weights: w}}}}
}

// handReport is what a hand-computed test expects of a report: energies in pJ, times in ns.
type handReport struct {
	cores, chips, ticks                      int
	synops, spikes, packets, hops, crossings int64
	category                                 map[string]float64 // pJ, every category
	energy                                   float64            // pJ, the frame
	core                                     []float64          // pJ, per core
	layers                                   []LayerReport      // Energy in pJ
	links                                    []LinkLoad         // all of them, busiest first
	frame, compute, network, barrier         float64            // ns
	floatMACs, analogMACs                    int64
}

// nearRel reports whether got is want within a relative 1e-9 (exactly, for 0).
func nearRel(got, want float64) bool { return math.Abs(got-want) <= 1e-9*math.Abs(want) }

// runHand runs prog for ticks ticks with the given workers and prices it.
func runHand(t *testing.T, prog *Program, stim Stimulus, ticks, workers int, floatMACs, analogMACs int64) *Report {
	t.Helper()
	res, err := prog.Run(stim, Probe{Ticks: []int{ticks}}, workers)
	if err != nil {
		t.Fatal(err)
	}
	return prog.Report(res, floatMACs, analogMACs)
}

// checkHand compares a report with the hand-computed figures, in named subtests.
func checkHand(t *testing.T, r *Report, w handReport) {
	t.Run("counts", func(t *testing.T) {
		if r.Cores != w.cores || r.Chips != w.chips || r.Ticks != w.ticks {
			t.Errorf("%d cores on %d chips, %d ticks; want %d on %d, %d", r.Cores, r.Chips, r.Ticks, w.cores, w.chips, w.ticks)
		}
		if r.Synops != w.synops || r.Spikes != w.spikes || r.Packets != w.packets || r.Hops != w.hops || r.Crossings != w.crossings {
			t.Errorf("%d synops, %d spikes, %d packets, %d hops, %d crossings; want %d, %d, %d, %d, %d",
				r.Synops, r.Spikes, r.Packets, r.Hops, r.Crossings, w.synops, w.spikes, w.packets, w.hops, w.crossings)
		}
		if r.LimitViolations != nil {
			t.Errorf("limit violations %q, want none", r.LimitViolations)
		}
	})
	t.Run("categories", func(t *testing.T) {
		if len(r.ByCategory) != int(NumCategories) || len(w.category) != int(NumCategories) {
			t.Errorf("%d categories in the report, %d expected; want all %d", len(r.ByCategory), len(w.category), NumCategories)
		}
		for c := range NumCategories {
			got, want := r.Energies[c], w.category[c.String()]*picoJ
			if !nearRel(got, want) {
				t.Errorf("%s: %.6g pJ, want %.6g", c, got/picoJ, want/picoJ)
			}
			if r.ByCategory[c.String()] != got {
				t.Errorf("%s: ByCategory %g, Energies %g", c, r.ByCategory[c.String()], got)
			}
		}
	})
	t.Run("totals", func(t *testing.T) {
		if want := w.energy * picoJ; !nearRel(r.Energy, want) {
			t.Errorf("energy %.6g pJ, want %.6g", r.Energy/picoJ, w.energy)
		}
		if want := w.energy * picoJ / float64(w.synops); !nearRel(r.EnergyPerSynop, want) {
			t.Errorf("energy per synop %.6g pJ, want %.6g", r.EnergyPerSynop/picoJ, want/picoJ)
		}
		if want := float64(w.floatMACs) * 4.6 * picoJ; r.FloatMACs != w.floatMACs || r.AnalogMACs != w.analogMACs || !nearRel(r.FloatEnergy, want) {
			t.Errorf("%d float MACs (%.6g pJ), %d analog; want %d (%.6g pJ), %d", r.FloatMACs, r.FloatEnergy/picoJ, r.AnalogMACs,
				w.floatMACs, want/picoJ, w.analogMACs)
		}
	})
	t.Run("time", func(t *testing.T) {
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"frame", r.FrameTime, w.frame}, {"Time.Frame", r.Time.Frame, w.frame}, {"compute", r.Time.Compute, w.compute},
			{"network", r.Time.Network, w.network}, {"barrier", r.Time.Barrier, w.barrier},
			{"tick", r.TickTime, w.frame / float64(w.ticks)},
		} {
			if !nearRel(c.got, c.want*nanoS) {
				t.Errorf("%s time %.6g ns, want %.6g", c.name, c.got/nanoS, c.want)
			}
		}
	})
	t.Run("cores", func(t *testing.T) {
		if len(r.CoreEnergy) != len(w.core) {
			t.Fatalf("%d core energies, want %d", len(r.CoreEnergy), len(w.core))
		}
		for i, want := range w.core {
			if !nearRel(r.CoreEnergy[i], want*picoJ) {
				t.Errorf("core %d: %.6g pJ, want %.6g", i, r.CoreEnergy[i]/picoJ, want)
			}
		}
	})
	t.Run("layers", func(t *testing.T) {
		if len(r.Layers) != len(w.layers) {
			t.Fatalf("%d layers, want %d", len(r.Layers), len(w.layers))
		}
		for i, want := range w.layers {
			got := r.Layers[i]
			if got.Name != want.Name || got.Cores != want.Cores || got.Neurons != want.Neurons || got.Spikes != want.Spikes ||
				got.Synops != want.Synops || !nearRel(got.Energy, want.Energy*picoJ) {
				got.Energy /= picoJ
				t.Errorf("layer %d: %+v (pJ), want %+v", i, got, want)
			}
		}
	})
	t.Run("links", func(t *testing.T) {
		if len(r.BusiestLinks) != len(w.links) {
			t.Errorf("%d links %v, want %d %v", len(r.BusiestLinks), r.BusiestLinks, len(w.links), w.links)
			return
		}
		for i := range w.links {
			if r.BusiestLinks[i] != w.links[i] {
				t.Errorf("busiest link %d: %v, want %v", i, r.BusiestLinks[i], w.links[i])
			}
		}
	})
}

// link is the link leaving tile (x, y) in direction d.
func link(x, y int, d router.Direction) router.Link {
	return router.Link{From: router.Coord{X: x, Y: y}, Dir: d}
}

// TestReportHandMesh pins every energy category and every term of the busy-tick time model on
// a board of several chips, for per-core and tree multicast (XY routing), with 1 and 2
// workers. Three sources fire in every one of T = 5 ticks, each to several accumulators
// (handArch gives the tiles and the prices):
//
//	core  layer   tile   chip
//	0     a       (0,0)  0     fires 2 spikes in one event per tick (current 20, threshold 10, at most 2)
//	1-3   near    (0,0) (1,0) (1,0)  0   accumulators of a: 1 within a's tile, 2 one hop east
//	4-6   b       (0,1) (0,1) (1,1)  0   only core 6 is driven (current 10, threshold 10): 1 spike a tick
//	7-8   bsink   (1,1) (2,0)  0, 1    accumulators of b: 7 within b's tile, 8 one hop east (crossing
//	                                   the east-west chip boundary) and one north
//	9-15  c       (2,0) .. (3,1)  1    only core 15, on tile (3,1), is driven: 1 spike a tick
//	16-18 csink   (0,2) (0,2) (1,2)  2  accumulators of c: 16, 17 three hops west and one south,
//	                                   18 two west and one south, each crossing both boundaries
//
// Every core holds one neuron: 19 cores, on chips 0, 1 and 2 (chip 3 is empty): Chips = 3.
//
// Common to both multicasts (the cores receive one packet per destination either way):
//   - spikes: a 5×2 = 10, b 5, c 5: 20 spikes in 15 events (spike_out 15 × 7 = 105 pJ).
//   - packets arrive in ticks 1-4: near 3 cores × 4 packets × 2 spikes = 24 synops, bsink 2×4 = 8,
//     csink 3×4 = 12: 44 synops (synapse 44 × 2 = 88 pJ).
//   - active updates: the 3 sources 5 each (15), the 8 accumulators 4 each (32): 47 (47 × 3 = 141 pJ).
//   - inactive updates: 19 neurons × 5 ticks - 47 = 48 (48 × 5 = 240 pJ): the accumulators 1 each
//     (tick 0), the 8 undriven source neurons (cores 4, 5, 9-14) 5 each.
//   - barrier 5 ticks × 29 = 145 pJ; input encoding 100 analog MACs × 4.6 = 460 pJ;
//     the float network's 1000 MACs × 4.6 = 4600 pJ.
//   - per core, without the network: an accumulator of near 8×2 + 4×3 + 1×5 = 33 pJ, of bsink or
//     csink 4×2 + 4×3 + 1×5 = 25, an undriven source neuron 5×5 = 25; a source 5×3 + 5×7 = 50.
//
// Time, busy ticks only (no empty tick; tick_min 0): idle = 1 neuron × 43 = 43 ns. Tick 0: the
// sources alone, each 1 update + 1 event = 41 + 47 = 88 ns. Ticks 1-4: a near accumulator takes
// 2 synops + 1 update + 1 packet = 2×37 + 41 + 53 = 168 ns (bsink's and csink's 37 + 41 + 53 =
// 131 ns): compute 88 + 4×168 = 760 ns. Barrier 5 × 73 = 365 ns. The longest path, every
// tick, is c → 16 (and 17): 3 east-west hops, 1 north-south, 2 chip crossings = 3×61 + 67 + 2×71
// = 392 ns (c → 18: 2×61 + 67 + 142 = 331; b → 8: 61 + 67 + 71 = 199; a → 2: 61; a → 1: 59).
func TestReportHandMesh(t *testing.T) {
	const T = 5
	a := handSource("a", 1, 10, 2)
	b := handSource("b", 3, 10, 1)
	c := handSource("c", 7, 10, 1)
	net := &Network{Layers: []Layer{
		a, handSink("near", 3, 0, 0, a.Shape),
		b, handSink("bsink", 2, 2, 2, b.Shape),
		c, handSink("csink", 3, 4, 6, c.Shape),
	}}
	stim := Stimulus{{20}, nil, {0, 0, 10}, nil, {0, 0, 0, 0, 0, 0, 10}, nil}
	grids := make([]Grid, len(net.Layers))
	for i := range grids {
		grids[i] = Grid{1, 1, 1}
	}
	// The accumulators' and undriven neurons' energy (33, 25) is the same in both cases.
	accum := func(src0, src6, src15 float64) []float64 {
		return []float64{src0, 33, 33, 33, 25, 25, src6, 25, 25, 25, 25, 25, 25, 25, 25, src15, 25, 25, 25}
	}
	layers := func(a, b, c float64) []LayerReport {
		return []LayerReport{
			{Name: "a", Cores: 1, Neurons: 1, Spikes: 10, Energy: a},
			{Name: "near", Cores: 3, Neurons: 3, Synops: 24, Energy: 3 * 33},
			{Name: "b", Cores: 3, Neurons: 3, Spikes: 5, Energy: 2*25 + b},
			{Name: "bsink", Cores: 2, Neurons: 2, Synops: 8, Energy: 2 * 25},
			{Name: "c", Cores: 7, Neurons: 7, Spikes: 5, Energy: 6*25 + c},
			{Name: "csink", Cores: 3, Neurons: 3, Synops: 12, Energy: 3 * 25},
		}
	}
	for _, tc := range []struct {
		name      string
		multicast router.Multicast
		want      handReport
	}{
		{
			// Per-core multicast: one packet per destination core. Per tick: a sends 3 (1 within
			// tile, 2 on the east link of (0,0)), b 2 (1 within tile; 1 east from (1,1) across the
			// chip boundary, then north from (2,1)), c 3 (west along row 1 from x = 3 to x = 0 for 16
			// and 17, to x = 1 for 18, crossing at (2,1)W; then south from y = 1 to 2, crossing, on
			// (0,1)S for 16 and 17 and (1,1)S for 18).
			//   packets 8 a tick, 40 in all (messages 40 × 11 = 440 pJ); within tile 2 a tick, 10 (× 13 = 130 pJ)
			//   east-west hops a tick: a 2 east, b 1 east, c 3+3+2 = 8 west: 11, 55 in all (× 17 = 935 pJ)
			//   north-south hops a tick: b 1 north, c 3 south: 4, 20 in all (× 19 = 380 pJ); hops 75
			//   crossings a tick: b 1, c 2+2+2: 7, 35 in all (× 23 = 805 pJ)
			// Links a tick: (3,1)W and (2,1)W carry 3 (c's three packets), (1,1)W 2, (0,1)S 2, (0,0)E 2,
			// (1,1)S, (1,1)E, (2,1)N 1: maxLoad 3, network 392 + (3-1) × max(61, 67) = 526 ns a tick.
			// Frame: tick 0 88 + 526 + 73 = 687 ns, ticks 1-4 168 + 526 + 73 = 767: 687 + 4×767 = 3755 ns;
			// network 5 × 526 = 2630 ns. Static 31 µW × 3 chips × 3755 ns = 349.215 pJ.
			// Per core: a 50 + 15×11 + 5×13 + 10×17 = 450; b's core 6 50 + 10×11 + 5×13 + 5×17 + 5×19 +
			// 5×23 = 520; c's core 15 50 + 15×11 + 40×17 + 15×19 + 30×23 = 1870. Categories
			// 88+141+240+105+440+130+935+380+805 = 3264 pJ (the cores' sum: 450 + 3×33 + 2×25 + 520 +
			// 2×25 + 6×25 + 1870 + 3×25); the frame 3264 + 145 + 349.215 + 460 = 4218.215 pJ.
			"percore", router.PerCore, handReport{
				cores: 19, chips: 3, ticks: T, synops: 44, spikes: 20, packets: 40, hops: 75, crossings: 35,
				category: map[string]float64{"synapse_mac": 0, "synapse": 44 * 2, "neuron_active": 47 * 3, "neuron_inactive": 48 * 5,
					"spike_out": 15 * 7, "messages": 40 * 11, "within_tile": 10 * 13, "hops_east_west": 55 * 17,
					"hops_north_south": 20 * 19, "chip_crossings": 35 * 23, "barrier": 5 * 29,
					"static": 31e-6 * 3 * 3755e-9 / picoJ, "input_encoding": 100 * 4.6},
				energy: 4218.215,
				core:   accum(450, 520, 1870),
				layers: layers(450, 520, 1870),
				links: []LinkLoad{{link(2, 1, router.West), 15}, {link(3, 1, router.West), 15},
					{link(0, 0, router.East), 10}, {link(0, 1, router.South), 10}, {link(1, 1, router.West), 10},
					{link(1, 1, router.East), 5}, {link(1, 1, router.South), 5}, {link(2, 1, router.North), 5}},
				frame: 3755, compute: 760, network: 2630, barrier: 365, floatMACs: 1000, analogMACs: 100,
			},
		},
		{
			// Tree multicast: one packet per spike, copied where the paths part; each link of the union
			// of the paths carries it once. Per tick: a 1 packet, 1 east hop ((0,0)E; the within-tile
			// delivery takes no link); b 1 packet, 1 east + 1 north, 1 crossing (as per-core); c 1
			// packet, west from x = 3 to 0 (3 hops, 1 crossing), then south one hop down column 0 and
			// one down column 1 (2 hops, 2 crossings).
			//   packets 3 a tick, 15 in all (messages 15 × 11 = 165 pJ; deliveries stay 40); within tile 10 (130 pJ)
			//   east-west hops a tick: 1 + 1 + 3 = 5, 25 in all (× 17 = 425 pJ)
			//   north-south hops a tick: 1 + 2 = 3, 15 in all (× 19 = 285 pJ); hops 40
			//   crossings a tick: 1 + 3 = 4, 20 in all (× 23 = 460 pJ)
			// Every link carries 1 packet a tick: maxLoad 1, no waiting; network 392 ns a tick.
			// Frame: 88 + 392 + 73 = 553 ns, then 4 × (168 + 392 + 73) = 4 × 633: 3085 ns; network
			// 5 × 392 = 1960 ns. Static 31 µW × 3 chips × 3085 ns = 286.905 pJ.
			// Per core: a 50 + 5×11 + 5×13 + 5×17 = 255; core 6 50 + 5×11 + 5×13 + 5×17 + 5×19 + 5×23 =
			// 465; core 15 50 + 5×11 + 15×17 + 10×19 + 15×23 = 895. Categories 88+141+240+105+165+130+
			// 425+285+460 = 2039 pJ; the frame 2039 + 145 + 286.905 + 460 = 2930.905 pJ.
			"tree", router.Tree, handReport{
				cores: 19, chips: 3, ticks: T, synops: 44, spikes: 20, packets: 15, hops: 40, crossings: 20,
				category: map[string]float64{"synapse_mac": 0, "synapse": 44 * 2, "neuron_active": 47 * 3, "neuron_inactive": 48 * 5,
					"spike_out": 15 * 7, "messages": 15 * 11, "within_tile": 10 * 13, "hops_east_west": 25 * 17,
					"hops_north_south": 15 * 19, "chip_crossings": 20 * 23, "barrier": 5 * 29,
					"static": 31e-6 * 3 * 3085e-9 / picoJ, "input_encoding": 100 * 4.6},
				energy: 2930.905,
				core:   accum(255, 465, 895),
				layers: layers(255, 465, 895),
				// Ties sorted by row, column, then direction (east, west, north, south).
				links: []LinkLoad{{link(0, 0, router.East), 5}, {link(0, 1, router.South), 5},
					{link(1, 1, router.East), 5}, {link(1, 1, router.West), 5}, {link(1, 1, router.South), 5},
					{link(2, 1, router.West), 5}, {link(2, 1, router.North), 5}, {link(3, 1, router.West), 5}},
				frame: 3085, compute: 760, network: 1960, barrier: 365, floatMACs: 1000, analogMACs: 100,
			},
		},
	} {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/workers=%d", tc.name, workers), func(t *testing.T) {
				prog, err := NewProgram(net, handArch(0), grids, router.XY, tc.multicast)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range [][3]int{{0, 0, 0}, {2, 1, 0}, {6, 1, 1}, {8, 2, 0}, {15, 3, 1}, {16, 0, 2}, {18, 1, 2}} {
					if got := prog.Topology.Place(c[0]); got != (router.Coord{X: c[1], Y: c[2]}) {
						t.Fatalf("core %d on tile %v, want (%d,%d)", c[0], got, c[1], c[2])
					}
				}
				checkHand(t, runHand(t, prog, stim, T, workers, 1000, 100), tc.want)
			})
		}
	}
}

// TestReportHandIdle pins the time of empty ticks (advance), the idle time of the largest
// core, the inactive neurons of a busy core, and the minimum tick, with and without it binding,
// on one chip. A source s (core 0, tile (0,0)) driven by 1 with threshold 4 fires in ticks 3
// and 7 only (its membrane reaches 4 every 4 ticks) and updates only then; its spike goes one
// hop east to the accumulator k (core 3, tile (1,0)), whose first neuron of two integrates it
// in ticks 4 and 8. Between them sits an undriven layer of 5 neurons cut into cores of 4 and 1
// (cores 1 and 2): the largest core holds 4.
//
// Over T = 10 ticks, 4 are busy (3, 4, 7, 8) and 6 empty (0-2, 5, 6, 9).
//
//	energy (pJ): synapse 2 synops × 2 = 4; active updates (2 of s, 2 of k) 4 × 3 = 12; inactive
//	  8 neurons × 10 ticks - 4 = 76 (s 8, the undriven 50, k 18) × 5 = 380; spike out 2 × 7 = 14;
//	  messages 2 × 11 = 22; east-west hops 2 × 17 = 34; no within-tile, north-south or crossing;
//	  barrier 10 ticks × 29 = 290 (every tick, empty or not); static 31 µW × 1 chip × frame.
//	  Per core: s 2×3 + 8×5 + 14 + 22 + 34 = 116; the undriven cores 40×5 = 200 and 10×5 = 50;
//	  k 2×2 + 2×3 + 18×5 = 100. In all 4 + 12 + 380 + 14 + 22 + 34 + 290 = 756, and static.
//	time (ns): idle = the largest core's 4 neurons × 43 = 172 (the smallest's would be 43).
//	  Ticks 3, 7: s takes 41 + 47 = 88 < 172, so 172 + one east hop 61 + barrier 73 = 306.
//	  Ticks 4, 8: k takes 1 synop, 1 active and 1 inactive update, 1 packet: 37 + 41 + 43 + 53 =
//	  174 > 172; no packet moves: 174 + 73 = 247.
//	  Empty ticks: 172 + 73 = 245.
//	  Compute 8 × 172 + 2 × 174 = 1724, network 2 × 61 = 122, barrier 10 × 73 = 730.
//
// tick_min 0: frame 2×306 + 2×247 + 6×245 = 2576 ns, static 31e-6 × 2576 ns = 79.856 pJ.
// tick_min 251 ns: it binds in the 8 ticks of 245 and 247 ns but not in the 2 of 306: frame
// 2×306 + 8×251 = 2620 ns, static 31e-6 × 2620 ns = 81.22 pJ; compute, network and barrier
// time are unchanged (the minimum tick stretches the frame only).
func TestReportHandIdle(t *testing.T) {
	const T = 10
	s := handSource("s", 1, 4, 1)
	pad := handSource("pad", 5, 4, 1)
	k := handSink("k", 2, 0, 0, s.Shape)
	k.Inputs[0].Synapses.DstC, k.Inputs[0].Synapses.Weights = 1, []int32{1} // s reaches channel 0 only
	net := &Network{Layers: []Layer{s, pad, k}}
	stim := Stimulus{{1}, {0, 0, 0, 0, 0}, nil}
	grids := []Grid{{1, 1, 1}, {4, 1, 1}, {2, 1, 1}}
	layers := []LayerReport{
		{Name: "s", Cores: 1, Neurons: 1, Spikes: 2, Energy: 116},
		{Name: "pad", Cores: 2, Neurons: 5, Energy: 250},
		{Name: "k", Cores: 1, Neurons: 2, Synops: 2, Energy: 100},
	}
	category := func(frame float64) map[string]float64 {
		return map[string]float64{"synapse_mac": 0, "synapse": 2 * 2, "neuron_active": 4 * 3, "neuron_inactive": 76 * 5, "spike_out": 2 * 7,
			"messages": 2 * 11, "within_tile": 0, "hops_east_west": 2 * 17, "hops_north_south": 0, "chip_crossings": 0,
			"barrier": 10 * 29, "static": 31e-6 * frame * nanoS / picoJ, "input_encoding": 0}
	}
	for _, tc := range []struct {
		name    string
		tickMin float64 // ns
		frame   float64 // ns
		static  float64 // pJ
	}{
		{"tick_min=0", 0, 2576, 79.856},
		{"tick_min=251ns", 251, 2620, 81.22},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog, err := NewProgram(net, handArch(tc.tickMin*nanoS), grids, router.XY, router.PerCore)
			if err != nil {
				t.Fatal(err)
			}
			if len(prog.Cores) != 4 || prog.Cores[1].Box.Size() != 4 || prog.Cores[2].Box.Size() != 1 || prog.Cores[3].Box.Size() != 2 {
				t.Fatalf("cores %v, want s, pad of 4 and 1, k of 2", prog.Cores)
			}
			checkHand(t, runHand(t, prog, stim, T, 1, 0, 0), handReport{
				cores: 4, chips: 1, ticks: T, synops: 2, spikes: 2, packets: 2, hops: 2, crossings: 0,
				category: category(tc.frame),
				energy:   756 + tc.static,
				core:     []float64{116, 200, 50, 100},
				layers:   layers,
				links:    []LinkLoad{{link(0, 0, router.East), 2}},
				frame:    tc.frame, compute: 1724, network: 122, barrier: 730,
			})
		})
	}
}

// TestReportHandWithinTile pins the within-tile terms alone: a source (core 0) that fires in
// each of T = 3 ticks (current 10, threshold 10) to an accumulator on the same tile (core 1),
// so that no link is used and the network time of every tick is the within-tile latency.
//
//	counts: 3 spikes in 3 events, 3 packets, 3 within-tile deliveries, no hop, no crossing;
//	  2 synops (ticks 1, 2); active updates 3 + 2 = 5; inactive 2 neurons × 3 ticks - 5 = 1.
//	energy (pJ): synapse 2 × 2 = 4; active 5 × 3 = 15; inactive 1 × 5 = 5; spike out 3 × 7 = 21;
//	  messages 3 × 11 = 33; within tile 3 × 13 = 39; barrier 3 × 29 = 87; static 31 µW × 1 chip
//	  × 746 ns = 23.126: in all 227.126. Per core: source 3×3 + 21 + 33 + 39 = 102; accumulator
//	  4 + 2×3 + 5 = 15.
//	time (ns): idle 43. Tick 0: the source 41 + 47 = 88, within tile 59, barrier 73: 220.
//	  Ticks 1, 2: the accumulator 37 + 41 + 53 = 131, + 59 + 73 = 263. Frame 220 + 2 × 263 = 746;
//	  compute 88 + 2 × 131 = 350; network 3 × 59 = 177; barrier 3 × 73 = 219.
func TestReportHandWithinTile(t *testing.T) {
	const T = 3
	src := handSource("src", 1, 10, 1)
	net := &Network{Layers: []Layer{src, handSink("acc", 1, 0, 0, src.Shape)}}
	prog, err := NewProgram(net, handArch(0), []Grid{{1, 1, 1}, {1, 1, 1}}, router.XY, router.PerCore)
	if err != nil {
		t.Fatal(err)
	}
	checkHand(t, runHand(t, prog, Stimulus{{10}, nil}, T, 1, 0, 0), handReport{
		cores: 2, chips: 1, ticks: T, synops: 2, spikes: 3, packets: 3,
		category: map[string]float64{"synapse_mac": 0, "synapse": 2 * 2, "neuron_active": 5 * 3, "neuron_inactive": 1 * 5, "spike_out": 3 * 7,
			"messages": 3 * 11, "within_tile": 3 * 13, "hops_east_west": 0, "hops_north_south": 0, "chip_crossings": 0,
			"barrier": 3 * 29, "static": 31e-6 * 746e-9 / picoJ, "input_encoding": 0},
		energy: 227.126,
		core:   []float64{102, 15},
		layers: []LayerReport{
			{Name: "src", Cores: 1, Neurons: 1, Spikes: 3, Energy: 102},
			{Name: "acc", Cores: 1, Neurons: 1, Synops: 2, Energy: 15},
		},
		frame: 746, compute: 350, network: 177, barrier: 219,
	})
}

// TestReportLoihiTwoChips pins the Loihi preset's prices on a program that spans two chips
// of its board (8×4 tiles of 4 cores: 128 cores a chip, chips side by side east-west). A source
// layer of 128 one-neuron cores fills chip 0; only core 108, on tile (3,3), is driven (current
// 100, threshold 100) and fires in each of T = 4 ticks to the accumulator on core 128, tile
// (8,0): chip 1's first. Each packet goes 5 hops east (crossing the chip boundary between x = 7
// and 8), then 3 north.
//
// Davies et al. 2018, Table 2 (as the preset gives them): 23.6 pJ a synop, 81 / 52 pJ an
// active / inactive update, 3.0 / 4.0 pJ an east-west / north-south hop, 0 for spikes, messages
// and barrier; the crossing proxy 832 pJ; static 104 mW a chip (Frady et al. 2020).
// Latencies: 3.5 ns a synop, 8.4 / 5.3 ns an active / inactive update, 4.1 / 6.5 ns an
// east-west / north-south hop, 0 a crossing, a message or a spike, 465 ns barrier, no minimum
// tick.
//
//	counts: 4 packets, 4×5 = 20 east hops + 4×3 = 12 north = 32 hops, 4 crossings, 3 synops
//	  (ticks 1-3), 7 active updates (source 4, accumulator 3), 129 neurons × 4 ticks - 7 = 509
//	  inactive.
//	energy (pJ): synapse 3 × 23.6 = 70.8; active 7 × 81 = 567; inactive 509 × 52 = 26468;
//	  east-west 20 × 3.0 = 60; north-south 12 × 4.0 = 48; crossings 4 × 832 = 3328.
//	time (ns): every core holds 1 neuron: idle 5.3. Path 5 × 4.1 + 3 × 6.5 = 40, one packet a
//	  link. Tick 0: the source's update 8.4 + 40 + 465 = 513.4; ticks 1-3: the accumulator's synop
//	  and update 3.5 + 8.4 = 11.9, + 40 + 465 = 516.9. Frame 513.4 + 3 × 516.9 = 2064.1; compute
//	  8.4 + 3 × 11.9 = 44.1; network 4 × 40 = 160; barrier 4 × 465 = 1860.
//	static: 104 mW × 2 chips × 2064.1 ns = 429332.8 pJ.
//	per core: the 127 undriven 4 × 52 = 208 each; the source 4 × 81 + 20 × 3.0 + 12 × 4.0 +
//	  4 × 832 = 3760; the accumulator 3 × 23.6 + 3 × 81 + 1 × 52 = 365.8.
//	frame energy 70.8 + 567 + 26468 + 60 + 48 + 3328 + 429332.8 = 459874.6 pJ.
func TestReportLoihiTwoChips(t *testing.T) {
	const T = 4
	arch, err := Preset("loihi")
	if err != nil {
		t.Fatal(err)
	}
	src := handSource("src", 128, 100, 1)
	net := &Network{Layers: []Layer{src, handSink("acc", 1, 0, 108, src.Shape)}}
	stim := Stimulus{make([]int64, 128), nil}
	stim[0][108] = 100
	prog, err := NewProgram(net, arch, []Grid{{1, 1, 1}, {1, 1, 1}}, router.XY, router.PerCore)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := prog.Topology.Place(108), prog.Topology.Place(128); a != (router.Coord{X: 3, Y: 3}) || b != (router.Coord{X: 8, Y: 0}) {
		t.Fatalf("cores 108, 128 on tiles %v, %v; want (3,3), (8,0)", a, b)
	}
	cores := make([]float64, 129)
	for i := range 128 {
		cores[i] = 4 * 52
	}
	cores[108], cores[128] = 4*81+20*3.0+12*4.0+4*832, 3*23.6+3*81+52
	checkHand(t, runHand(t, prog, stim, T, 1, 0, 0), handReport{
		cores: 129, chips: 2, ticks: T, synops: 3, spikes: 4, packets: 4, hops: 32, crossings: 4,
		category: map[string]float64{"synapse_mac": 0, "synapse": 3 * 23.6, "neuron_active": 7 * 81, "neuron_inactive": 509 * 52,
			"spike_out": 0, "messages": 0, "within_tile": 0, "hops_east_west": 20 * 3.0, "hops_north_south": 12 * 4.0,
			"chip_crossings": 4 * 832, "barrier": 0, "static": 0.104 * 2 * 2064.1e-9 / picoJ, "input_encoding": 0},
		energy: 459874.6,
		core:   cores,
		layers: []LayerReport{
			{Name: "src", Cores: 128, Neurons: 128, Spikes: 4, Energy: 127*208 + 3760},
			{Name: "acc", Cores: 1, Neurons: 1, Synops: 3, Energy: 365.8},
		},
		// All 8 links carry the 4 packets: ordered by row, then column.
		links: []LinkLoad{{link(8, 1, router.North), 4}, {link(8, 2, router.North), 4},
			{link(3, 3, router.East), 4}, {link(4, 3, router.East), 4}, {link(5, 3, router.East), 4},
			{link(6, 3, router.East), 4}, {link(7, 3, router.East), 4}, {link(8, 3, router.North), 4}},
		frame: 2064.1, compute: 44.1, network: 160, barrier: 1860,
	})
}

// TestIdleDenseStep: a tick in which a core steps but no neuron updates and no packet arrives
// is idle. A source neuron starts at its threshold and fires once, in tick 0; a signed neuron
// of a high threshold receives that spike in tick 1 and does not fire. Each core had all its
// neurons active in its tick, so it sweeps its box in the next tick too (core.Sweep): the
// sink's sweep in tick 2 finds nothing to do, and the run has 2 busy ticks of 5, priced like
// the other idle ones.
func TestIdleDenseStep(t *testing.T) {
	s := handSource("s", 1, 4, 1)
	s.V0[0] = 4
	k := handSink("k", 1, 0, 0, s.Shape)
	k.Readout, k.Kind, k.MaxSpikes = nil, core.Signed, 1
	k.Threshold = []core.Threshold{{Pos: 100, Neg: 100}}
	net := &Network{Layers: []Layer{s, k}}
	prog, err := NewProgram(net, handArch(0), []Grid{{1, 1, 1}, {1, 1, 1}}, router.XY, router.PerCore)
	if err != nil {
		t.Fatal(err)
	}
	res, err := prog.Run(Stimulus{{0}, nil}, Probe{Ticks: []int{5}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Busy != 2 || res.Cores[0].Spikes != 1 || res.Cores[1].Updates != 1 {
		t.Errorf("%d busy ticks, %d spikes, %d updates of the sink; want 2, 1, 1", res.Busy, res.Cores[0].Spikes, res.Cores[1].Updates)
	}
	// Idle ticks cost the barrier and the idle pipeline (one neuron's inactive update, 43 ns):
	// tick 0 the source's 41 + 47 = 88 ns and its packet's 59 within its tile; tick 1 the sink's 37 + 41 + 53
	// = 131 ns; 3 idle ticks of 43 ns; 5 barriers of 73 ns.
	if want := (88 + 59 + 131 + 3*43 + 5*73) * nanoS; !nearRel(res.Time.Frame, want) {
		t.Errorf("frame %v s, want %v s", res.Time.Frame, want)
	}
}

// TestReportGradedMACs: a graded message costs one multiply-accumulate per target, priced by
// the architecture's mac constant, whatever its payload; binary synaptic operations stay at 0.
// A graded neuron with current 8 and threshold 4 sends level 2 once, in tick 0, to an
// accumulator of 2 channels: 2 MACs (not 4 accumulates), at 19 pJ and 31 ns each; an
// architecture that prices payload bits adds them to the message. An architecture without a
// mac price refuses the network.
func TestReportGradedMACs(t *testing.T) {
	s := handSource("s", 1, 4, 1)
	s.Kind, s.Graded, s.Once, s.MaxSpikes = core.Graded, true, true, 100
	s.Threshold[0].Delta = 1
	k := handSink("k", 2, 0, 0, s.Shape)
	k.Once = true
	net := &Network{Layers: []Layer{s, k}}
	grids := []Grid{{1, 1, 1}, {2, 1, 1}}
	if _, err := NewProgram(net, handArch(0), grids, router.XY, router.PerCore); err == nil || !strings.Contains(err.Error(), "graded") {
		t.Errorf("an architecture without graded synaptic operations took a graded network: %v", err)
	}
	arch := handArch(0)
	arch.Graded, arch.Energy.MAC, arch.Latency.MAC = true, 19*picoJ, 31*nanoS
	prog, err := NewProgram(net, arch, grids, router.XY, router.PerCore)
	if err != nil {
		t.Fatal(err)
	}
	res, err := prog.Run(Stimulus{{8}, nil}, Probe{Ticks: []int{3}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := prog.Report(res, 0, 0)
	if r.MACs != 2 || r.Synops != 0 || r.Spikes != 2 || !nearRel(r.ByCategory["synapse_mac"], 2*19*picoJ) || r.ByCategory["synapse"] != 0 {
		t.Errorf("%d MACs, %d accumulates, %d unit spikes, synapse_mac %v J, synapse %v J; want 2, 0, 2, 38 pJ, 0", r.MACs, r.Synops, r.Spikes,
			r.ByCategory["synapse_mac"], r.ByCategory["synapse"])
	}
	// Priced by payload too, at 5 pJ a bit: the source's messages are 8 bits wide (payloads up
	// to 100, and a sign), its one packet 11 + 8 × 5 pJ.
	arch.Energy.PayloadBit = 5 * picoJ
	if r := prog.Report(res, 0, 0); !nearRel(r.ByCategory["messages"], (11+8*5)*picoJ) {
		t.Errorf("messages priced by payload: %v J, want 51 pJ", r.ByCategory["messages"])
	}
	// Tick 1: the accumulator's pipeline, 2 MACs (62 ns) + 2 active updates (82) + a message
	// (53); tick 0 the source's 41 + 47 = 88 ns; tick 2 idle, the accumulator's 2 × 43 ns.
	if want := 2*31 + 2*41 + 53.0; !nearRel(res.Time.Compute-(88+86)*nanoS, want*nanoS) {
		t.Errorf("compute time %v s, want tick 0's 88 ns + tick 1's %v ns + an idle 86 ns", res.Time.Compute, want)
	}
}
