package chip

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"spikeyolo/router"
)

// TestRepriceEqualsRun: a run kept with its trace, priced again on another placement, routing
// and multicast of the same cores, equals a run of that program from scratch, every field of
// the result but the trace, for every pair of configurations; and a trace refuses a program
// with other cores.
func TestRepriceEqualsRun(t *testing.T) {
	const T = 12
	net, stim, grids, _ := randomCase(t, T)
	arch := meshArch()
	arch.Topology.ChipsY = 5
	// Cores' pipelines cost time too, so that a tick's time is not the network's alone.
	arch.Latency.Synop, arch.Latency.NeuronActive, arch.Latency.NeuronInactive, arch.Latency.SpikeOut, arch.Latency.Message = 0.5, 7, 0.25, 3, 11
	base, err := NewProgram(net, arch, grids, router.XY, router.PerCore)
	if err != nil {
		t.Fatal(err)
	}
	shuffled, err := base.Placed(rand.New(rand.NewPCG(4, 4)).Perm(arch.Topology.Cores())[:len(base.Cores)])
	if err != nil {
		t.Fatal(err)
	}
	var programs []*Program
	for _, placed := range []*Program{base, shuffled} {
		for _, r := range []router.Routing{router.XY, router.YX} {
			for _, m := range []router.Multicast{router.PerCore, router.Tree} {
				programs = append(programs, placed.Routed(r, m))
			}
		}
	}
	probe := Probe{Ticks: []int{T / 2, T}, Counts: true, Trace: true}
	runs := make([]*Result, len(programs))
	for i, p := range programs {
		if runs[i], err = p.Run(stim, probe, 2); err != nil {
			t.Fatal(err)
		}
		if runs[i].Network.Delivered == 0 {
			t.Fatal("no packet travels: the test shows nothing")
		}
	}
	distinct := map[string]bool{}
	for i, p := range programs {
		want := *runs[i]
		want.Trace = nil
		distinct[fmt.Sprint(want.Time, want.Network)] = true
		for j := range programs {
			got, err := p.Reprice(runs[j])
			if err != nil {
				t.Fatal(err)
			}
			got.Trace = nil
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("program %d priced from the run of program %d: %+v %+v; run from scratch %+v %+v", i, j, got.Time, got.Network, want.Time, want.Network)
			}
		}
	}
	if len(distinct) < 4 {
		t.Errorf("only %d distinct times and traffics over %d configurations: the test cannot tell them apart", len(distinct), len(programs))
	}
	other, err := NewProgram(net, arch, grids, router.XY, router.PerCore)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Reprice(runs[0]); err == nil {
		t.Error("a program partitioned anew (other cores) priced a trace it cannot use")
	}
	untraced, err := base.Run(stim, Probe{Ticks: []int{T}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := base.Reprice(untraced); err == nil {
		t.Error("a run without a trace was priced again")
	}
}
