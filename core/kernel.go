package core

import (
	"fmt"
	"math/bits"
	"sync"
)

// Kernel is a set of synapses prepared for cores: the taps of every source position, and
// the weights transposed so that, for one input channel and one tap, the weights of the
// target channels are contiguous, as the targets are in a core's box. A layer's cores share
// its kernels.
type Kernel struct {
	Syn  *Synapses
	Taps *TapTable
	// wt holds, for input channel c of group g (local index l) and tap k, the weights of the
	// group's target channels: wt[((g·inPer + l)·k2 + k)·outPer + f], f from the group's first.
	wt            []int32
	inPer, outPer int
	k2            int
	hw            divisor // positions of a source channel: Syn.Src.H·Syn.Src.W
	// pointwise: a 1x1 window moved by 1 over a map of the target's size, so that every
	// source position has exactly one tap, at the same position.
	pointwise bool
	// single: each source channel reaches one target channel (a depthwise kernel, or one of
	// a single target channel), whose weights for source channel src are wt[src.row:][:k2].
	single  bool
	sources []source // per source channel read, from Syn.SrcC0
	w       divisor  // columns of the source map: Syn.Src.W

	mu     sync.Mutex          // guards shapes
	shapes map[[3]int]*boxTaps // a single kernel's taps into boxes, by (rows, columns, channels): see boxTapsFor
}

// source is what delivery needs of one source channel of a kernel: its target channels
// [f0, f1) (absolute) and the start of its weights in wt, row·outPer for tap 0.
type source struct{ f0, f1, row int }

// NewKernel prepares s for delivery into boxes.
func NewKernel(s *Synapses) *Kernel {
	k := &Kernel{Syn: s, Taps: NewTapTable(s), inPer: s.NumC / s.Groups, outPer: s.DstC / s.Groups, k2: s.Size * s.Size,
		hw: newDivisor(s.Src.H * s.Src.W), w: newDivisor(s.Src.W)}
	k.pointwise = s.Size == 1 && s.Stride == 1 && s.Offset == 0 && s.Upsample == 1 && s.Src.H == s.Dst.H && s.Src.W == s.Dst.W
	if s.IsPool() {
		return k
	}
	k.single = k.outPer == 1
	for c := s.SrcC0; c < s.SrcC0+s.NumC; c++ {
		f0, f1, local := s.Targets(c)
		g := (c - s.SrcC0) / k.inPer
		k.sources = append(k.sources, source{f0, f1, (g*k.inPer + local) * k.k2})
	}
	k.wt = make([]int32, len(s.Weights))
	for f := 0; f < s.DstC; f++ {
		g, fo := f/k.outPer, f%k.outPer
		for l := 0; l < k.inPer; l++ {
			for t := 0; t < k.k2; t++ {
				k.wt[((g*k.inPer+l)*k.k2+t)*k.outPer+fo] = s.Weights[(f*k.inPer+l)*k.k2+t]
			}
		}
	}
	return k
}

// Deliver adds n times the weights of source channel c, at the position whose taps are
// taps, to the membranes of its targets inside box b, where v holds b's neurons (in box
// order). It returns the number of synaptic operations performed: one per target in b.
func (k *Kernel) Deliver(c int, taps []Tap, n int64, v []int64, b Box) int64 {
	src := k.sources[c-k.Syn.SrcC0]
	lo, hi := max(src.f0, b.C0), min(src.f1, b.C1)
	if lo >= hi {
		return 0
	}
	ops, _ := k.deliver(src, lo, hi, taps, n, v, b, nil)
	return ops
}

// deliver is Deliver for source channel src into the target channels [lo, hi) of box b. It
// appends to hits the positions (y·width + x within the box) of the taps inside the box.
func (k *Kernel) deliver(src source, lo, hi int, taps []Tap, n int64, v []int64, b Box, hits []int32) (int64, []int32) {
	row, f0 := src.row, src.f0
	nc, bh, bw := b.C1-b.C0, b.Y1-b.Y0, b.X1-b.X0
	var ops int64
	for _, t := range taps {
		y, x := int(t.Y)-b.Y0, int(t.X)-b.X0
		if uint(y) >= uint(bh) || uint(x) >= uint(bw) {
			continue
		}
		start := (row+int(t.K))*k.outPer + lo - f0
		w := k.wt[start : start+hi-lo]
		hits = append(hits, int32(y*bw+x))
		base := (y*bw+x)*nc + lo - b.C0
		addScaled(v[base:base+len(w)], w, n)
		ops += int64(len(w))
	}
	return ops, hits
}

// deliverChannel is deliver for one target channel f of box b (the only one a box holds of a
// kernel with several, or of a single kernel that upsamples; other single kernels take
// Core.receiveSingle, its batched twin): it adds n times one weight per tap to the membranes
// v, and stamps each target reached with now in stamp, appending to cands, if collect, the
// targets not stamped before. It returns the synaptic operations performed and cands.
func (k *Kernel) deliverChannel(src source, f int, taps []Tap, n int64, v []int64, b Box, stamp []int32, now int32, collect bool, cands []int32) (int64, []int32) {
	nc, bh, bw := b.C1-b.C0, b.Y1-b.Y0, b.X1-b.X0
	wt, at := k.wt[src.row*k.outPer+f-src.f0:], f-b.C0
	var ops int64
	for _, t := range taps {
		y, x := int(t.Y)-b.Y0, int(t.X)-b.X0
		if uint(y) >= uint(bh) || uint(x) >= uint(bw) {
			continue
		}
		i := (y*bw+x)*nc + at
		v[i] += n * int64(wt[int(t.K)*k.outPer])
		ops++
		if !collect { // as receiveSingle: a dense core stamps without testing
			stamp[i] = now
		} else if stamp[i] != now {
			stamp[i] = now
			cands = append(cands, int32(i))
		}
	}
	return ops, cands
}

// divisor divides numbers in [0, 2^32) by a fixed d in [1, 2^32) with a multiplication
// instead of a division instruction, which costs tens of cycles on the hot path of every
// packet (Lemire, Kaser and Kurz, "Faster remainder by direct computation", 2019: the
// quotient is the high word of n·(floor((2^64-1)/d) + 1)).
type divisor struct{ d, m uint64 }

func newDivisor(d int) divisor {
	if d < 1 || d > 1<<32-1 {
		panic(fmt.Sprintf("core: divisor %d out of range", d))
	}
	return divisor{uint64(d), ^uint64(0)/uint64(d) + 1}
}

// divmod returns n / d and n % d, for n in [0, 2^32).
func (q divisor) divmod(n int) (int, int) {
	if q.d == 1 { // m wrapped to 0
		return n, 0
	}
	hi, _ := bits.Mul64(q.m, uint64(n))
	return int(hi), n - int(hi)*int(q.d)
}

// addScaledGo adds n times the weights w to dst (of w's length): addScaled where there is no
// vector twin. For the spikes of one unit, nearly all of them, it adds four weights a step
// (28 % faster on rows of 64, 10 % on 16, than one at a time: fewer loop branches and bounds
// checks).
func addScaledGo(dst []int64, w []int32, n int64) {
	dst = dst[:len(w)]
	i := 0
	switch n {
	case 1:
		for ; i+4 <= len(w); i += 4 {
			d, x := dst[i:i+4:i+4], w[i:i+4:i+4]
			d[0] += int64(x[0])
			d[1] += int64(x[1])
			d[2] += int64(x[2])
			d[3] += int64(x[3])
		}
		for ; i < len(w); i++ {
			dst[i] += int64(w[i])
		}
	case -1:
		for ; i+4 <= len(w); i += 4 {
			d, x := dst[i:i+4:i+4], w[i:i+4:i+4]
			d[0] -= int64(x[0])
			d[1] -= int64(x[1])
			d[2] -= int64(x[2])
			d[3] -= int64(x[3])
		}
		for ; i < len(w); i++ {
			dst[i] -= int64(w[i])
		}
	default:
		for j, x := range w {
			dst[j] += n * int64(x)
		}
	}
}
