package chip

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"spikeyolo/router"
)

// Arch describes a neuromorphic chip (or a board of them): its mesh, what one core can hold,
// and what every operation costs in energy and time. Every constant of an architecture file
// carries its source.
type Arch struct {
	Name        string
	Description string
	Topology    router.Topology
	Limits      Limits
	WeightBits  int
	Energy      Costs   // joules per operation
	Latency     Costs   // seconds per operation
	TickMin     float64 // seconds: the shortest tick the chip runs (TrueNorth's is fixed at 1 ms)
	StaticPower float64 // watts per chip
	// Sources gives, for each constant by its path in the file (e.g. "energy_pj.synop"),
	// where its value comes from.
	Sources map[string]string
}

// Limits are what one core can hold, and how the chip counts its synapses and axons.
type Limits struct {
	Neurons      int // neurons (compartments)
	SynapseBytes int // synapse memory
	InputAxons   int // input axons: one per source unit (see PopulationAxons) whose spikes reach the core
	OutputAxons  int // output-axon slots: AxonSlots per (source unit, destination core) pair
	// SharedSynapses: a weight-shared kernel is stored once per core, as Loihi's population
	// connectivity stores a convolution's weights; otherwise the core stores every synapse
	// (source neuron, target neuron), as TrueNorth's crossbar does.
	SharedSynapses bool
	SynapseBits    int // bits one stored synapse (weight) takes
	// PopulationAxons: the source unit of an axon is one position of one source core, whose
	// channels share it (Loihi's population axons, as nengo-loihi builds convolutions);
	// otherwise it is one source neuron (TrueNorth).
	PopulationAxons bool
	AxonSlots       int // output-axon slots one axon takes
}

// Costs are the per-operation costs of the energy or latency model.
type Costs struct {
	Synop          float64 // one synaptic operation
	NeuronActive   float64 // updating a neuron that received input or fired
	NeuronInactive float64 // updating a neuron that did nothing (hardware that updates every neuron every tick)
	SpikeOut       float64 // a neuron emitting a spike event
	Message        float64 // a core sending a packet
	WithinTile     float64 // a packet delivered inside its source's tile
	HopEastWest    float64 // a packet crossing an east-west link
	HopNorthSouth  float64 // a packet crossing a north-south link
	ChipCrossing   float64 // a packet crossing from one chip to another (on top of its hop)
	Barrier        float64 // the barrier synchronization that ends each tick
}

//go:embed arch/*.yaml
var presets embed.FS

// Presets lists the names of the embedded architectures.
func Presets() []string {
	entries, _ := presets.ReadDir("arch")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return names
}

// Preset returns an embedded architecture by name ("loihi", "loihi-sanafe", "truenorth").
func Preset(name string) (*Arch, error) {
	data, err := presets.ReadFile("arch/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no architecture %q (presets: %s)", name, strings.Join(Presets(), ", "))
	}
	return ParseArch(bytes.NewReader(data), name+".yaml")
}

// LoadArch reads an architecture file.
func LoadArch(path string) (*Arch, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseArch(f, path)
}

// archFile is the schema of an architecture file: sections of constants, each given as
// {value: V, source: "..."}. Energies are in picojoules, latencies in nanoseconds, power in
// milliwatts.
var archFile = []struct {
	section string
	keys    []string
}{
	{"topology", []string{"chips_x", "chips_y", "tiles_x", "tiles_y", "cores_per_tile"}},
	{"core", []string{"neurons", "synapse_bytes", "input_axons", "output_axons", "weight_bits",
		"shared_synapses", "synapse_bits", "population_axons", "output_axon_slots"}},
	{"energy_pj", costKeys},
	{"latency_ns", append(slices.Clone(costKeys), "tick_min")},
	{"power_mw", []string{"static_per_chip"}},
}

var costKeys = []string{"synop", "neuron_active", "neuron_inactive", "spike_out", "message", "within_tile",
	"hop_east_west", "hop_north_south", "chip_crossing", "barrier"}

// ParseArch reads an architecture file (YAML; see the presets in chip/arch). An unknown
// section or key, a constant without a value or a source, or a value out of range is an error
// naming the file and line. name is used in error messages.
func ParseArch(r io.Reader, name string) (*Arch, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: want a mapping of sections at the top level", name)
	}
	top := doc.Content[0]
	errAt := func(n *yaml.Node, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, n.Line, fmt.Sprintf(format, args...))
	}
	a := &Arch{Sources: map[string]string{}}
	values := map[string]float64{}
	seen := map[string]bool{}
	for i := 0; i < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		seen[k.Value] = true
		switch k.Value {
		case "name", "description":
			if v.Kind != yaml.ScalarNode {
				return nil, errAt(v, "%s: want text", k.Value)
			}
			if k.Value == "name" {
				a.Name = v.Value
			} else {
				a.Description = v.Value
			}
			continue
		}
		sec := slices.IndexFunc(archFile, func(s struct {
			section string
			keys    []string
		}) bool {
			return s.section == k.Value
		})
		if sec < 0 {
			return nil, errAt(k, "unknown section %q (want name, description, %s)", k.Value, sectionNames())
		}
		if v.Kind != yaml.MappingNode {
			return nil, errAt(v, "section %s: want a mapping of constants", k.Value)
		}
		got := map[string]bool{}
		for j := 0; j < len(v.Content); j += 2 {
			ck, cv := v.Content[j], v.Content[j+1]
			if !slices.Contains(archFile[sec].keys, ck.Value) {
				return nil, errAt(ck, "section %s has no constant %q (want %s)", k.Value, ck.Value, strings.Join(archFile[sec].keys, ", "))
			}
			var c struct {
				Value  *float64 `yaml:"value"`
				Source string   `yaml:"source"`
			}
			if err := cv.Decode(&c); err != nil {
				return nil, errAt(cv, "%s.%s: want {value: number, source: text}: %v", k.Value, ck.Value, err)
			}
			for m := 0; cv.Kind == yaml.MappingNode && m < len(cv.Content); m += 2 {
				if f := cv.Content[m].Value; f != "value" && f != "source" {
					return nil, errAt(cv.Content[m], "%s.%s: unknown field %q (want value and source)", k.Value, ck.Value, f)
				}
			}
			if c.Value == nil || strings.TrimSpace(c.Source) == "" {
				return nil, errAt(cv, "%s.%s: every constant needs a value and a source", k.Value, ck.Value)
			}
			if *c.Value < 0 {
				return nil, errAt(cv, "%s.%s = %v: want a value >= 0", k.Value, ck.Value, *c.Value)
			}
			path := k.Value + "." + ck.Value
			values[path] = *c.Value
			a.Sources[path] = c.Source
			got[ck.Value] = true
		}
		for _, want := range archFile[sec].keys {
			if !got[want] {
				return nil, errAt(k, "section %s has no %s", k.Value, want)
			}
		}
	}
	for _, s := range archFile {
		if !seen[s.section] {
			return nil, errAt(top, "no section %s", s.section)
		}
	}
	if a.Name == "" {
		return nil, errAt(top, "no name")
	}
	integer := func(path string, lo int) (int, error) {
		v := values[path]
		if v != float64(int(v)) || int(v) < lo {
			return 0, fmt.Errorf("%s: %s = %v: want a whole number >= %d", name, path, v, lo)
		}
		return int(v), nil
	}
	var err error
	ints := []struct {
		dst  *int
		path string
		lo   int
	}{
		{&a.Topology.ChipsX, "topology.chips_x", 1}, {&a.Topology.ChipsY, "topology.chips_y", 1},
		{&a.Topology.TilesX, "topology.tiles_x", 1}, {&a.Topology.TilesY, "topology.tiles_y", 1},
		{&a.Topology.CoresPerTile, "topology.cores_per_tile", 1},
		{&a.Limits.Neurons, "core.neurons", 1}, {&a.Limits.SynapseBytes, "core.synapse_bytes", 0},
		{&a.Limits.InputAxons, "core.input_axons", 0}, {&a.Limits.OutputAxons, "core.output_axons", 0},
		{&a.WeightBits, "core.weight_bits", 2}, {&a.Limits.SynapseBits, "core.synapse_bits", 1},
		{&a.Limits.AxonSlots, "core.output_axon_slots", 1},
	}
	for _, f := range ints {
		if *f.dst, err = integer(f.path, f.lo); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		dst  *bool
		path string
	}{{&a.Limits.SharedSynapses, "core.shared_synapses"}, {&a.Limits.PopulationAxons, "core.population_axons"}} {
		switch values[f.path] {
		case 0, 1:
			*f.dst = values[f.path] == 1
		default:
			return nil, fmt.Errorf("%s: %s = %v: want 1 (yes) or 0 (no)", name, f.path, values[f.path])
		}
	}
	costs := func(section string, unit float64) Costs {
		g := func(k string) float64 { return values[section+"."+k] * unit }
		return Costs{Synop: g("synop"), NeuronActive: g("neuron_active"), NeuronInactive: g("neuron_inactive"), SpikeOut: g("spike_out"),
			Message: g("message"), WithinTile: g("within_tile"), HopEastWest: g("hop_east_west"), HopNorthSouth: g("hop_north_south"),
			ChipCrossing: g("chip_crossing"), Barrier: g("barrier")}
	}
	a.Energy = costs("energy_pj", 1e-12)
	a.Latency = costs("latency_ns", 1e-9)
	a.TickMin = values["latency_ns.tick_min"] * 1e-9
	a.StaticPower = values["power_mw.static_per_chip"] * 1e-3
	return a, nil
}

func sectionNames() string {
	var s []string
	for _, f := range archFile {
		s = append(s, f.section)
	}
	return strings.Join(s, ", ")
}
