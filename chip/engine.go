package chip

import (
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"

	"github.com/google/btree"
	"github.com/sourcegraph/conc"

	"spikeyolo/core"
	"spikeyolo/router"
)

// Result is what a run of a Program recorded.
type Result struct {
	Snapshots []Snapshot
	Ticks     int             // ticks run
	Busy      int             // ticks in which something happened
	Cores     []core.Counters // per core, over the run
	Sent      []router.Stats  // per source core: the network traffic of its spikes
	Network   router.Stats    // all traffic
	Links     map[router.Link]int64
	Time      Timing
}

// Timing is the modelled duration of the run, in seconds: per tick, the slowest core's
// pipeline (its operations one after another, every neuron's update included where the
// hardware updates them all), then the network (the longest packet path, plus the waiting of
// the busiest link's packets), then the barrier; at least the architecture's minimum tick.
type Timing struct {
	Frame   float64 // the whole run
	Compute float64 // of which the slowest cores' pipelines
	Network float64 // of which the network
	Barrier float64 // of which the barriers
}

// wakeKey is an entry of the engine's event queue: core Core has work in tick Tick. The
// queue holds one entry per core at most, ordered by (tick, core), so the engine finds the
// next busy tick in O(log cores) and skips empty ticks entirely. Spikes themselves wait in
// per-core inboxes for the next tick; a btree keyed by (tick, core) of per-core activations
// is far smaller than one entry per packet.
type wakeKey struct{ tick, core int32 }

func wakeLess(a, b wakeKey) bool { return a.tick < b.tick || (a.tick == b.tick && a.core < b.core) }

// Run runs the program on one stimulus up to the last of the probe's ticks, event by event,
// with up to workers cores stepping in parallel (0: GOMAXPROCS). Its snapshots equal
// Reference's bit for bit, for any number of workers.
func (p *Program) Run(stim Stimulus, probe Probe, workers int) (*Result, error) {
	net := p.Net
	if err := checkStimulus(net, stim); err != nil {
		return nil, err
	}
	ticks := probe.Ticks
	if len(ticks) == 0 || !slices.IsSorted(ticks) || ticks[0] < 1 {
		return nil, fmt.Errorf("chip: ticks %v: want ascending ticks >= 1", ticks)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	T := ticks[len(ticks)-1]
	cores := make([]*core.Core, len(p.Cores))
	for i, spec := range p.Cores {
		l := &net.Layers[spec.Layer]
		var inputs []core.Input
		for j := range l.Inputs {
			inputs = append(inputs, core.Input{From: l.Inputs[j].From, K: p.kernels[spec.Layer][j]})
		}
		cores[i] = core.NewCore(&l.Neurons, spec.Box, inputs, p.sweep)
		cores[i].Reset(stim[spec.Layer], T)
	}
	lat := p.Arch.Latency
	network := router.NewNetwork(p.Topology, p.Slots, p.Routing, p.Multicast,
		router.Latency{EastWest: lat.HopEastWest, NorthSouth: lat.HopNorthSouth, WithinTile: lat.WithinTile, ChipCrossing: lat.ChipCrossing}, workers)
	res := &Result{Ticks: T, Sent: make([]router.Stats, len(cores)), Links: map[router.Link]int64{}}

	queue := btree.NewG[wakeKey](16, wakeLess)
	queued := make([]int32, len(cores)) // the tick of each core's queue entry, or -1
	requeue := func(c int, tick int) {
		if queued[c] >= 0 {
			queue.Delete(wakeKey{queued[c], int32(c)})
			queued[c] = -1
		}
		if tick >= 0 && tick < T {
			queued[c] = int32(tick)
			queue.ReplaceOrInsert(wakeKey{int32(tick), int32(c)})
		}
	}
	for c := range cores {
		queued[c] = -1
		requeue(c, cores[c].NextWake(-1))
	}
	// Each worker posts the packets it routes to its own outbox; a core reads its packets
	// from every worker's inbox (last tick's outboxes).
	type box struct {
		packets [][]router.Packet // per destination core
		mail    []int32           // the cores with packets
	}
	newBoxes := func() []box {
		b := make([]box, workers)
		for w := range b {
			b[w].packets = make([][]router.Packet, len(cores))
		}
		return b
	}
	inbox, outbox := newBoxes(), newBoxes()
	perDsts := make([][]int64, workers) // per worker, see below
	idle := p.idleTime()
	var active []int32
	coreTime := make([]float64, len(cores))
	wakeAt := make([]int, len(cores))
	nextProbe := 0
	// advance accounts for the empty ticks [from, to) and takes the snapshots due by then.
	advance := func(from, to int) {
		empty := float64(to - from)
		res.Time.Frame += empty * max(lat.Barrier+idle, p.Arch.TickMin)
		res.Time.Compute += empty * idle
		res.Time.Barrier += empty * lat.Barrier
		for ; nextProbe < len(ticks) && ticks[nextProbe] <= to; nextProbe++ {
			res.Snapshots = append(res.Snapshots, p.snapshot(cores, ticks[nextProbe], probe.Counts))
		}
	}
	t := T
	if queue.Len() > 0 {
		m, _ := queue.Min()
		t = int(m.tick)
	}
	advance(0, t)
	for t < T {
		// The cores busy in tick t: those with mail and those whose wake is due.
		active = active[:0]
		for w := range outbox {
			active = append(active, outbox[w].mail...)
			outbox[w].mail = outbox[w].mail[:0]
		}
		for queue.Len() > 0 {
			m, _ := queue.Min()
			if int(m.tick) != t {
				break
			}
			queue.DeleteMin()
			queued[m.core] = -1
			active = append(active, m.core)
		}
		slices.Sort(active)
		active = slices.Compact(active)
		inbox, outbox = outbox, inbox

		// Every busy core integrates its packets, fires, and routes its spikes to the next
		// tick's outboxes; workers take cores one at a time.
		var next atomic.Int64
		var wg conc.WaitGroup
		for w := 0; w < min(workers, len(active)); w++ {
			shard, out := network.Shard(w), &outbox[w]
			// With per-core multicast, perDst counts the packets of the core being stepped
			// to each destination (those in sentTo), routed once per pair; it is all zero
			// between cores, and kept from tick to tick.
			if p.Multicast == router.PerCore && perDsts[w] == nil {
				perDsts[w] = make([]int64, len(cores))
			}
			perDst := perDsts[w]
			wg.Go(func() {
				var scratch []int32
				var sentTo []int32
				for {
					k := int(next.Add(1) - 1)
					if k >= len(active) {
						return
					}
					ci := active[k]
					c := cores[ci]
					before := c.Counters
					c.Begin(t)
					for i := range inbox {
						// A core's packets to ci are consecutive: receive them by runs of one
						// source layer.
						pks := inbox[i].packets[ci]
						for len(pks) > 0 {
							from := p.coreLayer[pks[0].SrcCore]
							j := 1
							for j < len(pks) && p.coreLayer[pks[j].SrcCore] == from {
								j++
							}
							c.Receive(int(from), pks[:j])
							pks = pks[j:]
						}
						inbox[i].packets[ci] = inbox[i].packets[ci][:0]
					}
					spec := &p.Cores[ci]
					// The shard's counts before this core's spikes; MaxHops restarts so that
					// the core's own longest path is recorded, not its worker's so far.
					sent := shard.Stats
					shard.MaxHops = 0
					for _, sp := range c.Step() {
						dst := p.Destinations(spec.Layer, int(sp.Neuron), &scratch)
						if len(dst) == 0 {
							continue
						}
						if perDst == nil {
							shard.Send(int(ci), dst)
						}
						pk := router.Packet{SrcCore: ci, Axon: sp.Neuron, Count: int32(sp.N)}
						for _, d := range dst {
							if len(out.packets[d]) == 0 {
								out.mail = append(out.mail, d)
							}
							out.packets[d] = append(out.packets[d], pk)
							if perDst != nil {
								if perDst[d] == 0 {
									sentTo = append(sentTo, d)
								}
								perDst[d]++
							}
						}
					}
					for _, d := range sentTo {
						shard.SendTo(int(ci), d, perDst[d])
						perDst[d] = 0
					}
					sentTo = sentTo[:0]
					res.Sent[ci].Add(diff(shard.Stats, sent))
					shard.MaxHops = max(shard.MaxHops, sent.MaxHops)
					coreTime[ci] = p.coreTime(ci, before, c.Counters)
					wakeAt[ci] = c.NextWake(t)
				}
			})
		}
		wg.Wait()

		slowest := idle
		for _, ci := range active {
			slowest = max(slowest, coreTime[ci])
			requeue(int(ci), wakeAt[ci])
		}
		maxLoad, pathTime := network.EndTick()
		netTime := pathTime
		if maxLoad > 1 {
			netTime += float64(maxLoad-1) * max(lat.HopEastWest, lat.HopNorthSouth)
		}
		res.Time.Frame += max(slowest+netTime+lat.Barrier, p.Arch.TickMin)
		res.Time.Compute += slowest
		res.Time.Network += netTime
		res.Time.Barrier += lat.Barrier
		res.Busy++

		nt := T
		for w := range outbox {
			if len(outbox[w].mail) > 0 {
				nt = t + 1
			}
		}
		if nt == T && queue.Len() > 0 {
			m, _ := queue.Min()
			nt = int(m.tick)
		}
		advance(t+1, nt)
		t = nt
	}
	res.Network = network.Stats
	network.LinkLoads(func(l router.Link, n int64) { res.Links[l] = n })
	res.Cores = make([]core.Counters, len(cores))
	for i, c := range cores {
		res.Cores[i] = c.Counters
	}
	return res, nil
}

// diff is the traffic counted in a since b, with a's MaxHops.
func diff(a, b router.Stats) router.Stats {
	d := router.Stats{Sent: a.Sent - b.Sent, Delivered: a.Delivered - b.Delivered, WithinTile: a.WithinTile - b.WithinTile,
		Crossings: a.Crossings - b.Crossings, MaxHops: a.MaxHops}
	for i := range d.Hops {
		d.Hops[i] = a.Hops[i] - b.Hops[i]
	}
	return d
}

// idleTime is the pipeline time of the slowest core in a tick where nothing happens: the
// largest core updating all its neurons as inactive.
func (p *Program) idleTime() float64 {
	most := 0
	for _, c := range p.Cores {
		most = max(most, c.Box.Size())
	}
	return float64(most) * p.Arch.Latency.NeuronInactive
}

// coreTime is the pipeline time of core ci in a tick, from its counters before and after.
func (p *Program) coreTime(ci int32, before, after core.Counters) float64 {
	l := &p.Arch.Latency
	updates := after.Updates - before.Updates
	size := int64(p.Cores[ci].Box.Size())
	return float64(after.Synops-before.Synops)*l.Synop + float64(updates)*l.NeuronActive +
		float64(size-updates)*l.NeuronInactive + float64(after.Events-before.Events)*l.SpikeOut +
		float64(after.Packets-before.Packets)*l.Message
}

// snapshot records the state after tick ticks.
func (p *Program) snapshot(cores []*core.Core, tick int, counts bool) Snapshot {
	n := len(p.Net.Layers)
	s := Snapshot{Tick: tick, Spikes: make([]int64, n), Synops: make([]int64, n), Membranes: make([][]int64, n)}
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
		if p.Net.Layers[l].Kind == core.Accumulator {
			scatter(&s.Membranes[l], l, c.Box, c.Membranes(tick))
		} else if counts {
			scatter(&s.Counts[l], l, c.Box, c.Counts())
		}
	}
	return s
}
