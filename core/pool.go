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
// number of spikes emitted (at most maxSpikes of either sign), which it adds to *emitted, and
// whether the exact rule still lags the maximum (so that the neuron must fire next tick even
// without input).
func PoolFire(rule PoolRule, plane, now []int64, wv, y0, y1, x0, x1 int, emitted *int64, maxSpikes int64) (n int64, lagging bool) {
	best := plane[y0*wv+x0]
	winner := y0*wv + x0
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			if c := plane[y*wv+x]; c > best {
				best, winner = c, y*wv+x
			}
		}
	}
	if rule == PoolFirstMax {
		n = now[winner]
	} else {
		n = best - *emitted
	}
	n = max(-maxSpikes, min(n, maxSpikes))
	*emitted += n
	return n, rule == PoolExact && *emitted != best
}

// poolState is a max-pool core's record of its inputs: the net count of every position of
// the part of the virtual input plane its neurons' windows cover, per channel of its box.
type poolState struct {
	syn          *Synapses // the window geometry (every input shares it)
	hv, wv       int       // the virtual input plane
	rowLo, rowHi int       // the rows stored: [rowLo, rowHi)
	colLo, colHi int       // the columns stored
	rows, cols   int
	counts       []int64 // per channel of the box, rows × cols
	now          []int64 // PoolFirstMax: this tick's input spikes per stored position
	nowList      []int32
}

func newPoolState(c *Core) *poolState {
	s := c.Inputs[0].K.Syn
	p := &poolState{syn: s, hv: s.Src.H * s.Upsample, wv: s.Src.W * s.Upsample}
	b := c.Box
	p.rowLo, p.rowHi = max(0, b.Y0*s.Stride-s.Offset), min(p.hv, (b.Y1-1)*s.Stride-s.Offset+s.Size)
	p.colLo, p.colHi = max(0, b.X0*s.Stride-s.Offset), min(p.wv, (b.X1-1)*s.Stride-s.Offset+s.Size)
	p.rows, p.cols = p.rowHi-p.rowLo, p.colHi-p.colLo
	p.counts = make([]int64, (b.C1-b.C0)*p.rows*p.cols)
	if c.N.Pool == PoolFirstMax {
		p.now = make([]int64, len(p.counts))
	}
	return p
}

func (p *poolState) reset() {
	clear(p.counts)
	clear(p.now)
	p.nowList = p.nowList[:0]
}

// receive records n spikes of source neuron (ch, y, x), whose taps through s are taps, and
// makes the pool neurons of this core whose windows see it candidates; it returns how many
// there are.
func (p *poolState) receive(c *Core, s *Synapses, taps []Tap, ch, y, x int, n int64) int64 {
	vc := s.DstC0 + ch - s.SrcC0
	b := c.Box
	if vc < b.C0 || vc >= b.C1 {
		return 0
	}
	p.receiveCount(c, s, ch, y, x, n, true)
	var ops int64
	for _, t := range taps {
		if b.Contains(vc, int(t.Y), int(t.X)) {
			c.candidate(int32(b.Local(vc, int(t.Y), int(t.X))))
			ops++
		}
	}
	return ops
}

// receiveCount adds n to the count of source neuron (ch, y, x)'s virtual positions (its
// upsampled copies) that the core stores, and, if thisTick, to this tick's where the rule
// keeps them.
func (p *poolState) receiveCount(c *Core, s *Synapses, ch, y, x int, n int64, thisTick bool) {
	vc := s.DstC0 + ch - s.SrcC0
	b := c.Box
	if vc < b.C0 || vc >= b.C1 {
		return
	}
	plane := (vc - b.C0) * p.rows * p.cols
	u := s.Upsample
	for i := 0; i < u; i++ {
		yv := y*u + i - p.rowLo
		if uint(yv) >= uint(p.rows) {
			continue
		}
		for j := 0; j < u; j++ {
			xv := x*u + j - p.colLo
			if uint(xv) >= uint(p.cols) {
				continue
			}
			at := plane + yv*p.cols + xv
			p.counts[at] += n
			if p.now != nil && thisTick {
				p.now[at] += n
				p.nowList = append(p.nowList, int32(at))
			}
		}
	}
}

// step fires the candidate pool neurons.
func (p *poolState) step(c *Core) {
	for _, i := range c.cands {
		c.Updates++
		ch, ty, tx := c.Box.At(int(i))
		y0, y1, x0, x1 := p.syn.Window(ty, tx, p.hv, p.wv)
		at := (ch - c.Box.C0) * p.rows * p.cols
		var now []int64
		if p.now != nil {
			now = p.now[at:]
		}
		n, lagging := PoolFire(c.N.Pool, p.counts[at:], now, p.cols, y0-p.rowLo, y1-p.rowLo, x0-p.colLo, x1-p.colLo, &c.net[i], c.N.MaxSpikes)
		if n != 0 {
			c.out = append(c.out, Spike{int32(c.global(int(i))), int32(n)})
			c.Spikes += abs(n)
			c.Events++
		}
		if lagging {
			c.schedule(i, c.now+1, c.now)
		}
	}
	for _, at := range p.nowList {
		p.now[at] = 0
	}
	p.nowList = p.nowList[:0]
}
