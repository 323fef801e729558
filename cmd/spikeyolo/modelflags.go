package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"spikeyolo/model"
	"spikeyolo/model/darknet"
	"spikeyolo/model/detect"
	"spikeyolo/model/preprocess"
	"spikeyolo/model/zoo"
)

// modelFlags choose the detector: a darknet cfg, its weights and class names, or the
// embedded default when none is given.
type modelFlags struct {
	cfg, names string
	weights    weightsFlag
	limits     *runLimits
	headsOnly  bool // the float network runs for its heads alone (detect --dnn)
}

func (m *modelFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&m.cfg, "model", "", "darknet `CFG` file of the detector (default: embedded Yolo-Fastest 1.1 COCO)")
	fs.Var(&m.weights, "weights", "darknet weights `FILE` for --model, or random[:SEED] for untrained random weights "+
		fmt.Sprintf("(seed %d by default; without --model, they replace the embedded model's; calibrated on the embedded dog.jpg unless --calib)", darknet.DefaultSeed))
	fs.StringVar(&m.names, "names", "", "class names `FILE`, one per line (default: class0, class1, ...)")
	// inspect runs the network only to draw random weights, and reads no image.
	m.limits = &runLimits{maxPixels: preprocess.DefaultMaxPixels, maxMemory: defaultMaxMemory, runs: fs.Name() != "inspect"}
	if m.limits.runs {
		fs.Int64Var(&m.limits.maxPixels, "max-pixels", preprocess.DefaultMaxPixels, "refuse images of more than `N` pixels (width × height)")
	}
	fs.Var(&m.limits.maxMemory, "max-memory", "refuse a network whose float layer outputs take more than `SIZE` bytes (suffix K, M, G, T: powers of 1024)")
}

// defaultMaxMemory is --max-memory's default: 1 GiB of float layer outputs, 17 times what
// yolov3-tiny at 416 × 416 holds (58 MB), 33 times Yolo-Fastest (31 MB); a full-size
// detector at 608 × 608 may need more.
const defaultMaxMemory = 1 << 30

// runLimits bound what a command may allocate for its images and its float network, so that
// an oversized one is an error before the allocation rather than Go's fatal out-of-memory
// (which exits with status 2, the status of a usage error).
type runLimits struct {
	maxPixels int64
	maxMemory byteSize
	runs      bool // the command runs the network (all but inspect)
}

// apply validates the limits and sets the image size limit of preprocess.
func (l *runLimits) apply() error {
	if l.maxPixels < 1 {
		return usagef("--max-pixels %d: want a positive number of pixels", l.maxPixels)
	}
	preprocess.MaxPixels = l.maxPixels
	return nil
}

// checkMemory refuses net, read from name, if running it takes more than --max-memory: a
// runner keeping every layer output (calibration and eval keep them all, and drawing random
// weights about as much), or only the heads'.
func (m *modelFlags) checkMemory(name string, net *model.Network, random bool) error {
	if !m.limits.runs && !random {
		return nil
	}
	r := model.NewRunner(net)
	if m.headsOnly && !random {
		r = model.NewRunnerKeeping(net, net.Heads())
	}
	need := r.Memory()
	if need <= int64(m.limits.maxMemory) {
		return nil
	}
	big := 0
	for i, l := range net.Layers {
		if l.Out.Size() > net.Layers[big].Out.Size() {
			big = i
		}
	}
	at := ""
	if src := net.Layers[big].Source; src != "" {
		at = " at " + src
	}
	return fmt.Errorf("%s: running the float network holds %s (layer outputs and scratch; the largest output, layer %d%s, is %v: %s), more than the limit of %s (raise it with --max-memory)",
		name, byteSize(need), big, at, net.Layers[big].Out, byteSize(4*int64(net.Layers[big].Out.Size())), m.limits.maxMemory)
}

// byteSize is a number of bytes, written with a binary unit: 1536M, 2G, 2GiB, 1073741824.
type byteSize int64

var byteUnits = []string{"B", "KiB", "MiB", "GiB", "TiB"}

// Set implements pflag.Value.
func (b *byteSize) Set(v string) error {
	num := strings.TrimRight(strings.ToUpper(v), "IB")
	shift := 0
	if i := strings.IndexAny(num, "KMGT"); i >= 0 && i == len(num)-1 {
		shift = 10 * (1 + strings.IndexByte("KMGT", num[i]))
		num = num[:i]
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || !(n > 0) || n*float64(int64(1)<<shift) >= 1<<63 {
		return fmt.Errorf("want a positive size in bytes, with an optional K, M, G or T (e.g. 512M, 2G)")
	}
	*b = byteSize(n * float64(int64(1)<<shift))
	return nil
}

func (b byteSize) String() string {
	v, u := float64(b), 0
	for v >= 1024 && u < len(byteUnits)-1 {
		v, u = v/1024, u+1
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + " " + byteUnits[u]
}

// Type implements pflag.Value.
func (b *byteSize) Type() string { return "size" }

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
	if err := m.limits.apply(); err != nil {
		return nil, err
	}
	if m.cfg == "" && !m.weights.given() && m.names == "" {
		net, names := zoo.Default()
		if err := m.checkMemory(zoo.DefaultName, net, false); err != nil {
			return nil, err
		}
		return &loadedModel{zoo.DefaultName, net, names, true, false}, nil
	}
	var lm *loadedModel
	switch {
	case m.weights.random && m.cfg == "":
		net, names := zoo.Default()
		if err := m.checkMemory(zoo.DefaultName, net, true); err != nil {
			return nil, err
		}
		darknet.RandomWeights(net, m.weights.seed)
		lm = &loadedModel{name: zoo.DefaultName, net: net, names: names}
	case m.weights.random:
		net, err := darknet.LoadConfig(m.cfg)
		if err != nil {
			return nil, err
		}
		if err := m.checkMemory(m.cfg, net, true); err != nil { // before RandomWeights runs it
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
		if err := m.checkMemory(m.cfg, net, false); err != nil {
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
