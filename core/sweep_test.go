package core

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSweepLanesFlags: sweepLanesGo sets a neuron's first flag exactly when fireBounds.may
// says so, and its second when its position was touched or it was stamped, on a hand-made
// box of two positions and two channels (one Signed with undo, one IF).
func TestSweepLanesFlags(t *testing.T) {
	signed := Threshold{Pos: 10, Neg: 30, Undo: true, BackPos: 4, BackNeg: 7}
	ifTh := Threshold{Pos: 10}
	lb := newLaneBounds([]fireBounds{boundsOf(Signed, &signed, 1), boundsOf(IF, &ifTh, 1)})
	// Neuron i: position i/2, channel i%2.
	v := []int64{9, 9, -30, -100}
	net := []int64{0, 0, 1, 0}
	drive := []int64{1, 0, 0, 1}
	stamp := []int32{5, 4, 4, 4}
	posMark := []int32{4, 5}
	flags := make([]uint64, 2)
	sweepLanesGo(v, net, drive, stamp, posMark, lb, 2, 5, true, flags)
	// Neuron 0: 9+1 = 10 reaches Pos; 1: 9 < 10; 2: -30 <= -Neg; 3: an IF neuron never fires down.
	if want := []int64{10, 9, -30, -99}; !slices.Equal(v, want) {
		t.Errorf("membranes %v, want %v", v, want)
	}
	// May: neurons 0 and 2. Active: neuron 0 (stamped in 5), 2 and 3 (position 1 touched).
	if flags[0] != 0b0101 || flags[1] != 0b1101 {
		t.Errorf("flags %04b %04b, want 0101 1101", flags[0], flags[1])
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
		words := (n + 63) / 64 * 2
		v1, want := slices.Clone(v), make([]uint64, words)
		sweepLanesGo(v1, net, drive, stamp, posMark, lb, nc, tick, driven, want)
		v2, got := slices.Clone(v), make([]uint64, words)
		for i := range got {
			got[i] = rng.Uint64() // stale bits of an earlier tick must not survive
		}
		sweepLanes(v2, net, drive, stamp, posMark, lb, nc, tick, driven, got)
		if !slices.Equal(v1, v2) || !slices.Equal(want, got) {
			t.Fatalf("trial %d, %d channels x %d positions: membranes equal %v, flags %x, want %x", trial, nc, positions, slices.Equal(v1, v2), got, want)
		}
		for i := range n {
			f := i % nc
			may := want[i/64*2]>>(i%64)&1 == 1
			if may != bs[f].may(v1[i], net[i]) {
				t.Fatalf("trial %d neuron %d: flag says may %v, bounds say %v", trial, i, may, !may)
			}
		}
	}
}
