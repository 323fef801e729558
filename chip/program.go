package chip

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/sourcegraph/conc/iter"

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
// and board it runs on, where each core sits, how packets are routed, and where every
// neuron's spikes must go. A layer's cores are consecutive; core i sits on slot Slots[i] of
// the board (see router.Topology.Place).
type Program struct {
	Net       *Network
	Arch      *Arch
	Topology  router.Topology // the board: Arch's
	Routing   router.Routing
	Multicast router.Multicast
	Cores     []CoreSpec
	Grids     []Grid // per layer (nil for a refinement of programs: see Refine)
	Slots     []int  // per core: its slot on the board, distinct

	cuts      []cuts  // per layer: how it is cut into boxes
	first     []int   // per layer: its first core
	coreLayer []int32 // per core: its layer
	fanout    [][]fanout
	kernels   [][]*core.Kernel // per layer, per input
	routes    *routes          // the fan-out by class, shared by placed copies
	usage     *usageOnce       // Usage, computed once, shared by placed and routed copies
	sweep     core.Sweep       // when cores sweep their boxes (core.DefaultSweep; tests vary it)
}

// fanout lists, for every spike of a source layer that one consumer input reads, the cores
// that hold its targets: for channel group g and position p, cores[offset[g·HW+p]:offset[g·HW+p+1]].
type fanout struct {
	syn    *core.Synapses
	offset []int32
	cores  []int32
}

// MaxCores is the most cores a program may have: 262,144, the cores of 64 TrueNorth chips or
// 2,048 Loihi chips. The simulated cores' state grows with them, so a program beyond it is
// refused before anything is allocated for it.
const MaxCores = 1 << 18

// NewProgram places net's layers on cores, each layer cut by its grid, the layers' cores in
// order on the architecture's board (core i on slot i); Placed moves them. A program with
// more cores than the board is an error.
func NewProgram(net *Network, arch *Arch, grids []Grid, r router.Routing, m router.Multicast) (*Program, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	if len(grids) != len(net.Layers) {
		return nil, fmt.Errorf("chip: %d grids for %d layers", len(grids), len(net.Layers))
	}
	p := &Program{Net: net, Arch: arch, Topology: arch.Topology, Routing: r, Multicast: m, Grids: grids, sweep: core.DefaultSweep}
	cores := 0
	for i, l := range net.Layers {
		g, s := grids[i], l.Shape
		if g.Channels < 1 || g.Rows < 1 || g.Cols < 1 || g.Channels > s.C || g.Rows > s.H || g.Cols > s.W ||
			g.Channels*g.Rows*g.Cols > arch.Limits.Neurons {
			return nil, fmt.Errorf("chip: layer %d (%s): boxes of %dx%dx%d neurons, want 1..%d within its %v", i, l.Name, g.Channels, g.Rows, g.Cols,
				arch.Limits.Neurons, s)
		}
		nc, nr, nw := g.blocks(s)
		cores += nc * nr * nw
	}
	if cores > MaxCores {
		return nil, fmt.Errorf("chip: %d cores: a program may have at most %d (each simulated core keeps its own state, about 2 KB beside its neurons)", cores, MaxCores)
	}
	for i, l := range net.Layers {
		g, s := grids[i], l.Shape
		p.cuts = append(p.cuts, newCuts(s, func(dim, at int) bool { return at%[3]int{g.Channels, g.Rows, g.Cols}[dim] == 0 }))
	}
	if err := p.build(); err != nil {
		return nil, err
	}
	if board := p.Topology.Cores(); len(p.Cores) > board {
		return nil, fmt.Errorf("chip: %d cores, the %s board has %d (%d chips of %d)", len(p.Cores), arch.Name, board,
			p.Topology.ChipsX*p.Topology.ChipsY, p.Topology.CoresPerChip())
	}
	return p, nil
}

// Refine returns the coarsest program whose every box lies in one box of each of ps (of one
// network and architecture): each layer cut wherever one of them cuts it. A run of it, kept
// with its trace, prices a run of any of ps (Program.Reprice): core count, placement, routing
// and multicast never change which neuron spikes when, so a sweep over partitions simulates
// the network once. It sits on the architecture's board, grown by rows of chips if it has
// more cores; it has no grids.
func Refine(ps ...*Program) (*Program, error) {
	if len(ps) == 0 {
		return nil, errors.New("chip: no program to refine")
	}
	net, arch := ps[0].Net, ps[0].Arch
	for _, q := range ps[1:] {
		if q.Net != net || q.Arch.Name != arch.Name {
			return nil, errors.New("chip: programs of different networks or architectures have no common refinement")
		}
	}
	p := &Program{Net: net, Arch: arch, Topology: arch.Topology, Routing: ps[0].Routing, Multicast: ps[0].Multicast, sweep: ps[0].sweep}
	cores := 0
	for l, layer := range net.Layers {
		c := newCuts(layer.Shape, func(dim, at int) bool {
			return slices.ContainsFunc(ps, func(q *Program) bool { _, cut := slices.BinarySearch(q.cuts[l].at[dim], at); return cut })
		})
		p.cuts = append(p.cuts, c)
		cores += (len(c.at[0]) - 1) * (len(c.at[1]) - 1) * (len(c.at[2]) - 1)
	}
	if cores > MaxCores {
		return nil, fmt.Errorf("chip: the common refinement has %d cores: a program may have at most %d", cores, MaxCores)
	}
	for p.Topology.Cores() < cores {
		p.Topology.ChipsY++
	}
	if err := p.build(); err != nil {
		return nil, err
	}
	return p, nil
}

// build makes p's cores from its cuts, layer by layer, and its fan-out tables, kernels and
// routes; core i sits on slot i. A network with graded layers needs a graded architecture.
func (p *Program) build() error {
	for _, l := range p.Net.Layers {
		if l.Graded && !p.Arch.Graded {
			return fmt.Errorf("chip: layer %s sends graded messages, which the %s architecture does not carry or price (energy_pj.mac, latency_ns.mac): use one that does, such as loihi2",
				l.Name, p.Arch.Name)
		}
	}
	for l := range p.Net.Layers {
		c := &p.cuts[l]
		p.first = append(p.first, len(p.Cores))
		for i := range len(c.at[0]) - 1 {
			for j := range len(c.at[1]) - 1 {
				for k := range len(c.at[2]) - 1 {
					p.Cores = append(p.Cores, CoreSpec{Layer: l, Box: core.Box{C0: c.at[0][i], C1: c.at[0][i+1],
						Y0: c.at[1][j], Y1: c.at[1][j+1], X0: c.at[2][k], X1: c.at[2][k+1]}})
				}
			}
		}
	}
	for i, c := range p.Cores {
		p.coreLayer = append(p.coreLayer, int32(c.Layer))
		p.Slots = append(p.Slots, i)
	}
	p.fanout = make([][]fanout, len(p.Net.Layers))
	p.kernels = make([][]*core.Kernel, len(p.Net.Layers))
	// The fan-out tables, one per input, are built in parallel and kept in input order.
	type reader struct {
		layer int
		in    *Input
		taps  *core.TapTable
		f     fanout
	}
	var readers []reader
	for i, l := range p.Net.Layers {
		for j := range l.Inputs {
			in := &l.Inputs[j]
			k := core.NewKernel(&in.Synapses)
			p.kernels[i] = append(p.kernels[i], k)
			readers = append(readers, reader{layer: i, in: in, taps: k.Taps})
		}
	}
	iter.ForEach(readers, func(r *reader) { r.f = p.buildFanout(r.layer, &r.in.Synapses, r.taps) })
	for _, r := range readers {
		p.fanout[r.in.From] = append(p.fanout[r.in.From], r.f)
	}
	p.routes = p.buildRoutes()
	p.usage = new(usageOnce)
	return nil
}

// cuts is how a layer is cut into boxes: along channels, rows and columns (dimensions 0, 1
// and 2), the boundaries (from 0 to the map's size, ascending) and every coordinate's block.
type cuts struct {
	at    [3][]int
	block [3][]int32
}

// newCuts cuts a map of shape s wherever cut(dim, at) says, and at its edges.
func newCuts(s core.Shape, cut func(dim, at int) bool) cuts {
	var c cuts
	for dim, size := range [3]int{s.C, s.H, s.W} {
		c.at[dim] = []int{0}
		c.block[dim] = make([]int32, size)
		for at := 1; at <= size; at++ {
			c.block[dim][at-1] = int32(len(c.at[dim]) - 1)
			if at == size || cut(dim, at) {
				c.at[dim] = append(c.at[dim], at)
			}
		}
	}
	return c
}

// Placed returns a copy of p whose core i sits on slot slots[i] of the board; the copy shares
// p's tables. Slots must be distinct and within the board.
func (p *Program) Placed(slots []int) (*Program, error) {
	if len(slots) != len(p.Cores) {
		return nil, fmt.Errorf("chip: %d slots for %d cores", len(slots), len(p.Cores))
	}
	used := make([]bool, p.Topology.Cores())
	for i, s := range slots {
		if s < 0 || s >= len(used) || used[s] {
			return nil, fmt.Errorf("chip: core %d on slot %d: want a free slot in 0..%d", i, s, len(used)-1)
		}
		used[s] = true
	}
	q := *p
	q.Slots = slices.Clone(slots)
	return &q, nil
}

// Routed returns a copy of p whose packets follow routing r with multicast m; the copy shares
// p's tables.
func (p *Program) Routed(r router.Routing, m router.Multicast) *Program {
	q := *p
	q.Routing, q.Multicast = r, m
	return &q
}

// Tile is the tile of core i.
func (p *Program) Tile(i int) router.Coord { return p.Topology.Place(p.Slots[i]) }

// Chips is the number of chips that hold cores.
func (p *Program) Chips() int {
	chips := map[int]bool{}
	for i := range p.Cores {
		chips[p.Topology.Chip(p.Tile(i))] = true
	}
	return len(chips)
}

// coreAt is the core holding neuron (c, y, x) of layer l.
func (p *Program) coreAt(l, c, y, x int) int32 {
	k := &p.cuts[l]
	nr, nw := len(k.at[1])-1, len(k.at[2])-1
	return int32(p.first[l] + (int(k.block[0][c])*nr+int(k.block[1][y]))*nw + int(k.block[2][x]))
}

// buildFanout computes the destination cores of every (group, position) of a consumer input.
func (p *Program) buildFanout(layer int, s *core.Synapses, tt *core.TapTable) fanout {
	f := fanout{syn: s}
	hw := s.Src.H * s.Src.W
	channels := p.cuts[layer].at[0]
	var dst []int32
	f.offset = append(f.offset, 0)
	for grp := 0; grp < s.Groups; grp++ {
		f0, f1, _ := s.Targets(s.SrcC0 + grp*(s.NumC/s.Groups))
		for pos := 0; pos < hw; pos++ {
			dst = dst[:0]
			for cb := p.cuts[layer].block[0][f0]; channels[cb] < f1; cb++ {
				for _, t := range tt.At(pos) {
					dst = append(dst, p.coreAt(layer, channels[cb], int(t.Y), int(t.X)))
				}
			}
			slices.Sort(dst)
			f.cores = append(f.cores, slices.Compact(dst)...)
			f.offset = append(f.offset, int32(len(f.cores)))
		}
	}
	return f
}

// Destinations returns the cores that a spike of neuron n of layer l must reach, ascending
// and without repeats: a slice of the program's tables (not to be modified) if one input
// reads the layer, else built in *scratch (whose capacity it keeps for the next call).
func (p *Program) Destinations(l, n int, scratch *[]int32) []int32 {
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

// Usage is what one core holds against its architecture's limits, counted as the
// architecture counts them (see Limits).
type Usage struct {
	Neurons      int
	SynapseBytes int // its synapses at the architecture's synapse bits, rounded up to whole bytes
	InputAxons   int // source units (neurons, or positions of source cores) whose spikes reach it
	OutputAxons  int // output-axon slots: AxonSlots per (source unit of its own, destination core)
}

// usageOnce keeps a program's Usage: it depends on the partition only.
type usageOnce struct {
	once sync.Once
	u    []Usage
}

// Usage returns every core's use of its resources (computed once; not to be modified).
func (p *Program) Usage() []Usage {
	p.usage.once.Do(func() { p.usage.u = p.computeUsage() })
	return p.usage.u
}

func (p *Program) computeUsage() []Usage {
	u := make([]Usage, len(p.Cores))
	lim := &p.Arch.Limits
	synapses := p.storedSynapses()
	for i, c := range p.Cores {
		u[i].Neurons = c.Box.Size()
		u[i].SynapseBytes = int((synapses[i]*int64(lim.SynapseBits) + 7) / 8)
	}
	// Axons join source units to destination cores: a unit is a neuron, or with population
	// axons one position of a core (its channels share the axon).
	// A neuron's destinations are its class's (see routes).
	seen := make([]int32, len(p.Cores)) // the unit that last reached each core, +1
	unit := int32(0)
	for ci, c := range p.Cores {
		shape := p.Net.Layers[c.Layer].Shape
		classOf, classes := p.routes.classOf[c.Layer], p.routes.classes[ci]
		nc := c.Box.C1 - c.Box.C0
		for k := 0; k < c.Box.Size(); k++ {
			if !lim.PopulationAxons || k%nc == 0 {
				unit++ // a new neuron, or the first channel of a new position
			}
			if classOf == nil {
				continue // nothing reads the layer
			}
			ch, y, x := c.Box.At(k)
			id := classOf[shape.Index(ch, y, x)]
			if id < 0 {
				continue
			}
			for _, d := range classes[id].dst {
				if seen[d] != unit {
					seen[d] = unit
					u[ci].OutputAxons += lim.AxonSlots
					u[d].InputAxons++
				}
			}
		}
	}
	return u
}

// storedSynapses counts, per core, the synapses its memory holds: with shared synapses each
// kernel weight of its filters once, otherwise every (source neuron, target neuron) pair.
// Max-pool inputs hold no weights.
func (p *Program) storedSynapses() []int64 {
	n := make([]int64, len(p.Cores))
	shared := p.Arch.Limits.SharedSynapses
	for l, layer := range p.Net.Layers {
		for j := range layer.Inputs {
			s := &layer.Inputs[j].Synapses
			if s.IsPool() {
				continue
			}
			perFilter := int64(s.NumC / s.Groups)
			// fanIn[y·W+x]: the taps reaching target position (y, x), if every synapse is stored.
			var fanIn []int64
			if !shared {
				fanIn = make([]int64, s.Dst.H*s.Dst.W)
				tt := p.kernels[l][j].Taps
				for pos := 0; pos < s.Src.H*s.Src.W; pos++ {
					for _, t := range tt.At(pos) {
						fanIn[int(t.Y)*s.Dst.W+int(t.X)]++
					}
				}
			}
			for ci, c := range p.Cores {
				if c.Layer != l {
					continue
				}
				filters := int64(max(0, min(c.Box.C1, s.DstC0+s.DstC)-max(c.Box.C0, s.DstC0)))
				if filters == 0 {
					continue
				}
				if shared {
					n[ci] += filters * perFilter * int64(s.Size*s.Size)
					continue
				}
				for y := c.Box.Y0; y < c.Box.Y1; y++ {
					for x := c.Box.X0; x < c.Box.X1; x++ {
						n[ci] += filters * perFilter * fanIn[y*s.Dst.W+x]
					}
				}
			}
		}
	}
	return n
}

// Limit is one of a core's limits.
type Limit uint8

// The limits of a core, in the order reports list them.
const (
	LimitNeurons Limit = iota
	LimitSynapseMemory
	LimitInputAxons
	LimitOutputAxons
)

// AllLimits lists every Limit.
var AllLimits = []Limit{LimitNeurons, LimitSynapseMemory, LimitInputAxons, LimitOutputAxons}

var limitNames = [...]string{"neurons", "synapse memory", "input axons", "output axons"}

func (k Limit) String() string { return limitNames[k] }

// Of is the value of limit k: neurons, bytes, axons or output-axon slots.
func (l Limits) Of(k Limit) int {
	return [...]int{l.Neurons, l.SynapseBytes, l.InputAxons, l.OutputAxons}[k]
}

// Of is the use of limit k, in Limits.Of's units.
func (u Usage) Of(k Limit) int {
	return [...]int{u.Neurons, u.SynapseBytes, u.InputAxons, u.OutputAxons}[k]
}

// WorstUse is the largest share of a per-core limit that any core uses (above 1: a core
// exceeds it), and which limit that is. Limits of 0 (none) are left out.
func (p *Program) WorstUse() (Limit, float64) {
	worst, share := LimitNeurons, 0.0
	for _, u := range p.Usage() {
		for _, k := range AllLimits {
			if limit := p.Arch.Limits.Of(k); limit > 0 && float64(u.Of(k))/float64(limit) > share {
				worst, share = k, float64(u.Of(k))/float64(limit)
			}
		}
	}
	return worst, share
}

// CheckLimits lists, per limit of the architecture that some cores exceed, how many do and
// the worst; nil if every core fits.
func (p *Program) CheckLimits() []string {
	var out []string
	usage := p.Usage()
	for _, k := range AllLimits {
		limit := p.Arch.Limits.Of(k)
		over, worst, at := 0, 0, 0
		for i, u := range usage {
			if v := u.Of(k); v > limit {
				over++
				if v > worst {
					worst, at = v, i
				}
			}
		}
		if over > 0 {
			out = append(out, fmt.Sprintf("%d of %d cores exceed %d %s (worst: core %d of layer %q, %d)",
				over, len(usage), limit, k, at, p.Net.Layers[p.Cores[at].Layer].Name, worst))
		}
	}
	return out
}
