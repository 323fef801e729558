package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"spikeyolo/chip"
	"spikeyolo/mapper"
	"spikeyolo/model/detect"
	"spikeyolo/model/preprocess"
	"spikeyolo/router"
)

// chipFlags choose the chip a spiking network runs on and how it is mapped.
type chipFlags struct {
	arch      string
	cores     int
	growBoard bool
	placement string
	mapping   string
	routing   string
	multicast string
}

func (c *chipFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.arch, "arch", "loihi", "architecture: a preset ("+strings.Join(chip.Presets(), ", ")+") or a YAML `FILE`")
	fs.IntVar(&c.cores, "cores", 0, "use exactly this many cores (default: every core of the chips the fewest cores need)")
	fs.BoolVar(&c.growBoard, "grow-board", false, "add rows of chips when the architecture's board is too small (default: an error)")
	fs.StringVar(&c.placement, "placement", "traffic", "where cores sit: traffic (cut the expected packets x hops and chip crossings) or order (layer order)")
	fs.StringVar(&c.mapping, "mapping", "", "run on the mapping saved in `FILE` by spikeyolo map --save (instead of --cores, --grow-board, --placement)")
	fs.StringVar(&c.routing, "routing", "xy", "packet routing: xy or yx (dimension order)")
	fs.StringVar(&c.multicast, "multicast", "percore", "multicast: percore (a packet per destination core) or tree (copied in the routers)")
}

// loadArch returns the architecture the flags name.
func (c *chipFlags) loadArch() (*chip.Arch, error) {
	if strings.HasSuffix(c.arch, ".yaml") || strings.HasSuffix(c.arch, ".yml") || strings.ContainsRune(c.arch, '/') {
		return chip.LoadArch(c.arch)
	}
	a, err := chip.Preset(c.arch)
	if err != nil {
		return nil, usagef("--arch: %v", err)
	}
	return a, nil
}

// program maps a converted network onto the architecture: partitioned by its expected
// activity and placed, or as a saved mapping says.
func (c *chipFlags) program(cv *mapper.Converted, arch *chip.Arch) (*chip.Program, error) {
	r, err := router.ParseRouting(c.routing)
	if err != nil {
		return nil, usagef("--routing: %v", err)
	}
	m, err := router.ParseMulticast(c.multicast)
	if err != nil {
		return nil, usagef("--multicast: %v", err)
	}
	how, err := mapper.ParsePlacement(c.placement)
	if err != nil {
		return nil, usagef("--placement: %v", err)
	}
	if c.cores < 0 {
		return nil, usagef("--cores %d: want a positive number", c.cores)
	}
	if c.mapping != "" {
		if c.cores != 0 || c.growBoard {
			return nil, usagef("--mapping %s holds its cores and board: drop --cores and --grow-board", c.mapping)
		}
		f, err := os.Open(c.mapping)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		saved, err := mapper.ReadMapping(f, c.mapping)
		if err != nil {
			return nil, err
		}
		return saved.Program(cv.Net, arch, r, m, c.mapping)
	}
	act := cv.Activity()
	p, err := mapper.Partition(cv.Net, arch, act, mapper.PartitionOptions{Cores: c.cores, GrowBoard: c.growBoard}, r, m)
	if err != nil {
		return nil, err
	}
	return place(p, act, how)
}

// place places p's cores on its board as how says, from the expected activity act.
func place(p *chip.Program, act *mapper.Activity, how mapper.Placement) (*chip.Program, error) {
	slots, err := mapper.Place(p, mapper.Flows(p, act), how)
	if err != nil {
		return nil, fmt.Errorf("placing %d cores: %w", len(p.Cores), err)
	}
	return p.Placed(slots)
}

// convertForChip loads the model (a detector: it must have a head) and the architecture the
// flags name, and converts the model with the architecture's weight bits unless --weight-bits
// says otherwise.
func convertForChip(fs *pflag.FlagSet, mf *modelFlags, cf *convFlags, hw *chipFlags, mode preprocess.Mode) (*loadedModel, *chip.Arch, *mapper.Converted, error) {
	m, err := mf.load()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := detect.Check(m.net, m.name); err != nil {
		return nil, nil, nil, err
	}
	arch, err := hw.loadArch()
	if err != nil {
		return nil, nil, nil, err
	}
	if !fs.Changed("weight-bits") {
		cf.weightBits = arch.WeightBits
	}
	cv, _, err := convertModel(m, cf, mode)
	if err != nil {
		return nil, nil, nil, err
	}
	return m, arch, cv, nil
}

// trimUsage documents --trim, which detect, eval and sweep take.
const trimUsage = "stop each layer once its spikes can no longer reach an output before the last tick: the same detections with fewer spikes and synaptic operations (rate coding)"
