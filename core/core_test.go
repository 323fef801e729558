package core

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveConv computes, for a source map holding the single value n at (c, y, x), the targets'
// weighted sums by the definition: enlarge the read channels by upsample, then correlate with
// the kernel of each target channel's group.
func naiveConv(s *Synapses, c, y, x int, n int64) []int64 {
	u := s.Upsample
	hv, wv := s.Src.H*u, s.Src.W*u
	in := make([]int64, s.NumC*hv*wv) // the virtual input map
	if s.Reads(c) {
		for i := 0; i < u; i++ {
			for j := 0; j < u; j++ {
				in[((c-s.SrcC0)*hv+y*u+i)*wv+x*u+j] = n
			}
		}
	}
	out := make([]int64, s.Dst.Size())
	inPer, outPer := s.NumC/s.Groups, s.DstC/s.Groups
	for f := 0; f < s.DstC; f++ {
		g := f / outPer
		for ty := 0; ty < s.Dst.H; ty++ {
			for tx := 0; tx < s.Dst.W; tx++ {
				var sum int64
				for ci := 0; ci < inPer; ci++ {
					for ky := 0; ky < s.Size; ky++ {
						for kx := 0; kx < s.Size; kx++ {
							vy, vx := ty*s.Stride-s.Offset+ky, tx*s.Stride-s.Offset+kx
							if vy < 0 || vy >= hv || vx < 0 || vx >= wv {
								continue
							}
							w := int64(s.Weights[((f*inPer+ci)*s.Size+ky)*s.Size+kx])
							sum += w * in[((g*inPer+ci)*hv+vy)*wv+vx]
						}
					}
				}
				out[s.Dst.Index(s.DstC0+f, ty, tx)] = sum
			}
		}
	}
	return out
}

// TestDeliverEqualsConvolution: the fan-out of every source neuron equals the convolution of
// a map that holds only that neuron's spike, for strides, padding, groups, upsampling and
// channel offsets, and for any box of the targets a core may hold.
func TestDeliverEqualsConvolution(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []Synapses{
		{Src: Shape{3, 5, 6}, NumC: 3, Upsample: 1, Dst: Shape{4, 5, 6}, DstC: 4, Size: 3, Stride: 1, Offset: 1, Groups: 1},
		{Src: Shape{3, 7, 7}, NumC: 3, Upsample: 1, Dst: Shape{2, 4, 4}, DstC: 2, Size: 3, Stride: 2, Offset: 1, Groups: 1},
		{Src: Shape{4, 4, 4}, NumC: 4, Upsample: 1, Dst: Shape{4, 4, 4}, DstC: 4, Size: 3, Stride: 1, Offset: 1, Groups: 4},
		{Src: Shape{4, 3, 3}, NumC: 2, SrcC0: 1, Upsample: 2, Dst: Shape{6, 6, 6}, DstC0: 2, DstC: 3, Size: 5, Stride: 1, Offset: 2, Groups: 1},
		{Src: Shape{6, 4, 5}, NumC: 4, SrcC0: 2, Upsample: 1, Dst: Shape{4, 4, 5}, DstC: 4, Size: 1, Stride: 1, Groups: 2},
		// Single kernels (each source channel reaches one target channel): depthwise with
		// strides 2 and 3, a channel offset, and one filter seeing every channel.
		{Src: Shape{3, 9, 8}, NumC: 3, Upsample: 1, Dst: Shape{3, 5, 4}, DstC: 3, Size: 3, Stride: 2, Offset: 1, Groups: 3},
		{Src: Shape{5, 9, 10}, NumC: 4, SrcC0: 1, Upsample: 1, Dst: Shape{6, 3, 4}, DstC0: 2, DstC: 4, Size: 5, Stride: 3, Offset: 2, Groups: 4},
		{Src: Shape{2, 6, 6}, NumC: 2, Upsample: 1, Dst: Shape{1, 6, 6}, DstC: 1, Size: 3, Stride: 1, Offset: 1, Groups: 1},
	}
	for ci, s := range cases {
		s.Weights = make([]int32, s.DstC*(s.NumC/s.Groups)*s.Size*s.Size)
		for i := range s.Weights {
			s.Weights[i] = int32(rng.IntN(255) - 127)
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("case %d: %v", ci, err)
		}
		kernel := NewKernel(&s)
		table := NewTapTable(&s) // both engines look taps up here: it must hold Taps' own
		for y := 0; y < s.Src.H; y++ {
			for x := 0; x < s.Src.W; x++ {
				if got, want := table.At(y*s.Src.W+x), s.Taps(y, x, nil); !slices.Equal(got, want) {
					t.Fatalf("case %d, source (%d,%d): tap table %v, Taps %v", ci, y, x, got, want)
				}
			}
		}
		for c := 0; c < s.Src.C; c++ {
			for y := 0; y < s.Src.H; y++ {
				for x := 0; x < s.Src.W; x++ {
					want := naiveConv(&s, c, y, x, -3)
					if !s.Reads(c) {
						continue
					}
					taps := s.Taps(y, x, nil)
					// The whole map, CHW, as the reference engine delivers.
					all := make([]int64, s.Dst.Size())
					if ops := s.Deliver(c, taps, -3, all); !slices.Equal(all, want) || ops != int64(countTargets(&s, c, taps, Whole(s.Dst))) {
						t.Fatalf("case %d, spike at (%d,%d,%d): whole-map delivery differs (%d operations)", ci, c, y, x, ops)
					}
					// Boxes, as cores deliver through a kernel: the whole map, then random boxes.
					for trial := range 5 {
						b := Whole(s.Dst)
						if trial > 0 {
							c0, y0, x0 := rng.IntN(s.Dst.C), rng.IntN(s.Dst.H), rng.IntN(s.Dst.W)
							b = Box{c0, c0 + 1 + rng.IntN(s.Dst.C-c0), y0, y0 + 1 + rng.IntN(s.Dst.H-y0), x0, x0 + 1 + rng.IntN(s.Dst.W-x0)}
						}
						v := make([]int64, b.Size())
						ops := kernel.Deliver(c, taps, -3, v, b)
						for i := range v {
							bc, by, bx := b.At(i)
							if w := want[s.Dst.Index(bc, by, bx)]; v[i] != w {
								t.Fatalf("case %d, spike at (%d,%d,%d), box %+v: target (%d,%d,%d) got %d, want %d", ci, c, y, x, b, bc, by, bx, v[i], w)
							}
						}
						if want := countTargets(&s, c, taps, b); ops != int64(want) {
							t.Fatalf("case %d: %d operations, want %d", ci, ops, want)
						}
						// A core holding the box, sparse or dense, receiving the spike as a packet.
						core := NewCore(&Neurons{Shape: s.Dst, Kind: Signed, Threshold: slices.Repeat([]Threshold{{Pos: 1 << 40, Neg: 1 << 40}}, s.Dst.C),
							Bias: make([]int64, s.Dst.C), V0: make([]int64, s.Dst.C), MaxSpikes: 1}, b, []Input{{From: 0, K: kernel}}, DefaultSweep)
						core.Reset(nil, 10, nil)
						if rng.IntN(2) == 0 {
							core.toDense()
						}
						core.Begin(0)
						core.Receive(0, []Spike{{int32(s.Src.Index(c, y, x)), -3}})
						for i, got := range core.Membranes(1) {
							bc, by, bx := b.At(i)
							if w := want[s.Dst.Index(bc, by, bx)]; got != w {
								t.Fatalf("case %d, spike at (%d,%d,%d), core of box %+v (dense %v): target (%d,%d,%d) got %d, want %d", ci, c, y, x, b, core.dense, bc, by, bx, got, w)
							}
						}
						if want := 3 * countTargets(&s, c, taps, b); core.Synops != int64(want) {
							t.Fatalf("case %d, core of box %+v: %d synaptic operations, want %d", ci, b, core.Synops, want)
						}
						if !core.dense { // its candidates are the targets reached, each once
							core.collect()
							if got, want := slices.Sorted(slices.Values(core.cands)), targetsIn(&s, c, taps, b); !slices.Equal(got, want) {
								t.Fatalf("case %d, spike at (%d,%d,%d), core of box %+v: candidates %v, want %v", ci, c, y, x, b, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// Whole is the box of a whole map of shape s.
func Whole(s Shape) Box { return Box{0, s.C, 0, s.H, 0, s.W} }

// countTargets counts, by brute force, the targets of channel c's taps inside box b: one
// synaptic operation each.
func countTargets(s *Synapses, c int, taps []Tap, b Box) int {
	f0, f1, _ := s.Targets(c)
	n := 0
	for f := f0; f < f1; f++ {
		for _, tp := range taps {
			if b.Contains(f, int(tp.Y), int(tp.X)) {
				n++
			}
		}
	}
	return n
}

// targetsIn lists, by brute force, the targets of channel c's taps inside box b, by their
// index in the box, in order.
func targetsIn(s *Synapses, c int, taps []Tap, b Box) []int32 {
	f0, f1, _ := s.Targets(c)
	var in []int32
	for f := f0; f < f1; f++ {
		for _, tp := range taps {
			if b.Contains(f, int(tp.Y), int(tp.X)) {
				in = append(in, int32(b.Local(f, int(tp.Y), int(tp.X))))
			}
		}
	}
	slices.Sort(in)
	return slices.Compact(in)
}

// TestBoxOrder: Local and At are inverse, and walk a box position by position with the
// channels of a position side by side.
func TestBoxOrder(t *testing.T) {
	b := Box{2, 5, 1, 3, 4, 8}
	want := 0
	for y := 1; y < 3; y++ {
		for x := 4; x < 8; x++ {
			for c := 2; c < 5; c++ {
				if got := b.Local(c, y, x); got != want {
					t.Fatalf("Local(%d,%d,%d) = %d, want %d", c, y, x, got, want)
				}
				if gc, gy, gx := b.At(want); gc != c || gy != y || gx != x {
					t.Fatalf("At(%d) = %d,%d,%d, want %d,%d,%d", want, gc, gy, gx, c, y, x)
				}
				want++
			}
		}
	}
	if b.Size() != want {
		t.Errorf("Size %d, want %d", b.Size(), want)
	}
}

// TestFire checks the firing rule on hand-computed cases.
func TestFire(t *testing.T) {
	for _, c := range []struct {
		kind         Kind
		v, pos, neg  int64
		max          int64
		spikes, left int64
	}{
		{Signed, 10, 10, 100, 1, 1, 0},
		{Signed, 9, 10, 100, 1, 0, 9},
		{Signed, 35, 10, 100, 1, 1, 25},
		{Signed, 35, 10, 100, 4, 3, 5},
		{Signed, -100, 10, 100, 1, -1, 0},
		{Signed, -99, 10, 100, 1, 0, -99},
		{Signed, -350, 10, 100, 2, -2, -150},
		{IF, -1000, 10, 100, 1, 0, -1000},
		{IF, 20, 10, 100, 1, 1, 10},
	} {
		v, count := c.v, int64(0)
		if n := Fire(c.kind, &Threshold{Pos: c.pos, Neg: c.neg}, &v, &count, c.max); n != c.spikes || v != c.left || count != n {
			t.Errorf("%v V=%d θ+=%d θ-=%d k=%d: fired %d leaving %d, want %d leaving %d", c.kind, c.v, c.pos, c.neg, c.max, n, v, c.spikes, c.left)
		}
	}
}

// TestBoundsNeverHideASpike: for every kind, rule (with undo margins on both sides) and
// membrane and count around the thresholds, may says true exactly when Fire emits, and
// fast's outcome, whenever it gives one, is Fire's: the same spikes, charge and count, for
// 1, 2 and 4 spikes a tick. fast gives one for every single spike of an IF neuron, and for
// two when two are allowed.
func TestBoundsNeverHideASpike(t *testing.T) {
	told := map[int64]int{}
	for _, kind := range []Kind{Signed, IF} {
		for _, th := range []Threshold{{Pos: 10, Neg: 30}, {Pos: 10, Neg: 30, Undo: true}, {Pos: 10, Neg: 30, Undo: true, BackPos: 4, BackNeg: 7},
			{Pos: 10, Neg: 30, Undo: true, BackPos: 4, BackNeg: -40}, {Pos: 10, Neg: 10, Undo: true, BackPos: -3, BackNeg: -25}, {Pos: 7, Neg: 3, Undo: true, BackPos: 2, BackNeg: 1}} {
			for v0 := int64(-120); v0 <= 60; v0++ {
				for s0 := int64(-3); s0 <= 3; s0++ {
					for _, max := range []int64{1, 2, 4} {
						b := boundsOf(kind, &th, max)
						v1, s1 := v0, s0
						want := Fire(kind, &th, &v1, &s1, max)
						k, charge := b.fast(v0, s0)
						switch {
						case k != 0 && (k != want || v0-charge != v1 || s0+k != s1):
							t.Errorf("%v %+v V=%d count %d max %d: fast says %d taking %d, Fire emits %d leaving %d", kind, th, v0, s0, max, k, charge, want, v1)
						case k == 0 && kind == IF && (want == 1 && v0 < 2*th.Pos || want == 2 && v0 < 3*th.Pos):
							t.Errorf("%v %+v V=%d count %d max %d: %d spikes of an IF neuron not told by fast", kind, th, v0, s0, max, want)
						}
						told[k]++
						if may := b.may(v0, s0); !may && want != 0 {
							t.Errorf("%v %+v V=%d count %d: may not fire, yet fires %d", kind, th, v0, s0, want)
						} else if may && want == 0 && max == 1 {
							t.Errorf("%v %+v V=%d count %d: may fire, yet Fire emits nothing", kind, th, v0, s0)
						}
					}
				}
			}
		}
	}
	for _, k := range []int64{-2, -1, 1, 2} { // every outcome fast tells is tried
		if told[k] == 0 {
			t.Errorf("fast never told %d spikes", k)
		}
	}
}

// TestPoolExactFollowsMaximum: under random signed input spikes the exact rule's emitted count
// equals the maximum of the window's counts after every tick.
func TestPoolExactFollowsMaximum(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	plane := make([]int64, 9)
	var emitted int64
	for tick := 0; tick < 2000; tick++ {
		for i := range plane {
			plane[i] += int64(rng.IntN(3) - 1)
		}
		PoolFire(PoolExact, plane, nil, 3, 0, 3, 0, 3, &emitted, 1)
		best := plane[0]
		for _, c := range plane {
			best = max(best, c)
		}
		if emitted != best {
			t.Fatalf("tick %d: emitted %d, maximum %d", tick, emitted, best)
		}
	}
}

// TestPoolFirstMaxIsBiased reproduces the paper rule's bias: input 1 fires on even ticks and
// input 0 on odd ones, so input 1 leads after its spikes and input 0 draws level (and wins
// the tie) after its own: the winner is always the input that just fired, and the rule passes
// every spike of both, twice the maximum of their counts.
func TestPoolFirstMaxIsBiased(t *testing.T) {
	plane, now := make([]int64, 2), make([]int64, 2)
	var first, exact int64
	for tick := 0; tick < 100; tick++ {
		clear(now)
		i := 1 - tick%2
		plane[i]++
		now[i] = 1
		PoolFire(PoolFirstMax, plane, now, 2, 0, 1, 0, 2, &first, 1)
	}
	plane = []int64{50, 50}
	PoolFire(PoolExact, plane, nil, 2, 0, 1, 0, 2, &exact, 1<<20)
	if first != 100 || exact != 50 {
		t.Errorf("paper rule emitted %d, exact %d: want 100 and 50", first, exact)
	}
}

func TestValidateRejects(t *testing.T) {
	good := Synapses{Src: Shape{2, 2, 2}, NumC: 2, Upsample: 1, Dst: Shape{2, 2, 2}, DstC: 2, Size: 1, Stride: 1, Groups: 1, Weights: []int32{0, 8, -24, 1 << 20}, WeightShift: 3}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(s *Synapses){
		"channels beyond source": func(s *Synapses) { s.SrcC0 = 1 },
		"targets beyond layer":   func(s *Synapses) { s.DstC0 = 1 },
		"zero stride":            func(s *Synapses) { s.Stride = 0 },
		"groups not dividing":    func(s *Synapses) { s.Groups = 3 },
		"short weights":          func(s *Synapses) { s.Weights = s.Weights[:3] },
		"pool across channels":   func(s *Synapses) { s.Weights = nil },
		"weight off its shift":   func(s *Synapses) { s.Weights = []int32{0, 8, -20, 1 << 20} },
		"negative shift":         func(s *Synapses) { s.WeightShift = -1 },
		"shift beyond the limit": func(s *Synapses) { s.WeightShift = MaxWeightShift + 1; s.Weights = make([]int32, 4) },
	} {
		s := good
		mutate(&s)
		if s.Validate() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestFireUndoTracksCumulativeInput drives a neuron with undo by random input and checks,
// after every tick, that its net count is the leaky ReLU of its cumulative input U in
// thresholds: floor(U/thetaPos) for U >= 0, -floor(-U/thetaNeg) below (maxSpikes large enough
// to keep up), and that without undo it may lag far behind.
func TestFireUndoTracksCumulativeInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	const pos, neg = 100, 1000
	target := func(u int64) int64 {
		if u >= 0 {
			return u / pos
		}
		return -(-u / neg)
	}
	exact := &Threshold{Pos: pos, Neg: neg, Undo: true}
	var v, s, u int64
	for tick := 0; tick < 5000; tick++ {
		x := int64(rng.IntN(801) - 400)
		u += x
		v += x
		Fire(Signed, exact, &v, &s, 1<<20)
		if s != target(u) {
			t.Fatalf("tick %d: U = %d, count %d, want %d", tick, u, s, target(u))
		}
	}
	// With margins, the count stays within one spike of the exact one.
	margin := &Threshold{Pos: pos, Neg: neg, Undo: true, BackPos: pos / 2, BackNeg: neg / 2}
	v, s, u = 0, 0, 0
	for tick := 0; tick < 5000; tick++ {
		x := int64(rng.IntN(801) - 400)
		u += x
		v += x
		Fire(Signed, margin, &v, &s, 1<<20)
		if d := s - target(u); d < -1 || d > 1 {
			t.Fatalf("margin: tick %d: U = %d, count %d, exact %d", tick, u, s, target(u))
		}
	}
	// Without undo: +5 spikes, then input back to zero leaves them all.
	ibt := &Threshold{Pos: pos, Neg: neg}
	v, s = 0, 0
	Fire(Signed, ibt, &v, &s, 10)
	v += 550
	Fire(Signed, ibt, &v, &s, 10)
	v -= 550
	Fire(Signed, ibt, &v, &s, 10)
	if s != 5 {
		t.Errorf("without undo: count %d after input +550 then -550, want 5 (the IBT neuron's dead band)", s)
	}
}

// TestDivisor: the multiply-shift divisor gives Go's own quotient and remainder, for small and
// large divisors and numbers up to 2^32-1.
func TestDivisor(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	divisors := []int{1, 2, 3, 7, 10, 100, 320 * 320, 1<<31 - 1, 1<<32 - 1}
	for range 200 {
		divisors = append(divisors, 1+rng.IntN(1<<20))
	}
	for _, d := range divisors {
		q := newDivisor(d)
		for _, n := range []int{0, 1, d - 1, d, d + 1, 1<<32 - 1, 1<<32 - 2, rng.IntN(1 << 32), rng.IntN(1 << 20)} {
			if n < 0 || n >= 1<<32 {
				continue
			}
			if gq, gr := q.divmod(n); gq != n/d || gr != n%d {
				t.Fatalf("%d / %d: got %d rem %d, want %d rem %d", n, d, gq, gr, n/d, n%d)
			}
		}
	}
}

// TestFireGraded: a graded neuron sends the difference of its level and its count, when it
// is at least delta or the count is 0, at most max; its membrane stays. Levels: floor(V/θ+) at and above 0,
// -floor(-V/θ-) below (θ- = θ+/alpha carries a leaky ReLU).
func TestFireGraded(t *testing.T) {
	for _, c := range []struct {
		v, count, pos, neg, delta, max int64
		sent                           int64
	}{
		{35, 0, 10, 100, 1, 100, 3},     // level 3
		{35, 3, 10, 100, 1, 100, 0},     // sent already
		{35, 1, 10, 100, 1, 100, 2},     // the change only
		{9, 0, 10, 100, 1, 100, 0},      // level 0
		{-99, 0, 10, 100, 1, 100, 0},    // -floor(99/100) = 0
		{-250, 0, 10, 100, 1, 100, -2},  // leaky side: -floor(250/100)
		{-250, 1, 10, 100, 1, 100, -3},  // from +1 to -2
		{1000, 0, 10, 100, 1, 30, 30},   // level 100, at most 30 a message
		{45, 2, 10, 100, 3, 100, 0},     // a change of 2 < delta 3: nothing (sigma-delta)
		{55, 2, 10, 100, 3, 100, 3},     // a change of 3: sent
		{15, 0, 10, 100, 3, 100, 1},     // level 1 < delta 3, but nothing sent yet: sent whole
		{5, 1, 10, 100, 3, 100, 0},      // back to level 0: a change of 1 < delta 3, kept
		{-150, 0, 10, 100, 8, 100, -1},  // the leaky side, first message
		{-250, 0, 10, 1 << 62, 1, 9, 0}, // a graded ReLU: no negative level
	} {
		v, count := c.v, c.count
		n := Fire(Graded, &Threshold{Pos: c.pos, Neg: c.neg, Delta: c.delta}, &v, &count, c.max)
		if n != c.sent || v != c.v || count != c.count+n {
			t.Errorf("V=%d count %d θ=%d/-%d delta %d max %d: sent %d, V %d, count %d; want %d, V unchanged", c.v, c.count, c.pos, c.neg, c.delta, c.max,
				n, v, count, c.sent)
		}
	}
}

// TestNextFireIsExact: NextFire gives the first tick in which a neuron fires on its drive
// alone, as stepping it tick by tick finds, for signed, IF and graded neurons, a drive
// integrated in every tick from the onset or only once, in it (firing from it).
func TestNextFireIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for i := 0; i < 20000; i++ {
		kind := []Kind{Signed, IF, Graded}[rng.IntN(3)]
		once := kind == Graded || rng.IntN(2) == 0
		th := Threshold{Pos: 1 + rng.Int64N(20), Neg: 1 + rng.Int64N(60), Undo: rng.IntN(2) == 0, Delta: 1 + rng.Int64N(3)}
		nr := Neurons{Kind: kind, Threshold: []Threshold{th}, MaxSpikes: 1 + rng.Int64N(3), Onset: rng.IntN(12), Once: once}
		v, s, d, t0 := rng.Int64N(81)-40, rng.Int64N(7)-3, rng.Int64N(31)-15, rng.IntN(12)-1
		want := -1
		for k, w, c := t0+1, v, s; k <= t0+200; k++ {
			if k == nr.Onset || k > nr.Onset && !once {
				w += d
			}
			if (!once || k >= nr.Onset) && Fire(kind, &th, &w, &c, nr.MaxSpikes) != 0 {
				want = k
				break
			}
		}
		got, ok := nr.NextFire(0, v, s, d, t0)
		if !ok {
			got = -1
		}
		if got != want && !(want == -1 && got > t0+200) {
			t.Fatalf("%v once=%v %+v max %d onset %d: V=%d count %d drive %d after tick %d: NextFire %d, stepping finds %d",
				kind, once, th, nr.MaxSpikes, nr.Onset, v, s, d, t0, got, want)
		}
	}
}

// TestAddScaled: adding n times a row of weights (four at a time, in vectors where the CPU
// has them) equals adding them one by one, for rows of every length around the step, any n
// a packet carries and weights at the int32 extremes.
func TestAddScaled(t *testing.T) {
	for length := 0; length <= 13; length++ {
		for _, n := range []int64{1, -1, 3, -2, MaxSpikesLimit, -MaxSpikesLimit, math.MaxInt32, math.MinInt32} {
			w := make([]int32, length)
			dst, want := make([]int64, length+1), make([]int64, length+1)
			for i := range w {
				w[i] = []int32{int32(i*37%11 - 5), math.MaxInt32, math.MinInt32}[i%3]
				dst[i], want[i] = int64(i), int64(i)+n*int64(w[i])
			}
			dst[length], want[length] = 99, 99 // past the row: untouched
			addScaled(dst, w, n)
			if !slices.Equal(dst, want) {
				t.Errorf("length %d, n %d: %v, want %v", length, n, dst, want)
			}
		}
	}
}
