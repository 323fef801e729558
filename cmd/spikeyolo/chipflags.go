package main

import (
	"strings"

	"github.com/spf13/pflag"

	"spikeyolo/chip"
	"spikeyolo/mapper"
	"spikeyolo/router"
)

// chipFlags choose the chip a spiking network runs on and how it is mapped.
type chipFlags struct {
	arch      string
	cores     int
	growBoard bool
	routing   string
	multicast string
}

func (c *chipFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.arch, "arch", "loihi", "architecture: a preset ("+strings.Join(chip.Presets(), ", ")+") or a YAML `FILE`")
	fs.IntVar(&c.cores, "cores", 0, "use exactly this many cores (default: every core of the chips the fewest cores need)")
	fs.BoolVar(&c.growBoard, "grow-board", false, "add rows of chips when the architecture's board is too small (default: an error)")
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

// program maps a converted network onto the architecture.
func (c *chipFlags) program(cv *mapper.Converted, arch *chip.Arch) (*chip.Program, error) {
	r, err := router.ParseRouting(c.routing)
	if err != nil {
		return nil, usagef("--routing: %v", err)
	}
	m, err := router.ParseMulticast(c.multicast)
	if err != nil {
		return nil, usagef("--multicast: %v", err)
	}
	if c.cores < 0 {
		return nil, usagef("--cores %d: want a positive number", c.cores)
	}
	return mapper.Partition(cv.Net, arch, cv.Activity(), mapper.PartitionOptions{Cores: c.cores, GrowBoard: c.growBoard}, r, m)
}
