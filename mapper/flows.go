package mapper

import (
	"fmt"
	"math"
	"slices"

	"spikeyolo/chip"
	"spikeyolo/core"
	"spikeyolo/router"
)

// Flow is the expected traffic from one core to another: Rate packets per tick (a core sends
// one packet per destination core for every spike event of its neurons; see
// router.PerCore).
type Flow struct {
	Src, Dst int32
	Rate     float64
}

// Flows lists the expected packets per tick between every pair of cores of p that exchange
// any, from the spike events per tick a estimates for every neuron: each event of a neuron
// sends one packet to each core that Destinations names for it. Flows are ordered by source,
// then destination; a pair appears once, with a positive rate. Rates must be finite and >= 0.
//
// It touches every (channel group, position) of every core once, not every neuron: the
// destinations of a spike depend only on its position and on the channel group that each
// consumer reads it in, so the channels of a core that every consumer groups alike share
// their destinations and add up their rates.
func Flows(p *chip.Program, a *Activity) []Flow {
	net := p.Net
	if len(a.Rates) != len(net.Layers) {
		panic(fmt.Sprintf("mapper: activity of %d layers for a network of %d", len(a.Rates), len(net.Layers)))
	}
	// consumers[l] lists the synapses that read layer l.
	consumers := make([][]*core.Synapses, len(net.Layers))
	for i := range net.Layers {
		for j := range net.Layers[i].Inputs {
			in := &net.Layers[i].Inputs[j]
			consumers[in.From] = append(consumers[in.From], &in.Synapses)
		}
	}
	acc := make([]float64, len(p.Cores))
	var touched, scratch []int32
	var flows []Flow
	// group is the channel group consumer s reads channel c in, or -1.
	group := func(s *core.Synapses, c int) int {
		if !s.Reads(c) {
			return -1
		}
		return (c - s.SrcC0) / (s.NumC / s.Groups)
	}
	sameGroups := func(l, c, d int) bool {
		for _, s := range consumers[l] {
			if group(s, c) != group(s, d) {
				return false
			}
		}
		return true
	}
	for src, spec := range p.Cores {
		l, b := spec.Layer, spec.Box
		rates := a.Rates[l]
		if len(rates) != net.Layers[l].Shape.C {
			panic(fmt.Sprintf("mapper: activity of layer %d has %d channels, want %d", l, len(rates), net.Layers[l].Shape.C))
		}
		if len(consumers[l]) == 0 {
			continue
		}
		shape := net.Layers[l].Shape
		hw := shape.H * shape.W
		// Runs of channels [c0, c1) that every consumer groups alike.
		for c0 := b.C0; c0 < b.C1; {
			c1 := c0 + 1
			for c1 < b.C1 && sameGroups(l, c0, c1) {
				c1++
			}
			var r float64
			for c := c0; c < c1; c++ {
				if x := rates[c]; !(x >= 0) || math.IsInf(x, 1) {
					panic(fmt.Sprintf("mapper: layer %d channel %d: rate %v, want a finite rate >= 0", l, c, x))
				}
				r += rates[c]
			}
			if r > 0 {
				for y := b.Y0; y < b.Y1; y++ {
					for x := b.X0; x < b.X1; x++ {
						for _, d := range p.Destinations(l, c0*hw+y*shape.W+x, &scratch) {
							if acc[d] == 0 {
								touched = append(touched, d)
							}
							acc[d] += r
						}
					}
				}
			}
			c0 = c1
		}
		slices.Sort(touched)
		for _, d := range touched {
			flows = append(flows, Flow{Src: int32(src), Dst: d, Rate: acc[d]})
			acc[d] = 0
		}
		touched = touched[:0]
	}
	return flows
}

// TrafficEstimate is what a placement's expected traffic costs per tick (see Flows).
type TrafficEstimate struct {
	Packets     float64 // packets sent
	WithinTile  float64 // of which delivered within their source's tile
	Hops        float64 // link traversals
	Crossings   float64 // chip crossings
	Energy      float64 // joules: within-tile deliveries, hops and crossings at the architecture's energies
	MaxLinkLoad float64 // packets on the busiest link (with the program's routing)
	LongestPath float64 // seconds: the latency of the slowest flow's path
}

// EstimateTraffic prices the flows on p's placement, per tick, as the chip counts a run (one
// packet per destination core, dimension-order routes).
func EstimateTraffic(p *chip.Program, flows []Flow) TrafficEstimate {
	t := p.Topology
	e, lat := p.Arch.Energy, p.Arch.Latency
	w, h := t.ChipsX*t.TilesX, t.ChipsY*t.TilesY
	var loads [4][]float64
	for d := range loads {
		loads[d] = make([]float64, w*h)
	}
	var est TrafficEstimate
	for _, f := range flows {
		if f.Rate == 0 {
			continue
		}
		a, b := p.Tile(int(f.Src)), p.Tile(int(f.Dst))
		est.Packets += f.Rate
		if a == b {
			est.WithinTile += f.Rate
			est.Energy += f.Rate * e.WithinTile
			est.LongestPath = max(est.LongestPath, lat.WithinTile)
			continue
		}
		dx, dy := absInt(b.X-a.X), absInt(b.Y-a.Y)
		cross := absInt(b.X/t.TilesX-a.X/t.TilesX) + absInt(b.Y/t.TilesY-a.Y/t.TilesY)
		est.Hops += f.Rate * float64(dx+dy)
		est.Crossings += f.Rate * float64(cross)
		est.Energy += f.Rate * (float64(dx)*e.HopEastWest + float64(dy)*e.HopNorthSouth + float64(cross)*e.ChipCrossing)
		est.LongestPath = max(est.LongestPath, float64(dx)*lat.HopEastWest+float64(dy)*lat.HopNorthSouth+float64(cross)*lat.ChipCrossing)
		runX := func(c router.Coord, x int) {
			for ; c.X < x; c.X++ {
				loads[router.East][c.Y*w+c.X] += f.Rate
			}
			for ; c.X > x; c.X-- {
				loads[router.West][c.Y*w+c.X] += f.Rate
			}
		}
		runY := func(c router.Coord, y int) {
			for ; c.Y < y; c.Y++ {
				loads[router.South][c.Y*w+c.X] += f.Rate
			}
			for ; c.Y > y; c.Y-- {
				loads[router.North][c.Y*w+c.X] += f.Rate
			}
		}
		if p.Routing == router.XY {
			runX(a, b.X)
			runY(router.Coord{X: b.X, Y: a.Y}, b.Y)
		} else {
			runY(a, b.Y)
			runX(router.Coord{X: a.X, Y: b.Y}, b.X)
		}
	}
	for d := range loads {
		for _, v := range loads[d] {
			est.MaxLinkLoad = max(est.MaxLinkLoad, v)
		}
	}
	return est
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
