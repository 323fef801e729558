package mapper

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"spikeyolo/chip"
)

// Placement is how cores are laid out on the board.
type Placement uint8

const (
	// Order places the cores in layer order, core i on slot i: the baseline.
	Order Placement = iota
	// Traffic places the cores to cut the energy of their expected traffic (see Place).
	Traffic
)

func (p Placement) String() string {
	switch p {
	case Order:
		return "order"
	case Traffic:
		return "traffic"
	}
	return fmt.Sprintf("Placement(%d)", uint8(p))
}

// ParsePlacement reads "order" or "traffic".
func ParsePlacement(s string) (Placement, error) {
	switch s {
	case "order":
		return Order, nil
	case "traffic":
		return Traffic, nil
	}
	return 0, fmt.Errorf("placement %q: want order or traffic", s)
}

// Place chooses the board slot of every core of p (see chip.Program.Placed) given the
// expected traffic between cores (see Flows); it does not change what the cores hold, so it
// never changes a spike. Order gives core i slot i. Traffic minimizes the energy of the
// traffic, Σ rate × cost over the flows, where a packet costs, at the architecture's
// energies, its hops east-west and north-south and its chip crossings, or its delivery
// within its source's tile (an architecture that prices no hops counts them, a crossing as
// TilesX+TilesY hops). On a multi-chip board a crossing costs hundreds of hops, so the cut
// between chips comes first; keeping traffic local also shortens the longest path and
// relieves the busiest link, which set a tick's network time. Traffic uses the chips Order
// uses, and never costs more than Order.
//
// Traffic works in two steps. First a recursive bisection of the board and the network:
// it halves the board's slots, between chips while they span several and then between
// tiles, and cuts the cores in the same proportion where the least traffic crosses (times
// the distance between the halves, and counting the traffic with cores that earlier cuts
// sent elsewhere): it tries cutting along the image's x, along its y, or between layers,
// refines each cut by moving cores across it (Fiduccia-Mattheyses) and keeps the cheapest.
// A region of the image through a run of consecutive layers thus lands on one chip, and
// neighbouring regions and runs on neighbouring chips. Then a local search swaps cores, or
// moves them to free slots, while that lowers the cost. The result depends on nothing but
// its inputs.
//
// The cost counts one packet per destination core (router.PerCore); with router.Tree, whose
// packets share links, it is an upper bound. Rates must be finite and >= 0; a flow naming a
// core outside p panics.
func Place(p *chip.Program, flows []Flow, how Placement) ([]int, error) {
	if how != Order && how != Traffic {
		return nil, fmt.Errorf("mapper: placement %v: want order or traffic", how)
	}
	n := len(p.Cores)
	if how == Order {
		slots := make([]int, n)
		for i := range slots {
			slots[i] = i
		}
		return slots, nil
	}
	for _, f := range flows {
		if f.Src < 0 || int(f.Src) >= n || f.Dst < 0 || int(f.Dst) >= n {
			panic(fmt.Sprintf("mapper: flow %d → %d in a program of %d cores", f.Src, f.Dst, n))
		}
		if !(f.Rate >= 0) || math.IsInf(f.Rate, 1) {
			return nil, fmt.Errorf("mapper: flow %d → %d: rate %v, want a finite rate >= 0", f.Src, f.Dst, f.Rate)
		}
	}
	pl := newPlacer(p, flows)
	pl.bisect()
	pl.improve()
	if cost := pl.total(); cost > 0 {
		// The guarantee: from Order's layout if that is cheaper.
		bisected := slices.Clone(pl.slot)
		pl.layOut(func(i int) int32 { return int32(i) })
		if pl.total() < cost {
			pl.improve()
		} else {
			pl.layOut(func(i int) int32 { return bisected[i] })
		}
	}
	out := make([]int, n)
	for i, s := range pl.slot {
		out[i] = int(s)
	}
	return out, nil
}

// slotGeo is where a slot of the board sits: its tile and its chip, in global coordinates.
type slotGeo struct{ x, y, cx, cy int32 }

// costModel prices one packet between two slots, in units of the dearer hop's energy (so
// that the costs of a placement are numbers near 1, whatever the architecture's units).
type costModel struct {
	geo                      []slotGeo // per slot of the board
	within, ew, ns, crossing float64
}

func newCostModel(p *chip.Program) costModel {
	t := p.Topology
	e := p.Arch.Energy
	m := costModel{geo: make([]slotGeo, t.Cores()), within: e.WithinTile, ew: e.HopEastWest, ns: e.HopNorthSouth, crossing: e.ChipCrossing}
	if m.ew == 0 && m.ns == 0 && m.crossing == 0 {
		m.ew, m.ns, m.crossing = 1, 1, float64(t.TilesX+t.TilesY)
	}
	unit := max(m.ew, m.ns)
	if unit == 0 {
		unit = max(m.crossing, m.within)
	}
	m.within, m.ew, m.ns, m.crossing = m.within/unit, m.ew/unit, m.ns/unit, m.crossing/unit
	for s := range m.geo {
		c := t.Place(s)
		m.geo[s] = slotGeo{int32(c.X), int32(c.Y), int32(c.X / t.TilesX), int32(c.Y / t.TilesY)}
	}
	return m
}

// cost is the energy of one packet between slots a and b (either way).
func (m *costModel) cost(a, b int32) float64 {
	ga, gb := &m.geo[a], &m.geo[b]
	if ga.x == gb.x && ga.y == gb.y {
		return m.within
	}
	return float64(abs32(ga.x-gb.x))*m.ew + float64(abs32(ga.y-gb.y))*m.ns +
		float64(abs32(ga.cx-gb.cx)+abs32(ga.cy-gb.cy))*m.crossing
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

// placer holds a placement under construction: the cores' slots and the traffic between
// them, as an undirected graph whose edge weights are packets per tick.
type placer struct {
	p      *chip.Program
	m      costModel
	n      int
	slot   []int32 // per core: its slot
	occ    []int32 // per slot: its core, or -1
	off    []int32 // per core c: its neighbours adj[off[c]:off[c+1]], with weights wgt
	adj    []int32
	wgt    []float64
	usable []bool // per slot: on one of the chips Order uses
	// bisect's state: per core, the centre of the board region it is assigned to so far (in
	// tiles), its rank in each key's order, its position in the list being cut, its side of
	// the cut and the best one found, and its extra cost on the left; refine's gains, locks,
	// heaps and moves.
	cx, cy         []float64
	rank           [numKeys][]int32
	pos            []int32
	side, bestSide []int8
	ext            []float64
	gain           []float64
	locked         []bool
	heaps          [2]gainHeap
	moves          []int32
}

func newPlacer(p *chip.Program, flows []Flow) *placer {
	n := len(p.Cores)
	pl := &placer{p: p, m: newCostModel(p), n: n, slot: make([]int32, n), occ: make([]int32, p.Topology.Cores()),
		cx: make([]float64, n), cy: make([]float64, n), pos: make([]int32, n), side: make([]int8, n),
		bestSide: make([]int8, n), ext: make([]float64, n)}
	// A packet costs the same both ways: every flow is an edge of both its cores.
	off := make([]int32, n+1)
	for _, f := range flows {
		if f.Rate > 0 && f.Src != f.Dst {
			off[f.Src+1]++
			off[f.Dst+1]++
		}
	}
	for i := 0; i < n; i++ {
		off[i+1] += off[i]
	}
	pl.off, pl.adj, pl.wgt = off, make([]int32, off[n]), make([]float64, off[n])
	fill := slices.Clone(off[:n])
	for _, f := range flows {
		if f.Rate > 0 && f.Src != f.Dst {
			pl.adj[fill[f.Src]], pl.wgt[fill[f.Src]] = f.Dst, f.Rate
			fill[f.Src]++
			pl.adj[fill[f.Dst]], pl.wgt[fill[f.Dst]] = f.Src, f.Rate
			fill[f.Dst]++
		}
	}
	// Order's chips: the first ceil(n / cores per chip) in board order.
	perChip := p.Topology.CoresPerChip()
	chips := (n + perChip - 1) / perChip
	pl.usable = make([]bool, len(pl.occ))
	for s := range pl.usable {
		pl.usable[s] = s/perChip < chips
	}
	return pl
}

// layOut puts core i on slot at(i).
func (pl *placer) layOut(at func(i int) int32) {
	for s := range pl.occ {
		pl.occ[s] = -1
	}
	for i := range pl.slot {
		pl.slot[i] = at(i)
		pl.occ[pl.slot[i]] = int32(i)
	}
}

// total is the cost of the placement: Σ rate × cost over the flows.
func (pl *placer) total() float64 {
	var t float64
	for a := int32(0); a < int32(pl.n); a++ {
		for k := pl.off[a]; k < pl.off[a+1]; k++ {
			if j := pl.adj[k]; j > a {
				t += pl.wgt[k] * pl.m.cost(pl.slot[a], pl.slot[j])
			}
		}
	}
	return t
}

// point is a core as bisect sees it: the centre of its box in its layer's map, scaled to
// [0, 1], and its layer.
type point struct {
	x, y  float64
	layer int
	core  int32
}

// bisect lays the cores out by recursive bisection of the board and the network: it halves
// the slots (see halve) and cuts the cores between the halves (see cut), breadth first, so
// that each cut sees where the earlier ones sent the cores it does not hold; the cores of a
// tile take its slots in core order.
func (pl *placer) bisect() {
	p := pl.p
	pts := make([]point, pl.n)
	for i, c := range p.Cores {
		s := p.Net.Layers[c.Layer].Shape
		pts[i] = point{x: float64(c.Box.X0+c.Box.X1) / float64(2*s.W), y: float64(c.Box.Y0+c.Box.Y1) / float64(2*s.H), layer: c.Layer, core: int32(i)}
	}
	pl.rankPoints(pts)
	var slots []int32
	for s, ok := range pl.usable {
		if ok {
			slots = append(slots, int32(s))
		}
	}
	for s := range pl.occ {
		pl.occ[s] = -1
	}
	cx, cy := pl.centre(slots)
	for i := range pl.cx {
		pl.cx[i], pl.cy[i] = cx, cy
	}
	type task struct {
		pts   []point
		slots []int32
	}
	queue := []task{{pts, slots}}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		if len(t.pts) == 0 {
			continue
		}
		left, right := pl.halve(t.slots)
		if right == nil {
			slices.SortFunc(t.pts, func(a, b point) int { return cmp.Compare(a.core, b.core) })
			for i, pt := range t.pts {
				pl.slot[pt.core] = left[i]
				pl.occ[left[i]] = pt.core
			}
			continue
		}
		nl := pl.cut(t.pts, left, right)
		queue = append(queue, task{t.pts[:nl], left}, task{t.pts[nl:], right})
	}
}

// centre is the mean tile of the slots.
func (pl *placer) centre(slots []int32) (x, y float64) {
	for _, s := range slots {
		x += float64(pl.m.geo[s].x)
		y += float64(pl.m.geo[s].y)
	}
	return x / float64(len(slots)), y / float64(len(slots))
}

// distance is the cost of a packet between two points of the board, in tiles, with a chip
// crossing's cost spread over the tiles of a chip.
func (pl *placer) distance(x0, y0, x1, y1 float64) float64 {
	t := pl.p.Topology
	return math.Abs(x1-x0)*(pl.m.ew+pl.m.crossing/float64(t.TilesX)) + math.Abs(y1-y0)*(pl.m.ns+pl.m.crossing/float64(t.TilesY))
}

// halve sorts the slots and cuts them in two along the axis they span most: between chips
// if they span several, else between tiles. It returns right = nil for the slots of one tile.
func (pl *placer) halve(slots []int32) (left, right []int32) {
	geo := pl.m.geo
	lo, hi := geo[slots[0]], geo[slots[0]]
	for _, s := range slots {
		g := geo[s]
		lo = slotGeo{min(lo.x, g.x), min(lo.y, g.y), min(lo.cx, g.cx), min(lo.cy, g.cy)}
		hi = slotGeo{max(hi.x, g.x), max(hi.y, g.y), max(hi.cx, g.cx), max(hi.cy, g.cy)}
	}
	var key func(s int32) int32
	switch {
	case hi.cx-lo.cx >= hi.cy-lo.cy && hi.cx > lo.cx:
		key = func(s int32) int32 { return geo[s].cx }
	case hi.cy > lo.cy:
		key = func(s int32) int32 { return geo[s].cy }
	case hi.x-lo.x >= hi.y-lo.y && hi.x > lo.x:
		key = func(s int32) int32 { return geo[s].x }
	case hi.y > lo.y:
		key = func(s int32) int32 { return geo[s].y }
	default:
		slices.Sort(slots)
		return slots, nil
	}
	slices.SortFunc(slots, func(a, b int32) int { return cmp.Or(cmp.Compare(key(a), key(b)), cmp.Compare(a, b)) })
	// The cut between units (chips or tiles) that halves the units.
	var units []int // where each unit starts
	for i, s := range slots {
		if i == 0 || key(s) != key(slots[i-1]) {
			units = append(units, i)
		}
	}
	cut := units[len(units)/2]
	return slots[:cut], slots[cut:]
}

// Cut keys: the orders in which a cut first splits the cores.
const (
	keyX     = iota // by the box centre's x in the image, then y, then layer
	keyY            // by y, then x, then layer
	keyLayer        // by layer, then y, then x
	numKeys
)

// rankPoints computes, per key, every core's rank in that order.
func (pl *placer) rankPoints(pts []point) {
	order := slices.Clone(pts)
	for k := range numKeys {
		slices.SortFunc(order, func(a, b point) int {
			var c int
			switch k {
			case keyX:
				c = cmp.Or(cmp.Compare(a.x, b.x), cmp.Compare(a.y, b.y), cmp.Compare(a.layer, b.layer))
			case keyY:
				c = cmp.Or(cmp.Compare(a.y, b.y), cmp.Compare(a.x, b.x), cmp.Compare(a.layer, b.layer))
			default:
				c = cmp.Or(cmp.Compare(a.layer, b.layer), cmp.Compare(a.y, b.y), cmp.Compare(a.x, b.x))
			}
			return cmp.Or(c, cmp.Compare(a.core, b.core))
		})
		pl.rank[k] = make([]int32, pl.n)
		for i, pt := range order {
			pl.rank[k][pt.core] = int32(i)
		}
	}
}

// sortPoints orders the cores by a key.
func (pl *placer) sortPoints(pts []point, key int) {
	r := pl.rank[key]
	slices.SortFunc(pts, func(a, b point) int { return cmp.Compare(r[a.core], r[b.core]) })
}

// cut splits the cores pts between the slots left and right, in proportion to them, where
// the least cost crosses: the traffic between the two sides times the distance between
// their centres, plus that of the traffic with the cores outside pts to wherever earlier
// cuts sent them. It starts from the image's x, its y and the layer order, refines each
// (see refine) and keeps the cheapest. It reorders pts, the left side's first, records the
// sides' centres as their cores' places, and returns the number of cores on the left.
func (pl *placer) cut(pts []point, left, right []int32) int {
	n := len(pts)
	nl := int(math.Round(float64(n) * float64(len(left)) / float64(len(left)+len(right))))
	nl = max(min(nl, len(left)), n-len(right))
	lx, ly := pl.centre(left)
	rx, ry := pl.centre(right)
	dLR := pl.distance(lx, ly, rx, ry)
	side := pl.side
	for _, pt := range pts {
		side[pt.core] = 1
	}
	// ext, by core: what it costs more on the left than on the right, for its traffic with
	// cores outside pts.
	ext := pl.ext
	for _, pt := range pts {
		a := pt.core
		ext[a] = 0
		for e := pl.off[a]; e < pl.off[a+1]; e++ {
			if j := pl.adj[e]; side[j] == 0 {
				ext[a] += pl.wgt[e] * (pl.distance(pl.cx[j], pl.cy[j], lx, ly) - pl.distance(pl.cx[j], pl.cy[j], rx, ry))
			}
		}
	}
	best, bestCost, bestNL := -1, 0.0, nl
	for k := range numKeys {
		pl.sortPoints(pts, k)
		for i, pt := range pts {
			side[pt.core] = 1
			if i >= nl {
				side[pt.core] = 2
			}
		}
		var cost float64
		for _, pt := range pts[:nl] {
			a := pt.core
			cost += ext[a]
			for e := pl.off[a]; e < pl.off[a+1]; e++ {
				if side[pl.adj[e]] == 2 {
					cost += dLR * pl.wgt[e]
				}
			}
		}
		kl, gain := pl.refine(pts, len(left), len(right), dLR)
		cost -= gain
		if best < 0 || cost < bestCost {
			best, bestCost, bestNL = k, cost, kl
			for _, pt := range pts {
				pl.bestSide[pt.core] = side[pt.core]
			}
		}
	}
	pl.sortPoints(pts, best)
	slices.SortStableFunc(pts, func(a, b point) int { return cmp.Compare(pl.bestSide[a.core], pl.bestSide[b.core]) })
	for i, pt := range pts {
		side[pt.core] = 0
		if i < bestNL {
			pl.cx[pt.core], pl.cy[pt.core] = lx, ly
		} else {
			pl.cx[pt.core], pl.cy[pt.core] = rx, ry
		}
	}
	return bestNL
}

// refine improves the cut of the cores pts between side 1 and side 2 (pl.side, set for
// them; 0 for every other core) by passes of Fiduccia and Mattheyses's algorithm: it moves
// one core at a time to the other side, the best gain first and each core once per pass, and
// keeps the moves up to the best point reached with side 1 holding at most capL cores and
// side 2 capR. A core's gain counts its traffic with the other side at distance dLR and its
// traffic with the cores outside pts (pl.ext). It returns the cores on side 1 and the cost
// saved.
func (pl *placer) refine(pts []point, capL, capR int, dLR float64) (int, float64) {
	n := len(pts)
	side, pos := pl.side, pl.pos
	nl := 0
	for i, pt := range pts {
		pos[pt.core] = int32(i)
		if side[pt.core] == 1 {
			nl++
		}
	}
	lo, hi := n-capR, capL // the sizes of side 1 that fit
	const tol = 2          // how far a pass may stray from them: moves nearly alternate sides
	pl.gain, pl.locked = slices.Grow(pl.gain[:0], n)[:n], slices.Grow(pl.locked[:0], n)[:n]
	g, locked := pl.gain, pl.locked
	for i, pt := range pts {
		a := pt.core
		g[i] = pl.ext[a]
		if side[a] == 2 {
			g[i] = -g[i]
		}
		for e := pl.off[a]; e < pl.off[a+1]; e++ {
			switch side[pl.adj[e]] {
			case 0:
			case side[a]:
				g[i] -= dLR * pl.wgt[e]
			default:
				g[i] += dLR * pl.wgt[e]
			}
		}
	}
	// flip moves core i of pts to the other side and updates its neighbours' gains.
	flip := func(i int32, push bool) {
		a := pts[i].core
		to := 3 - side[a]
		side[a] = to
		g[i] = -g[i]
		for e := pl.off[a]; e < pl.off[a+1]; e++ {
			j := pl.adj[e]
			if side[j] == 0 {
				continue
			}
			k := pos[j]
			if side[j] == to {
				g[k] -= 2 * dLR * pl.wgt[e]
			} else {
				g[k] += 2 * dLR * pl.wgt[e]
			}
			if push && !locked[k] {
				pl.heaps[side[j]-1].push(gainEntry{g[k], k})
			}
		}
	}
	var total float64
	for pass := 0; pass < maxRefinePasses; pass++ {
		heaps := &pl.heaps
		heaps[0].e, heaps[1].e = heaps[0].e[:0], heaps[1].e[:0]
		for i, pt := range pts {
			locked[i] = false
			heaps[side[pt.core]-1].push(gainEntry{g[i], int32(i)})
		}
		moves := pl.moves[:0]
		var run, bestRun float64
		bestAt, size := 0, nl
		for {
			// The best unlocked core of each side whose move the sizes allow.
			pick, pickGain := int32(-1), 0.0
			for sd := range heaps {
				if (sd == 0 && size-1 < lo-tol) || (sd == 1 && size+1 > hi+tol) {
					continue
				}
				h := &heaps[sd]
				for h.len() > 0 {
					top := h.peek()
					if locked[top.i] || top.g != g[top.i] || side[pts[top.i].core] != int8(sd+1) {
						h.pop() // stale
						continue
					}
					if pick < 0 || top.g > pickGain || (top.g == pickGain && top.i < pick) {
						pick, pickGain = top.i, top.g
					}
					break
				}
			}
			if pick < 0 {
				break
			}
			if side[pts[pick].core] == 1 {
				size--
			} else {
				size++
			}
			locked[pick] = true
			flip(pick, true)
			run += pickGain
			moves = append(moves, pick)
			if size >= lo && size <= hi && run > bestRun+1e-12*max(1, bestRun) {
				bestRun, bestAt = run, len(moves)
			}
			if len(moves)-bestAt > max(refineStall, n/refineStallShare) {
				break
			}
		}
		for m := len(moves) - 1; m >= bestAt; m-- { // undo the moves past the best point
			if side[pts[moves[m]].core] == 1 {
				size--
			} else {
				size++
			}
			flip(moves[m], false)
		}
		pl.moves = moves
		nl = size
		total += bestRun
		if bestAt == 0 {
			break
		}
	}
	return nl, total
}

// Bounds of refine: its passes, and the moves a pass goes on past its best point, at least
// refineStall and a share 1/refineStallShare of the cores.
const (
	maxRefinePasses  = 4
	refineStall      = 64
	refineStallShare = 8
)

type gainEntry struct {
	g float64
	i int32
}

// gainHeap is a max-heap of gains, ties to the lower index.
type gainHeap struct{ e []gainEntry }

func (h *gainHeap) len() int        { return len(h.e) }
func (h *gainHeap) peek() gainEntry { return h.e[0] }
func (h *gainHeap) less(i, j int) bool {
	a, b := h.e[i], h.e[j]
	return a.g > b.g || (a.g == b.g && a.i < b.i)
}
func (h *gainHeap) push(x gainEntry) {
	h.e = append(h.e, x)
	for i := len(h.e) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.e[i], h.e[p] = h.e[p], h.e[i]
		i = p
	}
}
func (h *gainHeap) pop() {
	last := len(h.e) - 1
	h.e[0] = h.e[last]
	h.e = h.e[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && h.less(l, m) {
			m = l
		}
		if r < last && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h.e[i], h.e[m] = h.e[m], h.e[i]
		i = m
	}
}

// Local search bounds: passes over the cores, the relative gain below which a pass ends the
// search, and how many of a core's heaviest neighbours' tiles it tries.
const (
	maxPasses     = 12
	minPassGain   = 1e-3
	topNeighbours = 4
)

// improve swaps cores, or moves them to free slots, while that lowers the cost: for each core
// in turn it tries every slot of the tile at the weighted median of its neighbours' tiles
// (where its cost would be least if crossings cost nothing) and of the four tiles around it,
// and of its heaviest neighbours' tiles, and takes the best. After the first pass it
// revisits only the cores that moved or whose neighbours did.
func (pl *placer) improve() {
	t := pl.p.Topology
	w, h := int32(t.ChipsX*t.TilesX), int32(t.ChipsY*t.TilesY)
	tileSlots := make([][]int32, w*h) // per tile (y·w + x): its usable slots
	for s, ok := range pl.usable {
		if ok {
			g := pl.m.geo[s]
			tileSlots[g.y*w+g.x] = append(tileSlots[g.y*w+g.x], int32(s))
		}
	}
	dirty := make([]bool, pl.n)
	for i := range dirty {
		dirty[i] = true
	}
	wTo := make([]float64, pl.n) // the weight of the current core's edges to each core
	var xs, ys []weighted
	var tiles []int32
	var top [topNeighbours]int32 // edges of the heaviest neighbours, heaviest first
	cost := pl.total()
	for pass := 0; pass < maxPasses && cost > 0; pass++ {
		gain := 0.0
		for a := int32(0); a < int32(pl.n); a++ {
			lo, hi := pl.off[a], pl.off[a+1]
			if !dirty[a] || lo == hi {
				continue
			}
			dirty[a] = false
			sa := pl.slot[a]
			xs, ys = xs[:0], ys[:0]
			nTop := 0
			for k := lo; k < hi; k++ {
				j := pl.adj[k]
				wTo[j] += pl.wgt[k]
				g := pl.m.geo[pl.slot[j]]
				xs = append(xs, weighted{g.x, pl.wgt[k]})
				ys = append(ys, weighted{g.y, pl.wgt[k]})
				i := nTop
				if nTop < topNeighbours {
					nTop++
				} else if pl.wgt[k] <= pl.wgt[top[nTop-1]] {
					continue
				} else {
					i = nTop - 1
				}
				for ; i > 0 && pl.wgt[k] > pl.wgt[top[i-1]]; i-- {
					top[i] = top[i-1]
				}
				top[i] = k
			}
			mx, my := weightedMedian(xs), weightedMedian(ys)
			tiles = tiles[:0]
			for _, d := range [][2]int32{{0, 0}, {1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				if x, y := mx+d[0], my+d[1]; x >= 0 && x < w && y >= 0 && y < h {
					tiles = append(tiles, y*w+x)
				}
			}
			for _, k := range top[:nTop] {
				g := pl.m.geo[pl.slot[pl.adj[k]]]
				tiles = append(tiles, g.y*w+g.x)
			}
			slices.Sort(tiles)
			tiles = slices.Compact(tiles)
			best, bestSlot := 0.0, int32(-1)
			for _, tile := range tiles {
				slots := tileSlots[tile]
				if len(slots) == 0 {
					continue
				}
				// a's part of the change is the same for every slot of the tile.
				var da float64
				for k := lo; k < hi; k++ {
					sj := pl.slot[pl.adj[k]]
					da += pl.wgt[k] * (pl.m.cost(slots[0], sj) - pl.m.cost(sa, sj))
				}
				for _, s := range slots {
					if s == sa {
						continue
					}
					d := da
					if b := pl.occ[s]; b >= 0 {
						// a and b swap, keeping their distance: take back a's term for b, add b's part.
						d -= wTo[b] * (pl.m.cost(s, s) - pl.m.cost(sa, s))
						for k := pl.off[b]; k < pl.off[b+1]; k++ {
							if j := pl.adj[k]; j != a {
								sj := pl.slot[j]
								d += pl.wgt[k] * (pl.m.cost(sa, sj) - pl.m.cost(s, sj))
							}
						}
					}
					if d < best {
						best, bestSlot = d, s
					}
				}
			}
			for k := lo; k < hi; k++ {
				wTo[pl.adj[k]] = 0
			}
			if bestSlot < 0 || best > -1e-12*cost { // rounding, not a gain
				continue
			}
			b := pl.occ[bestSlot]
			pl.slot[a], pl.occ[bestSlot], pl.occ[sa] = bestSlot, a, b
			gain -= best
			for k := lo; k < hi; k++ {
				dirty[pl.adj[k]] = true
			}
			if b >= 0 {
				pl.slot[b] = sa
				dirty[b] = true
				for k := pl.off[b]; k < pl.off[b+1]; k++ {
					dirty[pl.adj[k]] = true
				}
			}
		}
		cost -= gain
		if gain < minPassGain*cost {
			break
		}
	}
}

// weighted is a value with a weight.
type weighted struct {
	v int32
	w float64
}

// weightedMedian is a weighted median of the values: the smallest v at which the weight at or below
// it reaches half the total.
func weightedMedian(vs []weighted) int32 {
	slices.SortFunc(vs, func(a, b weighted) int { return cmp.Compare(a.v, b.v) })
	var total float64
	for _, v := range vs {
		total += v.w
	}
	var run float64
	for _, v := range vs {
		run += v.w
		if 2*run >= total {
			return v.v
		}
	}
	return vs[len(vs)-1].v
}
