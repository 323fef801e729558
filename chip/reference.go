package chip

import (
	"errors"
	"fmt"
	"slices"

	"spikeyolo/core"
)

// Snapshot is the state of a run after Tick ticks.
type Snapshot struct {
	Tick int
	// Per layer: spikes emitted so far (a multi-spike of n counts n), and synaptic operations
	// performed so far on the layer's neurons: one per spike and target neuron it reaches
	// (a multi-spike of n reaching m targets counts n·m, as n single spikes would), and
	// the multiply-accumulates of graded messages (one per message and target), and the
	// spike events emitted (a neuron's spikes of one tick, or a graded message, count 1).
	Spikes, Synops, MACs, Events []int64
	// Per layer: the membranes of accumulator layers (nil for the others; of every layer but
	// the max-pools when the probe asks for State).
	Membranes [][]int64
	// Per layer, per neuron: the net spike count (positive minus negative) so far; only
	// when the probe asks for it.
	Counts [][]int64
}

// Probe says what a run records: a snapshot after each of Ticks (ascending, each >= 1), with
// every neuron's net spike count if Counts is set; and, if Trace is set, the chip engine's
// trace for Program.Reprice. With TraceOnly too, the chip engine keeps the trace and prices
// nothing (the result's traffic and time are zero): for a run that is only priced again, as a
// common refinement's (Refine). If Progress is set, the chip engine calls it, from the
// goroutine that called Run, with the number of ticks run so far, as it goes (the reference
// ignores Trace, TraceOnly and Progress).
//
// With Trim, each layer stops (neither integrates nor fires) from the tick in which its
// spikes could no longer reach an output layer by the last probe tick (see Network.Tails):
// the outputs at every probe tick are the same, the spikes and synaptic operations fewer; the
// other layers' counts stop growing then, and a trimmed run keeps no State.
//
// With State, the snapshots hold every neuron's membrane and net count, so that a run of a
// graded network can resume from one: a run with From starts where the run that took that
// snapshot ended (every
// membrane and count, a max-pool's inputs at their sources' counts), does not integrate the
// biases again, and adds its stimulus on top: for a graded network's next frame (Neurons.Once),
// the difference of the input currents, so that only what changed travels.
type Probe struct {
	Ticks     []int
	Counts    bool
	Trim      bool
	State     bool
	From      *Snapshot
	Trace     bool
	TraceOnly bool
	Progress  func(ticks int)
}

// stops gives, per layer of net, the tick from which a run of the probe stops it: the end of
// the run, or with Trim, the tick from which its spikes would reach no output by the end.
func stops(net *Network, probe Probe) ([]int, error) {
	T := probe.Ticks[len(probe.Ticks)-1]
	stop := make([]int, len(net.Layers))
	for l := range stop {
		stop[l] = T
	}
	if !probe.Trim {
		return stop, nil
	}
	if probe.State {
		return nil, errors.New("chip: a trimmed run (Probe.Trim) stops layers early: it keeps no state to resume from (Probe.State)")
	}
	for l, tail := range net.Tails() {
		stop[l] = max(0, T-min(tail, T))
	}
	return stop, nil
}

// start is where layer l of net resumes from snapshot from (nil: from scratch).
func start(net *Network, from *Snapshot, l int) (*core.Start, error) {
	if from == nil {
		return nil, nil
	}
	layer := &net.Layers[l]
	if !layer.Once && layer.Kind != core.MaxPool {
		return nil, fmt.Errorf("chip: layer %d (%s) integrates its drive in every tick: only a graded network (Neurons.Once) resumes from a snapshot", l, layer.Name)
	}
	if len(from.Counts) != len(net.Layers) || len(from.Membranes) != len(net.Layers) || (layer.Kind != core.Accumulator && len(from.Counts[l]) != layer.Shape.Size()) ||
		(layer.Kind != core.MaxPool && len(from.Membranes[l]) != layer.Shape.Size()) {
		return nil, fmt.Errorf("chip: layer %d (%s): the snapshot to resume from lacks its state (take it with Probe.State, from a run of this network)", l, layer.Name)
	}
	st := &core.Start{V: from.Membranes[l], Counts: from.Counts[l]}
	if st.Counts == nil { // an accumulator
		st.Counts = make([]int64, layer.Shape.Size())
	}
	for _, in := range layer.Inputs {
		st.Sources = append(st.Sources, from.Counts[in.From])
	}
	return st, nil
}

// spike is a neuron's signed spike count in one tick.
type spike struct {
	neuron int32
	n      int64
}

// refLayer is the reference engine's state of one layer.
type refLayer struct {
	v         []int64 // membranes (not MaxPool)
	count     []int64 // every neuron's net spike count (not Accumulator)
	inputs    []int64 // MaxPool: net input count of every position of the virtual input map
	now       []int64 // MaxPool with PoolFirstMax: input spikes of this tick per position
	prev, cur []spike // spikes fired in the previous and the current tick
	spikes    int64
	synops    int64
	macs      int64
	events    int64
	resumed   bool             // started from a snapshot (Probe.From): the bias is in the membranes already
	hv, wv    int              // MaxPool: the virtual input map's rows and columns
	taps      []*core.TapTable // per input: the taps of every source position
}

// Reference runs net on one stimulus up to the last of the probe's ticks and returns a
// snapshot after each of them. It is the dense reference engine: single-threaded, every neuron
// of every layer updated every tick. Its memory does not grow with the ticks.
func Reference(net *Network, stim Stimulus, probe Probe) ([]Snapshot, error) {
	ticks := probe.Ticks
	if err := net.Validate(); err != nil {
		return nil, err
	}
	if err := checkStimulus(net, stim); err != nil {
		return nil, err
	}
	if len(ticks) == 0 || !slices.IsSorted(ticks) || ticks[0] < 1 {
		return nil, fmt.Errorf("chip: ticks %v: want ascending ticks >= 1", ticks)
	}
	state := make([]refLayer, len(net.Layers))
	for i := range net.Layers {
		l := &net.Layers[i]
		st := &state[i]
		from, err := start(net, probe.From, i)
		if err != nil {
			return nil, err
		}
		st.resumed = from != nil
		for _, in := range l.Inputs {
			st.taps = append(st.taps, core.NewTapTable(&in.Synapses))
		}
		if l.Kind != core.Accumulator {
			st.count = make([]int64, l.Shape.Size())
		}
		if l.Kind == core.MaxPool {
			s := &l.Inputs[0].Synapses
			st.hv, st.wv = s.Src.H*s.Upsample, s.Src.W*s.Upsample
			st.inputs = make([]int64, l.Shape.C*st.hv*st.wv)
			if l.Pool == core.PoolFirstMax {
				st.now = make([]int64, len(st.inputs))
			}
			if from != nil {
				copy(st.count, from.Counts)
				for k, in := range l.Inputs {
					refPoolInputs(&in.Synapses, st, from.Sources[k])
				}
			}
			continue
		}
		st.v = make([]int64, l.Shape.Size())
		hw := l.Shape.H * l.Shape.W
		for c := 0; c < l.Shape.C; c++ {
			for k := c * hw; k < (c+1)*hw; k++ {
				st.v[k] = l.V0[c]
			}
		}
		if from != nil {
			copy(st.v, from.V)
			if st.count != nil {
				copy(st.count, from.Counts)
			}
		}
	}
	stop, err := stops(net, probe)
	if err != nil {
		return nil, err
	}
	var snaps []Snapshot
	for t, next := 0, 0; next < len(ticks); t++ {
		for i := range net.Layers {
			if t < stop[i] {
				refDeliver(net, state, i)
			}
		}
		for i := range net.Layers {
			if t < stop[i] {
				refUpdate(&net.Layers[i], &state[i], stim[i], t)
			}
		}
		for i := range state {
			state[i].prev, state[i].cur = state[i].cur, state[i].prev[:0]
		}
		for ; next < len(ticks) && ticks[next] == t+1; next++ {
			snaps = append(snaps, snapshot(net, state, t+1, probe))
		}
	}
	return snaps, nil
}

func checkStimulus(net *Network, stim Stimulus) error {
	if len(stim) != len(net.Layers) {
		return fmt.Errorf("chip: stimulus for %d layers, the network has %d", len(stim), len(net.Layers))
	}
	for i, l := range net.Layers {
		if want := l.Shape.Size(); l.Analog && len(stim[i]) != want {
			return fmt.Errorf("chip: layer %d (%s): stimulus of %d currents, want %d", i, l.Name, len(stim[i]), want)
		}
		if !l.Analog && stim[i] != nil {
			return fmt.Errorf("chip: layer %d (%s) is not analog but has a stimulus", i, l.Name)
		}
	}
	return nil
}

// refDeliver integrates into layer i the spikes its sources fired in the previous tick.
func refDeliver(net *Network, state []refLayer, i int) {
	l := &net.Layers[i]
	st := &state[i]
	for j, in := range l.Inputs {
		s := &in.Synapses
		hw := s.Src.H * s.Src.W
		for _, sp := range state[in.From].prev {
			c, pos := int(sp.neuron)/hw, int(sp.neuron)%hw
			if !s.Reads(c) {
				continue
			}
			taps := st.taps[j].At(pos)
			graded := net.Layers[in.From].Graded
			if !s.IsPool() {
				st.countOps(graded, sp.n, s.Deliver(c, taps, sp.n, st.v))
				continue
			}
			refPoolInput(s, st, c, pos, sp.n, true)
			st.countOps(graded, sp.n, int64(len(taps)))
		}
	}
}

// refPoolInput adds n to the count of every virtual position (upsampled copy) of source
// neuron (c, pos) of a max-pool's input s, and to this tick's if thisTick and the rule keeps
// them.
func refPoolInput(s *core.Synapses, st *refLayer, c, pos int, n int64, thisTick bool) {
	vc := s.DstC0 + c - s.SrcC0
	y, x := pos/s.Src.W, pos%s.Src.W
	for i := 0; i < s.Upsample; i++ {
		for j := 0; j < s.Upsample; j++ {
			k := (vc*st.hv+y*s.Upsample+i)*st.wv + x*s.Upsample + j
			st.inputs[k] += n
			if st.now != nil && thisTick {
				st.now[k] += n
			}
		}
	}
}

// refPoolInputs sets a resumed max-pool's input counts from its input s's source counts.
func refPoolInputs(s *core.Synapses, st *refLayer, counts []int64) {
	hw := s.Src.H * s.Src.W
	for c := s.SrcC0; c < s.SrcC0+s.NumC; c++ {
		for pos := range hw {
			refPoolInput(s, st, c, pos, counts[c*hw+pos], false)
		}
	}
}

// countOps counts the synaptic operations of a spike of n reaching targets neurons: n·targets
// accumulates, or targets multiply-accumulates if it is a graded message.
func (st *refLayer) countOps(graded bool, n, targets int64) {
	if graded {
		st.macs += targets
	} else {
		st.synops += abs(n) * targets
	}
}

// refUpdate adds every neuron's drive for tick t (current: the layer's stimulus, if analog)
// and fires it.
func refUpdate(l *Layer, st *refLayer, current []int64, t int) {
	if l.Kind == core.MaxPool {
		refPool(l, st)
		return
	}
	hw := l.Shape.H * l.Shape.W
	for c := 0; c < l.Shape.C; c++ {
		v := st.v[c*hw : (c+1)*hw]
		if t == l.Onset || t > l.Onset && !l.Once {
			for k := range v {
				if !st.resumed { // else the bias is in the membranes already
					v[k] += l.Bias[c]
				}
			}
			if l.Analog {
				for k, cur := range current[c*hw : (c+1)*hw] {
					v[k] += cur
				}
			}
		}
		if l.Kind == core.Accumulator || l.Once && t < l.Onset {
			continue
		}
		for k := range v {
			if n := core.Fire(l.Kind, &l.Threshold[c], &v[k], &st.count[c*hw+k], l.MaxSpikes); n != 0 {
				st.cur = append(st.cur, spike{int32(c*hw + k), n})
				st.spikes += abs(n)
				st.events++
			}
		}
	}
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// refPool fires every max-pool neuron, then clears this tick's input spikes.
func refPool(l *Layer, st *refLayer) {
	s := &l.Inputs[0].Synapses
	hw := l.Shape.H * l.Shape.W
	plane := st.hv * st.wv
	for c := 0; c < l.Shape.C; c++ {
		counts := st.inputs[c*plane : (c+1)*plane]
		var now []int64
		if st.now != nil {
			now = st.now[c*plane : (c+1)*plane]
		}
		for ty := 0; ty < l.Shape.H; ty++ {
			for tx := 0; tx < l.Shape.W; tx++ {
				k := c*hw + ty*l.Shape.W + tx
				y0, y1, x0, x1 := s.Window(ty, tx, st.hv, st.wv)
				if n, _ := core.PoolFire(l.Pool, counts, now, st.wv, y0, y1, x0, x1, &st.count[k], l.MaxSpikes); n != 0 {
					st.cur = append(st.cur, spike{int32(k), n})
					st.spikes += abs(n)
					st.events++
				}
			}
		}
	}
	clear(st.now)
}

func snapshot(net *Network, state []refLayer, tick int, probe Probe) Snapshot {
	counts := probe.Counts || probe.State
	n := len(state)
	s := Snapshot{Tick: tick, Spikes: make([]int64, n), Synops: make([]int64, n), MACs: make([]int64, n), Events: make([]int64, n),
		Membranes: make([][]int64, n)}
	for i, st := range state {
		s.Spikes[i], s.Synops[i], s.MACs[i], s.Events[i] = st.spikes, st.synops, st.macs, st.events
		if net.Layers[i].Kind == core.Accumulator || probe.State && st.v != nil {
			s.Membranes[i] = slices.Clone(st.v)
		}
		if counts {
			if s.Counts == nil {
				s.Counts = make([][]int64, len(state))
			}
			s.Counts[i] = slices.Clone(st.count)
		}
	}
	return s
}
