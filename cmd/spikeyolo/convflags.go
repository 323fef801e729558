package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"spikeyolo/chip"
	"spikeyolo/mapper"
	"spikeyolo/model/preprocess"
	"spikeyolo/model/zoo"
)

// convFlags choose how a float network becomes a spiking one.
type convFlags struct {
	calib      []string
	percentile float64
	norm       string
	stat       string
	neuron     string
	init       string
	pool       string
	weightBits int
	maxSpikes  int
	undo       bool
	undoMargin float64
	warmup     float64
	fold       bool
	coding     string
	payload    int
	delta      int
}

func (c *convFlags) register(fs *pflag.FlagSet) {
	d := mapper.DefaultOptions()
	fs.StringSliceVar(&c.calib, "calib", nil, "calibration images (files or folders, comma-separated) or a calibration `FILE`.json (default: the embedded model's own; with --weights random, the embedded dog.jpg)")
	fs.Float64Var(&c.percentile, "percentile", 99.9, "percentile of each neuron's activations over the calibration images")
	fs.StringVar(&c.norm, "norm", d.Norm.String(), "normalization factors: channel (one per channel) or layer (one per layer)")
	fs.StringVar(&c.stat, "norm-stat", d.Stat.String(), "statistic normalized: abs (|activation|) or positive (the activation of leaky and relu layers, as Spiking-YOLO; linear layers always use abs)")
	fs.StringVar(&c.neuron, "neuron", d.Neuron.String(), "neuron for leaky layers: ibt (signed, imbalanced threshold) or if (no negative spikes)")
	fs.StringVar(&c.init, "init", d.Init.String(), "initial membrane: zero or half (of the threshold)")
	fs.StringVar(&c.pool, "pool", d.Pool.String(), "spiking max-pool: exact (count = max of the inputs' counts) or firmax (the paper's rule)")
	fs.IntVar(&c.weightBits, "weight-bits", d.WeightBits, "bits of a signed synaptic weight")
	fs.IntVar(&c.maxSpikes, "max-spikes", d.MaxSpikes, "spikes a neuron may emit in one tick")
	fs.BoolVar(&c.undo, "undo", d.Undo, "let signed neurons take back spikes so their counts follow their cumulative input")
	fs.Float64Var(&c.undoMargin, "undo-margin", d.UndoMargin, "how far past zero, in thresholds, a membrane goes before its neuron takes a spike back")
	fs.BoolVar(&c.fold, "fold", d.Fold, "fold each linear convolution that only a shortcut or an output 1x1 reads into it (exact): a layer, a rounding into spikes and a tick fewer each; --fold=false keeps every layer, as Spiking-YOLO")
	fs.Float64Var(&c.warmup, "warmup", d.Warmup, "fraction of the ticks the read-out skips at the start")
	fs.StringVar(&c.coding, "coding", d.Coding.String(), "how neurons send activations: rate (binary spikes over the ticks), graded (an activation once, as graded messages, then its changes) or sigma-delta (an activation once, whole, then only its changes of at least --delta levels)")
	fs.IntVar(&c.payload, "payload-bits", d.PayloadBits, "bits of a graded message, signed: activations have 2^(bits-4) levels per normalization factor, with room for 8 times it (graded codings)")
	fs.IntVar(&c.delta, "delta", d.Delta, "the least change, in levels, a sigma-delta neuron sends once it has sent its activation")
}

// weightBitsFromArch documents, for commands that run on an architecture, that
// --weight-bits defaults to the architecture's; they apply it when the flag is not set.
func (c *convFlags) weightBitsFromArch(fs *pflag.FlagSet) {
	f := fs.Lookup("weight-bits")
	f.DefValue = "0" // pflag prints no default for a zero value: the usage says it
	f.Usage += " (default: the architecture's"
	if loihi, err := chip.Preset("loihi"); err == nil { // embedded: fails only in a broken build, which the preset tests catch
		f.Usage += fmt.Sprintf(", %d on loihi", loihi.WeightBits)
	}
	f.Usage += ")"
}

func (c *convFlags) options() (mapper.Options, error) {
	o := mapper.Options{WeightBits: c.weightBits, MaxSpikes: c.maxSpikes, Undo: c.undo, UndoMargin: c.undoMargin, Warmup: c.warmup, Fold: c.fold,
		PayloadBits: c.payload, Delta: c.delta}
	var err error
	if o.Coding, err = mapper.ParseCoding(c.coding); err != nil {
		return o, usagef("--coding: %v", err)
	}
	if o.Norm, err = mapper.ParseNorm(c.norm); err != nil {
		return o, usagef("--norm: %v", err)
	}
	if o.Stat, err = mapper.ParseStat(c.stat); err != nil {
		return o, usagef("--norm-stat: %v", err)
	}
	if o.Neuron, err = mapper.ParseNeuron(c.neuron); err != nil {
		return o, usagef("--neuron: %v", err)
	}
	if o.Init, err = mapper.ParseInit(c.init); err != nil {
		return o, usagef("--init: %v", err)
	}
	if o.Pool, err = mapper.ParsePool(c.pool); err != nil {
		return o, usagef("--pool: %v", err)
	}
	if err := o.Validate(); err != nil {
		return o, usagef("%v", err)
	}
	return o, nil
}

// calibration loads or computes the calibration of m.
func (c *convFlags) calibration(m *loadedModel, mode preprocess.Mode) (*mapper.Calibration, error) {
	if len(c.calib) == 1 && strings.HasSuffix(c.calib[0], ".json") {
		f, err := os.Open(c.calib[0])
		if err != nil {
			return nil, err
		}
		defer f.Close()
		cal, err := mapper.ReadCalibration(f, c.calib[0], m.net)
		if err != nil {
			return nil, err
		}
		if cal.Percentile != c.percentile {
			return nil, usagef("%s was made at percentile %v, not --percentile %v", c.calib[0], cal.Percentile, c.percentile)
		}
		return cal, nil
	}
	if len(c.calib) == 0 && !m.random {
		if !m.embedded {
			return nil, usagef("--calib is needed to convert %s (images, or a calibration .json)", m.name)
		}
		if c.percentile != 99.9 {
			return nil, usagef("the embedded calibration is at percentile 99.9: give --calib images for --percentile %v", c.percentile)
		}
		return mapper.ReadCalibration(bytes.NewReader(zoo.DefaultCalibration()), "embedded calibration", m.net)
	}
	if !(c.percentile > 0 && c.percentile <= 100) {
		return nil, usagef("--percentile %v: want 0 < p <= 100", c.percentile)
	}
	if len(c.calib) == 0 {
		// Random weights have no calibration of their own: calibrate on the embedded dog.jpg.
		im, err := preprocess.Decode(bytes.NewReader(zoo.DogJPEG()))
		if err != nil {
			return nil, fmt.Errorf("embedded dog.jpg: %v", err)
		}
		return mapper.Calibrate(m.net, 1, c.percentile, func(int) ([]float32, error) {
			return im.Fit(m.net.Input.W, m.net.Input.H, mode).Data, nil
		})
	}
	files, err := imageFiles(c.calib)
	if err != nil {
		return nil, err
	}
	return mapper.Calibrate(m.net, len(files), c.percentile, func(i int) ([]float32, error) {
		im, err := preprocess.Load(files[i])
		if err != nil {
			return nil, err
		}
		return im.Fit(m.net.Input.W, m.net.Input.H, mode).Data, nil
	})
}

// imageFiles expands folders into their JPEG and PNG files, sorted by name.
func imageFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, err
		}
		var found []string
		for _, e := range entries {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".jpg", ".jpeg", ".png":
				found = append(found, filepath.Join(a, e.Name()))
			}
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no .jpg, .jpeg or .png files", a)
		}
		slices.Sort(found)
		files = append(files, found...)
	}
	return files, nil
}
