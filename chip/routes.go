package chip

import (
	"encoding/binary"
	"slices"

	"github.com/sourcegraph/conc/iter"
)

// routes are a program's spike routes, resolved once per (source core, destination set)
// instead of once per spike. The neurons of a core whose spikes must reach the same
// destination cores (Program.Destinations) form one of its classes: a class is one
// multicast group, whose spikes travel as one queue of packets that every destination core
// of the class reads. A core's neurons fall into a few classes (the positions of its box
// whose windows reach the same neighbouring boxes, times the channel groups of its readers).
type routes struct {
	classOf [][]int32 // per layer, per neuron: its class within its core
	classes [][]class // per core: its classes
	inputs  [][]route // per core: the classes whose spikes reach it, by source core, then class
}

// class is one multicast group of a core: the destination cores of its spikes, ascending.
type class struct{ dst []int32 }

// route is a class whose spikes reach a core: class Class of core Src.
type route struct{ Src, Class int32 }

// buildRoutes resolves the classes of every core of p from its fan-out tables, cores in
// parallel (each writes only its own classes and its own neurons' entries of classOf), then
// lists each core's inputs in source-core order.
func (p *Program) buildRoutes() *routes {
	net := p.Net
	r := &routes{classOf: make([][]int32, len(net.Layers)), classes: make([][]class, len(p.Cores)),
		inputs: make([][]route, len(p.Cores))}
	for l, layer := range net.Layers {
		if len(p.fanout[l]) > 0 {
			r.classOf[l] = make([]int32, layer.Shape.Size())
		}
	}
	iter.ForEachIdx(p.Cores, func(ci int, spec *CoreSpec) {
		if len(p.fanout[spec.Layer]) > 0 {
			r.classes[ci] = p.coreClasses(spec, r.classOf[spec.Layer])
		}
	})
	for ci, classes := range r.classes {
		for k, c := range classes {
			for _, d := range c.dst {
				r.inputs[d] = append(r.inputs[d], route{int32(ci), int32(k)})
			}
		}
	}
	return r
}

// coreClasses returns the classes of core spec's neurons, numbered in the order its box
// first meets them, and sets each neuron's class in classOf (its layer's, by neuron index).
func (p *Program) coreClasses(spec *CoreSpec, classOf []int32) []class {
	l := spec.Layer
	sig, nsig := p.channelSignatures(l, spec.Box.C0, spec.Box.C1)
	b := spec.Box
	shape := p.Net.Layers[l].Shape
	nc, npos := b.C1-b.C0, (b.Y1-b.Y0)*(b.X1-b.X0)
	// memo holds the class of each (channel signature, position) of the box, or -1:
	// channels of one signature at one position share their destinations.
	memo := make([]int32, nsig*npos)
	for i := range memo {
		memo[i] = -1
	}
	var classes []class
	var scratch []int32
	var key []byte
	ids := map[string]int32{}
	var last []int32 // the destinations of the last class found, and its id
	lastID := int32(-1)
	for i := 0; i < b.Size(); i++ {
		ch, y, x := b.At(i)
		slot := int(sig[ch-b.C0])*npos + i/nc
		id := memo[slot]
		if id < 0 {
			dst := p.Destinations(l, shape.Index(ch, y, x), &scratch)
			switch {
			case len(dst) == 0:
				id = -1
			case lastID >= 0 && slices.Equal(dst, last):
				id = lastID
			default:
				key = destinationKey(key[:0], dst)
				var ok bool
				if id, ok = ids[string(key)]; !ok {
					id = int32(len(classes))
					ids[string(key)] = id
					classes = append(classes, class{dst: slices.Clone(dst)})
				}
				last, lastID = classes[id].dst, id
			}
			memo[slot] = id
		}
		classOf[shape.Index(ch, y, x)] = id
	}
	return classes
}

// channelSignatures numbers channels [c0, c1) of layer l by what their readers see of them:
// two channels with the same number are read by the same inputs, in the same group, so that
// at one position they reach the same cores. It returns the number of each channel (from
// c0) and how many numbers there are.
func (p *Program) channelSignatures(l, c0, c1 int) ([]int32, int) {
	sig := make([]int32, c1-c0)
	ids := map[string]int32{}
	var key []byte
	for ch := c0; ch < c1; ch++ {
		key = key[:0]
		for k := range p.fanout[l] {
			s := p.fanout[l][k].syn
			g := -1
			if s.Reads(ch) {
				g = (ch - s.SrcC0) / (s.NumC / s.Groups)
			}
			key = binary.LittleEndian.AppendUint32(key, uint32(g))
		}
		id, ok := ids[string(key)]
		if !ok {
			id = int32(len(ids))
			ids[string(key)] = id
		}
		sig[ch-c0] = id
	}
	return sig, len(ids)
}

// destinationKey appends to key the cores dst as bytes: a class's key in a map.
func destinationKey(key []byte, dst []int32) []byte {
	for _, d := range dst {
		key = binary.LittleEndian.AppendUint32(key, uint32(d))
	}
	return key
}
