package mapper

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"spikeyolo/chip"
	"spikeyolo/router"
)

// TestMappingRoundTrip: a saved mapping rebuilds the same program (cuts, board and slots);
// one made for another network, architecture or board, or breaking the limits, is refused
// with a message that says which.
func TestMappingRoundTrip(t *testing.T) {
	cv := tinyNet(t)
	arch := testArch(t, chip.Limits{Neurons: 64, SynapseBytes: 1 << 20, InputAxons: 1 << 20, OutputAxons: 1 << 20,
		SharedSynapses: true, SynapseBits: 8, PopulationAxons: true, AxonSlots: 2})
	p, err := Partition(cv.Net, arch, nil, PartitionOptions{Cores: 120}, router.XY, router.PerCore)
	if err != nil {
		t.Fatal(err)
	}
	slots := make([]int, len(p.Cores))
	for i := range slots {
		slots[i] = 1000 - 7*i // anywhere on the board
	}
	if p, err = p.Placed(slots); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteMapping(&buf, MappingOf(p)); err != nil {
		t.Fatal(err)
	}
	saved := buf.String()
	read := func() *Mapping {
		m, err := ReadMapping(strings.NewReader(saved), "m.json")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	q, err := read().Program(cv.Net, arch, router.YX, router.Tree, "m.json")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(q.Grids, p.Grids) || !slices.Equal(q.Slots, p.Slots) || q.Topology != p.Topology || q.Routing != router.YX {
		t.Errorf("rebuilt program differs: grids %v slots %v", q.Grids, q.Slots[:4])
	}

	other := tinyNet(t)
	other.Net.Layers[2].Inputs[0].Synapses.Stride++ // another structure
	small := *arch
	small.Name = "small"
	tight := *arch
	tight.Limits.SynapseBytes = 1
	wide := *arch
	wide.Topology.ChipsX++
	for _, c := range []struct {
		name string
		net  *chip.Network
		arch *chip.Arch
		want string
	}{
		{"another network", other.Net, arch, "made for another network"},
		{"another architecture", cv.Net, &small, `made for architecture "loihi", not "small"`},
		{"another board", cv.Net, &wide, "board"},
		{"limits broken", cv.Net, &tight, "breaks loihi's limits"},
	} {
		if _, err := read().Program(c.net, c.arch, router.XY, router.PerCore, "m.json"); err == nil || !strings.Contains(err.Error(), c.want) ||
			!strings.Contains(err.Error(), "m.json") {
			t.Errorf("%s: error %v, want one naming m.json and saying %q", c.name, err, c.want)
		}
	}
	for _, bad := range []string{`{"format":"spikeyolo-mapping/0"}`, `{"format":"spikeyolo-mapping/1","extra":1}`, `[1,2]`} {
		if _, err := ReadMapping(strings.NewReader(bad), "m.json"); err == nil || !strings.Contains(err.Error(), "m.json") {
			t.Errorf("%s: error %v", bad, err)
		}
	}
}
