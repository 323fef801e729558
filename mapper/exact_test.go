package mapper_test

import (
	"fmt"
	"os"
	"slices"
	"testing"

	"spikeyolo/chip"
	"spikeyolo/mapper"
	"spikeyolo/model/darknet"
	"spikeyolo/model/darknetref"
	"spikeyolo/model/detect"
	"spikeyolo/model/preprocess"
	"spikeyolo/router"
)

// TestChipEqualsReferenceOnRealModels: for yolo-lite-voc and yolo-fastest-1.1-coco on
// dog.jpg at 64 ticks, the chip's per-layer spikes and synaptic operations and its output
// membranes equal the reference simulator's exactly, on the default partition and on exactly 2 and 4
// times as many, with XY and YX routing, per-core and tree multicast, and one or two
// workers (GOMAXPROCS 1 and 2); the detections are then identical. The suite runs four
// configurations that between them use every option; SPIKEYOLO_EXHAUSTIVE=1 runs all 24.
func TestChipEqualsReferenceOnRealModels(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two real detectors several times")
	}
	dir := darknetref.Dir(t)
	arch, err := chip.Preset("loihi")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range darknetref.Models(dir) {
		if m.Name == "yolo-lite-voc-bn" {
			continue // the same architecture as yolo-lite-voc
		}
		t.Run(m.Name, func(t *testing.T) {
			net, err := darknet.Load(m.Cfg, m.Weights)
			if err != nil {
				t.Fatal(err)
			}
			inputs, err := darknetref.SampleInputs(dir, net.Input.W, net.Input.H)
			if err != nil {
				t.Fatal(err)
			}
			c, err := mapper.Calibrate(net, len(inputs), 99.9, func(i int) ([]float32, error) { return inputs[i], nil })
			if err != nil {
				t.Fatal(err)
			}
			dog := inputs[0]
			opt := mapper.DefaultOptions()
			opt.WeightBits = arch.WeightBits
			cv, err := mapper.Convert(net, c, opt)
			if err != nil {
				t.Fatal(err)
			}
			const T = 64
			probe := chip.Probe{Ticks: cv.SnapshotTicks([]int{T})}
			stim := cv.Encode(dog)
			want, err := chip.Reference(cv.Net, stim, probe)
			if err != nil {
				t.Fatal(err)
			}
			wantObjs := objects(t, cv, want, T)
			minimum, err := mapper.Partition(cv.Net, arch, nil, mapper.PartitionOptions{}, router.XY, router.PerCore)
			if err != nil {
				t.Fatal(err)
			}
			n := len(minimum.Cores)
			type config struct {
				cores   int
				r       router.Routing
				m       router.Multicast
				workers int
			}
			runs := []config{{n, router.XY, router.PerCore, 2}, {n, router.YX, router.Tree, 1}, {2 * n, router.YX, router.PerCore, 2}, {4 * n, router.XY, router.Tree, 2}}
			if os.Getenv("SPIKEYOLO_EXHAUSTIVE") != "" {
				runs = nil
				for _, cores := range []int{n, 2 * n, 4 * n} {
					for _, r := range []router.Routing{router.XY, router.YX} {
						for _, m := range []router.Multicast{router.PerCore, router.Tree} {
							for _, w := range []int{1, 2} {
								runs = append(runs, config{cores, r, m, w})
							}
						}
					}
				}
			}
			for _, run := range runs {
				name := fmt.Sprintf("%d cores %v %v, %d workers", run.cores, run.r, run.m, run.workers)
				prog, err := mapper.Partition(cv.Net, arch, nil, mapper.PartitionOptions{Cores: run.cores, GrowBoard: true}, run.r, run.m)
				if err != nil {
					t.Fatal(err)
				}
				if len(prog.Cores) != run.cores {
					t.Fatalf("%s: partitioned on %d cores", name, len(prog.Cores))
				}
				res, err := prog.Run(stim, probe, run.workers)
				if err != nil {
					t.Fatal(err)
				}
				for k, w := range want {
					g := res.Snapshots[k]
					if !slices.Equal(g.Spikes, w.Spikes) || !slices.Equal(g.Synops, w.Synops) {
						t.Fatalf("%s, tick %d: spikes %v synops %v; reference %v %v", name, w.Tick, g.Spikes, g.Synops, w.Spikes, w.Synops)
					}
					for l := range w.Membranes {
						if !slices.Equal(g.Membranes[l], w.Membranes[l]) {
							t.Fatalf("%s, tick %d: layer %d membranes differ", name, w.Tick, l)
						}
					}
				}
				if got := objects(t, cv, res.Snapshots, T); !slices.Equal(got, wantObjs) {
					t.Errorf("%s: detections %v, reference %v", name, got, wantObjs)
				}
			}
		})
	}
}

// objects decodes a run's detections on dog.jpg (768×576) at threshold 0.1.
func objects(t *testing.T, cv *mapper.Converted, snaps []chip.Snapshot, T int) []detect.Object {
	outs, err := cv.Decode(snaps, T)
	if err != nil {
		t.Fatal(err)
	}
	return detect.FromOutputs(cv.Float, cv.HeadOutputs(outs), 768, 576, preprocess.Plain, 0.1, 0.45)
}
