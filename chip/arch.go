package chip

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"math"
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
	// Graded: the chip carries graded messages (Loihi 2's graded spikes) and the file prices
	// their synaptic operations (energy_pj.mac and latency_ns.mac, optional constants).
	Graded      bool
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
	MAC            float64 // one graded synaptic operation: a graded message's payload times a weight, added (0 where Graded is false)
	PayloadBit     float64 // energy only: a graded message sent, per bit of its payload (optional: 0 prices messages per packet only)
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
	{"energy_pj", append(slices.Clone(costKeys), "payload_bit")},
	{"latency_ns", append(slices.Clone(costKeys), "tick_min")},
	{"power_mw", []string{"static_per_chip"}},
}

var costKeys = []string{"synop", "neuron_active", "neuron_inactive", "spike_out", "message", "within_tile",
	"hop_east_west", "hop_north_south", "chip_crossing", "barrier", "mac"}

// optionalKeys are the constants a file may leave out: a chip without graded messages has no
// price for their synaptic operations, and one may price a message per packet only.
var optionalKeys = []string{"energy_pj.mac", "latency_ns.mac", "energy_pj.payload_bit"}

// Bounds of an architecture file's sizes. They keep every size, and every product of sizes
// the simulator forms (cores of a board, bits of a core's synapse memory, neurons of a
// board), far inside an int, and the tables sized by them (router.NewNetwork keeps a few
// words per core and per link of the board) within memory, while leaving room for boards
// far larger than any built: Loihi's Pohoiki Springs is 768 chips of 128 cores (98,304
// cores), TrueNorth's largest board 16 chips of 4096 cores (65,536 cores).
const (
	// MaxBoardCores bounds chips_x·chips_y·tiles_x·tiles_y·cores_per_tile (and so the cores
	// of one chip, and every dimension): 2^20 cores, 10x Pohoiki Springs; the router keeps
	// per-core and per-link tables of the whole board.
	MaxBoardCores = 1 << 20
	// MaxBoardSide bounds the tiles along each side of the board (chips_x·tiles_x and
	// chips_y·tiles_y): 4096, 64 TrueNorth chips side by side; hop counts and link tables
	// grow with it.
	MaxBoardSide = 4096
	// MaxCoreNeurons bounds core.neurons: 2^20, 128x Loihi 2's 8192 neurons per core.
	MaxCoreNeurons = 1 << 20
	// MaxCoreAxons bounds core.input_axons and core.output_axons: 2^24, 4096x Loihi's 4096.
	MaxCoreAxons = 1 << 24
	// MaxSynapseBytes bounds core.synapse_bytes: 2^32 (4 GiB), 32768x Loihi's 128 KB, so
	// that the memory's bits, summed over a whole board, stay inside an int64.
	MaxSynapseBytes = 1 << 32
	// MaxSynapseBits bounds core.synapse_bits: a stored synapse of at most one 64-bit word.
	MaxSynapseBits = 64
	// MaxAxonSlots bounds core.output_axon_slots: 256 (Loihi's largest axon takes 4 slots).
	MaxAxonSlots = 256
	// MinWeightBits and MaxWeightBits bound core.weight_bits as mapper.Options does: a
	// signed weight of 2 to 24 bits (24 keeps weight x spike sums exact in a float64's
	// integers and inside an int64 membrane).
	MinWeightBits, MaxWeightBits = 2, 24
	// maxArchBytes bounds the size of an architecture file (the presets are about 10 KB).
	maxArchBytes = 1 << 20
)

// ParseArch reads an architecture file (YAML; see the presets in chip/arch). An unknown
// section or key, a section or constant given twice, a constant without a value or a
// source, a value that is not finite or is out of range (see MaxBoardCores and the other
// bounds), or a second YAML document is an error naming the file and line. name is used
// in error messages.
func ParseArch(r io.Reader, name string) (*Arch, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxArchBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(data) > maxArchBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes: not an architecture file", name, maxArchBytes)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF")) // a UTF-8 byte-order mark
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err == io.EOF {
		return nil, fmt.Errorf("%s: empty architecture file", name)
	} else if err != nil {
		return nil, fmt.Errorf("%s: %s", name, yamlError(err))
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, fmt.Errorf("%s:%d: a second YAML document at line %d: an architecture file is one document", name, next.Line, next.Line)
	case err != io.EOF:
		return nil, fmt.Errorf("%s: after the first YAML document: %s", name, yamlError(err))
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
	lines := map[string]int{} // the line of each constant, and of each section, by path
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if at, ok := lines[k.Value]; ok {
			return nil, errAt(k, "%s is already given at line %d", k.Value, at)
		}
		lines[k.Value] = k.Line
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
		for j := 0; j+1 < len(v.Content); j += 2 {
			ck, cv := v.Content[j], v.Content[j+1]
			if !slices.Contains(archFile[sec].keys, ck.Value) {
				return nil, errAt(ck, "section %s has no constant %q (want %s)", k.Value, ck.Value, strings.Join(archFile[sec].keys, ", "))
			}
			path := k.Value + "." + ck.Value
			if at, ok := lines[path]; ok {
				return nil, errAt(ck, "%s is already given at line %d", path, at)
			}
			lines[path] = ck.Line
			var c struct {
				Value  *float64 `yaml:"value"`
				Source string   `yaml:"source"`
			}
			if err := cv.Decode(&c); err != nil {
				return nil, errAt(cv, "%s: want {value: number, source: text}: %s", path, yamlError(err))
			}
			for m := 0; cv.Kind == yaml.MappingNode && m < len(cv.Content); m += 2 {
				if f := cv.Content[m].Value; f != "value" && f != "source" {
					return nil, errAt(cv.Content[m], "%s: unknown field %q (want value and source)", path, f)
				}
			}
			if c.Value == nil || strings.TrimSpace(c.Source) == "" {
				return nil, errAt(cv, "%s: every constant needs a value and a source", path)
			}
			if math.IsNaN(*c.Value) || math.IsInf(*c.Value, 0) {
				return nil, errAt(cv, "%s = %v: want a finite number", path, *c.Value)
			}
			if *c.Value < 0 {
				return nil, errAt(cv, "%s = %v: want a value >= 0", path, *c.Value)
			}
			values[path] = *c.Value
			a.Sources[path] = c.Source
		}
		for _, want := range archFile[sec].keys {
			if _, ok := lines[k.Value+"."+want]; !ok && !slices.Contains(optionalKeys, k.Value+"."+want) {
				return nil, errAt(k, "section %s has no %s", k.Value, want)
			}
		}
	}
	for _, s := range archFile {
		if _, ok := lines[s.section]; !ok {
			return nil, errAt(top, "no section %s", s.section)
		}
	}
	if a.Name == "" {
		return nil, errAt(top, "no name")
	}
	at := func(path string) string { return fmt.Sprintf("%s:%d", name, lines[path]) }
	ints := []struct {
		dst    *int
		path   string
		lo, hi int
		why    string
	}{
		{&a.Topology.ChipsX, "topology.chips_x", 1, MaxBoardSide, "the tiles along a side of the board"},
		{&a.Topology.ChipsY, "topology.chips_y", 1, MaxBoardSide, "the tiles along a side of the board"},
		{&a.Topology.TilesX, "topology.tiles_x", 1, MaxBoardSide, "the tiles along a side of the board"},
		{&a.Topology.TilesY, "topology.tiles_y", 1, MaxBoardSide, "the tiles along a side of the board"},
		{&a.Topology.CoresPerTile, "topology.cores_per_tile", 1, MaxBoardCores, "the cores of a board"},
		{&a.Limits.Neurons, "core.neurons", 1, MaxCoreNeurons, "128x Loihi 2's 8192 neurons per core"},
		{&a.Limits.SynapseBytes, "core.synapse_bytes", 0, MaxSynapseBytes, "4 GiB, 32768x Loihi's 128 KB"},
		{&a.Limits.InputAxons, "core.input_axons", 0, MaxCoreAxons, "4096x Loihi's 4096 axons"},
		{&a.Limits.OutputAxons, "core.output_axons", 0, MaxCoreAxons, "4096x Loihi's 4096 axons"},
		{&a.WeightBits, "core.weight_bits", MinWeightBits, MaxWeightBits, "bits of a signed weight, as the mapper allows"},
		{&a.Limits.SynapseBits, "core.synapse_bits", 1, MaxSynapseBits, "one 64-bit word per synapse"},
		{&a.Limits.AxonSlots, "core.output_axon_slots", 1, MaxAxonSlots, "slots per axon"},
	}
	for _, f := range ints {
		v := values[f.path]
		if v != math.Trunc(v) || v < float64(f.lo) || v > float64(f.hi) {
			return nil, fmt.Errorf("%s: %s = %v: want a whole number >= %d, at most %d (%s)", at(f.path), f.path, v, f.lo, f.hi, f.why)
		}
		*f.dst = int(v)
	}
	// Every factor is at most 2^20 and every partial product is checked against a bound of
	// at most 2^20 before the next multiplication, so no product overflows.
	t := a.Topology
	for _, side := range []struct {
		chips, tiles string
		n            int
	}{{"topology.chips_x", "topology.tiles_x", t.ChipsX * t.TilesX}, {"topology.chips_y", "topology.tiles_y", t.ChipsY * t.TilesY}} {
		if side.n > MaxBoardSide {
			return nil, fmt.Errorf("%s: %s·%s = %d tiles along a side of the board: want at most %d", at(side.chips), side.chips, side.tiles, side.n, MaxBoardSide)
		}
	}
	cores := 1
	for _, f := range []struct {
		path string
		n    int
	}{{"topology.cores_per_tile", t.CoresPerTile}, {"topology.tiles_x", t.TilesX}, {"topology.tiles_y", t.TilesY},
		{"topology.chips_x", t.ChipsX}, {"topology.chips_y", t.ChipsY}} {
		if cores *= f.n; cores > MaxBoardCores {
			return nil, fmt.Errorf("%s: %s = %d makes a board of more than %d cores (chips_x·chips_y·tiles_x·tiles_y·cores_per_tile): want at most %d, the size of the router's per-core tables", at(f.path), f.path, f.n, MaxBoardCores, MaxBoardCores)
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
			return nil, fmt.Errorf("%s: %s = %v: want 1 (yes) or 0 (no)", at(f.path), f.path, values[f.path])
		}
	}
	costs := func(section string, unit float64) Costs {
		g := func(k string) float64 { return values[section+"."+k] * unit }
		return Costs{Synop: g("synop"), NeuronActive: g("neuron_active"), NeuronInactive: g("neuron_inactive"), SpikeOut: g("spike_out"),
			Message: g("message"), WithinTile: g("within_tile"), HopEastWest: g("hop_east_west"), HopNorthSouth: g("hop_north_south"),
			ChipCrossing: g("chip_crossing"), Barrier: g("barrier"), MAC: g("mac")}
	}
	_, energyMAC := lines["energy_pj.mac"]
	_, latencyMAC := lines["latency_ns.mac"]
	if energyMAC != latencyMAC {
		return nil, errAt(top, "energy_pj.mac and latency_ns.mac come together: a chip with graded messages prices their synaptic operations in both")
	}
	a.Graded = energyMAC
	a.Energy = costs("energy_pj", 1e-12)
	a.Energy.PayloadBit = values["energy_pj.payload_bit"] * 1e-12
	a.Latency = costs("latency_ns", 1e-9)
	a.TickMin = values["latency_ns.tick_min"] * 1e-9
	a.StaticPower = values["power_mw.static_per_chip"] * 1e-3
	return a, nil
}

// yamlError is err's message on one line.
func yamlError(err error) string {
	var parts []string
	for _, l := range strings.Split(strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

func sectionNames() string {
	var s []string
	for _, f := range archFile {
		s = append(s, f.section)
	}
	return strings.Join(s, ", ")
}
