package core

import "math/bits"

// laneBounds is a box's fireBounds laid out for sweepLanes: its channels in groups of four
// (the last padded), each group laneWords words: the four channels' hi, then lo, backNeg,
// backPos, hi2 and minPosCount (channel f's hi is at (f/4)·laneWords + f%4).
type laneBounds []int64

const laneWords = 24

func newLaneBounds(bs []fireBounds) laneBounds {
	lb := make(laneBounds, (len(bs)+3)/4*laneWords)
	for f, b := range bs {
		at := f/4*laneWords + f%4
		lb[at], lb[at+4], lb[at+8], lb[at+12], lb[at+16], lb[at+20] = b.hi, b.lo, b.backNeg, b.backPos, b.hi2, b.minPosCount
	}
	return lb
}

// stepDense brings every neuron of a dense core up to tick now and fires it; it counts as
// active the neurons that received input (their position was stamped in posMark, or the
// neuron in stamp) or fire. After a sweep in the tick before, every neuron is up to date but
// for this tick's drive, and its last update stays at the first sweep's tick until the core
// turns sparse; otherwise each catches up from its last update first.
//
// It is the engine's hottest loop, in two passes: sweepLanes adds the drive, fires the
// commonest case (one spike by Fire's first case) and finds the other neurons that may fire
// and those that count as active, without a branch per neuron; then fireMay emits the
// spikes and fires the others.
func (c *Core) stepDense() {
	t := int32(c.now)
	driven := false
	if c.swept == c.now-1 {
		driven = c.N.drivenTicks(t-1, t) == 1
	} else {
		for i := range c.v {
			c.v[i] += c.drive[i] * c.N.drivenTicks(c.last[i], t)
			c.last[i] = t
		}
	}
	c.swept = c.now
	flags := c.flags[:(len(c.v)+63)/64*3]
	sweepLanes(c.v, c.net, c.drive, c.stamp, c.posMark, c.lanes, len(c.bounds), t, driven, flags)
	c.fireMay(flags)
}

// sweepLanes is the first pass of a dense sweep in tick t over a box of len(posMark)
// positions of nc channels (neuron i is channel i%nc of position i/nc), whose bounds are lb.
// If driven, it adds each neuron's drive to its membrane. It fills flags with three words for
// every 64 neurons, bit i%64 of words 3·(i/64), +1 and +2 telling of neuron i:
//   - one: Fire emits one spike by its first case (fireBounds.fast's commonest outcome: v in
//     [hi, hi2), net count >= minPosCount); sweepLanes has emitted it (v -= hi, net++);
//   - other: Fire may emit otherwise (fireBounds.may, and not one);
//   - active: position i/nc was touched in tick t (posMark) or neuron i was stamped in it.
//
// Bits past the last neuron are 0.
func sweepLanesGo(v, net, drive []int64, stamp, posMark []int32, lb laneBounds, nc int, t int32, driven bool, flags []uint64) {
	if driven {
		drive = drive[:len(v)]
		for i := range v {
			v[i] += drive[i]
		}
	}
	net, stamp = net[:len(v)], stamp[:len(v)]
	var o, m, a uint64 // the words being filled
	i := 0
	for _, mark := range posMark {
		touched := uint64(bit(mark == t))
		for f := range nc {
			b := lb[f>>2*laneWords+f&3:]
			vi, s := v[i], net[i]
			hi := b[0]
			may := bit(vi >= hi) | bit(vi <= b[4]) | bit(s < 0)&bit(vi > b[8]) | bit(s > 0)&bit(vi < b[12])
			one := bit(vi >= hi) & bit(vi < b[16]) & bit(s >= b[20])
			v[i], net[i] = vi-hi*int64(one), s+int64(one)
			o |= uint64(one) << (i & 63)
			m |= uint64(may&^one) << (i & 63)
			a |= (touched | uint64(bit(stamp[i] == t))) << (i & 63)
			if i&63 == 63 {
				flags[i>>6*3], flags[i>>6*3+1], flags[i>>6*3+2] = o, m, a
				o, m, a = 0, 0, 0
			}
			i++
		}
	}
	if i&63 != 0 {
		flags[i>>6*3], flags[i>>6*3+1], flags[i>>6*3+2] = o, m, a
	}
}

// fireMay is the second pass of a dense sweep: from sweepLanes' flags, it emits the spikes
// sweepLanes fired, fires the other neurons that may, and counts as active updates the
// active neurons and those that fire without being active. Within each 64 neurons, it emits
// the spikes of the first kind, then of the second, each in neuron order.
func (c *Core) fireMay(flags []uint64) {
	kind, maxSpikes := c.N.Kind, c.N.MaxSpikes
	ths, bounds := c.N.Threshold[c.Box.C0:c.Box.C1], c.bounds
	hw := int32(c.N.Shape.H * c.N.Shape.W)
	v, net, out := c.v, c.net, c.out
	var updates, spikes int64
	for w := 0; w < len(flags); w += 3 {
		one, other, active := flags[w], flags[w+1], flags[w+2]
		updates += int64(bits.OnesCount64(active) + bits.OnesCount64(one&^active))
		spikes += int64(bits.OnesCount64(one))
		for ; one != 0; one &= one - 1 {
			p, f := c.channels.divmod(w/3<<6 | bits.TrailingZeros64(one))
			out = append(out, Spike{c.posIndex[p] + int32(f)*hw, 1})
		}
		for ; other != 0; other &= other - 1 {
			j := bits.TrailingZeros64(other)
			i := w/3<<6 | j
			p, f := c.channels.divmod(i)
			k, charge := bounds[f].fast(v[i], net[i])
			if k != 0 {
				v[i] -= charge
				net[i] += k
			} else {
				k = Fire(kind, &ths[f], &v[i], &net[i], maxSpikes)
			}
			if k != 0 {
				updates += int64(active>>j&1 ^ 1)
				out = append(out, Spike{c.posIndex[p] + int32(f)*hw, int32(k)})
				spikes += abs(k)
			}
		}
	}
	c.Events += int64(len(out) - len(c.out))
	c.out = out
	c.Updates += updates
	c.Spikes += spikes
}
