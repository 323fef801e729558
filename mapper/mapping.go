package mapper

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"spikeyolo/chip"
	"spikeyolo/router"
)

// MappingFormat names the format of a saved mapping; a file of another format is refused.
const MappingFormat = "spikeyolo-mapping/1"

// Mapping is a compiled placement of a converted network, as a real toolchain separates
// compiling from running: how each layer is cut into cores, the board, and the slot of every
// core. It holds no weights: it fits every network of the same structure (Fingerprint), on
// the architecture it was made for.
type Mapping struct {
	Format  string          `json:"format"`
	Network string          `json:"network"` // Fingerprint of the network it maps
	Arch    string          `json:"arch"`    // the architecture's name
	Board   router.Topology `json:"board"`   // the architecture's board, or a larger one it was allowed
	Grids   []chip.Grid     `json:"grids"`   // per chip layer
	Slots   []int           `json:"slots"`   // per core, its slot on the board
}

// MappingOf records where p puts its network.
func MappingOf(p *chip.Program) *Mapping {
	return &Mapping{Format: MappingFormat, Network: Fingerprint(p.Net), Arch: p.Arch.Name, Board: p.Topology,
		Grids: p.Grids, Slots: p.Slots}
}

// Fingerprint identifies a network's structure: its layers' shapes, kinds and synapse
// geometry, not their weights or thresholds (a mapping stays valid when they change).
func Fingerprint(net *chip.Network) string {
	h := sha256.New()
	put := func(v ...int) {
		for _, x := range v {
			binary.Write(h, binary.LittleEndian, int64(x))
		}
	}
	put(len(net.Layers))
	for _, l := range net.Layers {
		put(l.Shape.C, l.Shape.H, l.Shape.W, int(l.Kind), len(l.Inputs))
		for _, in := range l.Inputs {
			s := &in.Synapses
			put(in.From, s.SrcC0, s.NumC, s.Upsample, s.DstC0, s.DstC, s.Size, s.Stride, s.Offset, s.Groups)
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Program builds the program m describes for net on arch, checking that m was made for a
// network of net's structure and for arch's board, and that every core is within arch's
// limits. name is used in error messages.
func (m *Mapping) Program(net *chip.Network, arch *chip.Arch, r router.Routing, mc router.Multicast, name string) (*chip.Program, error) {
	switch {
	case m.Network != Fingerprint(net):
		return nil, fmt.Errorf("%s: the mapping was made for another network (fingerprint %s, this one's %s): map this model again", name, m.Network, Fingerprint(net))
	case m.Arch != arch.Name:
		return nil, fmt.Errorf("%s: the mapping was made for architecture %q, not %q", name, m.Arch, arch.Name)
	case m.Board.TilesX != arch.Topology.TilesX || m.Board.TilesY != arch.Topology.TilesY || m.Board.CoresPerTile != arch.Topology.CoresPerTile ||
		m.Board.ChipsX != arch.Topology.ChipsX || m.Board.ChipsY < arch.Topology.ChipsY:
		return nil, fmt.Errorf("%s: the mapping's board %+v is not %s's %+v (or that board grown by rows of chips)", name, m.Board, arch.Name, arch.Topology)
	case len(m.Grids) != len(net.Layers):
		return nil, fmt.Errorf("%s: %d grids for %d layers", name, len(m.Grids), len(net.Layers))
	}
	if m.Board != arch.Topology {
		grown := *arch
		grown.Topology = m.Board
		arch = &grown
	}
	p, err := chip.NewProgram(net, arch, m.Grids, r, mc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if p, err = p.Placed(m.Slots); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if over := p.CheckLimits(); over != nil {
		return nil, fmt.Errorf("%s: the mapping breaks %s's limits: %v", name, arch.Name, over)
	}
	return p, nil
}

// WriteMapping writes m as JSON.
func WriteMapping(w io.Writer, m *Mapping) error {
	enc := json.NewEncoder(w)
	return enc.Encode(m)
}

// ReadMapping reads a mapping written by WriteMapping. name is used in error messages.
func ReadMapping(r io.Reader, name string) (*Mapping, error) {
	var m Mapping
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: not a mapping file: %w", name, err)
	}
	if m.Format != MappingFormat {
		return nil, fmt.Errorf("%s: format %q, want %q", name, m.Format, MappingFormat)
	}
	return &m, nil
}
