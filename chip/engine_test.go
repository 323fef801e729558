package chip

import (
	"math/rand/v2"
	"slices"
	"testing"

	"spikeyolo/core"
	"spikeyolo/router"
)

// randomNetwork builds a small network with every kind of layer and synapse: an analog
// layer, signed and IF neurons with and without undo and multi-spikes, a strided grouped
// convolution, an upsampled input, a max-pool of each rule over two inputs, and an
// accumulator, with random integer parameters and biases.
func randomNetwork(rng *rand.Rand, undo bool, maxSpikes int64, rule core.PoolRule) (*Network, Stimulus) {
	shape := func(c, h, w int) core.Shape { return core.Shape{C: c, H: h, W: w} }
	perCh := func(c int, lo, hi int64) []int64 {
		v := make([]int64, c)
		for i := range v {
			v[i] = lo + rng.Int64N(hi-lo+1)
		}
		return v
	}
	neurons := func(s core.Shape, kind core.Kind) core.Neurons {
		th := make([]core.Threshold, s.C)
		for i := range th {
			pos := 200 + rng.Int64N(200)
			neg := pos * (1 + rng.Int64N(10))
			th[i] = core.Threshold{Pos: pos, Neg: neg, Undo: undo}
			if undo && i%2 == 1 {
				th[i].BackPos, th[i].BackNeg = rng.Int64N(pos), rng.Int64N(neg)
			}
		}
		return core.Neurons{Shape: s, Kind: kind, Threshold: th, Bias: perCh(s.C, -20, 20), V0: perCh(s.C, 0, 100), MaxSpikes: maxSpikes}
	}
	weights := func(n int) []int32 {
		w := make([]int32, n)
		for i := range w {
			w[i] = int32(rng.IntN(255) - 127)
		}
		return w
	}
	conv := func(src, dst core.Shape, srcC0, numC, dstC0, dstC, size, stride, offset, groups, up int) core.Synapses {
		return core.Synapses{Src: src, SrcC0: srcC0, NumC: numC, Upsample: up, Dst: dst, DstC0: dstC0, DstC: dstC, Size: size,
			Stride: stride, Offset: offset, Groups: groups, Weights: weights(dstC * numC / groups * size * size)}
	}
	s0, s1, s2, s3, s4, s5 := shape(4, 10, 10), shape(6, 5, 5), shape(6, 10, 10), shape(6, 5, 5), shape(3, 5, 5), shape(5, 5, 5)
	l0 := Layer{Name: "analog", Analog: true, Neurons: neurons(s0, core.Signed)}
	l1 := Layer{Name: "grouped stride 2", Neurons: neurons(s1, core.Signed), Inputs: []Input{{0, conv(s0, s1, 0, 4, 0, 6, 3, 2, 1, 2, 1)}}}
	l2 := Layer{Name: "if upsampled", Neurons: neurons(s2, core.IF), Inputs: []Input{{1, conv(s1, s2, 0, 6, 0, 6, 3, 1, 1, 1, 2)}}}
	pool := core.Neurons{Shape: s3, Kind: core.MaxPool, Pool: rule, MaxSpikes: maxSpikes}
	l3 := Layer{Name: "maxpool", Neurons: pool, Inputs: []Input{
		{2, core.Synapses{Src: s2, SrcC0: 2, NumC: 4, Upsample: 1, Dst: s3, DstC0: 0, DstC: 4, Size: 3, Stride: 2, Offset: 1, Groups: 4}},
		{1, core.Synapses{Src: s1, SrcC0: 0, NumC: 2, Upsample: 2, Dst: s3, DstC0: 4, DstC: 2, Size: 3, Stride: 2, Offset: 1, Groups: 2}},
	}}
	l4 := Layer{Name: "depthwise", Neurons: neurons(s4, core.Signed), Inputs: []Input{{3, conv(s3, s4, 1, 3, 0, 3, 3, 1, 1, 3, 1)}}}
	acc := neurons(s5, core.Accumulator)
	l5 := Layer{Name: "output", Neurons: acc, Readout: []float64{1, 1, 1, 1, 1}, Inputs: []Input{
		{4, conv(s4, s5, 0, 3, 0, 5, 1, 1, 0, 1, 1)}, {3, conv(s3, s5, 0, 6, 0, 5, 3, 1, 1, 1, 1)}}}
	for i, l := range []*Layer{&l1, &l2, &l3, &l4, &l5} {
		l.Onset = i + 1
	}
	stim := make([]int64, s0.Size())
	for i := range stim {
		stim[i] = rng.Int64N(400) - 100
	}
	return &Network{Layers: []Layer{l0, l1, l2, l3, l4, l5}}, Stimulus{stim, nil, nil, nil, nil, nil}
}

// sweeps are the ways cores may step (see core.Sweep): by default, turning dense and sparse
// at the least change of activity, always dense (from their second step on), and never dense.
var sweeps = []struct {
	name string
	s    core.Sweep
}{{"default", core.DefaultSweep}, {"flip", core.Sweep{Enter: 0.2, Leave: 0.2}}, {"dense", core.Sweep{Enter: 0, Leave: -1}}, {"sparse", core.Sweep{Enter: 2, Leave: 0}}}

// testSweeps is every sweep, or with -short (the race detector's run in CI) the default and
// the one that turns both ways at the least change.
func testSweeps() []struct {
	name string
	s    core.Sweep
} {
	if testing.Short() {
		return sweeps[:2]
	}
	return sweeps
}

// TestEngineEqualsReference: the event-driven engine gives the reference's spike counts of
// every neuron, per-layer spikes and synaptic operations and output membranes, bit for bit,
// at every checkpoint, for every kind of neuron and pool rule, any cut of the layers into
// cores (one neuron per core, small boxes, row bands, channel groups, whole layers), either
// routing and multicast, any sweep and any number of workers.
func TestEngineEqualsReference(t *testing.T) {
	for seed := uint64(0); seed < 6; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		net, stim := randomNetwork(rng, seed%2 == 1, 1+int64(seed%3), core.PoolRule(seed/2%2))
		checkEngine(t, "loihi", net, stim, seed)
	}
}

// TestGradedEngineEqualsReference is TestEngineEqualsReference for graded networks: graded
// neurons sending every change (delta 1) or only larger ones (sigma-delta), whose drive comes
// once, max-pools of graded messages, and accumulators counting multiply-accumulates.
func TestGradedEngineEqualsReference(t *testing.T) {
	for seed := uint64(0); seed < 4; seed++ {
		rng := rand.New(rand.NewPCG(seed, 98))
		net, stim := gradedNetwork(rng, 1+int64(seed%2)*2, core.PoolRule(seed/2%2))
		want, err := Reference(net, stim, Probe{Ticks: []int{100}})
		if err != nil {
			t.Fatal(err)
		}
		var spikes, macs, synops int64
		for l := range net.Layers {
			spikes, macs, synops = spikes+want[0].Spikes[l], macs+want[0].MACs[l], synops+want[0].Synops[l]
		}
		if spikes == 0 || macs == 0 || synops != 0 {
			t.Fatalf("seed %d: %d spikes, %d MACs, %d accumulates: want graded messages only", seed, spikes, macs, synops)
		}
		checkEngine(t, "loihi2", net, stim, seed)
	}
}

// gradedNetwork is randomNetwork with graded neurons of the given delta (at most 40 in a
// message; IF layers as graded ReLUs), every drive integrated once, the input currents 8
// times stronger (they come once).
func gradedNetwork(rng *rand.Rand, delta int64, rule core.PoolRule) (*Network, Stimulus) {
	net, stim := randomNetwork(rng, false, 40, rule)
	for i := range stim[0] {
		stim[0][i] *= 8
	}
	for i := range net.Layers {
		l := &net.Layers[i]
		l.Once = true
		switch l.Kind {
		case core.Signed, core.IF:
			for c := range l.Threshold {
				l.Threshold[c].Delta = delta
				if l.Kind == core.IF {
					l.Threshold[c].Neg = 1 << 62
				}
			}
			l.Kind, l.Graded = core.Graded, true
		case core.MaxPool:
			l.Graded = true
		}
	}
	return net, stim
}

// checkEngine runs net on the chip (architecture arch) for every cut of its layers into cores (one neuron per
// core, small boxes, row bands, channel groups, whole layers), either routing and multicast,
// every sweep and 1 and 3 workers, and compares the snapshots with the reference's.
func checkEngine(t *testing.T, archName string, net *Network, stim Stimulus, seed uint64) {
	t.Helper()
	arch, err := Preset(archName)
	if err != nil {
		t.Fatal(err)
	}
	for arch.Topology.Cores() < 4096 { // room for one neuron per core
		arch.Topology.ChipsY++
	}
	probe := Probe{Ticks: []int{1, 2, 7, 30, 64, 100}, Counts: true}
	want, err := Reference(net, stim, probe)
	if err != nil {
		t.Fatal(err)
	}
	for split, grid := range []Grid{{1, 1, 1}, {2, 3, 4}, {1 << 10, 2, 1 << 10}, {3, 1 << 10, 2}, {1 << 10, 1 << 10, 1 << 10}} {
		for _, rm := range []struct {
			r router.Routing
			m router.Multicast
		}{{router.XY, router.PerCore}, {router.YX, router.Tree}} {
			prog, err := NewProgram(net, arch, clipGrids(net, grid), rm.r, rm.m)
			if err != nil {
				t.Fatal(err)
			}
			for _, sw := range testSweeps() {
				prog.sweep = sw.s
				for _, workers := range []int{1, 3} {
					res, err := prog.Run(stim, probe, workers)
					if err != nil {
						t.Fatal(err)
					}
					compareSnapshots(t, want, res.Snapshots, seed, split)
				}
			}
		}
	}
}

func compareSnapshots(t *testing.T, want, got []Snapshot, seed uint64, split int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("seed %d split %d: %d snapshots, want %d", seed, split, len(got), len(want))
	}
	for k := range want {
		w, g := want[k], got[k]
		if g.Tick != w.Tick || !slices.Equal(g.Spikes, w.Spikes) || !slices.Equal(g.Synops, w.Synops) || !slices.Equal(g.MACs, w.MACs) ||
			!slices.Equal(g.Events, w.Events) {
			t.Fatalf("seed %d split %d tick %d: spikes %v synops %v MACs %v events %v, reference %v %v %v %v", seed, split, w.Tick, g.Spikes, g.Synops,
				g.MACs, g.Events, w.Spikes, w.Synops, w.MACs, w.Events)
		}
		for l := range w.Counts {
			if !slices.Equal(g.Counts[l], w.Counts[l]) {
				t.Fatalf("seed %d split %d tick %d layer %d: counts differ\n got %v\nwant %v", seed, split, w.Tick, l, g.Counts[l], w.Counts[l])
			}
			if !slices.Equal(g.Membranes[l], w.Membranes[l]) {
				t.Fatalf("seed %d split %d tick %d layer %d: membranes differ", seed, split, w.Tick, l)
			}
		}
	}
}

// TestResumeEqualsFresh: a graded network (delta 1) run on one input and resumed with the
// difference to a second input (Probe.From) ends where a fresh run on the second input ends,
// every neuron's count and every output membrane, on the reference and on the chip; and the
// chip's resumed run equals the reference's resumed run, snapshot for snapshot, operations
// included. A resumed run sends only what changed: fewer MACs than the fresh run.
func TestResumeEqualsFresh(t *testing.T) {
	arch, err := Preset("loihi2")
	if err != nil {
		t.Fatal(err)
	}
	for arch.Topology.Cores() < 2048 {
		arch.Topology.ChipsY++
	}
	const T = 60
	for seed := uint64(0); seed < 3; seed++ {
		rng := rand.New(rand.NewPCG(seed, 97))
		net, first := gradedNetwork(rng, 1, core.PoolExact)
		second, diff := Stimulus{slices.Clone(first[0]), nil, nil, nil, nil, nil}, Stimulus{make([]int64, len(first[0])), nil, nil, nil, nil, nil}
		for i := range second[0] {
			if rng.IntN(3) == 0 { // a third of the input changes a little
				second[0][i] += rng.Int64N(401) - 200
			}
			diff[0][i] = second[0][i] - first[0][i]
		}
		ends := Probe{Ticks: []int{T}, State: true}
		fresh, err := Reference(net, second, ends)
		if err != nil {
			t.Fatal(err)
		}
		before, err := Reference(net, first, ends)
		if err != nil {
			t.Fatal(err)
		}
		resume := Probe{Ticks: []int{1, 2, 7, 30, T}, Counts: true, State: true, From: &before[0]}
		want, err := Reference(net, diff, resume)
		if err != nil {
			t.Fatal(err)
		}
		end := want[len(want)-1]
		for l, layer := range net.Layers {
			if !slices.Equal(end.Counts[l], fresh[0].Counts[l]) || layer.Kind == core.Accumulator && !slices.Equal(end.Membranes[l], fresh[0].Membranes[l]) {
				t.Fatalf("seed %d layer %d (%s): resumed, counts or membranes differ from a fresh run's", seed, l, layer.Name)
			}
		}
		var resumedMACs, freshMACs int64
		for l := range net.Layers {
			resumedMACs, freshMACs = resumedMACs+end.MACs[l], freshMACs+fresh[0].MACs[l]
		}
		if resumedMACs == 0 || resumedMACs >= freshMACs {
			t.Errorf("seed %d: the resumed run did %d MACs, a fresh run %d: want fewer but some", seed, resumedMACs, freshMACs)
		}
		// Also resumed from an early tick, before the first run settles (pools lag, neurons
		// wait for their onset): the chip must still equal the reference.
		early := Probe{Ticks: []int{4}, State: true}
		beforeEarly, err := Reference(net, first, early)
		if err != nil {
			t.Fatal(err)
		}
		resumeEarly := resume
		resumeEarly.From = &beforeEarly[0]
		wantEarly, err := Reference(net, diff, resumeEarly)
		if err != nil {
			t.Fatal(err)
		}
		for _, grid := range []Grid{{1, 1, 1}, {2, 3, 4}, {1 << 10, 1 << 10, 1 << 10}} {
			prog, err := NewProgram(net, arch, clipGrids(net, grid), router.XY, router.PerCore)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				stop Probe
				want []Snapshot
			}{{ends, want}, {early, wantEarly}} {
				chipBefore, err := prog.Run(first, c.stop, 2)
				if err != nil {
					t.Fatal(err)
				}
				resumeChip := resume
				resumeChip.From = &chipBefore.Snapshots[0]
				res, err := prog.Run(diff, resumeChip, 2)
				if err != nil {
					t.Fatal(err)
				}
				compareSnapshots(t, c.want, res.Snapshots, seed, 0)
			}
		}
	}
}

// TestTrimKeepsOutputs: a trimmed run (Probe.Trim) stops each layer once its spikes can no
// longer reach an output by the last tick: the output membranes at every probe tick equal
// the untrimmed run's, with fewer spikes and synaptic operations; the chip's trimmed runs
// equal the reference's for every cut; and a trimmed run keeps no state to resume from.
func TestTrimKeepsOutputs(t *testing.T) {
	arch, err := Preset("loihi")
	if err != nil {
		t.Fatal(err)
	}
	probe := Probe{Ticks: []int{7, 30, 64}, Counts: true}
	trim := probe
	trim.Trim = true
	for seed := uint64(0); seed < 4; seed++ {
		rng := rand.New(rand.NewPCG(seed, 96))
		net, stim := randomNetwork(rng, seed%2 == 1, 1+int64(seed%3), core.PoolRule(seed/2%2))
		// analog → grouped → if → maxpool → depthwise → output, grouped → maxpool, maxpool → output.
		if tails := net.Tails(); !slices.Equal(tails, []int{3, 2, 2, 1, 1, 0}) {
			t.Fatalf("tails %v, want 3 2 2 1 1 0", tails)
		}
		full, err := Reference(net, stim, probe)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Reference(net, stim, trim)
		if err != nil {
			t.Fatal(err)
		}
		var spikes, fullSpikes, synops, fullSynops int64
		for k := range full {
			out := len(net.Layers) - 1
			if !slices.Equal(want[k].Membranes[out], full[k].Membranes[out]) {
				t.Fatalf("seed %d tick %d: the trimmed outputs differ", seed, full[k].Tick)
			}
		}
		for l := range net.Layers {
			spikes, fullSpikes = spikes+want[2].Spikes[l], fullSpikes+full[2].Spikes[l]
			synops, fullSynops = synops+want[2].Synops[l], fullSynops+full[2].Synops[l]
		}
		if spikes >= fullSpikes || synops >= fullSynops {
			t.Errorf("seed %d: trimmed %d spikes, %d synops; untrimmed %d, %d: want fewer", seed, spikes, synops, fullSpikes, fullSynops)
		}
		for split, grid := range []Grid{{1, 1, 1}, {2, 3, 4}, {1 << 10, 1 << 10, 1 << 10}} {
			prog, err := NewProgram(net, arch, clipGrids(net, grid), router.YX, router.Tree)
			if err != nil {
				t.Fatal(err)
			}
			res, err := prog.Run(stim, trim, 2)
			if err != nil {
				t.Fatal(err)
			}
			compareSnapshots(t, want, res.Snapshots, seed, split)
		}
	}
	stateful := trim
	stateful.State = true
	net, stim := randomNetwork(rand.New(rand.NewPCG(1, 96)), false, 1, core.PoolExact)
	if _, err := Reference(net, stim, stateful); err == nil {
		t.Error("a trimmed run kept its state")
	}
	// A rate network integrates its drive in every tick: it does not resume.
	stateful.Trim = false
	snaps, err := Reference(net, stim, stateful)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Reference(net, stim, Probe{Ticks: []int{5}, From: &snaps[0]}); err == nil {
		t.Error("a rate network resumed")
	}
}
