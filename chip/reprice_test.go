package chip

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"spikeyolo/core"

	"spikeyolo/router"
)

// TestRepriceEqualsRun: a run kept with its trace, priced again on another placement, routing
// and multicast of the same cores, equals a run of that program from scratch, every field of
// the result but the trace, for every pair of configurations; so does the run of a common
// refinement of two partitions (Refine), priced on either, in any configuration. A trace
// refuses a program its cores straddle. The refinement's run only keeps its trace
// (Probe.TraceOnly). The networks are a random one and one whose neurons
// fire on their own drive (wakes, stale wakes, dense sweeps).
func TestRepriceEqualsRun(t *testing.T) {
	const T = 12
	net, stim, grids, _ := randomCase(t, T)
	t.Run("random", func(t *testing.T) { testRepriceEqualsRun(t, net, stim, grids, T) })
	net, stim = driveNetwork(rand.New(rand.NewPCG(3, 8)), true, 2, core.PoolExact)
	t.Run("drive", func(t *testing.T) { testRepriceEqualsRun(t, net, stim, clipGrids(net, Grid{2, 3, 4}), 3*T) })
}

func testRepriceEqualsRun(t *testing.T, net *Network, stim Stimulus, grids []Grid, T int) {
	arch := meshArch()
	arch.Topology.ChipsY = 8
	// Cores' pipelines cost time too, so that a tick's time is not the network's alone.
	arch.Latency.Synop, arch.Latency.NeuronActive, arch.Latency.NeuronInactive, arch.Latency.SpikeOut, arch.Latency.Message = 0.5, 7, 0.25, 3, 11
	// Two partitions, neither a refinement of the other.
	var partitions []*Program
	for _, g := range [][]Grid{grids, clipGrids(net, Grid{3, 2, 3})} {
		p, err := NewProgram(net, arch, g, router.XY, router.PerCore)
		if err != nil {
			t.Fatal(err)
		}
		partitions = append(partitions, p)
	}
	refined, err := Refine(partitions...)
	if err != nil {
		t.Fatal(err)
	}
	if len(refined.Cores) <= max(len(partitions[0].Cores), len(partitions[1].Cores)) {
		t.Fatalf("the refinement has %d cores, the partitions %d and %d: the test refines nothing", len(refined.Cores), len(partitions[0].Cores), len(partitions[1].Cores))
	}
	var programs []*Program
	var partitionOf []int
	for k, base := range partitions {
		shuffled, err := base.Placed(rand.New(rand.NewPCG(4, uint64(k))).Perm(arch.Topology.Cores())[:len(base.Cores)])
		if err != nil {
			t.Fatal(err)
		}
		for _, placed := range []*Program{base, shuffled} {
			for _, r := range []router.Routing{router.XY, router.YX} {
				for _, m := range []router.Multicast{router.PerCore, router.Tree} {
					programs = append(programs, placed.Routed(r, m))
					partitionOf = append(partitionOf, k)
				}
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
	traceOnly := probe
	traceOnly.TraceOnly = true
	refinedRun, err := refined.Run(stim, traceOnly, 2)
	if err != nil {
		t.Fatal(err)
	}
	if refinedRun.Time.Frame != 0 || refinedRun.Network.Sent != 0 {
		t.Errorf("a run that only keeps its trace priced time %v s and %d packets", refinedRun.Time.Frame, refinedRun.Network.Sent)
	}
	distinct := map[string]bool{}
	for i, p := range programs {
		want := *runs[i]
		want.Trace = nil
		distinct[fmt.Sprint(want.Time, want.Network)] = true
		for j := range programs {
			got, err := p.Reprice(runs[j])
			if partitionOf[j] != partitionOf[i] {
				if err == nil {
					t.Errorf("program %d priced the run of program %d, whose cores straddle its own", i, j)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Trace = nil
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("program %d priced from the run of program %d: %+v %+v; run from scratch %+v %+v", i, j, got.Time, got.Network, want.Time, want.Network)
			}
		}
		got, err := p.Reprice(refinedRun)
		if err != nil {
			t.Fatal(err)
		}
		got.Trace = nil
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("program %d priced from the refinement's run: %+v %+v %d busy; run from scratch %+v %+v %d busy", i, got.Time, got.Network, got.Busy,
				want.Time, want.Network, want.Busy)
			for c := range got.Cores {
				if got.Cores[c] != want.Cores[c] {
					t.Errorf("core %d: %+v, run from scratch %+v", c, got.Cores[c], want.Cores[c])
					break
				}
			}
		}
	}
	if len(distinct) < 8 {
		t.Errorf("only %d distinct times and traffics over %d configurations: the test cannot tell them apart", len(distinct), len(programs))
	}
	untraced, err := partitions[0].Run(stim, Probe{Ticks: []int{T}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := partitions[0].Reprice(untraced); err == nil {
		t.Error("a run without a trace was priced again")
	}
	if _, err := partitions[0].Run(stim, Probe{Ticks: []int{T}, TraceOnly: true}, 1); err == nil {
		t.Error("a run that keeps only its trace, without keeping it, ran")
	}
}
