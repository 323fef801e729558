package chip

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"

	"github.com/sourcegraph/conc"

	"spikeyolo/core"
	"spikeyolo/router"
)

// Result is what a run of a Program recorded.
type Result struct {
	Snapshots []Snapshot
	Ticks     int             // ticks run
	Busy      int             // ticks in which a core worked (its counters grew)
	Cores     []core.Counters // per core, over the run
	Sent      []router.Stats  // per source core: the network traffic of its spikes
	Network   router.Stats    // all traffic
	Links     map[router.Link]int64
	Time      Timing
	Trace     *Trace // if the probe asked for it: what Reprice needs
}

// chunkTicks is the most ticks the engine runs one core through before it turns to the next
// core. A spike fired in tick t is integrated in tick t+1 by cores of later layers only, so
// the engine may run the layers one after another through a span of ticks, each core through
// the whole span at once: its state stays in the processor's cache for the span instead of
// being fetched once per tick. The packets of a span wait in their source cores' outboxes
// until the span's later layers have read them, so the span bounds their memory.
const chunkTicks = 8

// Run runs the program on one stimulus up to the last of the probe's ticks, event by event,
// with up to workers cores stepping in parallel (0: GOMAXPROCS). Its snapshots equal
// Reference's bit for bit, and its result is the same for any number of workers.
//
// A core steps in a tick when packets reach it or when its own wake is due (core.Core.NextWake);
// a tick in which no core works (a neuron updated, a packet received) is priced as idle. Ticks are run in spans (see chunkTicks) that
// end at every probe tick: in each span the busy cores step layer by layer, the cores of one
// layer in parallel, then the span's ticks are closed in order: their packets routed through
// the mesh and their time priced.
func (p *Program) Run(stim Stimulus, probe Probe, workers int) (*Result, error) {
	if err := checkStimulus(p.Net, stim); err != nil {
		return nil, err
	}
	if probe.TraceOnly && !probe.Trace {
		return nil, errors.New("chip: a run that only keeps its trace (Probe.TraceOnly) must keep it (Probe.Trace)")
	}
	ticks := probe.Ticks
	if len(ticks) == 0 || !slices.IsSorted(ticks) || ticks[0] < 1 {
		return nil, fmt.Errorf("chip: ticks %v: want ascending ticks >= 1", ticks)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	e, err := p.newEngine(stim, probe, workers)
	if err != nil {
		return nil, err
	}
	t := e.nextTick(0)
	for t < e.T {
		end := e.spanEnd(t)
		e.stepLayers(t, end)
		e.closeTicks(t, end)
		t = e.nextTick(end)
		if probe.Progress != nil {
			probe.Progress(t)
		}
	}
	return e.finish(), nil
}

// engine is the state of one run.
type engine struct {
	p       *Program
	routes  *routes
	probe   Probe
	T       int // the run ends before tick T
	cores   []*core.Core
	outbox  []outbox // per core: its packets of the current span
	wakes   *wakeQueue
	wakeAt  []int32 // per core: the tick of its next wake, or -1
	stop    []int   // per layer: the tick from which its cores no longer step (see Probe.Trim)
	busy    [][]int32
	marked  []int32 // per core: the span (its first tick + 1) for which it is in busy
	pending []int32 // the cores that packets reach in the first tick of the next span
	workers []*worker
	pricer  *pricer
	res     *Result
	probed  int // the probe ticks snapshotted so far
}

// worker is what one goroutine records while it steps cores through a span.
type worker struct {
	busy    []bool       // per tick of the span: a core worked
	slowest []float64    // per tick of the span: the slowest pipeline of the cores that worked
	sends   [][]send     // per tick of the span: the classes that sent packets
	work    [][]coreWork // per tick of the span, if the run keeps a trace: the cores that worked
	woken   []int32      // cores that packets reach within the span
	carried []int32      // cores that packets reach in the tick after the span
	count   []int32      // scratch, per class of the core being stepped
	class   []int32      // scratch, per spike the core being stepped emitted: its class
	fired   []uint8      // scratch, per class: sent in the span (1) and in its last tick (2)
}

// send is n packets of class Class of core Src, sent in one tick.
type send struct{ Src, Class, N int32 }

// coreWork is how much the counters of core Core grew in one tick.
type coreWork struct {
	Core int32
	core.Counters
}

// plus is the sum of two counts.
func plus(a, b core.Counters) core.Counters {
	return core.Counters{Synops: a.Synops + b.Synops, MACs: a.MACs + b.MACs, Updates: a.Updates + b.Updates, Spikes: a.Spikes + b.Spikes,
		Events: a.Events + b.Events, Packets: a.Packets + b.Packets}
}

// grown is what the counters counted from before to after.
func grown(before, after core.Counters) core.Counters {
	return core.Counters{Synops: after.Synops - before.Synops, MACs: after.MACs - before.MACs, Updates: after.Updates - before.Updates,
		Spikes: after.Spikes - before.Spikes, Events: after.Events - before.Events, Packets: after.Packets - before.Packets}
}

func (p *Program) newEngine(stim Stimulus, probe Probe, workers int) (*engine, error) {
	T := probe.Ticks[len(probe.Ticks)-1]
	e := &engine{p: p, routes: p.routes, probe: probe, T: T, cores: make([]*core.Core, len(p.Cores)),
		outbox: make([]outbox, len(p.Cores)), wakes: newWakeQueue(len(p.Cores)), wakeAt: make([]int32, len(p.Cores)),
		busy: make([][]int32, len(p.Net.Layers)), marked: make([]int32, len(p.Cores)),
		res: &Result{Ticks: T}}
	for i, spec := range p.Cores {
		l := &p.Net.Layers[spec.Layer]
		var inputs []core.Input
		for j := range l.Inputs {
			from := l.Inputs[j].From
			inputs = append(inputs, core.Input{From: from, K: p.kernels[spec.Layer][j], Graded: p.Net.Layers[from].Graded})
		}
		e.cores[i] = core.NewCore(&l.Neurons, spec.Box, inputs, p.sweep)
		from, err := start(p.Net, probe.From, spec.Layer)
		if err != nil {
			return nil, err
		}
		e.cores[i].Reset(stim[spec.Layer], T, from)
		e.outbox[i].classes = len(e.routes.classes[i])
		e.outbox[i].first = -2
		e.wakeAt[i] = int32(e.cores[i].NextWake(-1))
		e.wakes.set(int32(i), int(e.wakeAt[i]), T)
	}
	var err error
	if e.stop, err = stops(p.Net, probe); err != nil {
		return nil, err
	}
	e.pricer = p.newPricer()
	if probe.Trace {
		e.res.Trace = &Trace{net: p.Net, cores: p.Cores, routes: p.routes}
	}
	for range workers {
		e.workers = append(e.workers, &worker{busy: make([]bool, chunkTicks), slowest: make([]float64, chunkTicks),
			sends: make([][]send, chunkTicks), work: make([][]coreWork, chunkTicks)})
	}
	return e, nil
}

// nextTick is the first tick from t in which a core may step, or T: t itself if packets
// reach cores in it, else the earliest wake. It takes the snapshots due before it.
func (e *engine) nextTick(t int) int {
	next := e.T
	if len(e.pending) > 0 {
		next = t
	} else if w, ok := e.wakes.next(); ok {
		next = min(w, e.T)
	}
	e.snapshot(next)
	return next
}

// spanEnd is the end of the span that starts at tick t: chunkTicks later, or at the next probe
// tick if that is sooner.
func (e *engine) spanEnd(t int) int {
	end := min(t+chunkTicks, e.T)
	if i, _ := slices.BinarySearch(e.probe.Ticks, t+1); i < len(e.probe.Ticks) {
		end = min(end, e.probe.Ticks[i])
	}
	return end
}

// mark adds core c to the busy cores of the span that starts at tick t0.
func (e *engine) mark(c int32, t0 int) {
	if e.marked[c] != int32(t0+1) {
		e.marked[c] = int32(t0 + 1)
		l := e.p.coreLayer[c]
		e.busy[l] = append(e.busy[l], c)
	}
}

// stepLayers steps the busy cores through ticks [t0, t1), layer by layer: the cores that
// packets reach in tick t0, those whose wake falls in the span, and those that packets of
// earlier layers reach within it.
func (e *engine) stepLayers(t0, t1 int) {
	for _, c := range e.pending {
		e.mark(c, t0)
	}
	e.pending = e.pending[:0]
	e.wakes.popBefore(t1, func(c int32) { e.mark(c, t0) })
	for _, w := range e.workers {
		clear(w.busy)
		clear(w.slowest)
		for k := range w.sends {
			w.sends[k], w.work[k] = w.sends[k][:0], w.work[k][:0]
		}
	}
	for l := range e.busy {
		cores := e.busy[l]
		if len(cores) == 0 {
			continue
		}
		var next atomic.Int64
		var wg conc.WaitGroup
		for _, w := range e.workers[:min(len(e.workers), len(cores))] {
			wg.Go(func() {
				for {
					k := int(next.Add(1) - 1)
					if k >= len(cores) {
						return
					}
					e.stepCore(cores[k], t0, t1, w)
				}
			})
		}
		wg.Wait()
		for _, c := range cores {
			e.wakes.set(c, int(e.wakeAt[c]), e.T)
		}
		e.busy[l] = cores[:0]
		for _, w := range e.workers {
			for _, c := range w.woken {
				e.mark(c, t0)
			}
			w.woken = w.woken[:0]
		}
	}
	for _, w := range e.workers {
		e.pending = append(e.pending, w.carried...)
		w.carried = w.carried[:0]
	}
	slices.Sort(e.pending)
	e.pending = slices.Compact(e.pending)
}

// stepCore steps core ci through ticks [t0, t1): in every tick in which packets reach it or
// its wake is due, it integrates its packets, fires, and posts its spikes to its outbox.
func (e *engine) stepCore(ci int32, t0, t1 int, w *worker) {
	c := e.cores[ci]
	ob := &e.outbox[ci]
	ob.startSpan(t0)
	classOf := e.routes.classOf[e.p.coreLayer[ci]]
	classes := e.routes.classes[ci]
	w.fired = slices.Grow(w.fired[:0], len(classes))[:len(classes)]
	clear(w.fired)
	ins := e.routes.inputs[ci]
	wake := int(e.wakeAt[ci])
	stop := e.stop[e.p.coreLayer[ci]]
	for t := t0; t < t1; t++ {
		if t >= stop { // trimmed: what it would do reaches no output
			ob.post(nil, classOf, w)
			continue
		}
		mail := false
		for _, in := range ins {
			if len(e.outbox[in.Src].packets(t-1, in.Class)) > 0 {
				mail = true
				break
			}
		}
		if !mail && t != wake {
			ob.post(nil, classOf, w)
			continue
		}
		before := c.Counters
		c.Begin(t)
		for _, in := range ins {
			if pks := e.outbox[in.Src].packets(t-1, in.Class); len(pks) > 0 {
				c.Receive(int(e.p.coreLayer[in.Src]), pks)
			}
		}
		ob.post(c.Step(), classOf, w)
		k := t - t0
		for cl, n := range w.count {
			if n > 0 {
				w.sends[k] = append(w.sends[k], send{ci, int32(cl), n})
				if t < t1-1 {
					w.fired[cl] |= 1
				} else {
					w.fired[cl] |= 2
				}
			}
		}
		if d := grown(before, c.Counters); d != (core.Counters{}) {
			w.busy[k] = true
			w.slowest[k] = max(w.slowest[k], e.pricer.clock.core(ci, d))
			if e.res.Trace != nil {
				w.work[k] = append(w.work[k], coreWork{ci, d})
			}
		}
		wake = c.NextWake(t)
	}
	if wake >= stop {
		wake = -1
	}
	e.wakeAt[ci] = int32(wake)
	for cl, f := range w.fired {
		if f&1 != 0 {
			w.woken = append(w.woken, classes[cl].dst...)
		}
		if f&2 != 0 {
			w.carried = append(w.carried, classes[cl].dst...)
		}
	}
}

// closeTicks closes ticks [t0, t1) in order: it routes each busy tick's packets through the
// mesh and prices the tick's time, keeping both in the trace if the probe asked for one.
func (e *engine) closeTicks(t0, t1 int) {
	for t := t0; t < t1; t++ {
		k := t - t0
		busy, slowest := false, e.pricer.clock.idle
		for _, w := range e.workers {
			busy = busy || w.busy[k]
			slowest = max(slowest, w.slowest[k])
		}
		if !busy {
			continue
		}
		tr := e.res.Trace
		for _, w := range e.workers {
			if !e.probe.TraceOnly {
				for _, s := range w.sends[k] {
					e.pricer.route(s)
				}
			}
			if tr != nil {
				tr.sends = append(tr.sends, w.sends[k]...)
				tr.work = append(tr.work, w.work[k]...)
			}
		}
		if !e.probe.TraceOnly {
			e.pricer.closeTick(t, slowest)
		}
		if tr != nil {
			tr.ticks = append(tr.ticks, tracedTick{tick: int32(t), work: len(tr.work), sends: len(tr.sends)})
		}
	}
}

// snapshot takes the snapshots of the probe ticks up to tick t, in which no core steps
// between the last tick run and t.
func (e *engine) snapshot(t int) {
	for ; e.probed < len(e.probe.Ticks) && e.probe.Ticks[e.probed] <= t; e.probed++ {
		e.res.Snapshots = append(e.res.Snapshots, e.p.snapshot(e.cores, e.probe.Ticks[e.probed], e.probe))
	}
}

// finish completes the result after the last tick.
func (e *engine) finish() *Result {
	res := e.res
	if e.probe.TraceOnly {
		res.Busy = len(res.Trace.ticks)
	} else {
		e.pricer.finish(res, e.T)
	}
	res.Cores = make([]core.Counters, len(e.cores))
	for i, c := range e.cores {
		res.Cores[i] = c.Counters
	}
	return res
}

// pricer routes a run's packets through the mesh and prices its ticks: the part of a run that
// the placement, routing and multicast change, and the rest do not.
type pricer struct {
	mesh   *router.Network
	clock  clock
	sent   []router.Stats    // per source core
	routes [][]*router.Route // per source core and class, found when first sent
	busy   int               // busy ticks closed
}

func (p *Program) newPricer() *pricer {
	lat := p.Arch.Latency
	return &pricer{mesh: router.NewNetwork(p.Topology, p.Slots, p.Routing, p.Multicast,
		router.Latency{EastWest: lat.HopEastWest, NorthSouth: lat.HopNorthSouth, WithinTile: lat.WithinTile, ChipCrossing: lat.ChipCrossing}, 1),
		clock: clock{p: p, idle: p.idleTime()}, sent: make([]router.Stats, len(p.Cores)), routes: make([][]*router.Route, len(p.Cores))}
}

// route routes one send's packets and counts their traffic to their source core.
func (pr *pricer) route(s send) {
	routes := pr.routes[s.Src]
	if routes == nil {
		routes = make([]*router.Route, len(pr.clock.p.routes.classes[s.Src]))
		pr.routes[s.Src] = routes
	}
	r := routes[s.Class]
	if r == nil {
		r = pr.mesh.Route(int(s.Src), pr.clock.p.routes.classes[s.Src][s.Class].dst)
		routes[s.Class] = r
	}
	pr.mesh.Shard(0).SendRoute(r, int64(s.N))
	pr.sent[s.Src].AddTimes(r.Unit, int64(s.N))
}

// closeTick ends busy tick t, whose packets are routed and whose slowest core's pipeline took
// slowest seconds (at least the idle pipeline).
func (pr *pricer) closeTick(t int, slowest float64) {
	maxLoad, pathTime := pr.mesh.EndTick()
	pr.clock.busyTick(t, slowest, maxLoad, pathTime)
	pr.busy++
}

// finish prices the idle ticks up to T and fills res's traffic and time.
func (pr *pricer) finish(res *Result, T int) {
	pr.clock.idleTicks(T)
	res.Time = pr.clock.Timing
	res.Busy = pr.busy
	res.Sent = pr.sent
	res.Network = pr.mesh.Stats
	res.Links = map[router.Link]int64{}
	pr.mesh.LinkLoads(func(l router.Link, n int64) { res.Links[l] = n })
}

// Trace is what a run keeps, when its probe asks, to be priced again on another placement,
// routing or multicast, and on any program whose every box holds some of the run's cores
// (Program.Reprice; see Refine): for every tick in which cores worked, how much each one's
// counters grew, and the packets each class of each core sent. It holds no spikes: the
// neurons' spikes, and so the snapshots, do not depend on the cores.
type Trace struct {
	net    *Network
	cores  []CoreSpec
	routes *routes // the classes of the run's cores
	ticks  []tracedTick
	work   []coreWork // by tick
	sends  []send     // by tick
}

// tracedTick is a tick in which cores worked, and the ends of its work and sends in Trace.
type tracedTick struct {
	tick        int32
	work, sends int
}

// Reprice prices, from the trace of a run, a run of p on the same stimulus and probe, without
// running it: p may be placed, routed and multicast otherwise than the run's program, and cut
// otherwise too if each of the run's boxes lies within one of p's (p is coarser: see Refine).
// The result equals p.Run's bit for bit; it shares res's snapshots and trace.
func (p *Program) Reprice(res *Result) (*Result, error) {
	tr := res.Trace
	if tr == nil {
		return nil, errors.New("chip: the run kept no trace to price again (Probe.Trace)")
	}
	m, err := p.coarsening(tr)
	if err != nil {
		return nil, err
	}
	pr := p.newPricer()
	totals := make([]core.Counters, len(p.Cores))
	work := make([]core.Counters, len(p.Cores)) // this tick's, per core of p
	arriving := make([]int64, len(p.Cores))     // packets sent in the tick before, per destination core
	var touched, reached []int32
	sent := make([]int32, m.first[len(p.Cores)]) // this tick's packets, per class of p
	var sending []send                           // the classes of p that send this tick
	arrivalTick, work0, sends0 := int32(-1), 0, 0
	for _, tk := range tr.ticks {
		if tk.tick != arrivalTick {
			for _, c := range reached {
				arriving[c] = 0
			}
			reached = reached[:0]
		}
		touched = touched[:0]
		mark := func(c int32) {
			if work[c] == (core.Counters{}) {
				touched = append(touched, c)
			}
		}
		for _, w := range tr.work[work0:tk.work] {
			c := m.core[w.Core]
			// The packets come from the sends: one that reaches several of c's parts arrives once.
			d := core.Counters{Synops: w.Synops, MACs: w.MACs, Updates: w.Updates, Spikes: w.Spikes, Events: w.Events}
			if d != (core.Counters{}) {
				mark(c)
				work[c] = plus(work[c], d)
			}
		}
		for _, c := range reached {
			mark(c)
			work[c].Packets += arriving[c]
			arriving[c] = 0
		}
		reached = reached[:0]
		slowest := pr.clock.idle
		for _, c := range touched {
			slowest = max(slowest, pr.clock.core(c, work[c]))
			totals[c], work[c] = plus(totals[c], work[c]), core.Counters{}
		}
		// The traced sends, gathered by p's (core, class): parts of one core of p send as one.
		for _, s := range tr.sends[sends0:tk.sends] {
			q, err := m.send(s)
			if err != nil {
				return nil, err
			}
			k := m.first[q.Src] + q.Class
			if sent[k] == 0 {
				sending = append(sending, send{q.Src, q.Class, 0})
			}
			sent[k] += q.N
		}
		for _, q := range sending {
			k := m.first[q.Src] + q.Class
			q.N, sent[k] = sent[k], 0
			pr.route(q)
			for _, d := range p.routes.classes[q.Src][q.Class].dst {
				if arriving[d] == 0 {
					reached = append(reached, d)
				}
				arriving[d] += int64(q.N)
			}
		}
		sending = sending[:0]
		arrivalTick, work0, sends0 = tk.tick+1, tk.work, tk.sends
		pr.closeTick(int(tk.tick), slowest)
	}
	out := &Result{Snapshots: res.Snapshots, Ticks: res.Ticks, Cores: totals, Trace: tr}
	pr.finish(out, res.Ticks)
	return out, nil
}

// coarsening maps the cores and classes of a traced run onto p's.
type coarsening struct {
	p       *Program
	tr      *Trace
	core    []int32            // per traced core: p's core that holds its box
	first   []int32            // per core of p, and one past the last: the index of its first class among all of p's
	classes [][]int32          // per traced core and class: p's class of p's core, or -1 until found
	ids     []map[string]int32 // per core of p: its classes by their destinations, when needed
	dst     []int32            // scratch
	key     []byte             // scratch
}

// coarsening finds, for every core of the trace, the core of p that holds its box; it fails
// if p is not coarser than the traced program.
func (p *Program) coarsening(tr *Trace) (*coarsening, error) {
	if tr.net != p.Net {
		return nil, errors.New("chip: the run is of another network")
	}
	m := &coarsening{p: p, tr: tr, core: make([]int32, len(tr.cores)), classes: make([][]int32, len(tr.cores)), ids: make([]map[string]int32, len(p.Cores))}
	for i, spec := range tr.cores {
		b := spec.Box
		c := p.coreAt(spec.Layer, b.C0, b.Y0, b.X0)
		if h := p.Cores[c].Box; b.C1 > h.C1 || b.Y1 > h.Y1 || b.X1 > h.X1 {
			return nil, fmt.Errorf("chip: the run's core %d (layer %d, box %+v) straddles cores of this program: it is not a refinement of them (see Refine)", i, spec.Layer, b)
		}
		m.core[i] = c
	}
	m.first = make([]int32, len(p.Cores)+1)
	for c, cls := range p.routes.classes {
		m.first[c+1] = m.first[c] + int32(len(cls))
	}
	return m, nil
}

// send is the traced send s as p sends it: from p's core that holds s's source, in the class
// whose destinations hold s's.
func (m *coarsening) send(s send) (send, error) {
	src := m.core[s.Src]
	cls := m.classes[s.Src]
	if cls == nil {
		cls = make([]int32, len(m.tr.routes.classes[s.Src]))
		for i := range cls {
			cls[i] = -1
		}
		m.classes[s.Src] = cls
	}
	if cls[s.Class] < 0 {
		m.dst = m.dst[:0]
		for _, d := range m.tr.routes.classes[s.Src][s.Class].dst {
			m.dst = append(m.dst, m.core[d])
		}
		slices.Sort(m.dst)
		m.dst = slices.Compact(m.dst)
		if m.ids[src] == nil {
			m.ids[src] = map[string]int32{}
			for k, c := range m.p.routes.classes[src] {
				m.ids[src][string(destinationKey(nil, c.dst))] = int32(k)
			}
		}
		m.key = destinationKey(m.key[:0], m.dst)
		k, ok := m.ids[src][string(m.key)]
		if !ok {
			return send{}, fmt.Errorf("chip: the run's core %d sends to cores %v of this program, where its core %d has no such class", s.Src, m.dst, src)
		}
		cls[s.Class] = k
	}
	return send{src, cls[s.Class], s.N}, nil
}

// outbox holds a core's packets of a span, by tick and class: the queue each class's
// destination cores read. Slot 0 is the tick before the span, so that the span's first tick
// can read it; slot s is tick first+s.
type outbox struct {
	classes int
	first   int          // the tick of slot 0
	slots   int          // the slots filled
	spikes  []core.Spike // the packets, by slot, then class
	bounds  []int32      // per slot, classes+1 offsets into spikes: class k is [bounds[k], bounds[k+1])
}

// packets returns the packets of class cl sent in tick t (none if t is not held).
func (o *outbox) packets(t int, cl int32) []core.Spike {
	s := t - o.first
	if s < 0 || s >= o.slots {
		return nil
	}
	b := o.bounds[s*(o.classes+1)+int(cl):]
	return o.spikes[b[0]:b[1]]
}

// startSpan keeps, of what the outbox holds, the packets of tick t0-1 only, in slot 0.
func (o *outbox) startSpan(t0 int) {
	s := t0 - 1 - o.first
	n := o.classes + 1
	if s < 0 || s >= o.slots {
		o.spikes, o.bounds = o.spikes[:0], o.bounds[:0]
		for range n {
			o.bounds = append(o.bounds, 0)
		}
	} else {
		b := o.bounds[s*n : (s+1)*n]
		lo, hi := b[0], b[n-1]
		o.spikes = o.spikes[:copy(o.spikes, o.spikes[lo:hi])]
		for k := range b {
			o.bounds[k] = b[k] - lo
		}
		o.bounds = o.bounds[:n]
	}
	o.first, o.slots = t0-1, 1
}

// post fills the next slot with spikes, sorted into their classes by classOf (spikes of no
// class reach no core), and leaves in w.count the packets of each class.
func (o *outbox) post(spikes []core.Spike, classOf []int32, w *worker) {
	w.count = slices.Grow(w.count[:0], o.classes)[:o.classes]
	clear(w.count)
	if o.classes == 0 { // a layer no other reads
		o.bounds = append(o.bounds, int32(len(o.spikes)))
		o.slots++
		return
	}
	// Spikes come in neuron order, and the neurons of a position share their class: count
	// runs of a class, not spikes (one spike at a time made a chain of increments of one
	// counter, each waiting for the one before).
	w.class = w.class[:0]
	run, prev := int32(0), int32(-1)
	for _, sp := range spikes {
		cl := classOf[sp.Neuron]
		w.class = append(w.class, cl)
		if cl != prev {
			if prev >= 0 {
				w.count[prev] += run
			}
			run, prev = 0, cl
		}
		run++
	}
	if prev >= 0 {
		w.count[prev] += run
	}
	at := int32(len(o.spikes))
	for _, n := range w.count {
		o.bounds = append(o.bounds, at)
		at += n
	}
	o.bounds = append(o.bounds, at)
	o.slots++
	if len(spikes) == 0 {
		return
	}
	base := len(o.spikes)
	o.spikes = slices.Grow(o.spikes, int(at)-base)[:at]
	b := o.bounds[len(o.bounds)-o.classes-1:]
	next := w.count // reused as each class's next free index; restored below
	for cl := range next {
		next[cl] = b[cl]
	}
	for i, sp := range spikes {
		if cl := w.class[i]; cl >= 0 {
			o.spikes[next[cl]] = sp
			next[cl]++
		}
	}
	for cl := range next {
		next[cl] -= b[cl]
	}
}

// snapshot records the state after tick ticks.
func (p *Program) snapshot(cores []*core.Core, tick int, probe Probe) Snapshot {
	counts := probe.Counts || probe.State
	n := len(p.Net.Layers)
	s := Snapshot{Tick: tick, Spikes: make([]int64, n), Synops: make([]int64, n), MACs: make([]int64, n), Events: make([]int64, n),
		Membranes: make([][]int64, n)}
	if counts {
		s.Counts = make([][]int64, n)
	}
	// scatter copies a core's values, in box order, into its layer's map.
	scatter := func(dst *[]int64, layer int, b core.Box, vals []int64) {
		shape := p.Net.Layers[layer].Shape
		if *dst == nil {
			*dst = make([]int64, shape.Size())
		}
		for k, v := range vals {
			ch, y, x := b.At(k)
			(*dst)[shape.Index(ch, y, x)] = v
		}
	}
	for i, c := range cores {
		l := p.Cores[i].Layer
		s.Spikes[l] += c.Spikes
		s.Synops[l] += c.Synops
		s.MACs[l] += c.MACs
		s.Events[l] += c.Events
		kind := p.Net.Layers[l].Kind
		if kind == core.Accumulator || probe.State && kind != core.MaxPool {
			scatter(&s.Membranes[l], l, c.Box, c.Membranes(tick))
		}
		if kind != core.Accumulator && counts {
			scatter(&s.Counts[l], l, c.Box, c.Counts())
		}
	}
	return s
}
