// Package router is the network-on-chip: a 2D mesh of tiles, several cores per tile, chips
// joined edge to edge into a larger mesh, and address-event packets routed through it by
// dimension order (XY or YX), sent once per destination core or as a tree that branches in
// the routers. It counts hops per direction, chip crossings, and the load of every link in a
// tick, from which the report prices energy and time.
//
// Coordinates are global tile coordinates: X grows east, Y grows south; chip (cx, cy) holds
// tiles [cx·TilesX, (cx+1)·TilesX) × [cy·TilesY, (cy+1)·TilesY).
package router

import (
	"fmt"
	"slices"
)

// Topology is the shape of a board: ChipsX × ChipsY chips, each a mesh of TilesX × TilesY
// tiles of CoresPerTile cores.
type Topology struct {
	TilesX, TilesY, CoresPerTile int
	ChipsX, ChipsY               int
}

// CoresPerChip is TilesX·TilesY·CoresPerTile.
func (t Topology) CoresPerChip() int { return t.TilesX * t.TilesY * t.CoresPerTile }

// Cores is the number of cores of the board.
func (t Topology) Cores() int { return t.CoresPerChip() * t.ChipsX * t.ChipsY }

// Coord is a tile's global position.
type Coord struct{ X, Y int }

// Place gives the tile of core number c: cores fill a tile, tiles fill a chip row by row,
// chips fill the board row by row.
func (t Topology) Place(c int) Coord {
	chip, inChip := c/t.CoresPerChip(), c%t.CoresPerChip()
	tile := inChip / t.CoresPerTile
	return Coord{X: chip%t.ChipsX*t.TilesX + tile%t.TilesX, Y: chip/t.ChipsX*t.TilesY + tile/t.TilesX}
}

// Chip gives the chip of a tile.
func (t Topology) Chip(c Coord) int { return c.Y/t.TilesY*t.ChipsX + c.X/t.TilesX }

// Direction is the way a link leads.
type Direction uint8

const (
	East Direction = iota
	West
	North
	South
)

var directionNames = [...]string{"east", "west", "north", "south"}

func (d Direction) String() string { return directionNames[d] }

// Routing is the order in which a packet travels the two dimensions.
type Routing uint8

const (
	XY Routing = iota // along X (east-west) first, then Y
	YX                // along Y first, then X
)

func (r Routing) String() string { return [...]string{"xy", "yx"}[r] }

// ParseRouting reads "xy" or "yx".
func ParseRouting(s string) (Routing, error) {
	switch s {
	case "xy":
		return XY, nil
	case "yx":
		return YX, nil
	}
	return 0, fmt.Errorf("routing %q: want xy or yx", s)
}

// Multicast is how a spike reaches several cores.
type Multicast uint8

const (
	// PerCore sends one packet to each destination core (Loihi, SANA-FE).
	PerCore Multicast = iota
	// Tree sends one packet that the routers copy where the paths to the destinations part
	// (SpiNNaker style): each link of the union of the paths carries it once.
	Tree
)

func (m Multicast) String() string { return [...]string{"percore", "tree"}[m] }

// ParseMulticast reads "percore" or "tree".
func ParseMulticast(s string) (Multicast, error) {
	switch s {
	case "percore":
		return PerCore, nil
	case "tree":
		return Tree, nil
	}
	return 0, fmt.Errorf("multicast %q: want percore or tree", s)
}

// Link is the link leaving tile From in direction Dir.
type Link struct {
	From Coord
	Dir  Direction
}

// Latency is the time a packet takes to cross the network, in seconds: per hop by direction,
// to reach a core of its own tile, and on top of a hop, to cross between chips.
type Latency struct {
	EastWest, NorthSouth, WithinTile, ChipCrossing float64
}

// Stats count what the network carried.
type Stats struct {
	Sent       int64    // packets injected by source cores
	Delivered  int64    // packets arriving at destination cores
	WithinTile int64    // deliveries to a core of the source's own tile (no hop)
	Hops       [4]int64 // link traversals by direction
	Crossings  int64    // link traversals between two chips
	MaxHops    int64    // the longest path of any packet, in hops
}

// Add adds o to s.
func (s *Stats) Add(o Stats) { s.AddTimes(o, 1) }

// AddTimes adds k times o's counts to s (MaxHops: the longer of the two).
func (s *Stats) AddTimes(o Stats, k int64) {
	s.Sent += k * o.Sent
	s.Delivered += k * o.Delivered
	s.WithinTile += k * o.WithinTile
	for d := range s.Hops {
		s.Hops[d] += k * o.Hops[d]
	}
	s.Crossings += k * o.Crossings
	s.MaxHops = max(s.MaxHops, o.MaxHops)
}

// Network routes the packets of one tick at a time and counts them. Senders route through
// shards, one per goroutine, which EndTick merges; the counts do not depend on which shard
// routed which packet, nor on the order.
//
// A packet's hops and chip crossings follow from its endpoints; the load of every link comes
// from difference arrays: a straight run of links along a row or column adds +1 at its start
// and -1 past its end, and EndTick sums them up. Routing a packet costs the same however far
// it goes.
type Network struct {
	topo      Topology
	routing   Routing
	multicast Multicast
	latency   Latency
	Stats
	width, height int     // tiles along X and Y
	coord         []Coord // the tile of every core of the board
	chip          []Coord // the chip of every core of the board, by chip column and row
	shards        []*Shard
	line          []int64    // EndTick's scratch: one row or column of summed loads
	total         [4][]int64 // packets per link over the whole run, by Y·width + X
}

// Shard routes the packets of one sender goroutine.
type Shard struct {
	net *Network
	Stats
	// diff[d] holds, per link of direction d, the difference array of this tick's loads:
	// rows of width+1 entries for east and west, columns of height+1 for north and south.
	diff    [4][]int32
	rowMark []bool
	colMark []bool
	rows    []int
	cols    []int
	slowest float64 // the longest path latency of the current tick
	scratch routeBuilder
}

// Route is what one spike from a source core to a set of destination cores counts: its
// packets, hops and crossings, its slowest path, and the link loads it adds, found once
// (Network.Route) and counted for any number of spikes (Shard.SendRoute).
type Route struct {
	Unit    Stats   // one spike's counts; MaxHops is its longest path
	slowest float64 // its longest path latency
	loads   []load  // its link loads, as difference-array entries
	rows    []int32 // the rows of tiles its east-west runs use
	cols    []int32 // the columns of tiles its north-south runs use
}

// load adds n packets at index at of the difference array of direction dir.
type load struct {
	dir Direction
	at  int32
	n   int32
}

// routeBuilder finds a Route: the paths from one source to its destinations.
type routeBuilder struct {
	net *Network
	r   Route
	far []Coord // tree multicast: the destination tiles outside the source's
}

// NewNetwork makes a network for a topology with the given routing, multicast and latencies,
// with the given number of shards (at least 1). Senders and destinations are numbered by
// slots: core i sits on board slot slots[i] (see Topology.Place), or, if slots is nil, core i
// is slot i of the board. Slots must be distinct and within the board.
func NewNetwork(t Topology, slots []int, r Routing, m Multicast, lat Latency, shards int) *Network {
	w, h := t.ChipsX*t.TilesX, t.ChipsY*t.TilesY
	cores := len(slots)
	if slots == nil {
		cores = t.Cores()
	}
	n := &Network{topo: t, routing: r, multicast: m, latency: lat, width: w, height: h,
		coord: make([]Coord, cores), chip: make([]Coord, cores), line: make([]int64, max(w, h))}
	for c := range n.coord {
		slot := c
		if slots != nil {
			slot = slots[c]
		}
		if slot < 0 || slot >= t.Cores() {
			panic(fmt.Sprintf("router: core %d on slot %d of a board of %d", c, slot, t.Cores()))
		}
		n.coord[c] = t.Place(slot)
		n.chip[c] = Coord{n.coord[c].X / t.TilesX, n.coord[c].Y / t.TilesY}
	}
	for d := range n.total {
		n.total[d] = make([]int64, w*h)
	}
	for i := 0; i < max(1, shards); i++ {
		sh := &Shard{net: n, rowMark: make([]bool, h), colMark: make([]bool, w), scratch: routeBuilder{net: n}}
		for d := range sh.diff {
			sh.diff[d] = make([]int32, (w+1)*(h+1))
		}
		n.shards = append(n.shards, sh)
	}
	return n
}

// Shard returns shard i.
func (n *Network) Shard(i int) *Shard { return n.shards[i] }

// Send routes one spike from core src to each of the cores dst through shard 0.
func (n *Network) Send(src int, dst []int32) { n.shards[0].Send(src, dst) }

// Send routes one spike from core src to each of the cores dst and counts its packets.
func (s *Shard) Send(src int, dst []int32) { s.SendMany(src, dst, 1) }

// SendMany routes k >= 1 spikes from core src, each to every one of the cores dst: it counts
// what k Sends count, in one step (the packets, their hops and the links' loads grow k
// times; the longest path is the same).
func (s *Shard) SendMany(src int, dst []int32, k int64) {
	s.scratch.build(src, dst)
	s.SendRoute(&s.scratch.r, k)
}

// Route finds the route of a spike from core src to each of the cores dst, for SendRoute:
// a sender that sends along the same route many times finds it once. Its load entries are
// merged per link and its lines listed once. It may be called from several goroutines.
func (n *Network) Route(src int, dst []int32) *Route {
	b := routeBuilder{net: n}
	b.build(src, dst)
	r := &b.r
	slices.SortFunc(r.loads, func(a, b load) int {
		if a.dir != b.dir {
			return int(a.dir) - int(b.dir)
		}
		return int(a.at - b.at)
	})
	merged := r.loads[:0]
	for _, l := range r.loads {
		if k := len(merged) - 1; k >= 0 && merged[k].dir == l.dir && merged[k].at == l.at {
			merged[k].n += l.n
		} else {
			merged = append(merged, l)
		}
	}
	r.loads = slices.Clip(merged)
	slices.Sort(r.rows)
	slices.Sort(r.cols)
	r.rows, r.cols = slices.Clip(slices.Compact(r.rows)), slices.Clip(slices.Compact(r.cols))
	return r
}

// SendRoute routes k >= 1 spikes along route r (of this shard's network): it counts what
// SendMany from r's source to its destinations counts.
func (s *Shard) SendRoute(r *Route, k int64) {
	s.Stats.AddTimes(r.Unit, k)
	s.slowest = max(s.slowest, r.slowest)
	for _, l := range r.loads {
		s.diff[l.dir][l.at] += l.n * int32(k)
	}
	for _, y := range r.rows {
		if !s.rowMark[y] {
			s.rowMark[y] = true
			s.rows = append(s.rows, int(y))
		}
	}
	for _, x := range r.cols {
		if !s.colMark[x] {
			s.colMark[x] = true
			s.cols = append(s.cols, int(x))
		}
	}
}

// build finds the route of one spike from core src to each of the cores dst into b.r.
func (b *routeBuilder) build(src int, dst []int32) {
	n := b.net
	b.r = Route{loads: b.r.loads[:0], rows: b.r.rows[:0], cols: b.r.cols[:0]}
	b.r.Unit.Sent = int64(len(dst))
	if n.multicast == Tree {
		b.r.Unit.Sent = 1
	}
	b.r.Unit.Delivered = int64(len(dst))
	b.far = b.far[:0]
	for _, d := range dst {
		b.reach(src, d)
	}
	if n.multicast == Tree && len(b.far) > 0 {
		b.tree(n.coord[src])
	}
}

// reach counts the arrival of the packet from core src at core d: with per-core multicast it
// routes it; with a tree it notes d's tile in b.far for tree (if outside src's tile).
func (b *routeBuilder) reach(src int, d int32) {
	n, r := b.net, &b.r
	from, to := n.coord[src], n.coord[d]
	if from == to {
		r.Unit.WithinTile++
		r.slowest = max(r.slowest, n.latency.WithinTile)
		return
	}
	dx, dy := abs(to.X-from.X), abs(to.Y-from.Y)
	ca, cb := n.chip[src], n.chip[d]
	crossings := abs(cb.X-ca.X) + abs(cb.Y-ca.Y)
	r.Unit.MaxHops = max(r.Unit.MaxHops, int64(dx+dy))
	r.slowest = max(r.slowest, float64(dx)*n.latency.EastWest+float64(dy)*n.latency.NorthSouth+float64(crossings)*n.latency.ChipCrossing)
	if n.multicast == PerCore {
		b.route(from, to)
	} else {
		b.far = append(b.far, to)
	}
}

// route counts a packet's dimension-order path from a to c.
func (b *routeBuilder) route(a, c Coord) {
	if b.net.routing == XY {
		b.runX(a, c.X)
		b.runY(Coord{c.X, a.Y}, c.Y)
	} else {
		b.runY(a, c.Y)
		b.runX(Coord{a.X, c.Y}, c.X)
	}
}

// tree counts the union of the dimension-order paths from a to the tiles in b.far: the
// first dimension's run out to the farthest destination on each side, then, for every line
// of the second dimension that holds destinations, its run out to the farthest of them on
// each side.
func (b *routeBuilder) tree(a Coord) {
	xy := b.net.routing == XY
	first := func(c Coord) int { return c.X }
	second := func(c Coord) int { return c.Y }
	if !xy {
		first, second = second, first
	}
	lo, hi := first(a), first(a)
	for _, c := range b.far {
		lo, hi = min(lo, first(c)), max(hi, first(c))
	}
	slices.SortFunc(b.far, func(x, y Coord) int {
		if first(x) != first(y) {
			return first(x) - first(y)
		}
		return second(x) - second(y)
	})
	if xy {
		b.runX(a, lo)
		b.runX(a, hi)
	} else {
		b.runY(a, lo)
		b.runY(a, hi)
	}
	for i := 0; i < len(b.far); {
		j := i
		for j < len(b.far) && first(b.far[j]) == first(b.far[i]) {
			j++
		}
		near, far := second(b.far[i]), second(b.far[j-1]) // the line's extreme destinations
		if xy {
			corner := Coord{b.far[i].X, a.Y}
			b.runY(corner, min(near, a.Y))
			b.runY(corner, max(far, a.Y))
		} else {
			corner := Coord{a.X, b.far[i].Y}
			b.runX(corner, min(near, a.X))
			b.runX(corner, max(far, a.X))
		}
		i = j
	}
}

// runX counts a packet on the links from a along its row to column x.
func (b *routeBuilder) runX(a Coord, x int) {
	if x == a.X {
		return
	}
	n, r := b.net, &b.r
	row := int32(a.Y * (n.width + 1))
	if x > a.X { // east links leave columns a.X .. x-1
		r.Unit.Hops[East] += int64(x - a.X)
		r.loads = append(r.loads, load{East, row + int32(a.X), 1}, load{East, row + int32(x), -1})
	} else { // west links leave columns x+1 .. a.X
		r.Unit.Hops[West] += int64(a.X - x)
		r.loads = append(r.loads, load{West, row + int32(x) + 1, 1}, load{West, row + int32(a.X) + 1, -1})
	}
	r.Unit.Crossings += int64(abs(x/n.topo.TilesX - a.X/n.topo.TilesX))
	r.rows = append(r.rows, int32(a.Y))
}

// runY counts a packet on the links from a along its column to row y.
func (b *routeBuilder) runY(a Coord, y int) {
	if y == a.Y {
		return
	}
	n, r := b.net, &b.r
	col := int32(a.X * (n.height + 1))
	if y > a.Y {
		r.Unit.Hops[South] += int64(y - a.Y)
		r.loads = append(r.loads, load{South, col + int32(a.Y), 1}, load{South, col + int32(y), -1})
	} else {
		r.Unit.Hops[North] += int64(a.Y - y)
		r.loads = append(r.loads, load{North, col + int32(y) + 1, 1}, load{North, col + int32(a.Y) + 1, -1})
	}
	r.Unit.Crossings += int64(abs(y/n.topo.TilesY - a.Y/n.topo.TilesY))
	r.cols = append(r.cols, int32(a.X))
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// EndTick merges the shards' counts of the tick just routed and returns what it took: the
// largest number of packets that crossed one link, and the longest latency of a packet's
// path; then it starts the next tick.
func (n *Network) EndTick() (maxLoad int32, slowest float64) {
	// Sum, over the shards, the loads of every row and column any of them touched.
	sumLine := func(d Direction, start, length int, lines func(sh *Shard) bool) {
		line := n.line[:length]
		clear(line)
		any := false
		for _, sh := range n.shards {
			if !lines(sh) {
				continue
			}
			any = true
			diff := sh.diff[d][start : start+length+1]
			var load int32
			for i := 0; i < length; i++ {
				load += diff[i]
				diff[i] = 0
				line[i] += int64(load)
			}
			diff[length] = 0
		}
		if !any {
			return
		}
		for i, v := range line {
			maxLoad = max(maxLoad, int32(v))
			if d == East || d == West {
				n.total[d][start/(n.width+1)*n.width+i] += v
			} else {
				n.total[d][i*n.width+start/(n.height+1)] += v
			}
		}
	}
	for y := 0; y < n.height; y++ {
		touched := func(sh *Shard) bool { return sh.rowMark[y] }
		if !slices.ContainsFunc(n.shards, touched) {
			continue
		}
		sumLine(East, y*(n.width+1), n.width, touched)
		sumLine(West, y*(n.width+1), n.width, touched)
	}
	for x := 0; x < n.width; x++ {
		touched := func(sh *Shard) bool { return sh.colMark[x] }
		if !slices.ContainsFunc(n.shards, touched) {
			continue
		}
		sumLine(North, x*(n.height+1), n.height, touched)
		sumLine(South, x*(n.height+1), n.height, touched)
	}
	for _, sh := range n.shards {
		for _, y := range sh.rows {
			sh.rowMark[y] = false
		}
		for _, x := range sh.cols {
			sh.colMark[x] = false
		}
		sh.rows, sh.cols = sh.rows[:0], sh.cols[:0]
		slowest = max(slowest, sh.slowest)
		sh.slowest = 0
		n.Stats.Add(sh.Stats)
		sh.Stats = Stats{}
	}
	return maxLoad, slowest
}

// LinkLoads calls fn for every link that carried packets in the ticks ended so far, with
// their number.
func (n *Network) LinkLoads(fn func(l Link, packets int64)) {
	for d := range n.total {
		for i, v := range n.total[d] {
			if v > 0 {
				fn(Link{From: Coord{X: i % n.width, Y: i / n.width}, Dir: Direction(d)}, v)
			}
		}
	}
}
