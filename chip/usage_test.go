package chip

import (
	"strings"
	"testing"

	"spikeyolo/core"
	"spikeyolo/router"
)

// TestUsageByHand counts a two-layer program's resources as Loihi and as TrueNorth count
// them. A source of 2 channels × 1 × 4 positions feeds a 3-filter 3×3 convolution (padding 1)
// of 3 × 1 × 4. The source sits on 2 cores of both channels and two positions each (S0: x 0-1,
// S1: x 2-3), the convolution on 2 cores of all filters (L0: x 0-1, L1: x 2-3). A source at x
// reaches targets x-1..x+1: x=0 reaches L0; x=1 and x=2 both; x=3 L1.
//
//   - Neuron axons (an axon per source neuron): S0's neurons (2 channels × x 0, 1) reach 1 + 2
//     cores each: 6 (neuron, core) pairs, and S1's 6; L0 hears neurons x 0, 1, 2 of both
//     channels: 6 input axons; L1 6.
//   - Population axons (an axon per position of a source core): S0 has (x0, L0), (x1, L0),
//     (x1, L1): 3 pairs, S1 3; L0 hears (S0, x0), (S0, x1), (S1, x2): 3, L1 3. At 2 slots per
//     axon, 6 output slots per source core.
//   - Shared synapses: a convolution core stores its 3 filters × 2 channels × 3 × 3 weights
//     once: 54, at 8 bits 54 bytes. Every synapse stored: target x=0 hears source positions 0, 1;
//     x=1 0-2; x=2 1-3; x=3 2, 3; L0 stores 3 filters × 2 channels × (2 + 3) = 30 synapses, L1
//     30: at 1 bit, 4 bytes (30 bits rounded up).
func TestUsageByHand(t *testing.T) {
	src := Layer{Name: "src", Analog: true, Neurons: core.Neurons{Shape: core.Shape{C: 2, H: 1, W: 4}, Kind: core.Signed, MaxSpikes: 1,
		Threshold: []core.Threshold{{Pos: 1, Neg: 1}, {Pos: 1, Neg: 1}}, Bias: []int64{0, 0}, V0: []int64{0, 0}}}
	dst := core.Shape{C: 3, H: 1, W: 4}
	conv := Layer{Name: "conv", Neurons: core.Neurons{Shape: dst, Kind: core.Signed, MaxSpikes: 1,
		Threshold: []core.Threshold{{Pos: 1, Neg: 1}, {Pos: 1, Neg: 1}, {Pos: 1, Neg: 1}}, Bias: make([]int64, 3), V0: make([]int64, 3)},
		Inputs: []Input{{From: 0, Synapses: core.Synapses{Src: src.Shape, NumC: 2, Upsample: 1, Dst: dst, DstC: 3, Size: 3, Stride: 1,
			Offset: 1, Groups: 1, Weights: make([]int32, 3*2*9)}}}}
	net := &Network{Layers: []Layer{src, conv}}
	for _, c := range []struct {
		name   string
		limits Limits
		want   []Usage // S0, S1, L0, L1
	}{
		{"loihi", Limits{SharedSynapses: true, SynapseBits: 8, PopulationAxons: true, AxonSlots: 2},
			[]Usage{{4, 0, 0, 6}, {4, 0, 0, 6}, {6, 54, 3, 0}, {6, 54, 3, 0}}},
		{"truenorth", Limits{SynapseBits: 1, AxonSlots: 1},
			[]Usage{{4, 0, 0, 6}, {4, 0, 0, 6}, {6, 4, 6, 0}, {6, 4, 6, 0}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.limits.Neurons = 1024
			arch := &Arch{Name: c.name, Topology: router.Topology{TilesX: 2, TilesY: 1, CoresPerTile: 2, ChipsX: 1, ChipsY: 1},
				Limits: c.limits, WeightBits: 8}
			p, err := NewProgram(net, arch, []Grid{{2, 1, 2}, {3, 1, 2}}, router.XY, router.PerCore)
			if err != nil {
				t.Fatal(err)
			}
			got := p.Usage()
			for i := range c.want {
				if got[i] != c.want[i] {
					t.Errorf("core %d uses %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
}

// TestProgramCoreLimit: a program of more than MaxCores cores is refused before anything is
// allocated for its cores, and so is a box that does not fit its layer.
func TestProgramCoreLimit(t *testing.T) {
	s := core.Shape{C: 1, H: 600, W: 600} // 360,000 neurons, one per core
	net := &Network{Layers: []Layer{{Name: "big", Analog: true, Neurons: core.Neurons{Shape: s, Kind: core.Signed, MaxSpikes: 1,
		Threshold: []core.Threshold{{Pos: 1, Neg: 1}}, Bias: []int64{0}, V0: []int64{0}}}}}
	arch := &Arch{Name: "wide", Topology: router.Topology{TilesX: 1024, TilesY: 1024, CoresPerTile: 1, ChipsX: 1, ChipsY: 1},
		Limits: Limits{Neurons: 1024}}
	_, err := NewProgram(net, arch, []Grid{{1, 1, 1}}, router.XY, router.PerCore)
	if err == nil || !strings.Contains(err.Error(), "at most 262144") {
		t.Errorf("360,000 cores: %v", err)
	}
	_, err = NewProgram(net, arch, []Grid{{2, 1, 1}}, router.XY, router.PerCore)
	if err == nil || !strings.Contains(err.Error(), "within its") {
		t.Errorf("a box of 2 channels in a layer of 1: %v", err)
	}
	if _, err := NewProgram(net, arch, []Grid{{1, 20, 30}}, router.XY, router.PerCore); err != nil {
		t.Errorf("600 cores: %v", err)
	}
}
