package mapper

import (
	"fmt"

	"spikeyolo/chip"
	"spikeyolo/router"
)

// Partition places a network on at least minCores cores of arch, the simple way: every
// layer is cut into boxes of at most s neurons, with s the largest size, within the
// architecture's neuron limit, that gives minCores cores or more. A box holds all the
// channels of as many whole rows as fit (bands), or, if one row of all channels does not
// fit, as many channels of a row as fit, so that a spike's targets, which are near it in
// space and spread over the channels, sit in few cores. Cores are placed in layer order.
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
			case w <= s:
				g[i] = chip.Grid{Channels: s / w, Rows: 1, Cols: w}
			default:
				g[i] = chip.Grid{Channels: 1, Rows: 1, Cols: s}
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
