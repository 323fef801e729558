package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"spikeyolo/chip"
	"spikeyolo/mapper"
	"spikeyolo/model/preprocess"
)

// jsonMapping is map's --json output.
type jsonMapping struct {
	Model         string         `json:"model"`
	Arch          string         `json:"arch"`
	Cores         int            `json:"cores"`
	Chips         int            `json:"chips"`
	BoardChips    int            `json:"board_chips"`
	Placement     string         `json:"placement"`
	Timesteps     int            `json:"timesteps"`
	Packets       float64        `json:"packets"`        // predicted per frame
	PacketHops    float64        `json:"packet_hops"`    // predicted per frame
	ChipCrossings float64        `json:"chip_crossings"` // predicted per frame
	NetworkJ      float64        `json:"network_j"`      // predicted network energy per frame
	MappingS      float64        `json:"mapping_s"`      // seconds to partition and place
	Layers        []jsonMapLayer `json:"layers"`
}

// jsonMapLayer is one layer of a mapping: its cores, their box, and the largest share of
// each limit any of them uses.
type jsonMapLayer struct {
	Index        int                `json:"index"`
	Name         string             `json:"name"`
	Cores        int                `json:"cores"`
	Box          [3]int             `json:"box"` // channels, rows, columns
	Use          map[string]float64 `json:"use"` // per limit: the largest fraction any core uses
	BindingLimit string             `json:"binding_limit"`
}

func runMap(args []string, stdout, stderr io.Writer) error {
	var mf modelFlags
	var cf convFlags
	var hw chipFlags
	var resize, save string
	var timesteps int
	var jsonOutput bool
	fs := newFlags("map", "[flags]", "Maps a converted detector onto a chip, as a chip's toolchain compiles it: cuts every layer into\n"+
		"cores under every per-core limit, balancing the expected work, and places the cores to cut traffic.\n"+
		"Prints, per layer, its cores, their box and the use of each limit, and the traffic predicted from\n"+
		"the calibration's activity; --save keeps the mapping for detect and eval (--mapping).", stdout)
	mf.register(fs)
	hw.register(fs)
	fs.IntVar(&timesteps, "timesteps", defaultTimesteps, "ticks per frame, for the predicted traffic per frame")
	fs.StringVar(&save, "save", "", "write the mapping to `FILE` (JSON) for detect and eval --mapping")
	fs.BoolVar(&jsonOutput, "json", false, "print the mapping as one JSON object")
	fs.StringVar(&resize, "resize", "plain", "fit calibration images to the network input: plain or letterbox")
	cf.register(fs)
	cf.weightBitsFromArch(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if timesteps < 1 {
		return usagef("--timesteps %d: want a positive number of ticks", timesteps)
	}
	if os.Getenv("GOGC") == "" {
		// Mapping holds the float network, its conversion and each round's program side by
		// side, and its garbage is as large as what it keeps: collecting at half the usual
		// growth keeps yolov2-tiny at 416 × 416 under 400 MB (520 MB at the default), in
		// the same time.
		debug.SetGCPercent(50)
	}
	mode, err := preprocess.ParseMode(resize)
	if err != nil {
		return usagef("--resize: %v", err)
	}
	m, arch, cv, err := convertForChip(fs, &mf, &cf, &hw, mode)
	if err != nil {
		return err
	}
	start := time.Now()
	p, err := hw.program(cv, arch)
	if err != nil {
		return err
	}
	took := time.Since(start).Seconds()
	if save != "" {
		if err := writeAtomic(save, func(w io.Writer) error { return mapper.WriteMapping(w, mapper.MappingOf(p)) }); err != nil {
			return err
		}
	}
	traffic := mapper.EstimateTraffic(p, mapper.Flows(p, cv.Activity()))
	T := float64(timesteps)
	out := jsonMapping{Model: m.name, Arch: arch.Name, Cores: len(p.Cores), Chips: p.Chips(),
		BoardChips: p.Topology.ChipsX * p.Topology.ChipsY, Placement: hw.placement, Timesteps: timesteps,
		Packets: traffic.Packets * T, PacketHops: traffic.Hops * T, ChipCrossings: traffic.Crossings * T,
		NetworkJ: traffic.Energy * T, MappingS: took, Layers: mapLayers(p)}
	if hw.mapping != "" {
		out.Placement = "saved in " + hw.mapping
	}
	if jsonOutput {
		return json.NewEncoder(stdout).Encode(out)
	}
	fmt.Fprintf(stdout, "%s on %s: %d cores on %d chips (a board of %d), placement %s, mapped in %.2f s\n",
		out.Model, out.Arch, out.Cores, out.Chips, out.BoardChips, out.Placement, out.MappingS)
	fmt.Fprintf(stdout, "predicted per frame of %d ticks, from the calibration's activity: %.4g packets, %.4g packet-hops, %.4g chip crossings, %.4g J in the network\n",
		timesteps, out.Packets, out.PacketHops, out.ChipCrossings, out.NetworkJ)
	fmt.Fprintf(stdout, "%5s  %-28s %6s %13s %8s %8s %8s %8s  %s\n", "layer", "name", "cores", "box c×r×w", "neurons", "synapses", "in axons", "out axons", "binds")
	for _, l := range out.Layers {
		fmt.Fprintf(stdout, "%5d  %-28s %6d %13s", l.Index, l.Name, l.Cores, fmt.Sprintf("%d×%d×%d", l.Box[0], l.Box[1], l.Box[2]))
		for _, k := range chip.AllLimits {
			fmt.Fprintf(stdout, " %7.0f%%", 100*l.Use[limitKey(k)])
		}
		fmt.Fprintf(stdout, "  %s\n", l.BindingLimit)
	}
	return nil
}

// limitKey is a limit's name in JSON.
func limitKey(k chip.Limit) string {
	return [...]string{"neurons", "synapse_memory", "input_axons", "output_axons"}[k]
}

// mapLayers summarizes, per layer, its cores and the largest share of each limit they use;
// the binding limit is the one with the largest share.
func mapLayers(p *chip.Program) []jsonMapLayer {
	layers := make([]jsonMapLayer, len(p.Net.Layers))
	for i, l := range p.Net.Layers {
		g := p.Grids[i]
		layers[i] = jsonMapLayer{Index: i, Name: l.Name, Box: [3]int{g.Channels, g.Rows, g.Cols}, Use: map[string]float64{}}
	}
	lim := p.Arch.Limits
	for ci, u := range p.Usage() {
		l := &layers[p.Cores[ci].Layer]
		l.Cores++
		for _, k := range chip.AllLimits {
			if have := lim.Of(k); have > 0 {
				l.Use[limitKey(k)] = max(l.Use[limitKey(k)], float64(u.Of(k))/float64(have))
			}
		}
	}
	for i := range layers {
		best := -1.0
		for _, k := range chip.AllLimits {
			if f := layers[i].Use[limitKey(k)]; f > best {
				best, layers[i].BindingLimit = f, k.String()
			}
		}
	}
	return layers
}
