package chip

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"

	"spikeyolo/core"
	"spikeyolo/router"
)

// meshArch is a small board of 2x2 chips, each of 3x2 tiles of two cores (more tiles along X
// than Y, so that a chip boundary counted along the wrong dimension shows), with room for any
// core, and distinct integer latencies (sums of them are exact in float64). Only the network
// costs time.
func meshArch() *Arch {
	return &Arch{Name: "mesh", Topology: router.Topology{TilesX: 3, TilesY: 2, CoresPerTile: 2, ChipsX: 2, ChipsY: 2},
		Limits:     Limits{Neurons: 1 << 20, SynapseBytes: 1 << 30, InputAxons: 1 << 20, OutputAxons: 1 << 20},
		WeightBits: 16, Latency: Costs{HopEastWest: 1, HopNorthSouth: 3, WithinTile: 2, ChipCrossing: 20}}
}

// fanOut is three analog neurons driven at their threshold, so each fires once in every tick,
// each reaching every neuron of a 15x1x3 accumulator (a 5x5 kernel over a 1x3 map). Cut one
// neuron per core on meshArch, the sources are cores 0-2 (tiles (0,0) and (1,0)) and the
// accumulator fills cores 3-47, on all four chips: core 3 shares its tile with source core 2.
func fanOut() (*Network, Stimulus) {
	s0, s1 := core.Shape{C: 1, H: 1, W: 3}, core.Shape{C: 15, H: 1, W: 3}
	src := Layer{Name: "src", Analog: true, Neurons: core.Neurons{Shape: s0, Kind: core.Signed, MaxSpikes: 1,
		Threshold: []core.Threshold{{Pos: 100, Neg: 100}}, Bias: []int64{0}, V0: []int64{0}}}
	w := make([]int32, 15*5*5)
	for i := range w {
		w[i] = 1
	}
	readout := make([]float64, 15)
	acc := Layer{Name: "acc", Readout: readout, Neurons: core.Neurons{Shape: s1, Kind: core.Accumulator, Onset: 1,
		Bias: make([]int64, 15), V0: make([]int64, 15)},
		Inputs: []Input{{From: 0, Synapses: core.Synapses{Src: s0, NumC: 1, Upsample: 1, Dst: s1, DstC: 15, Size: 5, Stride: 1,
			Offset: 2, Groups: 1, Weights: w}}}}
	return &Network{Layers: []Layer{src, acc}}, Stimulus{{100, 100, 100}, nil}
}

// firing is a spike: neuron Neuron of layer Layer fired in tick Tick.
type firing struct{ Tick, Layer, Neuron int }

// firedByReference lists the spikes of a T-tick run of net by the reference engine: a
// neuron fired in tick t exactly when its net count changed from after t ticks to after t+1
// (a neuron emits at most one spike event per tick).
func firedByReference(t *testing.T, net *Network, stim Stimulus, T int) []firing {
	t.Helper()
	var ticks []int
	for k := 1; k <= T; k++ {
		ticks = append(ticks, k)
	}
	snaps, err := Reference(net, stim, Probe{Ticks: ticks, Counts: true})
	if err != nil {
		t.Fatal(err)
	}
	var out []firing
	for k, s := range snaps {
		for l, counts := range s.Counts {
			for n, c := range counts {
				before := int64(0)
				if k > 0 {
					before = snaps[k-1].Counts[l][n]
				}
				if c != before {
					out = append(out, firing{k, l, n})
				}
			}
		}
	}
	return out
}

// walk lists the links of the dimension-order path from a to b, one tile at a time: along X
// then Y for XY, along Y then X for YX.
func walk(a, b router.Coord, r router.Routing) []router.Link {
	var links []router.Link
	alongX := func() {
		for ; a.X < b.X; a.X++ {
			links = append(links, router.Link{From: a, Dir: router.East})
		}
		for ; a.X > b.X; a.X-- {
			links = append(links, router.Link{From: a, Dir: router.West})
		}
	}
	alongY := func() {
		for ; a.Y < b.Y; a.Y++ {
			links = append(links, router.Link{From: a, Dir: router.South})
		}
		for ; a.Y > b.Y; a.Y-- {
			links = append(links, router.Link{From: a, Dir: router.North})
		}
	}
	if r == router.XY {
		alongX()
		alongY()
	} else {
		alongY()
		alongX()
	}
	return links
}

// expectedTraffic is what routing a run's spikes path by path gives.
type expectedTraffic struct {
	links   map[router.Link]int64
	stats   router.Stats   // all traffic
	sent    []router.Stats // per source core
	network float64        // the run's network time
}

// expectTraffic routes the spikes fired by p's cores to p's destination cores by walking each
// packet's path (per core: one packet per destination; by tree: one per link of the union of
// a spike's paths). Per tick, the network time is the slowest path (hops by direction plus
// chip crossings, or the within-tile latency) plus one east-west or north-south hop, whichever
// is slower, for each packet queued behind the first on the busiest link.
func expectTraffic(p *Program, fired []firing) expectedTraffic {
	topo, lat := p.Topology, p.Arch.Latency
	owner := make([][]int, len(p.Net.Layers)) // per layer, per neuron: its core
	for ci, spec := range p.Cores {
		shape := p.Net.Layers[spec.Layer].Shape
		if owner[spec.Layer] == nil {
			owner[spec.Layer] = make([]int, shape.Size())
		}
		for k := range spec.Box.Size() {
			ch, y, x := spec.Box.At(k)
			owner[spec.Layer][shape.Index(ch, y, x)] = ci
		}
	}
	crosses := func(l router.Link) bool {
		end := l.From
		switch l.Dir {
		case router.East:
			end.X++
		case router.West:
			end.X--
		case router.North:
			end.Y--
		case router.South:
			end.Y++
		}
		return l.From.X/topo.TilesX != end.X/topo.TilesX || l.From.Y/topo.TilesY != end.Y/topo.TilesY
	}
	e := expectedTraffic{links: map[router.Link]int64{}, sent: make([]router.Stats, len(p.Cores))}
	tick := map[router.Link]int64{}
	var slowest float64
	endTick := func() {
		var busiest int64
		for l, v := range tick {
			busiest = max(busiest, v)
			e.links[l] += v
		}
		e.network += slowest
		if busiest > 1 {
			e.network += float64(busiest-1) * max(lat.HopEastWest, lat.HopNorthSouth)
		}
		clear(tick)
		slowest = 0
	}
	var scratch []int32
	for i, f := range fired {
		if i > 0 && f.Tick != fired[i-1].Tick {
			endTick()
		}
		dst := p.Destinations(f.Layer, f.Neuron, &scratch)
		if len(dst) == 0 {
			continue
		}
		src := owner[f.Layer][f.Neuron]
		a, st := p.Tile(src), &e.sent[src]
		if p.Multicast == router.Tree {
			st.Sent++
		} else {
			st.Sent += int64(len(dst))
		}
		union := map[router.Link]bool{}
		for _, d := range dst {
			st.Delivered++
			b := p.Tile(int(d))
			if a == b {
				st.WithinTile++
				slowest = max(slowest, lat.WithinTile)
				continue
			}
			path := walk(a, b, p.Routing)
			st.MaxHops = max(st.MaxHops, int64(len(path)))
			var time float64
			for _, l := range path {
				if l.Dir == router.East || l.Dir == router.West {
					time += lat.HopEastWest
				} else {
					time += lat.HopNorthSouth
				}
				if crosses(l) {
					time += lat.ChipCrossing
				}
				union[l] = true
				if p.Multicast == router.PerCore {
					tick[l]++
					st.Hops[l.Dir]++
					if crosses(l) {
						st.Crossings++
					}
				}
			}
			slowest = max(slowest, time)
		}
		if p.Multicast == router.Tree {
			for l := range union {
				tick[l]++
				st.Hops[l.Dir]++
				if crosses(l) {
					st.Crossings++
				}
			}
		}
	}
	endTick()
	for _, st := range e.sent {
		e.stats.Add(st)
	}
	return e
}

// TestRunRoutesByProgram: Program.Run routes every spike by the program's routing and
// multicast. On a board of four chips, for XY and YX, per core and by tree, with one worker
// and with several, the run's link loads, hops per direction, chip crossings, packet counts
// and network time are those of walking, link by link, the path of every packet from the
// firing neuron's core to each of the program's destination cores. The spikes are known:
// sources driven at their threshold fire every tick, or a random network's spikes as the
// reference engine records them. Each network has packets whose XY and YX paths differ, so a
// run routing by another order than the program's fails. The random network also runs with
// its cores shuffled over the board, so that a run placing cores anywhere but on their slots
// fails.
func TestRunRoutesByProgram(t *testing.T) {
	const T = 12
	cases := []struct {
		name    string
		chipsY  int  // rows of chips of the board
		shuffle bool // cores on a random permutation of the board's slots
		build   func(t *testing.T, T int) (*Network, Stimulus, []Grid, []firing)
		// counts, when known by hand: packets sent, delivered, delivered within a tile.
		counts func(m router.Multicast) (sent, delivered, withinTile int64)
	}{
		{"fan-out", 2, false, func(*testing.T, int) (*Network, Stimulus, []Grid, []firing) {
			net, stim := fanOut()
			var fired []firing
			for tick := range T {
				for n := range 3 {
					fired = append(fired, firing{tick, 0, n})
				}
			}
			return net, stim, []Grid{{1, 1, 1}, {1, 1, 1}}, fired
		}, func(m router.Multicast) (int64, int64, int64) {
			// Every tick, 3 spikes reach the 45 accumulator cores; one of them (core 3) shares
			// the tile of its source (core 2). A tree sends one packet per spike.
			if m == router.Tree {
				return 3 * T, 3 * 45 * T, T
			}
			return 3 * 45 * T, 3 * 45 * T, T
		}},
		{"random network", 5, false, randomCase, nil},
		{"random network shuffled", 5, true, randomCase, nil},
	}
	for _, c := range cases {
		net, stim, grids, fired := c.build(t, T)
		arch := meshArch()
		arch.Topology.ChipsY = c.chipsY
		for _, m := range []router.Multicast{router.PerCore, router.Tree} {
			want := map[router.Routing]expectedTraffic{}
			for _, r := range []router.Routing{router.XY, router.YX} {
				p, err := NewProgram(net, arch, grids, r, m)
				if err != nil {
					t.Fatal(err)
				}
				if c.shuffle {
					slots := rand.New(rand.NewPCG(9, 9)).Perm(arch.Topology.Cores())[:len(p.Cores)]
					if p, err = p.Placed(slots); err != nil {
						t.Fatal(err)
					}
				}
				want[r] = expectTraffic(p, fired)
				if w := want[r].stats; c.counts != nil {
					if sent, delivered, within := c.counts(m); w.Sent != sent || w.Delivered != delivered || w.WithinTile != within {
						t.Fatalf("%s/%v/%v: the paths send %d packets, deliver %d, %d within a tile; by hand %d, %d, %d",
							c.name, r, m, w.Sent, w.Delivered, w.WithinTile, sent, delivered, within)
					}
				}
				if want[r].stats.Delivered == 0 {
					t.Fatalf("%s: no spike reaches another core", c.name)
				}
				for _, workers := range []int{1, 3} {
					t.Run(fmt.Sprintf("%s/%v/%v/workers=%d", c.name, r, m, workers), func(t *testing.T) {
						res, err := p.Run(stim, Probe{Ticks: []int{T}}, workers)
						if err != nil {
							t.Fatal(err)
						}
						w := want[r]
						if !maps.Equal(res.Links, w.links) {
							t.Errorf("link loads differ from the paths':\n%s", linkDiff(res.Links, w.links))
						}
						if res.Network != w.stats {
							t.Errorf("network stats\n %+v\npaths give\n %+v", res.Network, w.stats)
						}
						for ci, got := range res.Sent {
							if got != w.sent[ci] {
								t.Errorf("core %d sent\n %+v\npaths give\n %+v", ci, got, w.sent[ci])
							}
						}
						if res.Time.Network != w.network {
							t.Errorf("network time %v s, paths give %v s", res.Time.Network, w.network)
						}
					})
				}
			}
			if maps.Equal(want[router.XY].links, want[router.YX].links) {
				t.Errorf("%s/%v: the XY and YX paths load the same links: the test cannot tell the routings apart", c.name, m)
			}
		}
	}
}

// randomCase is randomNetwork cut into boxes of up to 2x3x4 neurons (104 cores), with its
// spikes as the reference records them.
func randomCase(t *testing.T, T int) (*Network, Stimulus, []Grid, []firing) {
	net, stim := randomNetwork(rand.New(rand.NewPCG(7, 7)), false, 2, core.PoolExact)
	grids := make([]Grid, len(net.Layers))
	for i, l := range net.Layers {
		grids[i] = Grid{min(2, l.Shape.C), min(3, l.Shape.H), min(4, l.Shape.W)}
	}
	return net, stim, grids, firedByReference(t, net, stim, T)
}

// linkDiff lists the links whose loads differ, at most ten.
func linkDiff(got, want map[router.Link]int64) string {
	var s string
	shown := 0
	seen := map[router.Link]bool{}
	for _, m := range []map[router.Link]int64{want, got} {
		for l := range m {
			if seen[l] || got[l] == want[l] || shown == 10 {
				continue
			}
			seen[l] = true
			s += fmt.Sprintf("  %v %v: %d, want %d\n", l.From, l.Dir, got[l], want[l])
			shown++
		}
	}
	return s
}
