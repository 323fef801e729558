package core

import "math/bits"

// laneBounds is a box's fireBounds laid out for sweepLanes: its channels in groups of four
// (the last padded), each group 16 words: the four channels' hi, then lo, backNeg and
// backPos (channel f's hi is at (f/4)·16 + f%4).
type laneBounds []int64

func newLaneBounds(bs []fireBounds) laneBounds {
	lb := make(laneBounds, (len(bs)+3)/4*16)
	for f, b := range bs {
		at := f/4*16 + f%4
		lb[at], lb[at+4], lb[at+8], lb[at+12] = b.hi, b.lo, b.backNeg, b.backPos
	}
	return lb
}

// stepDense brings every neuron of a dense core up to tick now and fires it; it counts as
// active the neurons that received input (their position was stamped in posMark, or the
// neuron in stamp) or fire. After a sweep in the tick before, every neuron is up to date but
// for this tick's drive, and its last update stays at the first sweep's tick until the core
// turns sparse; otherwise each catches up from its last update first.
//
// It is the engine's hottest loop, in two passes: sweepLanes adds the drive and finds,
// without a branch per neuron, the neurons that may fire and those that count as active;
// then fireMay fires only the first.
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
	flags := c.flags[:(len(c.v)+63)/64*2]
	sweepLanes(c.v, c.net, c.drive, c.stamp, c.posMark, c.lanes, len(c.bounds), t, driven, flags)
	c.fireMay(flags)
}

// sweepLanes is the first pass of a dense sweep in tick t over a box of len(posMark)
// positions of nc channels (neuron i is channel i%nc of position i/nc), whose bounds are lb.
// If driven, it adds each neuron's drive to its membrane. It fills flags with a pair of words
// for every 64 neurons: in the first, bit i%64 of pair i/64 is set when lb says Fire may emit
// for membrane v[i] and net count net[i] (fireBounds.may); in the second, when position i/nc
// was touched in tick t (posMark) or neuron i was stamped in it, counting it active. Bits
// past the last neuron are 0.
func sweepLanesGo(v, net, drive []int64, stamp, posMark []int32, lb laneBounds, nc int, t int32, driven bool, flags []uint64) {
	if driven {
		drive = drive[:len(v)]
		for i := range v {
			v[i] += drive[i]
		}
	}
	net, stamp = net[:len(v)], stamp[:len(v)]
	var m, a uint64 // the pair of words being filled
	i := 0
	for _, mark := range posMark {
		touched := uint64(bit(mark == t))
		for f := range nc {
			b := lb[f>>2<<4|f&3:]
			vi, s := v[i], net[i]
			mb := bit(vi >= b[0]) | bit(vi <= b[4]) | bit(s < 0)&bit(vi > b[8]) | bit(s > 0)&bit(vi < b[12])
			m |= uint64(mb) << (i & 63)
			a |= (touched | uint64(bit(stamp[i] == t))) << (i & 63)
			if i&63 == 63 {
				flags[i>>6*2], flags[i>>6*2+1] = m, a
				m, a = 0, 0
			}
			i++
		}
	}
	if i&63 != 0 {
		flags[i>>6*2], flags[i>>6*2+1] = m, a
	}
}

// fireMay is the second pass of a dense sweep: it fires the neurons that may (the first
// words of sweepLanes' flags; in index order, so spikes come out in neuron order) and counts
// as active updates those of the second words and the neurons that fire without them.
func (c *Core) fireMay(flags []uint64) {
	kind, maxSpikes := c.N.Kind, c.N.MaxSpikes
	ths, bounds := c.N.Threshold[c.Box.C0:c.Box.C1], c.bounds
	hw := int32(c.N.Shape.H * c.N.Shape.W)
	v, net, out := c.v, c.net, c.out
	var updates, spikes int64
	for w := 0; w < len(flags); w += 2 {
		updates += int64(bits.OnesCount64(flags[w+1]))
	}
	for w := 0; w < len(flags); w += 2 {
		m, active := flags[w], flags[w+1]
		for m != 0 {
			j := bits.TrailingZeros64(m)
			m &= m - 1
			i := w<<5 | j
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
