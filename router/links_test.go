package router

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// This file checks the network's link accounting against an oracle that walks every packet's
// dimension-order path one link at a time (pathLinks, in router_test.go) and never calls the
// network's own run or tree code.

// linkEnd is the tile that link l leads to.
func linkEnd(l Link) Coord {
	to := l.From
	switch l.Dir {
	case East:
		to.X++
	case West:
		to.X--
	case North:
		to.Y--
	case South:
		to.Y++
	}
	return to
}

// crossesChips reports whether the two ends of link l lie on different chips of t.
func crossesChips(t Topology, l Link) bool {
	chip := func(c Coord) Coord { return Coord{c.X / t.TilesX, c.Y / t.TilesY} }
	return chip(l.From) != chip(linkEnd(l))
}

// linkOracle counts, from enumerated paths, what a Network must report.
type linkOracle struct {
	topo    Topology
	routing Routing
	mcast   Multicast
	lat     Latency
	stats   Stats          // over the ticks ended so far, plus the current one
	tick    map[Link]int64 // the current tick's loads
	total   map[Link]int64 // the loads of the ticks ended so far
	slowest float64        // the current tick's slowest path
}

func newLinkOracle(t Topology, r Routing, m Multicast, lat Latency) *linkOracle {
	return &linkOracle{topo: t, routing: r, mcast: m, lat: lat, tick: map[Link]int64{}, total: map[Link]int64{}}
}

// latency is the time a packet takes along path: each link's hop by its direction, and a
// chip crossing on top for each link between two chips.
func (o *linkOracle) latency(path []Link) float64 {
	var s float64
	for _, l := range path {
		if l.Dir == East || l.Dir == West {
			s += o.lat.EastWest
		} else {
			s += o.lat.NorthSouth
		}
		if crossesChips(o.topo, l) {
			s += o.lat.ChipCrossing
		}
	}
	return s
}

// carry puts one packet on link l.
func (o *linkOracle) carry(l Link) {
	o.tick[l]++
	o.stats.Hops[l.Dir]++
	if crossesChips(o.topo, l) {
		o.stats.Crossings++
	}
}

// send accounts for one spike of core src to the cores dst: per core, every link of every
// destination's path carries a packet; by tree, every link of the union of the paths carries
// one.
func (o *linkOracle) send(src int, dst []int32) {
	a := o.topo.Place(src)
	if o.mcast == Tree {
		o.stats.Sent++
	} else {
		o.stats.Sent += int64(len(dst))
	}
	union := map[Link]bool{}
	for _, d := range dst {
		o.stats.Delivered++
		b := o.topo.Place(int(d))
		if a == b {
			o.stats.WithinTile++
			o.slowest = max(o.slowest, o.lat.WithinTile)
			continue
		}
		path := pathLinks(a, b, o.routing)
		o.stats.MaxHops = max(o.stats.MaxHops, int64(len(path)))
		o.slowest = max(o.slowest, o.latency(path))
		for _, l := range path {
			if o.mcast == PerCore {
				o.carry(l)
			} else {
				union[l] = true
			}
		}
	}
	for l := range union {
		o.carry(l)
	}
}

// endTick returns the current tick's largest link load and slowest path, and starts the next.
func (o *linkOracle) endTick() (maxLoad int32, slowest float64) {
	for l, v := range o.tick {
		maxLoad = max(maxLoad, int32(v))
		o.total[l] += v
	}
	clear(o.tick)
	slowest, o.slowest = o.slowest, 0
	return maxLoad, slowest
}

// loads collects n's LinkLoads.
func loads(n *Network) map[Link]int64 {
	m := map[Link]int64{}
	n.LinkLoads(func(l Link, p int64) {
		if _, dup := m[l]; dup {
			panic(fmt.Sprintf("LinkLoads reported link %v twice", l))
		}
		m[l] = p
	})
	return m
}

// spike is one Send: a source core, its destination cores, and the shard that routes it.
type spike struct {
	src   int
	dst   []int32
	shard int
}

// randomTraffic makes ticks of spikes on topology t: each from a random core to one to five
// cores, a quarter of them in the source's own tile, spread over the shards.
func randomTraffic(rng *rand.Rand, t Topology, ticks, perTick, shards int) [][]spike {
	traffic := make([][]spike, ticks)
	for k := range traffic {
		for range perTick {
			src := rng.IntN(t.Cores())
			var dst []int32
			for range 1 + rng.IntN(5) {
				d := rng.IntN(t.Cores())
				if rng.IntN(4) == 0 {
					d = src - src%t.CoresPerTile + rng.IntN(t.CoresPerTile)
				}
				dst = append(dst, int32(d))
			}
			traffic[k] = append(traffic[k], spike{src, dst, rng.IntN(shards)})
		}
	}
	return traffic
}

// testTopologies are boards of several chips whose tiles per chip differ along X and Y, so
// that a chip boundary counted along the wrong dimension shows.
var testTopologies = []struct {
	name string
	topo Topology
}{
	{"2x2 chips of 4x2 tiles", board},
	{"3x2 chips of 2x3 tiles", Topology{TilesX: 2, TilesY: 3, CoresPerTile: 2, ChipsX: 3, ChipsY: 2}},
}

// testLatency has distinct integer latencies (sums of them are exact in float64), a
// within-tile delivery slower than a single hop east-west but faster than one north-south.
var testLatency = Latency{EastWest: 1, NorthSouth: 3, WithinTile: 2, ChipCrossing: 20}

// TestPathOracleByHand pins the oracle itself on hand-listed paths: XY goes along the row
// first, YX along the column first, so the two use different links once a packet moves in
// both dimensions; a link is a chip crossing when its ends are on different chips.
func TestPathOracleByHand(t *testing.T) {
	a, b := Coord{3, 1}, Coord{5, 0} // on board: chip 0 to chip 1, two east, one north
	for _, c := range []struct {
		r    Routing
		want []Link
	}{
		{XY, []Link{{Coord{3, 1}, East}, {Coord{4, 1}, East}, {Coord{5, 1}, North}}},
		{YX, []Link{{Coord{3, 1}, North}, {Coord{3, 0}, East}, {Coord{4, 0}, East}}},
	} {
		t.Run(c.r.String(), func(t *testing.T) {
			got := pathLinks(a, b, c.r)
			if !slices.Equal(got, c.want) {
				t.Fatalf("path %v→%v: %v, want %v", a, b, got, c.want)
			}
			var crossing []bool
			for _, l := range got {
				crossing = append(crossing, crossesChips(board, l))
			}
			if want := []bool{c.r == XY, c.r == YX, false}; !slices.Equal(crossing, want) {
				t.Errorf("crossings %v, want %v (only the link from column 3 to 4)", crossing, want)
			}
		})
	}
	if !crossesChips(board, Link{Coord{2, 1}, South}) || crossesChips(board, Link{Coord{2, 0}, South}) {
		t.Errorf("on board, row 1 to 2 is a chip boundary and row 0 to 1 is not")
	}
}

// TestLinksMatchPaths: over several ticks of random spikes routed through several shards, on
// multi-chip boards, for XY and YX and both multicast modes, the network reports what walking
// every packet's path link by link gives: per tick, the largest load of one link (summed over
// the shards) and the slowest path latency (its links' hops plus chip crossings, or the
// within-tile latency); over the run, every link's load, the hops per direction, the chip
// crossings, and the sent, delivered and within-tile counts and the longest path. Per core,
// each path's links carry one packet each; by tree, each link of the union of a spike's paths
// carries one. The same spikes give different link loads under XY and YX, so routing by the
// wrong order fails.
func TestLinksMatchPaths(t *testing.T) {
	const shards, ticks, perTick = 3, 6, 40
	for ti, tt := range testTopologies {
		traffic := randomTraffic(rand.New(rand.NewPCG(10, uint64(ti))), tt.topo, ticks, perTick, shards)
		for _, m := range []Multicast{PerCore, Tree} {
			final := map[Routing]map[Link]int64{}
			for _, r := range []Routing{XY, YX} {
				t.Run(fmt.Sprintf("%s/%v/%v", tt.name, r, m), func(t *testing.T) {
					n := NewNetwork(tt.topo, nil, r, m, testLatency, shards)
					o := newLinkOracle(tt.topo, r, m, testLatency)
					for k, spikes := range traffic {
						for _, s := range spikes {
							n.Shard(s.shard).Send(s.src, s.dst)
							o.send(s.src, s.dst)
						}
						gotLoad, gotSlow := n.EndTick()
						wantLoad, wantSlow := o.endTick()
						if gotLoad != wantLoad || gotSlow != wantSlow {
							t.Errorf("tick %d: max link load %d, slowest path %v; paths give %d and %v", k, gotLoad, gotSlow, wantLoad, wantSlow)
						}
						if n.Stats != o.stats {
							t.Errorf("after tick %d: stats\n %+v\npaths give\n %+v", k, n.Stats, o.stats)
						}
						if got := loads(n); !maps.Equal(got, o.total) {
							t.Fatalf("after tick %d: link loads differ from the paths':\n%s", k, diffLoads(got, o.total))
						}
					}
					final[r] = o.total
				})
			}
			if maps.Equal(final[XY], final[YX]) {
				t.Errorf("%s/%v: XY and YX paths load the same links: the traffic cannot tell the routings apart", tt.name, m)
			}
		}
	}
}

// diffLoads lists the links whose loads differ, at most ten.
func diffLoads(got, want map[Link]int64) string {
	var s string
	links := slices.Collect(maps.Keys(want))
	for l := range got {
		if _, ok := want[l]; !ok {
			links = append(links, l)
		}
	}
	slices.SortFunc(links, func(a, b Link) int {
		if a.From.Y != b.From.Y {
			return a.From.Y - b.From.Y
		}
		if a.From.X != b.From.X {
			return a.From.X - b.From.X
		}
		return int(a.Dir) - int(b.Dir)
	})
	shown := 0
	for _, l := range links {
		if got[l] != want[l] && shown < 10 {
			s += fmt.Sprintf("  %v %v: %d, want %d\n", l.From, l.Dir, got[l], want[l])
			shown++
		}
	}
	return s
}

// TestRoutingChangesLinks: for each random packet whose source and destination differ in
// both X and Y, the network's XY and YX link loads are those of the XY and YX paths, and
// the two differ (XY leaves along the row, YX along the column).
func TestRoutingChangesLinks(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	differ := 0
	for range 200 {
		src, dst := rng.IntN(board.Cores()), rng.IntN(board.Cores())
		a, b := board.Place(src), board.Place(dst)
		if a.X == b.X || a.Y == b.Y {
			continue
		}
		got := map[Routing]map[Link]int64{}
		for _, r := range []Routing{XY, YX} {
			n := NewNetwork(board, nil, r, PerCore, Latency{}, 1)
			n.Send(src, []int32{int32(dst)})
			n.EndTick()
			got[r] = loads(n)
			want := map[Link]int64{}
			for _, l := range pathLinks(a, b, r) {
				want[l]++
			}
			if !maps.Equal(got[r], want) {
				t.Fatalf("%v %v→%v: links\n%s", r, a, b, diffLoads(got[r], want))
			}
		}
		if maps.Equal(got[XY], got[YX]) {
			t.Fatalf("%v→%v: XY and YX use the same links %v", a, b, got[XY])
		}
		differ++
	}
	if differ < 50 {
		t.Fatalf("only %d packets moved in both dimensions", differ)
	}
}

// TestWithinTileUsesNoLinks: a tick whose spikes all go to cores of their source's own tile,
// through several shards, loads no link, takes no hop and crosses no chip; its slowest path is
// the within-tile latency, and a following empty tick reports nothing.
func TestWithinTileUsesNoLinks(t *testing.T) {
	for _, tt := range testTopologies {
		for _, m := range []Multicast{PerCore, Tree} {
			t.Run(fmt.Sprintf("%s/%v", tt.name, m), func(t *testing.T) {
				topo := tt.topo
				n := NewNetwork(topo, nil, XY, m, testLatency, 2)
				var deliveries int64
				for src := 0; src < topo.Cores(); src++ {
					base := src - src%topo.CoresPerTile
					var dst []int32
					for c := base; c < base+topo.CoresPerTile; c++ {
						dst = append(dst, int32(c))
					}
					n.Shard(src%2).Send(src, dst)
					deliveries += int64(len(dst))
				}
				load, slow := n.EndTick()
				if load != 0 || slow != testLatency.WithinTile {
					t.Errorf("max load %d, slowest %v; want 0 and %v", load, slow, testLatency.WithinTile)
				}
				if n.Hops != [4]int64{} || n.Crossings != 0 || n.MaxHops != 0 || n.WithinTile != deliveries || n.Delivered != deliveries {
					t.Errorf("stats %+v: want no hops or crossings, %d within-tile deliveries", n.Stats, deliveries)
				}
				if l := loads(n); len(l) != 0 {
					t.Errorf("loaded links %v", l)
				}
				if load, slow := n.EndTick(); load != 0 || slow != 0 {
					t.Errorf("empty tick: max load %d, slowest %v; want 0 and 0", load, slow)
				}
			})
		}
	}
}
