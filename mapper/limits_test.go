package mapper_test

import (
	"strings"
	"testing"

	"spikeyolo/chip"
	"spikeyolo/mapper"
	"spikeyolo/model/darknet"
	"spikeyolo/model/darknetref"
	"spikeyolo/router"
)

// TestSharedModelsFitEveryPreset: every program built for the three shared models on every
// preset holds every core within every limit of its architecture, counted as that chip
// counts them; where no program can be built (a neuron's fan-in no TrueNorth core takes),
// the error names the limit and the layer.
func TestSharedModelsFitEveryPreset(t *testing.T) {
	if testing.Short() {
		t.Skip("maps three real detectors on three architectures")
	}
	dir := darknetref.Dir(t)
	for _, m := range darknetref.Models(dir) {
		net, err := darknet.Load(m.Cfg, m.Weights)
		if err != nil {
			t.Fatal(err)
		}
		inputs, err := darknetref.SampleInputs(dir, net.Input.W, net.Input.H)
		if err != nil {
			t.Fatal(err)
		}
		cal, err := mapper.Calibrate(net, 1, 99.9, func(int) ([]float32, error) { return inputs[0], nil })
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range chip.Presets() {
			t.Run(m.Name+"/"+name, func(t *testing.T) {
				arch, err := chip.Preset(name)
				if err != nil {
					t.Fatal(err)
				}
				opt := mapper.DefaultOptions()
				opt.WeightBits = arch.WeightBits
				cv, err := mapper.Convert(net, cal, opt)
				if err != nil {
					t.Fatal(err)
				}
				p, err := mapper.Partition(cv.Net, arch, cv.Activity(), mapper.PartitionOptions{GrowBoard: true}, router.XY, router.PerCore)
				if err != nil {
					if !strings.Contains(err.Error(), "layer") || !strings.Contains(err.Error(), "axons") && !strings.Contains(err.Error(), "synapse memory") {
						t.Errorf("no program, and the error names no layer and limit: %v", err)
					}
					t.Logf("no program: %v", err)
					return
				}
				if over := p.CheckLimits(); over != nil {
					t.Errorf("%d cores break limits: %v", len(p.Cores), over)
				}
				t.Logf("%d cores on %d chips", len(p.Cores), p.Chips())
			})
		}
	}
}
