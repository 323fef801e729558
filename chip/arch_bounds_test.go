package chip

import (
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

// loihiFile is the loihi preset's text, which the tests below edit.
func loihiFile(t testing.TB) string {
	t.Helper()
	good, err := presets.ReadFile("arch/loihi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(good)
}

// lineOf is "x.yaml:N:" for the first line of file containing s.
func lineOf(t testing.TB, file, s string) string {
	t.Helper()
	for i, l := range strings.Split(file, "\n") {
		if strings.Contains(l, s) {
			return "x.yaml:" + itoa(i+1) + ":"
		}
	}
	t.Fatalf("no line contains %q", s)
	return ""
}

// TestParseArchBounds: sizes that would exhaust memory, overflow or hang the simulator
// (issue 14, item 3), non-finite constants (item 4), duplicates and second documents
// (item 8), and the weak messages of item 10 are errors naming the file, the line and the
// field, returned at once.
func TestParseArchBounds(t *testing.T) {
	good := loihiFile(t)
	edit := func(from, to string) string {
		t.Helper()
		if !strings.Contains(good, from) {
			t.Fatalf("the loihi preset has no %q", from)
		}
		return strings.Replace(good, from, to, 1)
	}
	line := func(s string) string { return lineOf(t, good, s) }
	chipsX := "chips_x: {value: 8,"
	tests := []struct {
		name, file string
		want       []string // substrings of the error
	}{
		// Item 3: huge boards.
		{"chips_x 1e9", edit(chipsX, "chips_x: {value: 1000000000,"), []string{line(chipsX), "topology.chips_x", "4096"}},
		{"chips_x 1e18", edit(chipsX, "chips_x: {value: 1e18,"), []string{line(chipsX), "topology.chips_x"}},
		{"chips_x 2^62", edit(chipsX, "chips_x: {value: 4611686018427387904,"), []string{line(chipsX), "topology.chips_x"}},
		{"chips_x 1e300", edit(chipsX, "chips_x: {value: 1e300,"), []string{line(chipsX), "topology.chips_x"}},
		{"tiles_x 5000", edit("tiles_x: {value: 8,", "tiles_x: {value: 5000,"), []string{line("tiles_x: {value: 8,"), "topology.tiles_x", "4096"}},
		{"board side over 4096 tiles", edit(chipsX, "chips_x: {value: 600,"), []string{line(chipsX), "chips_x·", "tiles_x", "4800", "4096"}},
		{"board over 2^20 cores", edit("cores_per_tile: {value: 4,", "cores_per_tile: {value: 1024,"), []string{"x.yaml:", "cores", "1048576"}},
		{"cores per tile 2^40", edit("cores_per_tile: {value: 4,", "cores_per_tile: {value: 1099511627776,"), []string{line("cores_per_tile: {value: 4,"), "topology.cores_per_tile"}},
		{"neurons 2^40", edit("neurons: {value: 1024,", "neurons: {value: 1099511627776,"), []string{line("neurons: {value: 1024,"), "core.neurons", "at most 1048576"}},
		{"synapse bytes 2^40", edit("synapse_bytes: {value: 131072,", "synapse_bytes: {value: 1099511627776,"), []string{line("synapse_bytes:"), "core.synapse_bytes", "at most 4294967296"}},
		{"input axons 2^40", edit("input_axons: {value: 4096,", "input_axons: {value: 1099511627776,"), []string{line("input_axons:"), "core.input_axons"}},
		{"output axons 2^40", edit("output_axons: {value: 4096,", "output_axons: {value: 1099511627776,"), []string{line("output_axons:"), "core.output_axons"}},
		{"synapse bits 1000", edit("synapse_bits: {value: 8,", "synapse_bits: {value: 1000,"), []string{line("synapse_bits:"), "core.synapse_bits", "64"}},
		{"axon slots 1e6", edit("output_axon_slots: {value: 2,", "output_axon_slots: {value: 1000000,"), []string{line("output_axon_slots:"), "core.output_axon_slots"}},

		// Item 4: non-finite constants.
		{"NaN energy", edit("synop: {value: 23.6,", "synop: {value: .nan,"), []string{line("synop: {value: 23.6,"), "energy_pj.synop", "finite"}},
		{"Inf latency", edit("barrier: {value: 465,", "barrier: {value: .inf,"), []string{line("barrier: {value: 465,"), "latency_ns.barrier", "finite"}},
		{"-Inf power", edit("static_per_chip: {value: 104,", "static_per_chip: {value: -.Inf,"), []string{line("static_per_chip:"), "power_mw.static_per_chip", "finite"}},
		{"NaN count", edit("neurons: {value: 1024,", "neurons: {value: .NaN,"), []string{line("neurons: {value: 1024,"), "core.neurons", "finite"}},

		// Item 8: duplicates and a second document.
		{"duplicate section", good + "topology:\n  chips_x: {value: 1, source: x}\n", []string{"x.yaml:" + itoa(strings.Count(good, "\n")+1) + ":", "topology", "line " + itoa(lineNo(line("topology:")))}},
		{"duplicate constant", edit(chipsX, "chips_x: {value: 1, source: x}\n  "+chipsX), []string{"x.yaml:" + itoa(lineNo(line(chipsX))+1) + ":", "topology.chips_x", "already given at line " + itoa(lineNo(line(chipsX)))}},
		{"duplicate name", good + "name: other\n", []string{"x.yaml:" + itoa(strings.Count(good, "\n")+1) + ":", "name", "already"}},
		{"duplicate value", edit("{value: 1024,", "{value: 1024, value: 2048,"), []string{line("{value: 1024,"), "core.neurons"}},
		{"second document", good + "---\nname: other\n", []string{"a second YAML document at line " + itoa(strings.Count(good, "\n")+1)}},
		{"second empty document", good + "---\n", []string{"a second YAML document at line " + itoa(strings.Count(good, "\n")+1)}},

		// Item 10 (b): an empty file.
		{"empty", "", []string{"x.yaml: empty architecture file"}},
		{"comments only", "# nothing\n\n", []string{"x.yaml: empty architecture file"}},
		// Item 10 (c): weight bits out of the mapper's range.
		{"weight_bits 64", edit("weight_bits: {value: 8,", "weight_bits: {value: 64,"), []string{line("weight_bits:"), "core.weight_bits = 64", "24"}},
		{"weight_bits 1", edit("weight_bits: {value: 8,", "weight_bits: {value: 1,"), []string{line("weight_bits:"), "core.weight_bits = 1", ">= 2"}},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			a, err := parseArchNoPanic(t, c.file)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("ParseArch took %v", d)
			}
			if err == nil {
				t.Fatalf("ParseArch accepted the file (%+v)", a.Topology)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is not one line", err)
			}
		})
	}
}

// TestParseArchByteOrderMark: a UTF-8 byte-order mark before a valid file is skipped.
func TestParseArchByteOrderMark(t *testing.T) {
	a, err := ParseArch(strings.NewReader("\uFEFF"+loihiFile(t)), "x.yaml")
	if err != nil || a.Name != "loihi" {
		t.Fatalf("ParseArch with a byte-order mark: %v", err)
	}
}

// TestParseArchLargest: a board at every bound is accepted.
func TestParseArchLargest(t *testing.T) {
	good := loihiFile(t)
	for from, to := range map[string]string{
		"chips_x: {value: 8,": "chips_x: {value: 512,", "chips_y: {value: 8,": "chips_y: {value: 1024,",
		"tiles_y: {value: 4,": "tiles_y: {value: 4,", "cores_per_tile: {value: 4,": "cores_per_tile: {value: 1,",
		"neurons: {value: 1024,": "neurons: {value: 1048576,", "weight_bits: {value: 8,": "weight_bits: {value: 24,",
		"synapse_bytes: {value: 131072,": "synapse_bytes: {value: 4294967296,",
	} {
		good = strings.Replace(good, from, to, 1)
	}
	// 512·8 = 4096 tiles wide, 1024·4 = 4096 tiles high, 512·1024·32 cores = 2^24: too many.
	if _, err := ParseArch(strings.NewReader(good), "x.yaml"); err == nil || !strings.Contains(err.Error(), "1048576") {
		t.Errorf("a board of 2^24 cores: %v", err)
	}
	good = strings.Replace(good, "chips_y: {value: 1024,", "chips_y: {value: 64,", 1) // 2^20 cores
	a, err := ParseArch(strings.NewReader(good), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if a.Topology.Cores() != MaxBoardCores || a.Limits.Neurons != MaxCoreNeurons || a.WeightBits != MaxWeightBits {
		t.Errorf("got %d cores, %d neurons, %d weight bits", a.Topology.Cores(), a.Limits.Neurons, a.WeightBits)
	}
}

// lineNo is N of "x.yaml:N:".
func lineNo(at string) int {
	n := 0
	for _, r := range strings.TrimSuffix(strings.TrimPrefix(at, "x.yaml:"), ":") {
		n = 10*n + int(r-'0')
	}
	return n
}

func parseArchNoPanic(t testing.TB, file string) (a *Arch, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("ParseArch panicked: %v", r)
		}
	}()
	return ParseArch(strings.NewReader(file), "x.yaml")
}

// checkArchBounds fails t if an accepted architecture breaks a documented bound.
func checkArchBounds(t testing.TB, a *Arch) {
	t.Helper()
	tp := a.Topology
	for _, d := range []int{tp.ChipsX, tp.ChipsY, tp.TilesX, tp.TilesY, tp.CoresPerTile} {
		if d < 1 || d > MaxBoardCores {
			t.Fatalf("topology %+v: a dimension out of 1..%d", tp, MaxBoardCores)
		}
	}
	if tp.ChipsX*tp.TilesX > MaxBoardSide || tp.ChipsY*tp.TilesY > MaxBoardSide || tp.Cores() > MaxBoardCores {
		t.Fatalf("topology %+v: %d cores, %dx%d tiles", tp, tp.Cores(), tp.ChipsX*tp.TilesX, tp.ChipsY*tp.TilesY)
	}
	l := a.Limits
	if l.Neurons < 1 || l.Neurons > MaxCoreNeurons || l.SynapseBytes < 0 || l.SynapseBytes > MaxSynapseBytes ||
		l.InputAxons < 0 || l.InputAxons > MaxCoreAxons || l.OutputAxons < 0 || l.OutputAxons > MaxCoreAxons ||
		l.SynapseBits < 1 || l.SynapseBits > MaxSynapseBits || l.AxonSlots < 1 || l.AxonSlots > MaxAxonSlots {
		t.Fatalf("limits %+v out of bounds", l)
	}
	if a.WeightBits < MinWeightBits || a.WeightBits > MaxWeightBits {
		t.Fatalf("weight bits %d", a.WeightBits)
	}
	for _, c := range []Costs{a.Energy, a.Latency} {
		for _, v := range []float64{c.Synop, c.NeuronActive, c.NeuronInactive, c.SpikeOut, c.Message, c.WithinTile,
			c.HopEastWest, c.HopNorthSouth, c.ChipCrossing, c.Barrier} {
			if !(v >= 0) || math.IsInf(v, 0) {
				t.Fatalf("cost %v in %+v", v, c)
			}
		}
	}
	if !(a.TickMin >= 0) || math.IsInf(a.TickMin, 0) || !(a.StaticPower >= 0) || math.IsInf(a.StaticPower, 0) || a.Name == "" {
		t.Fatalf("tick %v, power %v, name %q", a.TickMin, a.StaticPower, a.Name)
	}
}

// FuzzParseArch: ParseArch never panics or hangs, and every architecture it accepts is
// within the documented bounds. Seeded with the presets, and with each preset without its
// comments and with every source shortened to "s" (small inputs mutate and minimize faster).
func FuzzParseArch(f *testing.F) {
	source := regexp.MustCompile(`source: "[^"]*"`)
	for _, name := range Presets() {
		data, err := presets.ReadFile("arch/" + name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		var short []string
		for _, l := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(l, "#") {
				short = append(short, source.ReplaceAllString(l, "source: s"))
			}
		}
		f.Add([]byte(strings.Join(short, "\n")))
	}
	f.Add([]byte(""))
	f.Add([]byte("name: x\n---\nname: y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseArch(strings.NewReader(string(data)), "fuzz.yaml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		checkArchBounds(t, a)
	})
}
