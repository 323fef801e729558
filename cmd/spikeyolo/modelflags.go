package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"spikeyolo/model"
	"spikeyolo/model/darknet"
	"spikeyolo/model/detect"
	"spikeyolo/model/zoo"
)

// modelFlags choose the detector: a darknet cfg, its weights and class names, or the
// embedded default when none is given.
type modelFlags struct{ cfg, weights, names string }

func (m *modelFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&m.cfg, "model", "", "darknet `CFG` file of the detector (default: embedded Yolo-Fastest 1.1 COCO)")
	fs.StringVar(&m.weights, "weights", "", "darknet weights `FILE` for --model")
	fs.StringVar(&m.names, "names", "", "class names `FILE`, one per line (default: class0, class1, ...)")
}

// loadedModel is a detector ready to run.
type loadedModel struct {
	name     string
	net      *model.Network
	names    []string
	embedded bool
}

func (m *modelFlags) load() (*loadedModel, error) {
	if m.cfg == "" && m.weights == "" && m.names == "" {
		net, names := zoo.Default()
		return &loadedModel{zoo.DefaultName, net, names, true}, nil
	}
	if m.cfg == "" || m.weights == "" {
		return nil, usagef("--model and --weights go together")
	}
	net, err := darknet.Load(m.cfg, m.weights)
	if err != nil {
		return nil, err
	}
	classes := 0
	for _, h := range net.Heads() {
		switch op := net.Layers[h].Op.(type) {
		case *model.Region:
			classes = op.Classes
		case *model.Yolo:
			classes = op.Classes
		}
	}
	var names []string
	if m.names != "" {
		if names, err = detect.ReadNames(m.names); err != nil {
			return nil, err
		}
		if classes > 0 && len(names) != classes {
			return nil, fmt.Errorf("%s: %d class names, but %s detects %d classes", m.names, len(names), m.cfg, classes)
		}
	} else {
		for i := 0; i < classes; i++ {
			names = append(names, fmt.Sprintf("class%d", i))
		}
	}
	return &loadedModel{m.cfg, net, names, false}, nil
}
