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
func (s *Stats) Add(o Stats) {
	s.Sent += o.Sent
	s.Delivered += o.Delivered
	s.WithinTile += o.WithinTile
	for d := range s.Hops {
		s.Hops[d] += o.Hops[d]
	}
	s.Crossings += o.Crossings
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
	far     []Coord // tree multicast: the destination tiles outside the source's
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
		sh := &Shard{net: n, rowMark: make([]bool, h), colMark: make([]bool, w)}
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
	n := s.net
	if n.multicast == Tree {
		s.Sent += k
	} else {
		s.Sent += k * int64(len(dst))
	}
	s.Delivered += k * int64(len(dst))
	s.far = s.far[:0]
	for _, d := range dst {
		s.reach(src, d, k)
	}
	if n.multicast == Tree && len(s.far) > 0 {
		s.tree(n.coord[src], k)
	}
}

// reach counts the arrival of k packets from core src at core d: with per-core multicast it
// routes them; with a tree it notes d's tile in s.far for tree (if outside src's tile).
func (s *Shard) reach(src int, d int32, k int64) {
	n := s.net
	a, b := n.coord[src], n.coord[d]
	if a == b {
		s.WithinTile += k
		s.slowest = max(s.slowest, n.latency.WithinTile)
		return
	}
	dx, dy := abs(b.X-a.X), abs(b.Y-a.Y)
	ca, cb := n.chip[src], n.chip[d]
	crossings := abs(cb.X-ca.X) + abs(cb.Y-ca.Y)
	s.MaxHops = max(s.MaxHops, int64(dx+dy))
	s.slowest = max(s.slowest, float64(dx)*n.latency.EastWest+float64(dy)*n.latency.NorthSouth+float64(crossings)*n.latency.ChipCrossing)
	if n.multicast == PerCore {
		s.route(a, b, k)
	} else {
		s.far = append(s.far, b)
	}
}

// route counts k packets' dimension-order path from a to b.
func (s *Shard) route(a, b Coord, k int64) {
	if s.net.routing == XY {
		s.runX(a, b.X, k)
		s.runY(Coord{b.X, a.Y}, b.Y, k)
	} else {
		s.runY(a, b.Y, k)
		s.runX(Coord{a.X, b.Y}, b.X, k)
	}
}

// tree counts the union of the dimension-order paths from a to the tiles in s.far, k times: the
// first dimension's run out to the farthest destination on each side, then, for every line
// of the second dimension that holds destinations, its run out to the farthest of them on
// each side.
func (s *Shard) tree(a Coord, k int64) {
	xy := s.net.routing == XY
	first := func(c Coord) int { return c.X }
	second := func(c Coord) int { return c.Y }
	if !xy {
		first, second = second, first
	}
	lo, hi := first(a), first(a)
	for _, b := range s.far {
		lo, hi = min(lo, first(b)), max(hi, first(b))
	}
	slices.SortFunc(s.far, func(x, y Coord) int {
		if first(x) != first(y) {
			return first(x) - first(y)
		}
		return second(x) - second(y)
	})
	if xy {
		s.runX(a, lo, k)
		s.runX(a, hi, k)
	} else {
		s.runY(a, lo, k)
		s.runY(a, hi, k)
	}
	for i := 0; i < len(s.far); {
		j := i
		for j < len(s.far) && first(s.far[j]) == first(s.far[i]) {
			j++
		}
		near, far := second(s.far[i]), second(s.far[j-1]) // the line's extreme destinations
		if xy {
			corner := Coord{s.far[i].X, a.Y}
			s.runY(corner, min(near, a.Y), k)
			s.runY(corner, max(far, a.Y), k)
		} else {
			corner := Coord{a.X, s.far[i].Y}
			s.runX(corner, min(near, a.X), k)
			s.runX(corner, max(far, a.X), k)
		}
		i = j
	}
}

// runX counts k packets on the links from a along its row to column x.
func (s *Shard) runX(a Coord, x int, k int64) {
	if x == a.X {
		return
	}
	n := s.net
	row := a.Y * (n.width + 1)
	if x > a.X { // east links leave columns a.X .. x-1
		s.Hops[East] += k * int64(x-a.X)
		s.diff[East][row+a.X] += int32(k)
		s.diff[East][row+x] -= int32(k)
	} else { // west links leave columns x+1 .. a.X
		s.Hops[West] += k * int64(a.X-x)
		s.diff[West][row+x+1] += int32(k)
		s.diff[West][row+a.X+1] -= int32(k)
	}
	s.Crossings += k * int64(abs(x/n.topo.TilesX-a.X/n.topo.TilesX))
	if !s.rowMark[a.Y] {
		s.rowMark[a.Y] = true
		s.rows = append(s.rows, a.Y)
	}
}

// runY counts k packets on the links from a along its column to row y.
func (s *Shard) runY(a Coord, y int, k int64) {
	if y == a.Y {
		return
	}
	n := s.net
	col := a.X * (n.height + 1)
	if y > a.Y {
		s.Hops[South] += k * int64(y-a.Y)
		s.diff[South][col+a.Y] += int32(k)
		s.diff[South][col+y] -= int32(k)
	} else {
		s.Hops[North] += k * int64(a.Y-y)
		s.diff[North][col+y+1] += int32(k)
		s.diff[North][col+a.Y+1] -= int32(k)
	}
	s.Crossings += k * int64(abs(y/n.topo.TilesY-a.Y/n.topo.TilesY))
	if !s.colMark[a.X] {
		s.colMark[a.X] = true
		s.cols = append(s.cols, a.X)
	}
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
