package mapper

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"spikeyolo/chip"
	"spikeyolo/core"
	"spikeyolo/router"
)

// PartitionOptions say how many cores a partition uses and where it may put them.
type PartitionOptions struct {
	// Cores is the exact number of cores to use; 0 uses every core of the chips that the
	// fewest cores need: static power is paid per chip, so their spare cores cost nothing and
	// take work off the slowest ones. (More chips can be faster still, but they pay static
	// power and chip crossings: on the Loihi preset yolo-lite-voc spends 0.34 J a frame on 20
	// chips and 0.67 J on 63, Yolo-Fastest 0.82 J on 53 and 0.72 J on 64.)
	Cores int
	// GrowBoard lets the board grow by rows of chips when the architecture's is too small;
	// without it, a network that does not fit is an error.
	GrowBoard bool
}

// Partition cuts net into cores of arch under every per-core limit (neurons, synapse memory,
// input and output axons, counted as arch counts them) and balances the expected work: a
// tick lasts as long as its slowest core, so each layer's cores get as many neurons as keep
// their modelled time per tick (synaptic operations and neuron updates from act; nil: every
// neuron alike) close to the slowest. Each layer is cut into equal boxes of channels × rows ×
// columns (see chip.Grid); cores are placed in layer order (see Place to move them).
//
// It fails, naming the binding limit and the layer, when a neuron's fan-in fits no core, when
// opt.Cores is below the fewest cores that fit or cannot be met exactly, and when the board is
// too small without opt.GrowBoard.
func Partition(net *chip.Network, arch *chip.Arch, act *Activity, opt PartitionOptions, r router.Routing, m router.Multicast) (*chip.Program, error) {
	pl, err := newPlanner(net, arch, act)
	if err != nil {
		return nil, err
	}
	board := arch.Topology
	perChip := board.CoresPerChip()
	chipsFor := func(cores int) int { return (cores + perChip - 1) / perChip }
	if opt.Cores < 0 {
		return nil, fmt.Errorf("mapper: %d cores: want a positive number, or 0 for the default", opt.Cores)
	}
	wholeBoard := false // the default, retried on the whole board (see below)
	for round := 0; ; round++ {
		// The fewest cores rise when a round's exact axon counts forbid boxes.
		fewest, binding := pl.fewest()
		if opt.Cores == 0 && !opt.GrowBoard && !wholeBoard && fewest > board.Cores() && round > 0 {
			// Caps learnt from plans of few, full cores can ask for more cores than the board
			// has, where a plan spread over the whole board from the start (smaller boxes,
			// fewer axons each) fits: try that before giving up.
			wholeBoard = true
			pl.resetCaps()
			fewest, binding = pl.fewest()
		}
		want := opt.Cores
		switch {
		case wholeBoard:
			want = board.Cores()
		case want == 0:
			want = chipsFor(fewest) * perChip
			if want > board.Cores() && fewest <= board.Cores() {
				want = board.Cores()
			}
		case want < fewest:
			return nil, fmt.Errorf("mapper: %d cores: the fewest that fit %s's limits are %d on %d chips (%s)",
				want, arch.Name, fewest, chipsFor(fewest), binding)
		}
		if want > chip.MaxCores {
			return nil, fmt.Errorf("mapper: %d cores: a program may have at most %d; the fewest cores that fit %s's limits are %d (%s)",
				want, chip.MaxCores, arch.Name, fewest, binding)
		}
		if want > board.Cores() {
			if !opt.GrowBoard {
				return nil, fmt.Errorf("mapper: %d cores need %d chips of %d, the %s board has %d (%d cores); the fewest cores that fit are %d on %d chips (%s); allow a larger board (--grow-board) to go on",
					want, chipsFor(want), perChip, arch.Name, board.ChipsX*board.ChipsY, board.Cores(), fewest, chipsFor(fewest), binding)
			}
			grown := *arch
			for grown.Topology.Cores() < want {
				grown.Topology.ChipsY++
			}
			arch = &grown
		}
		grids, err := pl.solve(want, opt.Cores > 0)
		if err != nil {
			return nil, err
		}
		p, err := chip.NewProgram(net, arch, grids, r, m)
		if err != nil {
			return nil, err
		}
		over := pl.overLimits(p)
		if len(over) == 0 {
			return p, nil
		}
		if round == maxRounds {
			return nil, fmt.Errorf("mapper: no partition within %s's limits found: %s", arch.Name, strings.Join(over, "; "))
		}
	}
}

// exactTries bounds the time limits, from the fastest feasible up, at which solve looks for a
// plan of exactly the cores wanted.
const exactTries = 64

// maxRounds bounds the rounds in which a partition whose exact axon counts break a limit is
// cut finer.
const maxRounds = 30

// planner chooses each layer's grid from its candidates.
type planner struct {
	net   *chip.Network
	arch  *chip.Arch
	all   [][]candidate // per layer: every cut that fits a core on its own, by cores, time, spread
	cands [][]candidate // per layer: those within the caps, the first of each core count
	// cap and capPositions are, per layer, the largest box allowed, in neurons and in
	// positions: lowered when a program built from the plan breaks an axon limit that only the
	// whole program can count (capBy names it). Population axons are shared by a position's
	// channels, so their counts grow with positions; neuron axons with neurons.
	cap, capPositions []int
	capBy             []chip.Limit
}

// candidate is one way to cut a layer.
type candidate struct {
	grid  chip.Grid
	cores int
	box   int        // neurons of the largest box
	time  float64    // modelled seconds per tick of the largest box (or work units, see newPlanner)
	limit chip.Limit // the limit it uses the largest share of
}

// newPlanner lists every layer's candidate grids within the limits a box can be checked
// against on its own: neurons, synapse memory and input axons (an upper bound for neuron
// axons; population axons are checked on the whole program).
func newPlanner(net *chip.Network, arch *chip.Arch, act *Activity) (*planner, error) {
	n := len(net.Layers)
	pl := &planner{net: net, arch: arch, cap: make([]int, n), capPositions: make([]int, n), capBy: make([]chip.Limit, n)}
	perNeuron := neuronTimes(net, arch, act)
	for i := range net.Layers {
		cs, err := pl.candidates(i, perNeuron[i])
		if err != nil {
			return nil, fmt.Errorf("mapper: layer %d (%s): %w", i, net.Layers[i].Name, err)
		}
		pl.all = append(pl.all, cs)
	}
	pl.resetCaps()
	return pl, nil
}

// resetCaps lifts every layer's caps.
func (pl *planner) resetCaps() {
	for l := range pl.cap {
		pl.cap[l], pl.capPositions[l] = pl.arch.Limits.Neurons, pl.arch.Limits.Neurons
	}
	pl.applyCaps()
}

// applyCaps keeps, per layer, the candidates within its caps, the first (fastest, least
// spread) of each core count.
func (pl *planner) applyCaps() {
	pl.cands = make([][]candidate, len(pl.all))
	for l, all := range pl.all {
		var cs []candidate
		for _, c := range all {
			if c.box > pl.cap[l] || c.grid.Rows*c.grid.Cols > pl.capPositions[l] {
				continue
			}
			if len(cs) == 0 || cs[len(cs)-1].cores != c.cores {
				cs = append(cs, c)
			}
		}
		pl.cands[l] = cs
	}
}

// neuronTimes is, per layer, the modelled time per tick of one of its neurons: its expected
// synaptic operations, updates (a neuron is updated when an event reaches it, or it fires)
// and spikes, at the architecture's latencies. An architecture that gives no latencies (a
// fixed tick) is balanced on work: synaptic operations plus updates.
func neuronTimes(net *chip.Network, arch *chip.Arch, act *Activity) []float64 {
	lat := arch.Latency
	if lat.Synop == 0 && lat.NeuronActive == 0 && lat.NeuronInactive == 0 {
		lat = chip.Costs{Synop: 1, NeuronActive: 1}
	}
	rate := func(l, c int) float64 {
		if act == nil {
			return 0
		}
		return act.Rate(l, c)
	}
	out := make([]float64, len(net.Layers))
	for i, l := range net.Layers {
		var synops, events float64 // per tick, into the whole layer
		for _, in := range l.Inputs {
			s := &in.Synapses
			taps := 0
			var buf []core.Tap
			for y := 0; y < s.Src.H; y++ {
				for x := 0; x < s.Src.W; x++ {
					buf = s.Taps(y, x, buf[:0])
					taps += len(buf)
				}
			}
			var spikes float64
			for c := s.SrcC0; c < s.SrcC0+s.NumC; c++ {
				spikes += rate(in.From, c)
			}
			// A source spike reaches, per tap, the filters of its group.
			synops += spikes * float64(taps) * float64(s.DstC/s.Groups)
			// Events reaching one target neuron: its group's channels, at the taps that land on it.
			events += spikes / float64(s.Groups) * float64(taps) / float64(s.Dst.H*s.Dst.W)
		}
		n := float64(l.Shape.Size())
		var own float64
		for c := 0; c < l.Shape.C; c++ {
			own += rate(i, c)
		}
		own /= float64(l.Shape.C)
		updated := max(1-math.Exp(-events), own)
		out[i] = synops/n*lat.Synop + updated*lat.NeuronActive + (1-updated)*lat.NeuronInactive + own*lat.SpikeOut
	}
	return out
}

// candidates lists the grids of layer i that fit a core on their own, on the Pareto front of
// cores against time, fewest cores first.
func (pl *planner) candidates(i int, perNeuron float64) ([]candidate, error) {
	l := &pl.net.Layers[i]
	s := l.Shape
	lim := pl.arch.Limits
	var all []candidate
	var why string // why the smallest box does not fit, if nothing does
	for _, cb := range ceilings(s.C) {
		for _, rb := range ceilings(s.H) {
			for _, wb := range ceilings(s.W) {
				box := cb * rb * wb
				if box > lim.Neurons {
					continue
				}
				g := chip.Grid{Channels: cb, Rows: rb, Cols: wb}
				binding, broken, fits := pl.fits(i, g)
				if !fits {
					if cb == 1 && rb == 1 && wb == 1 {
						why = broken
					}
					continue
				}
				cores := ((s.C + cb - 1) / cb) * ((s.H + rb - 1) / rb) * ((s.W + wb - 1) / wb)
				all = append(all, candidate{grid: g, cores: cores, box: box, time: float64(box) * perNeuron, limit: binding})
			}
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no core of the architecture can take one neuron: %s", why)
	}
	// Per core count, the fastest box, then the one whose spikes reach the fewest cores (all
	// channels in a box, squarer tiles).
	slices.SortFunc(all, func(a, b candidate) int {
		switch {
		case a.cores != b.cores:
			return a.cores - b.cores
		case a.time != b.time:
			return cmpFloat(a.time, b.time)
		}
		return cmpFloat(spread(a.grid, s), spread(b.grid, s))
	})
	return all, nil
}

// fits checks a box of grid g of layer i against the limits a box can be checked on alone
// (neurons, synapse memory, input axons): ok, and the limit it uses the largest share of; or
// not, and why.
func (pl *planner) fits(i int, g chip.Grid) (limit chip.Limit, why string, ok bool) {
	l := &pl.net.Layers[i]
	lim := pl.arch.Limits
	box := g.Channels * g.Rows * g.Cols
	var weights, axons int64
	var fanIn string
	for _, in := range l.Inputs {
		s := &in.Synapses
		filters := min(g.Channels, s.DstC)
		if !s.IsPool() {
			perFilter := int64(s.NumC / s.Groups * s.Size * s.Size)
			if lim.SharedSynapses {
				weights += int64(filters) * perFilter
			} else {
				weights += int64(box) * perFilter // every synapse of every neuron, at most
			}
		}
		rows, cols := span(g.Rows, s.Stride, s.Size, s.Upsample, s.Src.H), span(g.Cols, s.Stride, s.Size, s.Upsample, s.Src.W)
		units := int64(rows * cols)
		if !lim.PopulationAxons {
			outPer := s.DstC / s.Groups
			groups := (filters + outPer - 1) / outPer
			if filters%outPer != 0 {
				groups++
			}
			units *= int64(min(s.Groups, groups) * (s.NumC / s.Groups))
		}
		axons += units
		if fanIn == "" {
			fanIn = fmt.Sprintf(" (%d source units of layer %d (%s) in its window)", units, in.From, pl.net.Layers[in.From].Name)
		}
	}
	use := chip.Usage{Neurons: box, SynapseBytes: int((weights*int64(lim.SynapseBits) + 7) / 8), InputAxons: int(axons)}
	best := -1.0
	for _, k := range []chip.Limit{chip.LimitNeurons, chip.LimitSynapseMemory, chip.LimitInputAxons} {
		u, have := use.Of(k), lim.Of(k)
		if u > have {
			why = fmt.Sprintf("%s: %d of %d", k, u, have)
			if k == chip.LimitInputAxons {
				why += fanIn
			}
			return k, why, false
		}
		if f := float64(u) / float64(max(have, 1)); f > best {
			best, limit = f, k
		}
	}
	return limit, "", true
}

// span is how many source rows (or columns) a run of n target rows reads through a window of
// the given size and stride over a source of the given length enlarged by upsample: at most.
func span(n, stride, size, upsample, length int) int {
	virtual := (n-1)*stride + size
	if upsample > 1 {
		virtual = (virtual+upsample-1)/upsample + 1
	}
	return min(virtual, length)
}

// fewest is the fewest cores any plan needs, and what binds the layers there.
func (pl *planner) fewest() (int, string) {
	total := 0
	count := map[chip.Limit]int{}
	for l, cs := range pl.cands {
		if len(cs) == 0 {
			continue // solve says which layer cannot be cut
		}
		total += cs[0].cores
		if cs[0].cores != pl.all[l][0].cores {
			count[pl.capBy[l]]++
		} else {
			count[cs[0].limit]++
		}
	}
	var parts []string
	for _, k := range chip.AllLimits {
		if count[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s in %d layers", k, count[k]))
		}
	}
	return total, "binding: " + strings.Join(parts, ", ")
}

// times lists the distinct modelled times of the candidates, ascending.
func (pl *planner) times() []float64 {
	var times []float64
	for _, cs := range pl.cands {
		for _, c := range cs {
			times = append(times, c.time)
		}
	}
	slices.Sort(times)
	return slices.Compact(times)
}

// cheapest picks, per layer, the candidate of the fewest cores within the time limit; nil if
// some layer has none.
func (pl *planner) cheapest(limit float64) (pick []int, total int) {
	pick = make([]int, len(pl.cands))
	for l, cs := range pl.cands {
		k := slices.IndexFunc(cs, func(c candidate) bool { return c.time <= limit })
		if k < 0 {
			return nil, 0
		}
		pick[l] = k
		total += cs[k].cores
	}
	return pick, total
}

// fastest is the index in times of the fastest slowest core that a plan within want cores
// can have, or len(times) if none fits.
func (pl *planner) fastest(want int, times []float64) int {
	return sort.Search(len(times), func(k int) bool {
		pick, total := pl.cheapest(times[k])
		return pick != nil && total <= want
	})
}

// solve picks one candidate per layer: the plan of at most want cores whose slowest core is
// the fastest, using, when it can, exactly want cores (exact: it must).
func (pl *planner) solve(want int, exact bool) ([]chip.Grid, error) {
	allowed := func(l int, c *candidate, limit float64) bool { return c.time <= limit }
	times := pl.times()
	k := pl.fastest(want, times)
	if k == len(times) {
		for l, cs := range pl.cands {
			if len(cs) == 0 {
				return nil, fmt.Errorf("mapper: layer %d (%s): no cut of it fits %s: its cores broke %s even with %d neurons or %d positions each",
					l, pl.net.Layers[l].Name, pl.arch.Name, pl.capBy[l], pl.cap[l]+1, pl.capPositions[l]+1)
			}
		}
		return nil, fmt.Errorf("mapper: the network does not fit %d cores of %s", want, pl.arch.Name)
	}
	// Exactly want cores, at the lowest time limit that allows it (among the next few).
	for last := min(len(times), k+exactTries); k < last; k++ {
		if grids := pl.exactly(want, times[k], allowed); grids != nil {
			return grids, nil
		}
		if !exact {
			pick, _ := pl.cheapest(times[k])
			grids := make([]chip.Grid, len(pick))
			for l, c := range pick {
				grids[l] = pl.cands[l][c].grid
			}
			return grids, nil
		}
	}
	return nil, fmt.Errorf("mapper: no cut of the layers into exactly %d cores of %s (each layer's cores come in the counts its equal boxes give); try a few more or fewer", want, pl.arch.Name)
}

// exactly picks one candidate per layer within the time limit such that the cores add up to
// want, preferring, from the last layer back, the most cores (the fastest boxes); nil if no
// choice adds up.
func (pl *planner) exactly(want int, limit float64, allowed func(int, *candidate, float64) bool) []chip.Grid {
	// reach[l] marks the totals the first l layers can make.
	reach := make([]bitset, len(pl.cands)+1)
	reach[0] = newBitset(want + 1)
	reach[0].set(0)
	for l, cs := range pl.cands {
		reach[l+1] = newBitset(want + 1)
		for k := range cs {
			if allowed(l, &cs[k], limit) {
				reach[l+1].orShifted(reach[l], cs[k].cores)
			}
		}
	}
	if !reach[len(pl.cands)].has(want) {
		return nil
	}
	grids := make([]chip.Grid, len(pl.cands))
	rest := want
	for l := len(pl.cands) - 1; l >= 0; l-- {
		cs := pl.cands[l]
		for k := len(cs) - 1; k >= 0; k-- {
			if c := &cs[k]; allowed(l, c, limit) && c.cores <= rest && reach[l].has(rest-c.cores) {
				grids[l] = c.grid
				rest -= c.cores
				break
			}
		}
	}
	return grids
}

// overLimits counts the exact use of every core of p and, for each layer some of whose cores
// break a limit, forbids from then on its boxes that large, and larger than the share of the
// box the limit allows; it lists what broke.
func (pl *planner) overLimits(p *chip.Program) []string {
	lim := pl.arch.Limits
	var over []string
	broke := map[int]bool{}
	for ci, u := range p.Usage() {
		l := p.Cores[ci].Layer
		for _, k := range chip.AllLimits {
			if use, have := u.Of(k), lim.Of(k); use > have && !broke[l] {
				broke[l] = true
				g := p.Grids[l]
				// Axon counts grow about as a box's units: shrink them in proportion.
				box, positions := g.Channels*g.Rows*g.Cols, g.Rows*g.Cols
				if k != chip.LimitNeurons && k != chip.LimitSynapseMemory && lim.PopulationAxons && positions > 1 {
					pl.capPositions[l] = min(pl.capPositions[l], positions-1, positions*have*9/(use*10))
				} else {
					pl.cap[l] = min(pl.cap[l], box-1, box*have*9/(use*10))
				}
				pl.capBy[l] = k
				over = append(over, fmt.Sprintf("layer %d (%s): core %d uses %d of %d %s", l, p.Net.Layers[l].Name, ci, use, have, k))
			}
		}
	}
	pl.applyCaps()
	return over
}

// bitset is a set of small non-negative integers.
type bitset []uint64

func newBitset(n int) bitset    { return make(bitset, (n+63)/64) }
func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i int) bool { return i >= 0 && i/64 < len(b) && b[i/64]&(1<<(i%64)) != 0 }

// orShifted adds to b every element of a plus k (those that fit).
func (b bitset) orShifted(a bitset, k int) {
	words, bits := k/64, uint(k%64)
	for i := len(b) - 1; i >= words; i-- {
		v := a[i-words] << bits
		if bits > 0 && i-words-1 >= 0 {
			v |= a[i-words-1] >> (64 - bits)
		}
		b[i] |= v
	}
}

// spread is how many cores, relative to one, a spike of a 3×3 neighbourhood reaches through a
// grid: the channel blocks times the halo of a tile.
func spread(g chip.Grid, s core.Shape) float64 {
	blocks := float64((s.C + g.Channels - 1) / g.Channels)
	return blocks * float64((g.Rows+2)*(g.Cols+2)) / float64(g.Rows*g.Cols)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ceilings lists the distinct values of ceil(n/k) for k = 1..n, descending: every box extent
// that cuts n into a different number of blocks.
func ceilings(n int) []int {
	var out []int
	for k := 1; k <= n; {
		v := (n + k - 1) / k
		out = append(out, v)
		// The next k with a smaller ceiling.
		if v == 1 {
			break
		}
		k = (n + v - 2) / (v - 1)
	}
	return out
}
