package mapper

import (
	"fmt"

	"spikeyolo/chip"
	"spikeyolo/router"
)

// Partition places a network on at least minCores cores of arch, the simple way: every
// layer is cut into boxes of at most s neurons, with s the largest size, within the
// architecture's neuron limit, that gives minCores cores or more. A box holds all the
// channels of as many whole rows as fit (bands) or, when a row of all channels does not fit,
// of a near-square tile of positions; a spike's targets, near it in space and spread over
// the channels, then sit in few cores. Cores are placed in layer order.
func Partition(net *chip.Network, arch *chip.Arch, minCores int, r router.Routing, m router.Multicast) (*chip.Program, error) {
	if minCores > net.Neurons() {
		return nil, fmt.Errorf("mapper: %d cores asked for a network of %d neurons", minCores, net.Neurons())
	}
	grids := func(s int) ([]chip.Grid, int) {
		g := make([]chip.Grid, len(net.Layers))
		cores := 0
		for i, l := range net.Layers {
			c, h, w := l.Shape.C, l.Shape.H, l.Shape.W
			switch {
			case c*w <= s:
				g[i] = chip.Grid{Channels: c, Rows: min(h, s/(c*w)), Cols: w}
			case c <= s:
				g[i] = tile(c, h, w, s/c)
			default:
				g[i] = chip.Grid{Channels: s, Rows: 1, Cols: 1}
			}
			cores += ceil(c, g[i].Channels) * ceil(h, g[i].Rows) * ceil(w, g[i].Cols)
		}
		return g, cores
	}
	// The largest s giving at least minCores cores (cores fall as s grows).
	lo, hi := 1, arch.Limits.Neurons
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if _, n := grids(mid); n >= minCores {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	g, _ := grids(lo)
	return chip.NewProgram(net, arch, g, r, m)
}

func ceil(a, b int) int { return (a + b - 1) / b }

// tile picks boxes of all c channels over r×w positions, r·w <= positions, that minimize the
// halo of a 3×3 kernel, (r+2)(w+2)/(r·w): the cores a spike's targets spread over.
func tile(c, h, w, positions int) chip.Grid {
	best, bestCost := chip.Grid{Channels: c, Rows: 1, Cols: min(w, positions)}, 0.0
	for r := 1; r <= min(h, positions); r++ {
		cols := min(w, positions/r)
		cost := float64((r+2)*(cols+2)) / float64(r*cols)
		if bestCost == 0 || cost < bestCost {
			best, bestCost = chip.Grid{Channels: c, Rows: r, Cols: cols}, cost
		}
	}
	return best
}
