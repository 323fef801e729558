package mapper

import (
	"slices"
	"strings"
	"testing"

	"spikeyolo/chip"
	"spikeyolo/router"
)

// TestCeilings: the distinct block extents that cut n into different numbers of blocks.
func TestCeilings(t *testing.T) {
	for _, c := range []struct {
		n    int
		want []int
	}{
		{1, []int{1}}, {7, []int{7, 4, 3, 2, 1}}, {10, []int{10, 5, 4, 3, 2, 1}},
		{13, []int{13, 7, 5, 4, 3, 2, 1}},
	} {
		if got := ceilings(c.n); !slices.Equal(got, c.want) {
			t.Errorf("ceilings(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}

// tinyNet is the tiny detector converted with the default options.
func tinyNet(t *testing.T) *Converted {
	t.Helper()
	net := randomDetector(t, 5)
	cv, err := Convert(net, uniformCalibration(net, 2), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return cv
}

// testArch is Loihi's board and prices with the given limits.
func testArch(t *testing.T, lim chip.Limits) *chip.Arch {
	t.Helper()
	a, err := chip.Preset("loihi")
	if err != nil {
		t.Fatal(err)
	}
	a.Limits = lim
	return a
}

// checkProgram checks that p's cores hold every neuron of every layer exactly once, each
// core within every limit of its architecture.
func checkProgram(t *testing.T, p *chip.Program) {
	t.Helper()
	seen := make([][]int, len(p.Net.Layers))
	for i, l := range p.Net.Layers {
		seen[i] = make([]int, l.Shape.Size())
	}
	for _, c := range p.Cores {
		shape := p.Net.Layers[c.Layer].Shape
		for k := 0; k < c.Box.Size(); k++ {
			ch, y, x := c.Box.At(k)
			seen[c.Layer][shape.Index(ch, y, x)]++
		}
	}
	for l := range seen {
		if n := slices.IndexFunc(seen[l], func(k int) bool { return k != 1 }); n >= 0 {
			t.Fatalf("layer %d neuron %d held by %d cores", l, n, seen[l][n])
		}
	}
	if over := p.CheckLimits(); over != nil {
		t.Fatalf("limits broken: %v", over)
	}
}

// TestPartitionCores: by default the partition fills the chips the fewest cores need; asked
// for exactly N cores it uses N; below the fewest, or beyond the board, it says why.
func TestPartitionCores(t *testing.T) {
	cv := tinyNet(t)
	lim := chip.Limits{Neurons: 64, SynapseBytes: 1 << 20, InputAxons: 1 << 20, OutputAxons: 1 << 20, SharedSynapses: true,
		SynapseBits: 8, PopulationAxons: true, AxonSlots: 2}
	arch := testArch(t, lim)
	arch.Topology = router.Topology{TilesX: 2, TilesY: 2, CoresPerTile: 4, ChipsX: 2, ChipsY: 4} // 16 cores a chip, 128 in all
	pl, err := newPlanner(cv.Net, arch, nil)
	if err != nil {
		t.Fatal(err)
	}
	fewest, _ := pl.fewest()
	// 64 neurons a core: the fewest cores are each layer's ceil-cut into boxes of at most 64.
	want := 0
	for _, l := range cv.Net.Layers {
		best := 1 << 30
		s := l.Shape
		for _, cb := range ceilings(s.C) {
			for _, rb := range ceilings(s.H) {
				for _, wb := range ceilings(s.W) {
					if cb*rb*wb <= 64 {
						best = min(best, ((s.C+cb-1)/cb)*((s.H+rb-1)/rb)*((s.W+wb-1)/wb))
					}
				}
			}
		}
		want += best
	}
	if fewest != want {
		t.Fatalf("fewest cores %d, want %d", fewest, want)
	}
	chipsFor := func(n int) int { return (n + 15) / 16 }
	p, err := Partition(cv.Net, arch, nil, PartitionOptions{}, router.XY, router.PerCore)
	if err != nil {
		t.Fatal(err)
	}
	checkProgram(t, p)
	if len(p.Cores) != chipsFor(fewest)*16 {
		t.Errorf("default: %d cores, want the %d of %d chips", len(p.Cores), chipsFor(fewest)*16, chipsFor(fewest))
	}
	for _, n := range []int{fewest, fewest + 1, fewest + 7, 128} {
		p, err := Partition(cv.Net, arch, nil, PartitionOptions{Cores: n}, router.XY, router.PerCore)
		if err != nil {
			t.Fatalf("%d cores: %v", n, err)
		}
		checkProgram(t, p)
		if len(p.Cores) != n {
			t.Errorf("asked %d cores, got %d", n, len(p.Cores))
		}
	}
	if _, err := Partition(cv.Net, arch, nil, PartitionOptions{Cores: fewest - 1}, router.XY, router.PerCore); err == nil ||
		!strings.Contains(err.Error(), "the fewest that fit") {
		t.Errorf("below the fewest: %v", err)
	}
	_, err = Partition(cv.Net, arch, nil, PartitionOptions{Cores: 129}, router.XY, router.PerCore)
	if err == nil || !strings.Contains(err.Error(), "the loihi board has 8") {
		t.Errorf("beyond the board: %v", err)
	}
	p, err = Partition(cv.Net, arch, nil, PartitionOptions{Cores: 129, GrowBoard: true}, router.XY, router.PerCore)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Cores) != 129 || p.Topology.ChipsX*p.Topology.ChipsY != 10 || p.Chips() != 9 {
		t.Errorf("grown: %d cores on a board of %d chips, %d used; want 129 on 10 (a row of 2 added), 9 used",
			len(p.Cores), p.Topology.ChipsX*p.Topology.ChipsY, p.Chips())
	}
}

// TestPartitionUnderEachLimit tightens one limit at a time until it binds: the partition
// then needs more cores than with every limit loose, and every core stays within every
// limit, counted exactly on the whole program. Past what one neuron needs, the error names
// the limit.
func TestPartitionUnderEachLimit(t *testing.T) {
	cv := tinyNet(t)
	loose := chip.Limits{Neurons: 1024, SynapseBytes: 1 << 20, InputAxons: 1 << 20, OutputAxons: 1 << 20, SharedSynapses: true,
		SynapseBits: 8, PopulationAxons: true, AxonSlots: 2}
	base, err := Partition(cv.Net, testArch(t, loose), nil, PartitionOptions{Cores: 40}, router.XY, router.PerCore)
	if err != nil {
		t.Fatal(err)
	}
	usage := base.Usage()
	most := func(get func(chip.Usage) int) int {
		m := 0
		for _, u := range usage {
			m = max(m, get(u))
		}
		return m
	}
	for _, c := range []struct {
		name    string
		tighten func(l *chip.Limits)
	}{
		{"neurons", func(l *chip.Limits) { l.Neurons = most(func(u chip.Usage) int { return u.Neurons }) / 3 }},
		{"synapse memory", func(l *chip.Limits) { l.SynapseBytes = most(func(u chip.Usage) int { return u.SynapseBytes }) / 3 }},
		{"input axons", func(l *chip.Limits) { l.InputAxons = most(func(u chip.Usage) int { return u.InputAxons }) / 3 }},
		{"output axons", func(l *chip.Limits) { l.OutputAxons = most(func(u chip.Usage) int { return u.OutputAxons }) / 3 }},
		{"neuron axons", func(l *chip.Limits) {
			l.PopulationAxons, l.SharedSynapses, l.SynapseBits, l.InputAxons = false, false, 1, 200
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			lim := loose
			c.tighten(&lim)
			p, err := Partition(cv.Net, testArch(t, lim), nil, PartitionOptions{}, router.XY, router.PerCore)
			if err != nil {
				t.Fatal(err)
			}
			checkProgram(t, p)
			if len(p.Cores) <= len(base.Cores) {
				t.Errorf("%d cores under the tight limit, %d under loose ones: it does not bind", len(p.Cores), len(base.Cores))
			}
		})
	}
	for _, c := range []struct {
		name    string
		tighten func(l *chip.Limits)
		want    string
	}{
		{"synapse memory", func(l *chip.Limits) { l.SynapseBytes = 8 }, "synapse memory"},
		{"input axons", func(l *chip.Limits) { l.InputAxons = 2 }, "input axons"},
		{"output axons", func(l *chip.Limits) { l.OutputAxons = 1 }, "output axons"},
	} {
		t.Run("past one neuron/"+c.name, func(t *testing.T) {
			lim := loose
			c.tighten(&lim)
			_, err := Partition(cv.Net, testArch(t, lim), nil, PartitionOptions{GrowBoard: true}, router.XY, router.PerCore)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "layer") {
				t.Errorf("error %v, want one naming a layer and %q", err, c.want)
			}
		})
	}
}

// TestPartitionBalances: a layer whose neurons are expected to work ten times as hard as the
// others' gets boxes a tenth as large, so that its cores take about as long per tick as the
// rest: the slowest core's modelled time is then within a factor 1.5 of the average, where
// cutting by neurons alone leaves it several times the average.
func TestPartitionBalances(t *testing.T) {
	cv := tinyNet(t)
	arch := testArch(t, chip.Limits{Neurons: 1024, SynapseBytes: 1 << 20, InputAxons: 1 << 20, OutputAxons: 1 << 20,
		SharedSynapses: true, SynapseBits: 8, PopulationAxons: true, AxonSlots: 2})
	act := &Activity{}
	for _, l := range cv.Net.Layers {
		act.Rates = append(act.Rates, make([]float64, l.Shape.C))
	}
	for c := range act.Rates[0] {
		act.Rates[0][c] = 1 // the analog layer fires every tick: its targets work hard
	}
	times := neuronTimes(cv.Net, arch, act)
	ratio := func(p *chip.Program) float64 {
		var slowest, sum float64
		for _, c := range p.Cores {
			t := float64(c.Box.Size()) * times[c.Layer]
			slowest, sum = max(slowest, t), sum+t
		}
		return slowest / (sum / float64(len(p.Cores)))
	}
	blind, err := Partition(cv.Net, arch, nil, PartitionOptions{Cores: 60}, router.XY, router.PerCore)
	if err != nil {
		t.Fatal(err)
	}
	balanced, err := Partition(cv.Net, arch, act, PartitionOptions{Cores: 60}, router.XY, router.PerCore)
	if err != nil {
		t.Fatal(err)
	}
	checkProgram(t, balanced)
	if r := ratio(balanced); r > 1.5 {
		t.Errorf("balanced: the slowest core takes %.2f times the average", r)
	}
	if r := ratio(blind); r < 3 {
		t.Errorf("cut by neurons alone, the slowest core takes %.2f times the average: the test does not separate them", r)
	}
}
