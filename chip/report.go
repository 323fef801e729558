package chip

import (
	"math/bits"
	"slices"

	"spikeyolo/core"
	"spikeyolo/router"
)

// FloatMACEnergy is the energy of one 32-bit floating-point multiply-accumulate on
// conventional 45 nm hardware: 3.7 pJ for the multiply and 0.9 pJ for the add (Horowitz,
// "Computing's energy problem", ISSCC 2014, Fig. 1.1.9).
const FloatMACEnergy = 4.6e-12

// Category is one kind of energy in a report.
type Category uint8

// The categories of the energy report, in the order reports list them.
const (
	Synapse        Category = iota // synaptic operations of binary spikes (accumulates)
	SynapseMAC                     // synaptic operations of graded messages (multiply-accumulates)
	NeuronActive                   // neuron updates with input or a spike
	NeuronInactive                 // neuron updates the hardware performs anyway
	SpikeOut                       // spike events emitted
	Messages                       // packets sent
	WithinTile                     // deliveries within a tile
	HopsEastWest                   // east-west link traversals
	HopsNorthSouth                 // north-south link traversals
	ChipCrossings                  // traversals between chips
	Barrier                        // the barrier that ends each tick
	Static                         // static power over the frame, per chip
	InputEncoding                  // the analog input layers' float MACs
	NumCategories                  // the number of categories
)

var categoryNames = [NumCategories]string{"synapse", "synapse_mac", "neuron_active", "neuron_inactive", "spike_out", "messages", "within_tile",
	"hops_east_west", "hops_north_south", "chip_crossings", "barrier", "static", "input_encoding"}

// String is the category's name in reports and JSON.
func (c Category) String() string { return categoryNames[c] }

// Energies holds joules per category; sums over it run in category order, so they are the
// same bits in every run.
type Energies [NumCategories]float64

// Total is the sum over the categories, in their order.
func (e *Energies) Total() float64 {
	var t float64
	for _, v := range e {
		t += v
	}
	return t
}

// Report prices a run: energy by category, per layer and per core, and time.
type Report struct {
	Arch            string
	Cores, Chips    int
	Ticks           int
	Energy          float64            // joules per frame: Energies.Total()
	Energies        Energies           // joules per frame, by category
	ByCategory      map[string]float64 // Energies by category name
	Layers          []LayerReport
	CoreEnergy      []float64 // joules per core (synapse, neuron, spike and message energy, and its packets' network energy)
	BusiestLinks    []LinkLoad
	Synops          int64 // accumulates (binary spikes)
	MACs            int64 // multiply-accumulates (graded messages)
	Spikes          int64
	Events          int64 // spike events emitted: graded messages, or a neuron's spikes of one tick
	Packets         int64 // packets sent
	Hops            int64
	Crossings       int64
	EnergyPerSynop  float64 // joules per synaptic operation, accumulate or multiply-accumulate (the whole frame's energy over them)
	TickTime        float64 // seconds per tick
	FrameTime       float64 // seconds per frame
	Time            Timing
	FloatMACs       int64   // the float network's multiply-accumulates
	FloatEnergy     float64 // FloatMACs × FloatMACEnergy: the float network on conventional hardware
	AnalogMACs      int64   // the float multiply-accumulates that encode the input image
	LimitViolations []string
}

// LayerReport is one layer's share of a run.
type LayerReport struct {
	Name    string
	Cores   int
	Neurons int
	Spikes  int64
	Synops  int64
	MACs    int64
	Energy  float64 // joules: its cores' energy
}

// LinkLoad is a link and the packets it carried in the run.
type LinkLoad struct {
	Link    router.Link
	Packets int64
}

// Report prices the result of a run of p, with the float network's MACs and the analog
// input layers' MACs (priced at FloatMACEnergy) for comparison and for the encoding.
func (p *Program) Report(res *Result, floatMACs, analogMACs int64) *Report {
	e := &p.Arch.Energy
	r := &Report{Arch: p.Arch.Name, Cores: len(p.Cores), Ticks: res.Ticks, ByCategory: map[string]float64{},
		CoreEnergy: make([]float64, len(p.Cores)), FloatMACs: floatMACs, AnalogMACs: analogMACs,
		FloatEnergy: float64(floatMACs) * FloatMACEnergy, Time: res.Time, FrameTime: res.Time.Frame}
	layers := make([]LayerReport, len(p.Net.Layers))
	for i, l := range p.Net.Layers {
		layers[i].Name, layers[i].Neurons = l.Name, l.Shape.Size()
	}
	for i, c := range res.Cores {
		spec := p.Cores[i]
		size := int64(spec.Box.Size())
		inactive := size*int64(res.Ticks) - c.Updates
		sent := res.Sent[i]
		var parts Energies
		parts[Synapse] = float64(c.Synops) * e.Synop
		parts[SynapseMAC] = float64(c.MACs) * e.MAC
		parts[NeuronActive] = float64(c.Updates) * e.NeuronActive
		parts[NeuronInactive] = float64(inactive) * e.NeuronInactive
		parts[SpikeOut] = float64(c.Events) * e.SpikeOut
		parts[Messages] = float64(sent.Sent) * (e.Message + float64(p.payloadBits(spec.Layer))*e.PayloadBit)
		parts[WithinTile] = float64(sent.WithinTile) * e.WithinTile
		parts[HopsEastWest] = float64(sent.Hops[router.East]+sent.Hops[router.West]) * e.HopEastWest
		parts[HopsNorthSouth] = float64(sent.Hops[router.North]+sent.Hops[router.South]) * e.HopNorthSouth
		parts[ChipCrossings] = float64(sent.Crossings) * e.ChipCrossing
		for k, v := range parts {
			r.Energies[k] += v
		}
		r.CoreEnergy[i] = parts.Total()
		lr := &layers[spec.Layer]
		lr.Cores++
		lr.Spikes += c.Spikes
		lr.Synops += c.Synops
		lr.MACs += c.MACs
		lr.Energy += r.CoreEnergy[i]
		r.Synops += c.Synops
		r.MACs += c.MACs
		r.Spikes += c.Spikes
		r.Events += c.Events
	}
	r.Chips = p.Chips()
	r.Layers = layers
	r.Energies[Barrier] = float64(res.Ticks) * e.Barrier
	r.Energies[Static] = p.Arch.StaticPower * float64(r.Chips) * res.Time.Frame
	r.Energies[InputEncoding] = float64(analogMACs) * FloatMACEnergy
	r.Energy = r.Energies.Total()
	for k, v := range r.Energies {
		r.ByCategory[Category(k).String()] = v
	}
	if ops := r.Synops + r.MACs; ops > 0 {
		r.EnergyPerSynop = r.Energy / float64(ops)
	}
	if res.Ticks > 0 {
		r.TickTime = res.Time.Frame / float64(res.Ticks)
	}
	r.Packets = res.Network.Sent
	for _, h := range res.Network.Hops {
		r.Hops += h
	}
	r.Crossings = res.Network.Crossings
	for l, n := range res.Links {
		r.BusiestLinks = append(r.BusiestLinks, LinkLoad{l, n})
	}
	slices.SortFunc(r.BusiestLinks, func(a, b LinkLoad) int {
		switch {
		case a.Packets != b.Packets:
			return int(b.Packets - a.Packets)
		case a.Link.From.Y != b.Link.From.Y:
			return a.Link.From.Y - b.Link.From.Y
		case a.Link.From.X != b.Link.From.X:
			return a.Link.From.X - b.Link.From.X
		}
		return int(a.Link.Dir) - int(b.Link.Dir)
	})
	if len(r.BusiestLinks) > 10 {
		r.BusiestLinks = r.BusiestLinks[:10]
	}
	r.LimitViolations = p.CheckLimits()
	return r
}

// payloadBits is the width of layer l's graded messages, sign included: enough for its
// largest payload (MaxSpikes); 0 for a layer of binary spikes.
func (p *Program) payloadBits(l int) int {
	layer := &p.Net.Layers[l]
	if !layer.Graded {
		return 0
	}
	return bits.Len64(uint64(layer.MaxSpikes)) + 1
}

// The time model: what a tick costs in seconds, beside the energy model above.

// Timing is the modelled duration of the run, in seconds: per tick, the slowest core's
// pipeline (its operations one after another, every neuron's update included where the
// hardware updates them all), then the network (the longest packet path, plus the waiting of
// the busiest link's packets), then the barrier; at least the architecture's minimum tick.
type Timing struct {
	Frame   float64 `json:"frame"`   // the whole run
	Compute float64 `json:"compute"` // of which the slowest cores' pipelines
	Network float64 `json:"network"` // of which the network
	Barrier float64 `json:"barrier"` // of which the barriers
}

// clock prices a run's ticks in seconds, in tick order: a tick in which cores step costs the
// slowest core's pipeline, then the network, then the barrier; a tick in which none steps
// costs the idle pipeline and the barrier; each at least the architecture's minimum tick.
// Runs of idle ticks are priced at once.
type clock struct {
	p    *Program
	idle float64 // the pipeline time of a tick in which no core steps (see idleTime)
	Timing
	priced int // the ticks before it are priced
}

// idleTime is the pipeline time of the slowest core in a tick where nothing happens: the
// largest core updating all its neurons as inactive.
func (p *Program) idleTime() float64 {
	most := 0
	for _, c := range p.Cores {
		most = max(most, c.Box.Size())
	}
	return float64(most) * p.Arch.Latency.NeuronInactive
}

// core is the pipeline time of core ci in a tick in which its counters grew by d: its
// operations one after another, every neuron's update included.
func (c *clock) core(ci int32, d core.Counters) float64 {
	l := &c.p.Arch.Latency
	size := int64(c.p.Cores[ci].Box.Size())
	return float64(d.Synops)*l.Synop + float64(d.MACs)*l.MAC + float64(d.Updates)*l.NeuronActive + float64(size-d.Updates)*l.NeuronInactive +
		float64(d.Events)*l.SpikeOut + float64(d.Packets)*l.Message
}

// busyTick prices tick t, in which cores stepped, after the idle ticks before it: slowest is
// its slowest core's pipeline (at least idle), maxLoad the most packets one link carried, and
// path the longest packet path's latency. Contention delays the busiest link's packets by one
// hop each after the first.
func (c *clock) busyTick(t int, slowest float64, maxLoad int32, path float64) {
	c.idleTicks(t)
	lat := &c.p.Arch.Latency
	network := path
	if maxLoad > 1 {
		network += float64(maxLoad-1) * max(lat.HopEastWest, lat.HopNorthSouth)
	}
	c.Frame += max(slowest+network+lat.Barrier, c.p.Arch.TickMin)
	c.Compute += slowest
	c.Network += network
	c.Barrier += lat.Barrier
	c.priced = t + 1
}

// idleTicks prices the ticks from the last priced up to t, in which no core stepped.
func (c *clock) idleTicks(t int) {
	lat := &c.p.Arch.Latency
	n := float64(t - c.priced)
	c.Frame += n * max(lat.Barrier+c.idle, c.p.Arch.TickMin)
	c.Compute += n * c.idle
	c.Barrier += n * lat.Barrier
	c.priced = t
}
