package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"spikeyolo/model"
	"spikeyolo/model/darknet"
	"spikeyolo/model/detect"
	"spikeyolo/model/zoo"
)

// modelFlags choose the detector: a darknet cfg, its weights and class names, or the
// embedded default when none is given.
type modelFlags struct {
	cfg, names string
	weights    weightsFlag
}

func (m *modelFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&m.cfg, "model", "", "darknet `CFG` file of the detector (default: embedded Yolo-Fastest 1.1 COCO)")
	fs.Var(&m.weights, "weights", "darknet weights `FILE` for --model, or random[:SEED] for untrained random weights "+
		fmt.Sprintf("(seed %d by default; without --model, they replace the embedded model's; calibrated on the embedded dog.jpg unless --calib)", darknet.DefaultSeed))
	fs.StringVar(&m.names, "names", "", "class names `FILE`, one per line (default: class0, class1, ...)")
}

// weightsFlag is the value of --weights: a weights file, or random weights and their seed.
type weightsFlag struct {
	file   string
	random bool
	seed   uint64
}

// randomWeights is the --weights value that asks for random weights, alone or as random:SEED.
const randomWeights = "random"

// Set implements pflag.Value: "random" and "random:SEED" ask for random weights (a file
// of that name is ./random), anything else names a file.
func (w *weightsFlag) Set(v string) error {
	*w = weightsFlag{}
	if v != randomWeights && !strings.HasPrefix(v, randomWeights+":") {
		w.file = v
		return nil
	}
	w.random, w.seed = true, darknet.DefaultSeed
	if s, ok := strings.CutPrefix(v, randomWeights+":"); ok {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return fmt.Errorf("want random or random:SEED, SEED a decimal integer from 0 to %d", uint64(1<<64-1))
		}
		w.seed = seed
	}
	return nil
}

func (w *weightsFlag) String() string {
	switch {
	case !w.random:
		return w.file
	case w.seed == darknet.DefaultSeed:
		return randomWeights
	default:
		return fmt.Sprintf("%s:%d", randomWeights, w.seed)
	}
}

// Type implements pflag.Value.
func (w *weightsFlag) Type() string { return "weights" }

func (w *weightsFlag) given() bool { return w.random || w.file != "" }

// loadedModel is a detector ready to run.
type loadedModel struct {
	name     string
	net      *model.Network
	names    []string
	embedded bool // the embedded model with its trained weights (and its calibration)
	random   bool // random weights (see darknet.RandomWeights)
}

func (m *modelFlags) load() (*loadedModel, error) {
	if m.cfg == "" && !m.weights.given() && m.names == "" {
		net, names := zoo.Default()
		return &loadedModel{zoo.DefaultName, net, names, true, false}, nil
	}
	var lm *loadedModel
	switch {
	case m.weights.random && m.cfg == "":
		net, names := zoo.Default()
		darknet.RandomWeights(net, m.weights.seed)
		lm = &loadedModel{name: zoo.DefaultName, net: net, names: names}
	case m.weights.random:
		net, err := darknet.LoadConfig(m.cfg)
		if err != nil {
			return nil, err
		}
		darknet.RandomWeights(net, m.weights.seed)
		lm = &loadedModel{name: m.cfg, net: net}
	case m.cfg == "" && m.weights.file != "":
		return nil, usagef("--weights %s needs --model (on the embedded model only --weights random[:SEED] applies)", m.weights.file)
	case m.cfg == "" || m.weights.file == "":
		return nil, usagef("--model and --weights go together (--weights FILE, or random[:SEED] for random weights)")
	default:
		net, err := darknet.Load(m.cfg, m.weights.file)
		if err != nil {
			return nil, err
		}
		lm = &loadedModel{name: m.cfg, net: net}
	}
	if lm.random = m.weights.random; lm.random {
		lm.name += fmt.Sprintf(", random weights (seed %d)", m.weights.seed)
	}
	classes := 0
	for _, h := range lm.net.Heads() {
		switch op := lm.net.Layers[h].Op.(type) {
		case *model.Region:
			classes = op.Classes
		case *model.Yolo:
			classes = op.Classes
		}
	}
	if m.names != "" {
		names, err := detect.ReadNames(m.names)
		if err != nil {
			return nil, err
		}
		if classes > 0 && len(names) != classes {
			return nil, fmt.Errorf("%s: %d class names, but %s detects %d classes", m.names, len(names), lm.name, classes)
		}
		lm.names = names
	} else if lm.names == nil {
		for i := 0; i < classes; i++ {
			lm.names = append(lm.names, fmt.Sprintf("class%d", i))
		}
	}
	return lm, nil
}
