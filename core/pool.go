package core

// Window is the part of the virtual input plane (hv rows × wv columns) that max-pool target
// position (ty, tx) covers: rows [y0, y1), columns [x0, x1), never empty for a valid target.
func (s *Synapses) Window(ty, tx, hv, wv int) (y0, y1, x0, x1 int) {
	y0, x0 = ty*s.Stride-s.Offset, tx*s.Stride-s.Offset
	y1, x1 = min(y0+s.Size, hv), min(x0+s.Size, wv)
	return max(y0, 0), y1, max(x0, 0), x1
}

// PoolFire is the firing rule of a max-pool neuron. plane holds the net input counts of its
// channel's virtual input plane (row length wv) and now the input spikes of this tick (used by
// PoolFirstMax only); the window is rows [y0, y1) and columns [x0, x1). It returns the signed
// number of spikes emitted (at most maxSpikes of either sign) and adds it to *emitted.
func PoolFire(rule PoolRule, plane, now []int64, wv, y0, y1, x0, x1 int, emitted *int64, maxSpikes int64) int64 {
	best := plane[y0*wv+x0]
	winner := y0*wv + x0
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			if c := plane[y*wv+x]; c > best {
				best, winner = c, y*wv+x
			}
		}
	}
	var n int64
	if rule == PoolFirstMax {
		n = now[winner]
	} else {
		n = best - *emitted
	}
	n = max(-maxSpikes, min(n, maxSpikes))
	*emitted += n
	return n
}
