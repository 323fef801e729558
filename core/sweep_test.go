package core

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSweepLanesFlags: sweepLanesGo fires a neuron whose one spike comes by Fire's first
// case and flags it so, flags the others that may fire (fireBounds.may), and flags as active
// those whose position was touched or that were stamped, on a hand-made box of three
// positions and two channels (one Signed with undo, one IF).
func TestSweepLanesFlags(t *testing.T) {
	signed := Threshold{Pos: 10, Neg: 30, Undo: true, BackPos: 4, BackNeg: 7}
	ifTh := Threshold{Pos: 10}
	lb := newLaneBounds([]fireBounds{boundsOf(Signed, &signed, 2), boundsOf(IF, &ifTh, 2)})
	// Neuron i: position i/2, channel i%2.
	v := []int64{9, 9, -30, -100, 25, 10}
	net := []int64{0, 0, 1, 0, 0, -1}
	drive := []int64{1, 0, 0, 1, 0, 0}
	stamp := []int32{5, 4, 4, 4, 4, 4}
	posMark := []int32{4, 5, 4}
	flags := make([]uint64, 3)
	sweepLanesGo(v, net, drive, stamp, posMark, lb, 2, 5, true, flags)
	// Neuron 0: 9+1 = 10 reaches Pos, fired; 1: 9 < 10; 2: -30 <= -Neg and a spike to take
	// back (Fire decides); 3: an IF neuron never fires down; 4: two spikes (Fire decides); 5:
	// an IF neuron at Pos, whatever its count, fired.
	if want := []int64{0, 9, -30, -99, 25, 0}; !slices.Equal(v, want) {
		t.Errorf("membranes %v, want %v", v, want)
	}
	if want := []int64{1, 0, 1, 0, 0, 0}; !slices.Equal(net, want) {
		t.Errorf("counts %v, want %v", net, want)
	}
	// One: neurons 0 and 5. Other: 2 and 4. Active: 0 (stamped in 5), 2 and 3 (position 1
	// touched).
	if flags[0] != 0b100001 || flags[1] != 0b010100 || flags[2] != 0b001101 {
		t.Errorf("flags %06b %06b %06b, want 100001 010100 001101", flags[0], flags[1], flags[2])
	}
}

// TestLanesTwins: sweepLanes (the vector twin where the CPU has one) computes the same
// membranes and flags as sweepLanesGo, for boxes of 1 to 37 channels (four at a time or not),
// membranes around every bound and at the extremes, counts of both signs, and ticks in
// which positions were touched, neurons stamped and drive added or not.
func TestLanesTwins(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ths := []Threshold{{Pos: 10, Neg: 30}, {Pos: 10, Neg: 30, Undo: true, BackPos: 4, BackNeg: 7},
		{Pos: 7, Neg: 7, Undo: true, BackPos: -3, BackNeg: -40}, {Pos: 1, Neg: 1}, {Pos: math.MaxInt64, Neg: math.MaxInt64, Undo: true}}
	for trial := range 400 {
		nc := []int{4, 8, 12, 16, 32, 1, 3, 5, 37}[trial%9]
		positions := 1 + rng.IntN(40)
		n := nc * positions
		var bs []fireBounds
		for range nc {
			kind := []Kind{Signed, IF}[rng.IntN(2)]
			bs = append(bs, boundsOf(kind, &ths[rng.IntN(len(ths))], 2))
		}
		lb := newLaneBounds(bs)
		v, net, drive, stamp := make([]int64, n), make([]int64, n), make([]int64, n), make([]int32, n)
		for i := range n {
			v[i] = []int64{rng.Int64N(100) - 50, math.MinInt64 + 1, math.MaxInt64 - 1, -7, 7, 4, -4, 10, -30, -31, 9}[rng.IntN(11)]
			if v[i] > math.MinInt64/2 && v[i] < math.MaxInt64/2 {
				drive[i] = rng.Int64N(7) - 3
			}
			net[i] = rng.Int64N(5) - 2
			stamp[i] = int32(rng.IntN(3))
		}
		posMark := make([]int32, positions)
		for p := range posMark {
			posMark[p] = int32(rng.IntN(3))
		}
		tick, driven := int32(rng.IntN(3)), rng.IntN(2) == 0
		words := (n + 63) / 64 * 3
		v1, net1, want := slices.Clone(v), slices.Clone(net), make([]uint64, words)
		sweepLanesGo(v1, net1, drive, stamp, posMark, lb, nc, tick, driven, want)
		v2, net2, got := slices.Clone(v), slices.Clone(net), make([]uint64, words)
		for i := range got {
			got[i] = rng.Uint64() // stale bits of an earlier tick must not survive
		}
		sweepLanes(v2, net2, drive, stamp, posMark, lb, nc, tick, driven, got)
		if !slices.Equal(v1, v2) || !slices.Equal(net1, net2) || !slices.Equal(want, got) {
			t.Fatalf("trial %d, %d channels x %d positions: membranes equal %v, counts equal %v, flags %x, want %x",
				trial, nc, positions, slices.Equal(v1, v2), slices.Equal(net1, net2), got, want)
		}
		for i := range n { // the flags against fast and may, before sweepLanes fired
			f, w, bit := i%nc, i/64*3, uint(i%64)
			before := v[i]
			if driven {
				before += drive[i]
			}
			b := &bs[f]
			first := before >= b.hi && before < b.hi2 && net[i] >= b.minPosCount
			one, other := want[w]>>bit&1 == 1, want[w+1]>>bit&1 == 1
			if k, charge := b.fast(before, net[i]); one != first || one && (k != 1 || charge != b.hi || v1[i] != before-b.hi || net1[i] != net[i]+1) ||
				other != (!one && b.may(before, net[i])) || !one && (v1[i] != before || net1[i] != net[i]) {
				t.Fatalf("trial %d neuron %d: flags one %v other %v; fast says %d, may %v", trial, i, one, other, k, b.may(before, net[i]))
			}
		}
	}
}
