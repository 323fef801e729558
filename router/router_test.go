package router

import (
	"maps"
	"math/rand/v2"
	"testing"
)

var board = Topology{TilesX: 4, TilesY: 2, CoresPerTile: 4, ChipsX: 2, ChipsY: 2}

func TestPlace(t *testing.T) {
	for _, c := range []struct {
		core int
		want Coord
		chip int
	}{
		{0, Coord{0, 0}, 0}, {3, Coord{0, 0}, 0}, {4, Coord{1, 0}, 0}, {15, Coord{3, 0}, 0},
		{16, Coord{0, 1}, 0}, {32, Coord{4, 0}, 1}, {64, Coord{0, 2}, 2}, {127, Coord{7, 3}, 3},
	} {
		if got := board.Place(c.core); got != c.want || board.Chip(got) != c.chip {
			t.Errorf("core %d: tile %v chip %d, want %v chip %d", c.core, got, board.Chip(got), c.want, c.chip)
		}
	}
	if board.Cores() != 128 {
		t.Errorf("%d cores, want 128", board.Cores())
	}
}

// TestSendManyEqualsSends: SendMany(src, dst, k), and SendRoute(Route(src, dst), k), count
// what k Sends from src to dst count, the loads of the tick's links and the slowest path
// included, for either routing and multicast.
func TestSendManyEqualsSends(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 7))
	lat := Latency{EastWest: 1, NorthSouth: 2, WithinTile: 0.5, ChipCrossing: 3}
	for _, r := range []Routing{XY, YX} {
		for _, m := range []Multicast{PerCore, Tree} {
			name := r.String() + "/" + m.String()
			one := NewNetwork(board, nil, r, m, lat, 1)
			batched := NewNetwork(board, nil, r, m, lat, 1)
			routed := NewNetwork(board, nil, r, m, lat, 1)
			for tick := 0; tick < 20; tick++ {
				for i := 0; i < 30; i++ {
					src, k := rng.IntN(board.Cores()), 1+rng.IntN(4)
					var dst []int32
					for d := range board.Cores() {
						if rng.IntN(12) == 0 {
							dst = append(dst, int32(d))
						}
					}
					for range k {
						one.Send(src, dst)
					}
					batched.Shard(0).SendMany(src, dst, int64(k))
					routed.Shard(0).SendRoute(routed.Route(src, dst), int64(k))
				}
				l1, s1 := one.EndTick()
				for _, n := range []*Network{batched, routed} {
					l2, s2 := n.EndTick()
					if l1 != l2 || s1 != s2 || one.Stats != n.Stats {
						t.Fatalf("%s tick %d: max load %d, slowest %g, %+v; one by one %d, %g, %+v", name, tick, l2, s2, n.Stats, l1, s1, one.Stats)
					}
				}
			}
			loads := map[Link]int64{}
			one.LinkLoads(func(l Link, n int64) { loads[l] = n })
			for _, n := range []*Network{batched, routed} {
				got := map[Link]int64{}
				n.LinkLoads(func(l Link, n int64) { got[l] = n })
				if !maps.Equal(got, loads) {
					t.Errorf("%s: link loads %v, one by one %v", name, got, loads)
				}
			}
		}
	}
}

// TestXYHopsAreManhattan: a packet's hops by direction are the coordinate differences, and
// its chip crossings the chip boundaries between them, whatever the routing order.
func TestXYHopsAreManhattan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, r := range []Routing{XY, YX} {
		for i := 0; i < 500; i++ {
			src, dst := rng.IntN(board.Cores()), rng.IntN(board.Cores())
			n := NewNetwork(board, nil, r, PerCore, Latency{}, 1)
			n.Send(src, []int32{int32(dst)})
			n.EndTick()
			a, b := board.Place(src), board.Place(dst)
			want := [4]int64{}
			if b.X > a.X {
				want[East] = int64(b.X - a.X)
			} else {
				want[West] = int64(a.X - b.X)
			}
			if b.Y > a.Y {
				want[South] = int64(b.Y - a.Y)
			} else {
				want[North] = int64(a.Y - b.Y)
			}
			crossings := int64(abs(a.X/4-b.X/4) + abs(a.Y/2-b.Y/2))
			if n.Hops != want || n.Crossings != crossings {
				t.Fatalf("%v %v→%v: hops %v crossings %d, want %v and %d", r, a, b, n.Hops, n.Crossings, want, crossings)
			}
			if (a == b) != (n.WithinTile == 1) {
				t.Fatalf("%v→%v: within-tile count %d", a, b, n.WithinTile)
			}
		}
	}
}

// pathLinks lists the links of the dimension-order path from a to b, step by step.
func pathLinks(a, b Coord, r Routing) []Link {
	var links []Link
	stepX := func() {
		for a.X != b.X {
			if b.X > a.X {
				links = append(links, Link{a, East})
				a.X++
			} else {
				links = append(links, Link{a, West})
				a.X--
			}
		}
	}
	stepY := func() {
		for a.Y != b.Y {
			if b.Y > a.Y {
				links = append(links, Link{a, South})
				a.Y++
			} else {
				links = append(links, Link{a, North})
				a.Y--
			}
		}
	}
	if r == XY {
		stepX()
		stepY()
	} else {
		stepY()
		stepX()
	}
	return links
}

// TestTreeIsUnionOfPaths: the tree's hops, per direction, are those of the set union of the
// destinations' paths, and its link loads are 1 on each of those links.
func TestTreeIsUnionOfPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, r := range []Routing{XY, YX} {
		for i := 0; i < 300; i++ {
			src := rng.IntN(board.Cores())
			var dst []int32
			union := map[Link]bool{}
			for k := rng.IntN(10) + 1; k > 0; k-- {
				d := rng.IntN(board.Cores())
				dst = append(dst, int32(d))
				for _, l := range pathLinks(board.Place(src), board.Place(d), r) {
					union[l] = true
				}
			}
			n := NewNetwork(board, nil, r, Tree, Latency{}, 1)
			n.Send(src, dst)
			n.EndTick()
			var want [4]int64
			for l := range union {
				want[l.Dir]++
			}
			got := map[Link]bool{}
			n.LinkLoads(func(l Link, p int64) {
				got[l] = true
				if p != 1 {
					t.Errorf("link %v carried %d packets", l, p)
				}
			})
			if n.Hops != want || len(got) != len(union) {
				t.Fatalf("%v: tree hops %v on %d links, union of paths %v on %d links", r, n.Hops, len(got), want, len(union))
			}
			for l := range union {
				if !got[l] {
					t.Fatalf("%v: link %v of a path is not in the tree", r, l)
				}
			}
		}
	}
}

// TestTreeNeverMoreHops: a tree multicast carries each link of the union of the paths once,
// never more hops than one packet per destination, and sends one packet instead of many.
func TestTreeNeverMoreHops(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	total := func(h [4]int64) int64 { return h[0] + h[1] + h[2] + h[3] }
	for i := 0; i < 300; i++ {
		src := rng.IntN(board.Cores())
		var dst []int32
		for k := rng.IntN(12) + 1; k > 0; k-- {
			dst = append(dst, int32(rng.IntN(board.Cores())))
		}
		per, tree := NewNetwork(board, nil, XY, PerCore, Latency{}, 1), NewNetwork(board, nil, XY, Tree, Latency{}, 1)
		per.Send(src, dst)
		tree.Send(src, dst)
		per.EndTick()
		tree.EndTick()
		if total(tree.Hops) > total(per.Hops) || tree.Crossings > per.Crossings || tree.Sent != 1 || per.Sent != int64(len(dst)) {
			t.Fatalf("tree hops %v crossings %d sent %d; per-core hops %v crossings %d sent %d", tree.Hops, tree.Crossings, tree.Sent, per.Hops, per.Crossings, per.Sent)
		}
	}
	// Two destinations straight east of each other share the first link: 2 hops by tree, 3 per core.
	per, tree := NewNetwork(board, nil, XY, PerCore, Latency{}, 1), NewNetwork(board, nil, XY, Tree, Latency{}, 1)
	per.Send(0, []int32{4, 8})
	tree.Send(0, []int32{4, 8})
	per.EndTick()
	tree.EndTick()
	if per.Hops[East] != 3 || tree.Hops[East] != 2 {
		t.Errorf("east hops: per-core %d (want 3), tree %d (want 2)", per.Hops[East], tree.Hops[East])
	}
}

func TestLinkLoad(t *testing.T) {
	n := NewNetwork(board, nil, XY, PerCore, Latency{}, 1)
	for i := 0; i < 5; i++ {
		n.Send(0, []int32{8}) // two hops east from tile (0,0)
	}
	n.Send(4, []int32{8}) // one hop east from (1,0): shares the second link
	if got, _ := n.EndTick(); got != 6 {
		t.Errorf("max link load %d, want 6", got)
	}
	if got, _ := n.EndTick(); got != 0 {
		t.Errorf("after a new tick: max load %d, want 0", got)
	}
	var total int64
	n.LinkLoads(func(l Link, packets int64) {
		if l.Dir != East || l.From.Y != 0 {
			t.Errorf("load on %v", l)
		}
		total += packets
	})
	if total != 11 { // 5 packets × 2 links + 1
		t.Errorf("run total %d link crossings, want 11", total)
	}
}

// TestPathLatency: a packet two hops east and one south across a chip boundary takes
// 2·EW + NS + a crossing; the slowest path of the tick is reported and then reset.
func TestPathLatency(t *testing.T) {
	n := NewNetwork(board, nil, XY, PerCore, Latency{EastWest: 1, NorthSouth: 10, WithinTile: 0.5, ChipCrossing: 100}, 1)
	n.Send(8, []int32{16 + 12, 9}) // tile (2,0) to (3,1)... and a core of its own tile
	if _, slow := n.EndTick(); slow != 11 {
		t.Errorf("slowest %v, want 11 (one east hop, one south hop)", slow)
	}
	n.Send(12, []int32{32}) // tile (3,0) to (4,0): one east hop into chip 1
	if _, slow := n.EndTick(); slow != 101 {
		t.Errorf("slowest %v, want 101", slow)
	}
}

// TestShardsMerge: spikes routed through several shards give the counts and loads of the
// same spikes routed through one.
func TestShardsMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	one := NewNetwork(board, nil, XY, PerCore, Latency{EastWest: 1, NorthSouth: 2}, 1)
	three := NewNetwork(board, nil, XY, PerCore, Latency{EastWest: 1, NorthSouth: 2}, 3)
	for tick := 0; tick < 20; tick++ {
		for i := 0; i < 50; i++ {
			src, dst := rng.IntN(board.Cores()), []int32{int32(rng.IntN(board.Cores())), int32(rng.IntN(board.Cores()))}
			one.Send(src, dst)
			three.Shard(i%3).Send(src, dst)
		}
		l1, s1 := one.EndTick()
		l3, s3 := three.EndTick()
		if l1 != l3 || s1 != s3 {
			t.Fatalf("tick %d: one shard max load %d slowest %v, three shards %d %v", tick, l1, s1, l3, s3)
		}
	}
	if one.Stats != three.Stats {
		t.Errorf("stats %+v vs %+v", one.Stats, three.Stats)
	}
	loads := map[Link]int64{}
	one.LinkLoads(func(l Link, p int64) { loads[l] = p })
	three.LinkLoads(func(l Link, p int64) {
		if loads[l] != p {
			t.Errorf("link %v: %d packets with three shards, %d with one", l, p, loads[l])
		}
		delete(loads, l)
	})
	if len(loads) != 0 {
		t.Errorf("%d links loaded with one shard only", len(loads))
	}
}
