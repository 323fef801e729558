package core

import (
	"fmt"
	"math"
)

// Kind is what a layer's neurons do.
type Kind uint8

const (
	// Signed neurons integrate and fire +n when V >= ThetaPos and -n when V <= -ThetaNeg,
	// resetting by subtraction. ThetaNeg = ThetaPos/alpha gives the imbalanced threshold
	// (IBT) that carries a leaky ReLU of slope alpha; ThetaNeg = ThetaPos is a symmetric
	// signed neuron for linear layers.
	Signed Kind = iota
	// IF neurons integrate and fire +n when V >= ThetaPos only (plain integrate-and-fire,
	// a ReLU).
	IF
	// Accumulator neurons integrate and never fire: output layers, read by their membrane.
	Accumulator
	// MaxPool neurons track the net spike counts of their window's inputs and emit spikes
	// by a PoolRule.
	MaxPool
	// Graded neurons integrate without resetting and send their level as graded messages
	// (Loihi 2's graded spikes): the level of membrane V is floor(V/ThetaPos) for V >= 0
	// and -floor(-V/ThetaNeg) below (the leaky ReLU of V in units of ThetaPos when ThetaNeg =
	// ThetaPos/alpha); a neuron whose level differs from its net count (what its targets have
	// received) sends the difference as one message, of at most MaxSpikes, and adds it to its
	// count, when the difference is at least Delta or the count is 0. Delta 1 sends every
	// change (graded coding); a larger Delta sends an activation once, whole, and afterwards
	// only its changes of at least Delta (sigma-delta coding): a neuron whose targets have
	// received nothing always sends its level, so that small activations are not lost.
	Graded
)

var kindNames = [...]string{Signed: "signed", IF: "if", Accumulator: "accumulator", MaxPool: "maxpool", Graded: "graded"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// PoolRule is how a spiking max-pool neuron turns its inputs' spikes into its own.
type PoolRule uint8

const (
	// PoolExact emits +1 when the maximum of the window's net input counts rises above the
	// count it has emitted, and -1 when it falls below, so that its own count always equals
	// the maximum of its inputs' counts.
	PoolExact PoolRule = iota
	// PoolFirstMax is the rule of the Spiking-YOLO paper (after Rueckauer et al. 2017): it
	// passes the spikes of the input whose net count, after this tick's spikes, is the
	// largest; ties go to the first input in window order (row by row). It lets extra
	// spikes through when winners alternate.
	PoolFirstMax
)

func (r PoolRule) String() string {
	if r == PoolFirstMax {
		return "firmax"
	}
	return "exact"
}

// Neurons are the parameters of a layer's neurons, shared by every core that holds some of
// them.
type Neurons struct {
	Shape Shape
	Kind  Kind
	Pool  PoolRule // MaxPool layers only
	// Per channel: the firing rule (Signed and IF), the bias added every tick from Onset,
	// and the initial membrane. Unused by MaxPool layers.
	Threshold []Threshold
	Bias, V0  []int64
	// MaxSpikes is how many spikes a neuron may emit in one tick (1: classic neurons); a
	// Graded neuron's largest message.
	MaxSpikes int64
	// Onset is the first tick in which the neurons integrate their bias and input current.
	Onset int
	// Once: the neurons integrate their bias and input current (their drive) in tick Onset
	// only, instead of in every tick from it, and fire from that tick on; before it they only
	// integrate what reaches them (graded codings: a neuron sends its activation once, when
	// its deepest input has arrived, rather than a rate).
	Once bool
}

// drivenTicks is the number of ticks in (last, t] in which the neurons integrate their drive.
func (nr *Neurons) drivenTicks(last, t int32) int64 {
	onset := int32(nr.Onset)
	if nr.Once {
		if last < onset && onset <= t {
			return 1
		}
		return 0
	}
	return int64(max(0, t-max(last+1, onset)+1))
}

// Threshold is a channel's firing rule. A Signed neuron fires +1 at V >= Pos and -1 at
// V <= -Neg, resetting by subtraction (an IF neuron only +1). With Undo, a Signed neuron also
// takes back a spike of the sign of its net count when its membrane has gone the other way
// past a margin: -1 when its count is positive and V < -BackPos (giving back Pos), +1 when
// its count is negative and V > BackNeg (giving back Neg).
//
// With margins 0, a neuron's net count then follows its cumulative input U exactly (up to
// MaxSpikes per tick): floor(U/Pos) for U >= 0 and -floor(-U/Neg) below, which is the leaky
// ReLU of U in units of Pos when Neg = Pos/alpha. A margin trades that exactness (the count
// may lag by up to one spike within it) against spikes spent following the input's jitter.
// Without Undo, a count can stay up to Pos + Neg of input away (the IBT neuron's dead band).
type Threshold struct {
	Pos, Neg         int64
	Undo             bool
	BackPos, BackNeg int64
	Delta            int64 // Graded: the least difference of level and a nonzero count that is sent (>= 1)
}

// Fire applies the firing rule th of kind to a membrane after integration. It returns the
// signed number of spikes emitted this tick (at most maxSpikes of either sign), takes their
// charge from *v and adds them to *s, the neuron's net count so far.
func Fire(kind Kind, th *Threshold, v, s *int64, maxSpikes int64) int64 {
	if kind == Graded {
		n := th.level(*v) - *s
		if n == 0 || *s != 0 && abs(n) < th.Delta {
			return 0
		}
		n = max(-maxSpikes, min(n, maxSpikes))
		*s += n
		return n
	}
	undo := th.Undo && kind == Signed
	var n int64
	for n < maxSpikes && -n < maxSpikes {
		switch {
		case n >= 0 && *v >= th.Pos && (!undo || *s >= 0):
			*v -= th.Pos
			*s, n = *s+1, n+1
		case kind != Signed:
			return n
		case n >= 0 && undo && *s < 0 && *v > th.BackNeg: // take back a negative spike
			*v -= th.Neg
			*s, n = *s+1, n+1
		case n <= 0 && undo && *s > 0 && *v < -th.BackPos: // take back a positive spike
			*v += th.Pos
			*s, n = *s-1, n-1
		case n <= 0 && *v <= -th.Neg && (!undo || *s <= 0):
			*v += th.Neg
			*s, n = *s-1, n-1
		default:
			return n
		}
	}
	return n
}

// level is a Graded neuron's level for membrane v (see Graded).
func (th *Threshold) level(v int64) int64 {
	if v >= 0 {
		return v / th.Pos
	}
	return -(-v / th.Neg)
}

// fireBounds is a channel's firing rule as bounds that tell, without a branch each,
// whether Fire may emit: it may when v >= hi or v <= lo, or when the net count is negative
// and v > backNeg, or positive and v < backPos. A rule that lacks a case has a bound no
// membrane passes. hi2, hi3, lo2 and lo3 (2·hi, 3·hi, 2·lo and 3·lo, saturated; the third
// equal to the second when a neuron may not emit two spikes a tick) and the counts from
// which the first and last cases apply let fast tell Fire's commonest outcomes without its
// loop.
type fireBounds struct {
	hi, lo, backNeg, backPos int64
	hi2, hi3, lo2, lo3       int64
	minPosCount, maxNegCount int64
}

// boundsOf returns the bounds of rule th of kind, for neurons that may emit maxSpikes
// spikes a tick.
func boundsOf(kind Kind, th *Threshold, maxSpikes int64) fireBounds {
	b := fireBounds{hi: th.Pos, lo: math.MinInt64, backNeg: math.MaxInt64, backPos: math.MinInt64,
		minPosCount: math.MinInt64, maxNegCount: math.MaxInt64}
	b.hi2, b.hi3 = timesSaturated(th.Pos, 2), timesSaturated(th.Pos, 3)
	b.lo2, b.lo3 = math.MinInt64, math.MinInt64
	if kind == Signed {
		b.lo, b.lo2, b.lo3 = -th.Neg, -timesSaturated(th.Neg, 2), -timesSaturated(th.Neg, 3)
		if th.Undo {
			b.backNeg, b.backPos = th.BackNeg, -th.BackPos
			b.minPosCount, b.maxNegCount = 0, 0
		}
	}
	if maxSpikes < 2 {
		b.hi3, b.lo3 = b.hi2, b.lo2
	}
	return b
}

// timesSaturated returns k·x for x >= 1 and k >= 1, or math.MaxInt64 if that overflows.
func timesSaturated(x, k int64) int64 {
	if x > math.MaxInt64/k {
		return math.MaxInt64
	}
	return k * x
}

// fast returns Fire's outcome for membrane v and net count s when it is one of the
// commonest, and the charge it takes from v: one spike by Fire's first case (v in
// [hi, 2·hi)) or two (v in [2·hi, 3·hi)), a count the case allows; one or two by its last
// (v in (2·lo, lo] or (3·lo, 2·lo]) with no spike to take back first; or one spike taken
// back (-1 when s > 0 and v < backPos, +1 when s < 0 and v > backNeg) after which no case
// applies. Otherwise it returns 0, and Fire must decide.
func (b *fireBounds) fast(v, s int64) (k, charge int64) {
	switch {
	case v >= b.hi && s >= b.minPosCount:
		switch {
		case v < b.hi2:
			return 1, b.hi
		case v < b.hi3:
			return 2, b.hi2
		}
	case s > 0 && v < b.backPos:
		// Taking back a positive spike adds hi; then Fire would go on if it may take back
		// another or fire down.
		if w := v + b.hi; !(s > 1 && w < b.backPos) && !(s == 1 && w <= b.lo) {
			return -1, -b.hi
		}
	case s < 0 && v > b.backNeg:
		// Taking back a negative spike subtracts Neg (adds lo); then Fire would go on if it
		// may fire up or take back another.
		if w := v + b.lo; !(s >= -1 && w >= b.hi) && !(s < -1 && w > b.backNeg) {
			return 1, -b.lo
		}
	case v <= b.lo && s <= b.maxNegCount:
		switch {
		case v > b.lo2:
			return -1, b.lo
		case v > b.lo3:
			return -2, b.lo2
		}
	}
	return 0, 0
}

// may reports whether Fire may emit for membrane v and net count s; when it says false, Fire
// emits nothing (it may say true when Fire emits nothing too). It is cheap enough to skip Fire
// for the many neurons of a dense sweep that do not fire: one branch, on its result.
func (b *fireBounds) may(v, s int64) bool {
	return bit(v >= b.hi)|bit(v <= b.lo)|(bit(s < 0)&bit(v > b.backNeg))|(bit(s > 0)&bit(v < b.backPos)) != 0
}

// bit is 1 for true and 0 for false (compiled without a branch).
func bit(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// NextFire returns the first tick after t in which a neuron of channel c with membrane v and
// net count s, integrating the constant drive d in every tick >= Onset (in tick Onset only,
// and firing from it, if Once) and receiving no input, fires (by Fire's rule); ok is false if it never does. It is exact: an engine that
// skips a neuron's ticks until then, and adds the skipped drive at once, computes what
// integrating it tick by tick computes.
func (nr *Neurons) NextFire(c int, v, s, d int64, t int) (tick int, ok bool) {
	th := &nr.Threshold[c]
	if nr.Once {
		// The drive comes once, in tick Onset, and firing starts then: without input the
		// neuron fires in the next tick (taking the drive if that is the onset), if that is
		// not before the onset, or at the onset, or never.
		fires := func(w int64) bool { s := s; return Fire(nr.Kind, th, &w, &s, nr.MaxSpikes) != 0 }
		next, w := t+1, v
		if next == nr.Onset {
			w += d
		}
		switch {
		case next >= nr.Onset && fires(w):
			return next, true
		case nr.Onset > next && fires(v+d):
			return nr.Onset, true
		}
		return 0, false
	}
	delay := int64(max(0, nr.Onset-1-t))
	pos, neg := th.Pos, th.Neg
	undo := th.Undo && nr.Kind == Signed
	best, found := int64(0), false
	try := func(k int64, ok bool) {
		if ok && (!found || k < best) {
			best, found = k, true
		}
	}
	if !undo || s >= 0 {
		try(firstAtLeast(v, d, pos, delay))
	}
	if nr.Kind == Signed {
		if undo && s < 0 {
			try(firstAtLeast(v, d, th.BackNeg+1, delay)) // V > BackNeg
		}
		if undo && s > 0 {
			try(firstAtLeast(-v, -d, th.BackPos+1, delay)) // V < -BackPos
		}
		if !undo || s <= 0 {
			try(firstAtLeast(-v, -d, neg, delay)) // V <= -thetaNeg
		}
	}
	if !found || best > int64(1<<31-1-t) {
		return 0, false
	}
	return t + int(best), true
}

// firstAtLeast returns the smallest k >= 1 with v + d·max(0, k-delay) >= a.
func firstAtLeast(v, d, a, delay int64) (int64, bool) {
	if v1 := v + d*max(0, 1-delay); v1 >= a {
		return 1, true
	}
	if d <= 0 {
		return 0, false
	}
	m := (a - v + d - 1) / d // a - v > 0 here
	return max(1, delay+m), true
}
