package chip

import (
	"fmt"
	"slices"

	"spikeyolo/core"
	"spikeyolo/router"
)

// CoreSpec is the part of a layer one core holds: a box of layer Layer's neurons.
type CoreSpec struct {
	Layer int
	Box   core.Box
}

// Grid is how a layer is cut into cores: boxes of Channels × Rows × Cols neurons (smaller at
// the map's far edges), ordered by channel block, then row block, then column block.
type Grid struct{ Channels, Rows, Cols int }

// blocks is the number of boxes along each dimension of a map of shape s.
func (g Grid) blocks(s core.Shape) (nc, nr, nw int) {
	return (s.C + g.Channels - 1) / g.Channels, (s.H + g.Rows - 1) / g.Rows, (s.W + g.Cols - 1) / g.Cols
}

// Program is a Network placed on cores: which core holds which neurons, the architecture
// and board it runs on, how packets are routed, and where every neuron's spikes must go.
// Cores are numbered in placement order (see router.Topology.Place); a layer's cores are
// consecutive.
type Program struct {
	Net       *Network
	Arch      *Arch
	Topology  router.Topology // the board actually used: Arch's, or more chips if needed
	Routing   router.Routing
	Multicast router.Multicast
	Cores     []CoreSpec
	Grids     []Grid // per layer

	first     []int   // per layer: its first core
	coreLayer []int32 // per core: its layer
	fanout    [][]fanout
	kernels   [][]*core.Kernel // per layer, per input
}

// fanout lists, for every spike of a source layer that one consumer input reads, the cores
// that hold its targets: for channel group g and position p, cores[offset[g·HW+p]:offset[g·HW+p+1]].
type fanout struct {
	syn    *core.Synapses
	offset []int32
	cores  []int32
}

// NewProgram places net's layers on cores, each layer cut by its grid, the layers' cores in
// order on the board. The board is the architecture's, with rows of chips added if the
// program needs more cores.
func NewProgram(net *Network, arch *Arch, grids []Grid, r router.Routing, m router.Multicast) (*Program, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	if len(grids) != len(net.Layers) {
		return nil, fmt.Errorf("chip: %d grids for %d layers", len(grids), len(net.Layers))
	}
	p := &Program{Net: net, Arch: arch, Topology: arch.Topology, Routing: r, Multicast: m, Grids: grids}
	for i, l := range net.Layers {
		g, s := grids[i], l.Shape
		if g.Channels < 1 || g.Rows < 1 || g.Cols < 1 || g.Channels*g.Rows*g.Cols > arch.Limits.Neurons {
			return nil, fmt.Errorf("chip: layer %d (%s): boxes of %dx%dx%d neurons, want 1..%d", i, l.Name, g.Channels, g.Rows, g.Cols, arch.Limits.Neurons)
		}
		p.first = append(p.first, len(p.Cores))
		for c := 0; c < s.C; c += g.Channels {
			for y := 0; y < s.H; y += g.Rows {
				for x := 0; x < s.W; x += g.Cols {
					p.Cores = append(p.Cores, CoreSpec{Layer: i, Box: core.Box{C0: c, C1: min(c+g.Channels, s.C),
						Y0: y, Y1: min(y+g.Rows, s.H), X0: x, X1: min(x+g.Cols, s.W)}})
				}
			}
		}
	}
	for p.Topology.Cores() < len(p.Cores) {
		p.Topology.ChipsY++
	}
	for _, c := range p.Cores {
		p.coreLayer = append(p.coreLayer, int32(c.Layer))
	}
	p.fanout = make([][]fanout, len(net.Layers))
	p.kernels = make([][]*core.Kernel, len(net.Layers))
	for i, l := range net.Layers {
		for j := range l.Inputs {
			in := &l.Inputs[j]
			k := core.NewKernel(&in.Synapses)
			p.kernels[i] = append(p.kernels[i], k)
			p.fanout[in.From] = append(p.fanout[in.From], p.buildFanout(i, &in.Synapses, k.Taps))
		}
	}
	return p, nil
}

// coreAt is the core holding neuron (c, y, x) of layer l.
func (p *Program) coreAt(l, c, y, x int) int32 {
	g := p.Grids[l]
	_, nr, nw := g.blocks(p.Net.Layers[l].Shape)
	return int32(p.first[l] + (c/g.Channels*nr+y/g.Rows)*nw + x/g.Cols)
}

// buildFanout computes the destination cores of every (group, position) of a consumer input.
func (p *Program) buildFanout(layer int, s *core.Synapses, tt *core.TapTable) fanout {
	f := fanout{syn: s}
	hw := s.Src.H * s.Src.W
	g := p.Grids[layer]
	var dst []int32
	f.offset = append(f.offset, 0)
	for grp := 0; grp < s.Groups; grp++ {
		f0, f1, _ := s.Targets(s.SrcC0 + grp*(s.NumC/s.Groups))
		for pos := 0; pos < hw; pos++ {
			dst = dst[:0]
			for cb := f0 / g.Channels; cb*g.Channels < f1; cb++ {
				for _, t := range tt.At(pos) {
					dst = append(dst, p.coreAt(layer, cb*g.Channels, int(t.Y), int(t.X)))
				}
			}
			slices.Sort(dst)
			f.cores = append(f.cores, slices.Compact(dst)...)
			f.offset = append(f.offset, int32(len(f.cores)))
		}
	}
	return f
}

// destinations returns the cores that a spike of neuron n of layer l must reach, ascending
// and without repeats: a slice of the program's tables (not to be modified) if one input
// reads the layer, else built in *buf (whose capacity it keeps for the next call).
func (p *Program) destinations(l, n int, scratch *[]int32) []int32 {
	if len(p.fanout[l]) == 1 {
		f := &p.fanout[l][0]
		s := f.syn
		hw := s.Src.H * s.Src.W
		c := n / hw
		if !s.Reads(c) {
			return nil
		}
		i := (c-s.SrcC0)/(s.NumC/s.Groups)*hw + n%hw
		return f.cores[f.offset[i]:f.offset[i+1]]
	}
	buf := (*scratch)[:0]
	for k := range p.fanout[l] {
		f := &p.fanout[l][k]
		s := f.syn
		hw := s.Src.H * s.Src.W
		c := n / hw
		if !s.Reads(c) {
			continue
		}
		g := (c - s.SrcC0) / (s.NumC / s.Groups)
		i := g*hw + n%hw
		buf = append(buf, f.cores[f.offset[i]:f.offset[i+1]]...)
	}
	slices.Sort(buf)
	*scratch = buf
	return slices.Compact(buf)
}

// Usage is what one core holds against its architecture's limits.
type Usage struct {
	Neurons      int
	SynapseBytes int // the weights of its neurons' kernels, at the architecture's weight bits
	InputAxons   int // distinct source neurons whose spikes reach it
	OutputAxons  int // (neuron, destination core) pairs of its neurons
}

// Usage computes every core's use of its resources.
func (p *Program) Usage() []Usage {
	u := make([]Usage, len(p.Cores))
	bits := p.Arch.WeightBits
	for i, c := range p.Cores {
		u[i].Neurons = c.Box.Size()
		for _, in := range p.Net.Layers[c.Layer].Inputs {
			s := &in.Synapses
			if s.IsPool() {
				continue
			}
			// The filters of the channels the core holds, within these synapses' targets.
			f0, f1 := max(c.Box.C0, s.DstC0), min(c.Box.C1, s.DstC0+s.DstC)
			if f1 > f0 {
				u[i].SynapseBytes += (f1 - f0) * (s.NumC / s.Groups) * s.Size * s.Size * bits / 8
			}
		}
	}
	var scratch []int32
	for ci, c := range p.Cores {
		shape := p.Net.Layers[c.Layer].Shape
		for k := 0; k < c.Box.Size(); k++ {
			ch, y, x := c.Box.At(k)
			dst := p.destinations(c.Layer, shape.Index(ch, y, x), &scratch)
			u[ci].OutputAxons += len(dst)
			for _, d := range dst {
				u[d].InputAxons++
			}
		}
	}
	return u
}

// CheckLimits lists, per limit of the architecture that some cores exceed, how many do and
// the worst; nil if every core fits.
func (p *Program) CheckLimits() []string {
	lim := p.Arch.Limits
	type check struct {
		name  string
		limit int
		get   func(Usage) int
	}
	var out []string
	usage := p.Usage()
	for _, ck := range []check{
		{"neurons", lim.Neurons, func(u Usage) int { return u.Neurons }},
		{"synapse memory bytes", lim.SynapseBytes, func(u Usage) int { return u.SynapseBytes }},
		{"input axons", lim.InputAxons, func(u Usage) int { return u.InputAxons }},
		{"output axons", lim.OutputAxons, func(u Usage) int { return u.OutputAxons }},
	} {
		over, worst, at := 0, 0, 0
		for i, u := range usage {
			if v := ck.get(u); v > ck.limit {
				over++
				if v > worst {
					worst, at = v, i
				}
			}
		}
		if over > 0 {
			out = append(out, fmt.Sprintf("%d of %d cores exceed %d %s (worst: core %d of layer %q, %d)",
				over, len(usage), ck.limit, ck.name, at, p.Net.Layers[p.Cores[at].Layer].Name, worst))
		}
	}
	return out
}
