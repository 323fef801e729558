package chip

import (
	"math"
	"strings"
	"testing"
)

func TestPresetsLoad(t *testing.T) {
	for _, name := range []string{"loihi", "loihi-sanafe", "truenorth"} {
		a, err := Preset(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(a.Sources) != 36 {
			t.Errorf("%s: %d sourced constants, want 36", name, len(a.Sources))
		}
	}
	a, _ := Preset("loihi")
	// Davies et al. 2018, Table 2.
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*math.Abs(y) }
	if !near(a.Energy.Synop, 23.6e-12) || !near(a.Energy.HopNorthSouth, 4e-12) || !near(a.Latency.HopEastWest, 4.1e-9) || a.Limits.Neurons != 1024 || a.Topology.CoresPerChip() != 128 {
		t.Errorf("loihi constants %+v %+v", a.Energy, a.Topology)
	}
	tn, _ := Preset("truenorth")
	if !near(tn.TickMin, 1e-3) || tn.Limits.Neurons != 256 || tn.WeightBits != 9 || tn.Topology.CoresPerChip() != 4096 {
		t.Errorf("truenorth %+v", tn)
	}
	// How each chip counts: Loihi shares kernels and population axons of 2 slots (nengo-loihi's
	// pop32); TrueNorth stores a 1-bit crossbar entry per synapse and an axon per neuron.
	if want := (Limits{Neurons: 1024, SynapseBytes: 131072, InputAxons: 4096, OutputAxons: 4096, SharedSynapses: true,
		SynapseBits: 8, PopulationAxons: true, AxonSlots: 2}); a.Limits != want {
		t.Errorf("loihi limits %+v, want %+v", a.Limits, want)
	}
	if want := (Limits{Neurons: 256, SynapseBytes: 8192, InputAxons: 256, OutputAxons: 256, SynapseBits: 1, AxonSlots: 1}); tn.Limits != want {
		t.Errorf("truenorth limits %+v, want %+v", tn.Limits, want)
	}
	// Optional constants: loihi2 prices graded synaptic operations, loihi does not; neither
	// prices payload bits, which a file may add.
	l2, err := Preset("loihi2")
	if err != nil || !l2.Graded || !near(l2.Energy.MAC, 47.2e-12) || !near(l2.Latency.MAC, 7e-9) || a.Graded || a.Energy.MAC != 0 || l2.Energy.PayloadBit != 0 {
		t.Errorf("loihi2 %v graded %v MAC %v J %v s; loihi graded %v", err, l2.Graded, l2.Energy.MAC, l2.Latency.MAC, a.Graded)
	}
	src, _ := presets.ReadFile("arch/loihi2.yaml")
	withBits := strings.Replace(string(src), "  barrier: {value: 0,", "  payload_bit: {value: 0.5, source: \"test\"}\n  barrier: {value: 0,", 1)
	if b, err := ParseArch(strings.NewReader(withBits), "x.yaml"); err != nil || !near(b.Energy.PayloadBit, 0.5e-12) {
		t.Errorf("energy_pj.payload_bit: %v, %v", err, b)
	}
	if _, err := Preset("spinnaker"); err == nil || !strings.Contains(err.Error(), "loihi") {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestParseArchErrors(t *testing.T) {
	good, err := presets.ReadFile("arch/loihi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(good), "\n")
	edit := func(from, to string) string { return strings.Replace(string(good), from, to, 1) }
	lineOf := func(s string) string {
		for i, l := range lines {
			if strings.Contains(l, s) {
				return "x.yaml:" + itoa(i+1) + ":"
			}
		}
		return "?"
	}
	for _, c := range []struct {
		name, file, want string
	}{
		{"unknown constant", edit("  synop: {value: 23.6", "  synops: {value: 23.6"), lineOf("synop: {value: 23.6") + ` section energy_pj has no constant "synops"`},
		{"missing constant", edit("  barrier: {value: 465", "  # barrier"), lineOf("latency_ns:") + " section latency_ns has no barrier"},
		{"no source", edit(`synop: {value: 23.6, source: "`, `synop: {value: 23.6, note: "`), lineOf("synop: {value: 23.6") + ` energy_pj.synop: unknown field "note"`},
		{"unknown section", edit("power_mw:", "power:"), lineOf("power_mw:") + ` unknown section "power"`},
		{"negative", edit("{value: 81,", "{value: -81,"), lineOf("neuron_active: {value: 81") + " energy_pj.neuron_active = -81"},
		{"fractional count", edit("neurons: {value: 1024,", "neurons: {value: 10.5,"), "core.neurons = 10.5: want a whole number"},
		{"not a yes or no", edit("shared_synapses: {value: 1,", "shared_synapses: {value: 2,"), "core.shared_synapses = 2: want 1 (yes) or 0 (no)"},
		{"no axon slots", edit("output_axon_slots: {value: 2,", "output_axon_slots: {value: 0,"), "core.output_axon_slots = 0: want a whole number >= 1"},
		{"not yaml", "name: [", "x.yaml"},
		{"payload bits priced in time", edit("  barrier: {value: 465", "  payload_bit: {value: 1, source: \"s\"}\n  barrier: {value: 465"),
			lineOf("barrier: {value: 465") + ` section latency_ns has no constant "payload_bit"`},
		{"mac in energy only", edit("  barrier: {value: 0, source: \"not published (barrier", "  mac: {value: 1, source: \"s\"}\n  barrier: {value: 0, source: \"not published (barrier"),
			"energy_pj.mac and latency_ns.mac come together"},
	} {
		_, err := ParseArch(strings.NewReader(c.file), "x.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func itoa(i int) string {
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}
