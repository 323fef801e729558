package core

import (
	"fmt"
	"math/bits"
	"slices"
)

// Spike is a neuron's spikes in one tick: its index in its layer and their signed count
// (at most MaxSpikesLimit of either sign). It is also the address-event packet that carries
// them: the source neuron's address and the polarity and number of its spikes.
type Spike struct {
	Neuron int32
	N      int32
}

// MaxSpikesLimit is the most spikes a neuron may emit in one tick (Neurons.MaxSpikes), so
// that a spike's count fits its packet.
const MaxSpikesLimit = 1 << 20

// Counters count the operations a core performed.
type Counters struct {
	Synops  int64 // synaptic operations of binary spikes (accumulates): one per unit spike and target neuron reached
	MACs    int64 // synaptic operations of graded messages (multiply-accumulates): one per message and target neuron reached
	Updates int64 // active neuron updates: a neuron that received input or woke, once per tick
	Spikes  int64 // unit spikes emitted (a multi-spike of n counts n)
	Events  int64 // spike events emitted (a multi-spike counts 1)
	Packets int64 // packets received
}

// Input is one set of synapses into a core's layer, from layer From, prepared as a kernel
// (shared by the layer's cores). If Graded, layer From sends graded messages: each costs one
// multiply-accumulate per target (Counters.MACs), whatever its payload.
type Input struct {
	From   int
	K      *Kernel
	Graded bool
}

// Sweep is when a core changes how it steps. A sparse core updates its candidates only
// (neurons that received input, and wakes scheduled by Neurons.NextFire); a dense core sweeps
// its whole box every tick, bringing every membrane up to date, and keeps no wakes. Both
// compute the same membranes and spikes and count the same active updates (a neuron that
// received input or fires without it): a dense sweep saves the candidate lists and the
// NextFire of every update when most neurons are active anyway.
//
// A Signed or IF core turns dense after a tick in which at least Enter of its neurons (a
// fraction of its box) were active, and sparse again after a dense tick in which fewer than
// Leave were. Max-pool and accumulator cores are always sparse.
type Sweep struct{ Enter, Leave float64 }

// DefaultSweep turns a core dense when half its neurons are active, and sparse when fewer
// than a quarter are: a dense sweep costs about a quarter of a sparse update per neuron.
var DefaultSweep = Sweep{Enter: 0.5, Leave: 0.25}

// wheelSize is the span of ticks the wake wheel covers; wakes further ahead wait in a list.
const wheelSize = 64

// Core is one neuromorphic core: it holds one box of one layer's neurons, the synapses into
// them (kernels referenced, never expanded), their state, and what it has counted. It is a
// deterministic state machine: Receive integrates the packets of a tick in any order, Step
// fires the neurons that received input or whose own drive makes them fire, and the result
// does not depend on the order of the packets.
//
// Neurons are updated lazily: a neuron's constant drive (bias, and input current for analog
// layers) is added for all the ticks it skipped when it is next touched, and a neuron that
// will fire on its drive alone is woken at that tick (see Neurons.NextFire). No loop visits
// every neuron every tick, except while the core is dense (see Sweep): then it steps every
// tick and sweeps its box.
type Core struct {
	N      *Neurons
	Box    Box
	Inputs []Input

	// Every neuron's state, one column each (a dense sweep reads v, net, drive and stamp
	// from start to end; wakes only sparse updates use).
	v      []int64 // membranes (delivery adds to runs of them)
	net    []int64 // net spike counts
	drive  []int64 // charge added every tick from the onset
	last   []int32 // the tick up to which the drive has been added
	wakeAt []int32 // the tick of the pending wake, or -1
	stamp  []int32 // the tick in which the neuron was last made a candidate

	cands   []int32    // this tick's candidates (local indices)
	posMark []int32    // kernel cores: tick in which each position of the box was touched in all its channels
	posList []int32    // kernel cores: those positions (y·width + x within the box) this tick
	hits    []int32    // scratch: the positions a packet reached
	single  []*boxTaps // by input: the taps of a single kernel into the box (receiveSingle), or nil

	wheel  [wheelSize][]int32
	filled uint64 // bit i: wheel[i] is not empty
	far    []wake
	farMin int

	pool   *poolState
	bounds []fireBounds // per channel of the box: its firing rule as bounds (Signed and IF)
	lanes  laneBounds   // the same by column

	// Dense sweeps (Signed and IF cores): scratch flags (sweepLanes), the channels of a
	// position as a divisor, and each position's channel C0 as its index in the layer.
	flags    []uint64
	channels divisor
	posIndex []int32

	sweep   Sweep
	dense   bool // sweeping the box every tick; the wake wheel is empty and every wakeAt -1
	swept   int  // the tick of the last dense sweep: after it, every membrane is up to date though last says otherwise
	out     []Spike
	now     int // the tick being integrated (set by Begin)
	horizon int // wakes at or after it are not kept: the run ends before
	Counters
}

type wake struct {
	tick   int32
	neuron int32
}

// NewCore makes a core holding box b of a layer with the given parameters and input
// synapses, which turns dense and sparse by sw. Call Reset before running it.
func NewCore(n *Neurons, b Box, inputs []Input, sw Sweep) *Core {
	if b.C0 < 0 || b.Y0 < 0 || b.X0 < 0 || b.C1 > n.Shape.C || b.Y1 > n.Shape.H || b.X1 > n.Shape.W || b.Size() <= 0 {
		panic(fmt.Sprintf("core: box %+v of a layer of shape %v", b, n.Shape))
	}
	size := b.Size()
	c := &Core{N: n, Box: b, Inputs: inputs, sweep: sw, net: make([]int64, size), drive: make([]int64, size),
		last: make([]int32, size), wakeAt: make([]int32, size), stamp: make([]int32, size)}
	if n.Kind == MaxPool {
		c.pool = newPoolState(c)
	} else {
		if n.Kind != Accumulator {
			for ch := b.C0; ch < b.C1; ch++ {
				c.bounds = append(c.bounds, boundsOf(n.Kind, &n.Threshold[ch], n.MaxSpikes))
			}
		}
		c.v = make([]int64, size)
		c.posMark = make([]int32, (b.Y1-b.Y0)*(b.X1-b.X0))
		c.single = make([]*boxTaps, len(inputs))
		for k, in := range inputs {
			if in.K.single && in.K.Syn.Upsample == 1 {
				c.single[k] = in.K.boxTapsFor(b.Y1-b.Y0, b.X1-b.X0, b.C1-b.C0)
			}
		}
		if n.Kind == Signed || n.Kind == IF {
			c.prepareDense()
		}
	}
	return c
}

// prepareDense sets what a dense sweep needs besides the neurons' state.
func (c *Core) prepareDense() {
	b := &c.Box
	c.lanes = newLaneBounds(c.bounds)
	c.flags = make([]uint64, (b.Size()+63)/64*3)
	c.channels = newDivisor(b.C1 - b.C0)
	w := b.X1 - b.X0
	c.posIndex = make([]int32, len(c.posMark))
	for p := range c.posIndex {
		c.posIndex[p] = int32(c.N.Shape.Index(b.C0, b.Y0+p/w, b.X0+p%w))
	}
}

// global is the layer index of local neuron i.
func (c *Core) global(i int) int {
	ch, y, x := c.Box.At(i)
	return c.N.Shape.Index(ch, y, x)
}

// Reset puts the core back to tick 0 with its initial membranes, and sets every neuron's
// drive: its channel's bias plus, for analog layers, its current in stimulus (the whole
// layer's, indexed by neuron; nil otherwise). The run will end before tick horizon. With
// from, the core resumes where an earlier run ended instead (see Start).
func (c *Core) Reset(stimulus []int64, horizon int, from *Start) {
	c.Counters = Counters{}
	c.horizon = horizon
	c.dense, c.swept = false, -2
	clear(c.net)
	clear(c.drive)
	for i := range c.stamp {
		c.last[i], c.wakeAt[i], c.stamp[i] = -1, -1, -1
	}
	c.cands, c.out, c.far, c.farMin, c.filled = c.cands[:0], c.out[:0], c.far[:0], 1<<31-1, 0
	for i := range c.wheel {
		c.wheel[i] = c.wheel[i][:0]
	}
	if c.pool != nil {
		c.pool.reset()
		if from != nil {
			c.resumePool(from)
		}
		return
	}
	for i := range c.posMark {
		c.posMark[i] = -1
	}
	c.posList = c.posList[:0]
	for i := range c.v {
		ch, _, _ := c.Box.At(i)
		c.v[i] = c.N.V0[ch]
		if from == nil {
			c.drive[i] = c.N.Bias[ch]
		} else {
			c.v[i], c.net[i] = from.V[c.global(i)], from.Counts[c.global(i)]
		}
		if stimulus != nil {
			c.drive[i] += stimulus[c.global(i)]
		}
		if c.N.Kind == Accumulator {
			continue // accumulators never fire
		}
		if tick, ok := c.N.NextFire(ch, c.v[i], c.net[i], c.drive[i], -1); ok {
			c.schedule(int32(i), tick, -1)
		}
	}
}

// Start is where a core resumes (Reset): the end of an earlier run of its layer, whose bias
// the neurons have integrated already. V and Counts are the layer's membranes and net spike
// counts, by neuron (V nil for a max-pool); Sources, for a max-pool, holds each input's
// source layer's counts, from which its inputs' counts start.
type Start struct {
	V, Counts []int64
	Sources   [][]int64
}

// resumePool sets a max-pool core's emitted counts and its inputs' counts from from, and
// wakes, in tick 0, the neurons of an exact pool whose count lags their window's maximum.
func (c *Core) resumePool(from *Start) {
	p := c.pool
	for k, in := range c.Inputs {
		s := in.K.Syn
		src := from.Sources[k]
		hw := s.Src.H * s.Src.W
		for ch := s.SrcC0; ch < s.SrcC0+s.NumC; ch++ {
			for pos := range hw {
				if n := src[ch*hw+pos]; n != 0 {
					p.receiveCount(c, s, ch, pos/s.Src.W, pos%s.Src.W, n, false)
				}
			}
		}
	}
	for i := range c.net {
		c.net[i] = from.Counts[c.global(i)]
		ch, ty, tx := c.Box.At(i)
		y0, y1, x0, x1 := p.syn.Window(ty, tx, p.hv, p.wv)
		plane := p.counts[(ch-c.Box.C0)*p.rows*p.cols:]
		count := c.net[i]
		if n, _ := PoolFire(PoolExact, plane, nil, p.cols, y0-p.rowLo, y1-p.rowLo, x0-p.colLo, x1-p.colLo, &count, MaxSpikesLimit); n != 0 && c.N.Pool == PoolExact {
			c.schedule(int32(i), 0, -1)
		}
	}
}

// schedule sets neuron i's wake to tick; now is the current tick.
func (c *Core) schedule(i int32, tick, now int) {
	if tick >= c.horizon {
		c.wakeAt[i] = -1
		return
	}
	if int(c.wakeAt[i]) == tick {
		return
	}
	c.wakeAt[i] = int32(tick)
	if tick-now < wheelSize {
		b := tick % wheelSize
		c.wheel[b] = append(c.wheel[b], i)
		c.filled |= 1 << b
		return
	}
	c.far = append(c.far, wake{int32(tick), i})
	c.farMin = min(c.farMin, tick)
}

// NextWake is the earliest tick after now in which a neuron may wake, or -1. It may be
// early (a wake that was moved leaves a stale entry), never late.
func (c *Core) NextWake(now int) int {
	if c.dense {
		return now + 1
	}
	if c.filled != 0 {
		// Rotate so that bit 0 is tick now+1.
		r := uint((now + 1) % wheelSize)
		rot := bits.RotateLeft64(c.filled, -int(r))
		return now + 1 + bits.TrailingZeros64(rot)
	}
	if len(c.far) > 0 {
		return c.farMin
	}
	return -1
}

// Begin starts tick t: packets received until Step are integrated in it.
func (c *Core) Begin(t int) { c.now = t }

// candidate makes local neuron i a candidate of the current tick (a dense core only stamps it).
func (c *Core) candidate(i int32) {
	if int(c.stamp[i]) != c.now {
		c.stamp[i] = int32(c.now)
		if !c.dense {
			c.cands = append(c.cands, i)
		}
	}
}

// Receive integrates the packets pks, all from cores of layer from, delivered in the current
// tick: each carries N spikes of neuron Neuron of that layer.
func (c *Core) Receive(from int, pks []Spike) {
	c.Packets += int64(len(pks))
	for k := range c.Inputs {
		in := &c.Inputs[k]
		if in.From != from {
			continue
		}
		switch {
		case c.pool != nil:
			c.receivePool(in, pks)
		case c.single[k] != nil:
			c.receiveSingle(in, c.single[k], pks)
		case in.K.pointwise:
			c.receivePointwise(in, pks)
		default:
			c.receiveKernel(in, pks)
		}
	}
}

// receivePool integrates the packets through the max-pool window of in's kernel.
func (c *Core) receivePool(in *Input, pks []Spike) {
	kn := in.K
	s := kn.Syn
	for _, pk := range pks {
		n := int64(pk.N)
		ch, pos := kn.hw.divmod(int(pk.Neuron))
		if s.Reads(ch) {
			c.count(in, n, c.pool.receive(c, s, kn.Taps.At(pos), ch, pos/s.Src.W, pos%s.Src.W, n))
		}
	}
}

// count counts the synaptic operations of a packet of n spikes through in that reached
// targets neurons: n·targets accumulates, or targets multiply-accumulates if graded.
func (c *Core) count(in *Input, n, targets int64) {
	if in.Graded {
		c.MACs += targets
	} else {
		c.Synops += abs(n) * targets
	}
}

// receiveKernel integrates the packets through in's kernel and makes their targets
// candidates: for a spike that reaches every channel of the box (a dense kernel), it marks
// its positions; otherwise (grouped, depthwise) the neurons.
func (c *Core) receiveKernel(in *Input, pks []Spike) {
	kn := in.K
	s := kn.Syn
	b := &c.Box
	nc := int32(b.C1 - b.C0)
	now := int32(c.now)
	for _, pk := range pks {
		n := int64(pk.N)
		ch, pos := kn.hw.divmod(int(pk.Neuron))
		if !s.Reads(ch) {
			continue
		}
		sc := kn.sources[ch-s.SrcC0]
		lo, hi := max(sc.f0, b.C0), min(sc.f1, b.C1)
		if lo >= hi {
			continue
		}
		var ops int64
		if hi-lo == 1 {
			ops, c.cands = kn.deliverChannel(sc, lo, kn.Taps.At(pos), n, c.v, *b, c.stamp, now, !c.dense, c.cands)
			c.count(in, n, ops)
			continue
		}
		ops, c.hits = kn.deliver(sc, lo, hi, kn.Taps.At(pos), n, c.v, *b, c.hits[:0])
		c.count(in, n, ops)
		if lo == b.C0 && hi == b.C1 {
			for _, p := range c.hits {
				c.markPosition(p, now)
			}
			continue
		}
		for _, p := range c.hits {
			for f := int32(lo - b.C0); f < int32(hi-b.C0); f++ {
				c.candidate(p*nc + f)
			}
		}
	}
}

// receivePointwise is receiveKernel for a pointwise kernel (Kernel.pointwise): a spike
// reaches its own position, in its group's target channels. Its packets are added one
// weight row each, and a row that covers every channel of the box marks the position.
func (c *Core) receivePointwise(in *Input, pks []Spike) {
	kn := in.K
	s := kn.Syn
	b := &c.Box
	nc, bh, bw := b.C1-b.C0, b.Y1-b.Y0, b.X1-b.X0
	v, now := c.v, int32(c.now)
	var targets, ops int64 // targets reached; and n·targets, summed over the packets
	for _, pk := range pks {
		ch, pos := kn.hw.divmod(int(pk.Neuron))
		if !s.Reads(ch) {
			continue
		}
		y, x := kn.w.divmod(pos)
		y, x = y-b.Y0, x-b.X0
		sc := kn.sources[ch-s.SrcC0]
		lo, hi := max(sc.f0, b.C0), min(sc.f1, b.C1)
		if uint(y) >= uint(bh) || uint(x) >= uint(bw) || lo >= hi {
			continue
		}
		p := y*bw + x
		start := sc.row*kn.outPer + lo - sc.f0
		n := int64(pk.N)
		addScaled(v[p*nc+lo-b.C0:], kn.wt[start:start+hi-lo], n)
		targets += int64(hi - lo)
		ops += abs(n) * int64(hi-lo)
		if lo == b.C0 && hi == b.C1 {
			c.markPosition(int32(p), now)
			continue
		}
		for f := lo - b.C0; f < hi-b.C0; f++ {
			c.candidate(int32(p*nc + f))
		}
	}
	if in.Graded {
		c.MACs += targets
	} else {
		c.Synops += ops
	}
}

// receiveSingle is receiveKernel for a kernel whose source channels each reach one target
// channel (Kernel.single: depthwise convolutions, most of Yolo-Fastest's packets), whose taps
// into the box are bt: one loop over the packets, each adding one weight per tap and
// stamping its targets, making them candidates unless the core is dense.
func (c *Core) receiveSingle(in *Input, bt *boxTaps, pks []Spike) {
	kn := in.K
	s := kn.Syn
	b := &c.Box
	nc := b.C1 - b.C0
	ry0, rx0 := s.Offset-b.Y0*s.Stride, s.Offset-b.X0*s.Stride
	v, stamp, cands := c.v, c.stamp, c.cands
	now, collect := int32(c.now), !c.dense
	var targets, ops int64 // targets reached; and n·targets, summed over the packets
	for _, pk := range pks {
		ch, pos := kn.hw.divmod(int(pk.Neuron))
		if !s.Reads(ch) {
			continue
		}
		sc := kn.sources[ch-s.SrcC0]
		at := sc.f0 - b.C0
		if uint(at) >= uint(nc) {
			continue
		}
		sy, sx := kn.w.divmod(pos)
		ry, rx := sy+ry0, sx+rx0
		if uint(ry) >= uint(bt.spanH) || uint(rx) >= uint(bt.spanW) {
			continue
		}
		r := ry*bt.spanW + rx
		taps := bt.entries[bt.offset[r]:bt.offset[r+1]]
		w := kn.wt[sc.row : sc.row+kn.k2]
		n := int64(pk.N)
		for _, t := range taps {
			i := int(t.at) + at
			v[i] += n * int64(w[t.k])
			// A dense core only stamps (no branch to mispredict); a sparse one collects
			// the targets it stamps first.
			if !collect {
				stamp[i] = now
			} else if stamp[i] != now {
				stamp[i] = now
				cands = append(cands, int32(i))
			}
		}
		targets += int64(len(taps))
		ops += abs(n) * int64(len(taps))
	}
	c.cands = cands
	if in.Graded {
		c.MACs += targets
	} else {
		c.Synops += ops
	}
}

// markPosition marks position p of the box touched in all its channels in tick now.
func (c *Core) markPosition(p, now int32) {
	if c.posMark[p] != now {
		c.posMark[p] = now
		if !c.dense {
			c.posList = append(c.posList, p)
		}
	}
}

// Step fires the current tick's candidates: neurons that received input and neurons whose
// wake is due. It returns their spikes, in no particular order (a deterministic one); the
// slice is reused by the next Step.
func (c *Core) Step() []Spike {
	c.out = c.out[:0]
	before := c.Updates
	switch {
	case c.dense:
		c.stepDense()
	case c.pool != nil:
		c.collect()
		c.pool.step(c)
	default:
		c.collect()
		c.stepNeurons()
	}
	c.cands = c.cands[:0]
	if c.pool == nil && (c.N.Kind == Signed || c.N.Kind == IF) && !c.N.Once {
		active := float64(c.Updates-before) / float64(len(c.net))
		if !c.dense && active >= c.sweep.Enter {
			c.toDense()
		} else if c.dense && active < c.sweep.Leave {
			c.toSparse()
		}
	}
	return c.out
}

// toDense drops the wakes: a dense core finds the neurons that fire on their drive by
// sweeping.
func (c *Core) toDense() {
	c.dense = true
	for b := range c.wheel {
		for _, i := range c.wheel[b] {
			c.wakeAt[i] = -1
		}
		c.wheel[b] = c.wheel[b][:0]
	}
	for _, w := range c.far {
		c.wakeAt[w.neuron] = -1
	}
	c.far, c.farMin, c.filled = c.far[:0], 1<<31-1, 0
}

// toSparse schedules every neuron's wake after a dense step, in which every membrane was
// brought up to date.
func (c *Core) toSparse() {
	c.dense = false
	t := c.now
	nc := c.Box.C1 - c.Box.C0
	for i := range c.net {
		c.last[i] = int32(t)
		if tick, ok := c.N.NextFire(c.Box.C0+i%nc, c.v[i], c.net[i], c.drive[i], t); ok {
			c.schedule(int32(i), tick, t)
		}
	}
}

// collect gathers the candidates: touched positions of touched channels, and due wakes.
func (c *Core) collect() {
	t := c.now
	if len(c.posList) > 0 {
		nc := int32(c.Box.C1 - c.Box.C0)
		for _, p := range c.posList {
			for ch := int32(0); ch < nc; ch++ {
				c.candidate(p*nc + ch)
			}
		}
		c.posList = c.posList[:0]
	}
	if c.N.Kind == Accumulator {
		return
	}
	if len(c.far) > 0 && c.farMin < t+wheelSize {
		kept, m := c.far[:0], 1<<31-1
		for _, w := range c.far {
			switch {
			case c.wakeAt[w.neuron] != w.tick: // moved since: stale
			case int(w.tick) < t+wheelSize:
				b := int(w.tick) % wheelSize
				c.wheel[b] = append(c.wheel[b], w.neuron)
				c.filled |= 1 << b
			default:
				kept = append(kept, w)
				m = min(m, int(w.tick))
			}
		}
		c.far, c.farMin = kept, m
	}
	b := t % wheelSize
	for _, i := range c.wheel[b] {
		if int(c.wakeAt[i]) == t {
			c.wakeAt[i] = -1
			c.candidate(i)
		}
	}
	c.wheel[b] = c.wheel[b][:0]
	c.filled &^= 1 << b
}

// stepNeurons updates and fires the candidates of a Signed, IF, Graded or Accumulator core.
func (c *Core) stepNeurons() {
	t := c.now
	nc := c.Box.C1 - c.Box.C0
	accumulates := c.N.Kind == Accumulator
	waits := c.N.Once && t < c.N.Onset // integrates, fires from the onset (see Neurons.Once)
	for _, i := range c.cands {
		c.Updates++
		// Add the drive of the ticks since the neuron was last updated, up to this one.
		c.v[i] += c.drive[i] * c.N.drivenTicks(c.last[i], int32(t))
		c.last[i] = int32(t)
		if accumulates {
			continue
		}
		ch := c.Box.C0 + int(i)%nc
		if !waits {
			if k := Fire(c.N.Kind, &c.N.Threshold[ch], &c.v[i], &c.net[i], c.N.MaxSpikes); k != 0 {
				c.out = append(c.out, Spike{int32(c.global(int(i))), int32(k)})
				c.Spikes += abs(k)
				c.Events++
			}
		}
		if tick, ok := c.N.NextFire(ch, c.v[i], c.net[i], c.drive[i], t); ok {
			c.schedule(i, tick, t)
		} else {
			c.wakeAt[i] = -1
		}
	}
}

// Counts returns every neuron's net spike count, in box order (nil for accumulators).
func (c *Core) Counts() []int64 {
	if c.N.Kind == Accumulator {
		return nil
	}
	out := make([]int64, len(c.net))
	for i := range c.net {
		out[i] = c.net[i]
	}
	return out
}

// Membranes returns the membranes, in box order, after tick t-1 (that is, after t ticks),
// with the drive of the ticks the neurons skipped added. For accumulator cores, and for any
// core but a max-pool when a run keeps its state to resume from.
func (c *Core) Membranes(t int) []int64 {
	out := slices.Clone(c.v)
	for i := range out {
		out[i] += c.drive[i] * c.N.drivenTicks(c.last[i], int32(t-1))
	}
	return out
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
