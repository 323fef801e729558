package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/pflag"

	"spikeyolo/chip"
	"spikeyolo/mapper"
	"spikeyolo/model"
	"spikeyolo/model/detect"
	"spikeyolo/model/preprocess"
	"spikeyolo/model/zoo"
)

type detectOptions struct {
	model      modelFlags
	conv       convFlags
	chip       chipFlags
	engine     string
	timesteps  int
	dnn        bool
	detection  detectionFlags
	jsonOutput bool
	quiet      bool
	outDir     string
	sequence   bool
	trim       bool
	progress   *progress
}

func runDetect(args []string, stdout, stderr io.Writer) error {
	var o detectOptions
	fs := newFlags("detect", "[flags] [IMAGE...]",
		"Detects objects in JPEG or PNG images. With no image it reads darknet's dog.jpg, embedded.\n"+
			"With --timesteps it runs the spiking network converted from the model (see spikeyolo convert).", stdout)
	o.model.register(fs)
	fs.BoolVar(&o.dnn, "dnn", false, "run the float network instead of the spiking one")
	fs.IntVar(&o.timesteps, "timesteps", defaultTimesteps, "ticks the spiking network runs")
	fs.StringVar(&o.engine, "engine", "chip", "spiking engine: chip (event-driven, with energy and latency) or reference (dense tick by tick)")
	o.chip.register(fs)
	o.detection.register(fs)
	fs.BoolVar(&o.jsonOutput, "json", false, "print one JSON object per image per line")
	fs.StringVar(&o.outDir, "out", "", "also write each image with its boxes drawn (PNG) and run_summary.json into `DIR` (created if need be)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress bar on stderr (there is none when stderr is not a terminal)")
	fs.BoolVar(&o.sequence, "sequence", false, "the images, in the order given (a folder's by name), are the frames of one video: the network keeps its state from frame to frame and each frame adds only the change of its input, so only what changed travels (graded codings); each frame reports its fidelity against the float network")
	fs.BoolVar(&o.trim, "trim", false, trimUsage+"; not with --sequence")
	o.conv.register(fs)
	o.conv.weightBitsFromArch(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if o.trim && o.sequence {
		return usagef("--trim stops layers before the end of a frame: a --sequence needs their whole state for the next")
	}
	mode, err := o.detection.check()
	if err != nil {
		return err
	}
	if o.timesteps < 1 {
		return usagef("--timesteps %d: want a positive number of ticks", o.timesteps)
	}
	if o.engine != "chip" && o.engine != "reference" {
		return usagef("--engine %q: want chip or reference", o.engine)
	}
	if o.sequence && (o.dnn || o.conv.coding == mapper.Rate.String()) {
		return usagef("--sequence carries a spiking network's state from frame to frame: it needs --coding graded or sigma-delta (a rate-coded frame is a rate over its own ticks)")
	}
	o.model.headsOnly = o.dnn
	m, err := o.model.load()
	if err != nil {
		return err
	}
	if err := detect.Check(m.net, m.name); err != nil {
		return err
	}
	var run func(im preprocess.Image) (*jsonImage, error)
	if o.dnn {
		runner := model.NewRunnerKeeping(m.net, m.net.Heads())
		run = func(im preprocess.Image) (*jsonImage, error) {
			return &jsonImage{Engine: "dnn", objects: detect.Image(m.net, runner, im, mode, o.detection.thresh, o.detection.nms)}, nil
		}
	} else {
		var arch *chip.Arch
		if arch, err = o.chip.loadArch(); err != nil {
			return err
		}
		if !fs.Changed("weight-bits") {
			o.conv.weightBits = arch.WeightBits
		}
		cv, _, err := convertModel(m, &o.conv, mode)
		if err != nil {
			return err
		}
		var prog *chip.Program
		if o.engine == "chip" {
			if prog, err = o.chip.program(cv, arch); err != nil {
				return err
			}
		}
		var seq *frameSequence
		if o.sequence {
			seq = new(frameSequence)
		}
		run = func(im preprocess.Image) (*jsonImage, error) { return spikingDetect(cv, prog, &o, mode, im, seq) }
	}
	images, err := imageFiles(fs.Args())
	if err != nil {
		return err
	}
	if !o.dnn && o.engine == "chip" {
		o.progress = newProgress(stderr, o.quiet, max(1, len(images))*o.timesteps, "ticks")
		defer o.progress.finish()
	}
	var summary *runSummary
	taken := map[string]bool{}
	if o.outDir != "" {
		if err := os.MkdirAll(o.outDir, 0o755); err != nil {
			return err
		}
		summary = newRunSummary(fs)
	}
	// one detects an image, reports it and, with --out, draws it.
	one := func(path string, im preprocess.Image) error {
		res, err := run(im)
		if err != nil {
			return err
		}
		if err := report(stdout, &o, m, path, im, res); err != nil {
			return err
		}
		if summary == nil {
			return nil
		}
		name := annotatedName(path, taken)
		if err := writeAtomic(filepath.Join(o.outDir, name), func(w io.Writer) error { return writePNG(w, annotate(im, res.Detections)) }); err != nil {
			return err
		}
		entry := summaryImage{jsonImage: res, Annotated: name}
		if res.report != nil {
			summary.Architecture, entry.Time = res.report.Arch, &res.report.Time
		}
		summary.Images = append(summary.Images, entry)
		return nil
	}
	var failed error
	if len(images) == 0 {
		im, err := preprocess.Decode(bytes.NewReader(zoo.DogJPEG()))
		if err != nil {
			return fmt.Errorf("embedded dog.jpg: %v", err)
		}
		failed = one("dog.jpg", im)
	}
	for _, path := range images {
		im, err := preprocess.Load(path)
		if err == nil {
			err = one(path, im)
		}
		if err != nil {
			if failed != nil {
				fmt.Fprintf(stderr, "spikeyolo detect: %v\n", failed)
			}
			failed = err
		}
	}
	if summary != nil {
		if err := writeAtomic(filepath.Join(o.outDir, "run_summary.json"), summary.write); err != nil && failed == nil {
			failed = err
		}
	}
	return failed
}

// detectionFlags turn a network's outputs into objects (detect and sweep).
type detectionFlags struct {
	resize      string
	thresh, nms float32
}

func (d *detectionFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&d.resize, "resize", "plain", "fit images to the network input: plain (stretch) or letterbox")
	fs.Float32Var(&d.thresh, "thresh", 0.25, "report objects with class probability above this")
	fs.Float32Var(&d.nms, "nms", 0.45, "non-maximum suppression IoU threshold")
}

// check checks --resize (whose mode it returns), --thresh and --nms.
func (d *detectionFlags) check() (preprocess.Mode, error) {
	mode, err := preprocess.ParseMode(d.resize)
	if err != nil {
		return mode, usagef("--resize: %v", err)
	}
	if !(d.thresh >= 0 && d.thresh < 1) {
		return mode, usagef("--thresh %v: want a probability in [0, 1)", d.thresh)
	}
	if !(d.nms > 0 && d.nms <= 1) {
		return mode, usagef("--nms %v: want an IoU in (0, 1]", d.nms)
	}
	return mode, nil
}

// writeJSON writes v as indented JSON and a newline.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// defaultTimesteps is how long detect runs the spiking network unless told.
const defaultTimesteps = 256

// spikingDetect runs the converted network on one image for o.timesteps ticks, on the chip
// program prog, or with the reference engine if prog is nil; as the next frame of seq if
// seq is not nil.
func spikingDetect(cv *mapper.Converted, prog *chip.Program, o *detectOptions, mode preprocess.Mode, im preprocess.Image, seq *frameSequence) (*jsonImage, error) {
	input := im.Fit(cv.Float.Input.W, cv.Float.Input.H, mode).Data
	stim := cv.Encode(input)
	probe := chip.Probe{Ticks: cv.SnapshotTicks([]int{o.timesteps}), Trim: o.trim, Progress: o.progress.run(o.timesteps)}
	if seq != nil {
		stim, probe = seq.next(stim, probe)
	}
	res := &jsonImage{Engine: o.engine, Timesteps: o.timesteps}
	var snaps []chip.Snapshot
	var err error
	if prog == nil {
		snaps, err = chip.Reference(cv.Net, stim, probe)
	} else {
		var run *chip.Result
		if run, err = prog.Run(stim, probe, 0); err == nil {
			snaps = run.Snapshots
			res.report = prog.Report(run, floatMACs(cv.Float), cv.AnalogMACs())
			res.Cores, res.Packets, res.Hops = res.report.Cores, res.report.Packets, res.report.Hops
			res.Chips, res.Crossings, res.Messages = res.report.Chips, res.report.Crossings, res.report.Events
			res.Energy = &jsonEnergy{Total: res.report.Energy, ByCategory: res.report.ByCategory, PerSynop: res.report.EnergyPerSynop,
				Float: res.report.FloatEnergy}
			res.Latency = &jsonLatency{Tick: res.report.TickTime, Frame: res.report.FrameTime}
		}
	}
	if err != nil {
		return nil, err
	}
	outs, err := cv.Decode(snaps, o.timesteps)
	if err != nil {
		return nil, err
	}
	if seq != nil {
		seq.keep(snaps)
		if res.Fidelity, err = frameFidelity(cv, mode, im, snaps, o.timesteps); err != nil {
			return nil, err
		}
	}
	last := snaps[len(snaps)-1]
	res.objects = detect.FromOutputs(cv.Float, cv.HeadOutputs(outs), im.W, im.H, mode, o.detection.thresh, o.detection.nms)
	for i, l := range cv.Net.Layers {
		res.Spikes += last.Spikes[i]
		res.Synops += last.Synops[i]
		res.MACs += last.MACs[i]
		src := cv.Source[i]
		res.Layers = append(res.Layers, jsonLayer{Index: src, Type: cv.Float.Layers[src].Op.Kind(), Neurons: l.Shape.Size(),
			Spikes: last.Spikes[i], Synops: last.Synops[i], MACs: last.MACs[i]})
	}
	return res, nil
}

// jsonImage is the --json output for one image.
type jsonImage struct {
	Image      string          `json:"image"`
	Width      int             `json:"width"`
	Height     int             `json:"height"`
	Engine     string          `json:"engine"`
	Timesteps  int             `json:"timesteps,omitempty"`
	Spikes     int64           `json:"spikes,omitempty"`
	Synops     int64           `json:"synops,omitempty"`
	MACs       int64           `json:"macs,omitempty"` // graded messages' synaptic operations
	Cores      int             `json:"cores,omitempty"`
	Packets    int64           `json:"packets,omitempty"`
	Hops       int64           `json:"hops,omitempty"`
	Chips      int             `json:"chips,omitempty"`
	Crossings  int64           `json:"chip_crossings,omitempty"`
	Messages   int64           `json:"messages,omitempty"`     // spike events: graded messages, or a neuron's spikes of one tick
	Fidelity   *float64        `json:"fidelity_map,omitempty"` // --sequence: mAP@0.5 against the float network on the frame
	Energy     *jsonEnergy     `json:"energy,omitempty"`
	Latency    *jsonLatency    `json:"latency,omitempty"`
	Detections []jsonDetection `json:"detections"`
	Layers     []jsonLayer     `json:"layers,omitempty"`

	objects []detect.Object
	report  *chip.Report
}

// jsonEnergy is a frame's energy, in joules.
type jsonEnergy struct {
	Total      float64            `json:"total_j"`
	ByCategory map[string]float64 `json:"by_category"`
	PerSynop   float64            `json:"per_synop_j"`
	Float      float64            `json:"float_network_j"` // the float network on 45 nm hardware, for comparison
}

// jsonLatency is the modelled time of a tick and a frame, in seconds.
type jsonLatency struct {
	Tick  float64 `json:"tick_s"`
	Frame float64 `json:"frame_s"`
}

// floatMACs is the float network's multiply-accumulates per image.
func floatMACs(net *model.Network) int64 {
	var macs int64
	for i := range net.Layers {
		macs += net.MACs(i)
	}
	return macs
}

type jsonDetection struct {
	Class   string     `json:"class"`
	ClassID int        `json:"class_id"`
	Score   float64    `json:"score"`
	Box     [4]float64 `json:"box"` // left, top, right, bottom in pixels, clipped to the image
}

// jsonLayer is one layer of the spiking network: the model layer it implements.
type jsonLayer struct {
	Index   int    `json:"index"`
	Type    string `json:"type"`
	Neurons int    `json:"neurons"`
	Spikes  int64  `json:"spikes"`
	Synops  int64  `json:"synops"`
	MACs    int64  `json:"macs,omitempty"`
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// detections sorts an image's objects best first and gives them as reports list them: named,
// in pixels, rounded.
func detections(m *loadedModel, objs []detect.Object, im preprocess.Image) []jsonDetection {
	slices.SortStableFunc(objs, func(a, b detect.Object) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return a.Class - b.Class
	})
	out := []jsonDetection{}
	for _, obj := range objs {
		l, t, r, b := obj.Box.Pixels(im.W, im.H)
		out = append(out, jsonDetection{
			Class: m.names[obj.Class], ClassID: obj.Class, Score: round(float64(obj.Score), 4),
			Box: [4]float64{round(l, 1), round(t, 1), round(r, 1), round(b, 1)},
		})
	}
	return out
}

// report prints one image's objects, best first.
func report(w io.Writer, o *detectOptions, m *loadedModel, path string, im preprocess.Image, out *jsonImage) error {
	objs := out.objects
	out.Image, out.Width, out.Height, out.Detections = path, im.W, im.H, detections(m, objs, im)
	if o.jsonOutput {
		line, err := json.Marshal(out)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", line)
		return err
	}
	engine := out.Engine
	if out.Timesteps > 0 {
		engine = fmt.Sprintf("%s, %d ticks", out.Engine, out.Timesteps)
	}
	fmt.Fprintf(w, "%s: %dx%d, %d objects (%s; %s)\n", path, im.W, im.H, len(objs), m.name, engine)
	for _, d := range out.Detections {
		fmt.Fprintf(w, "  %-14s %5.1f%%  box %4.0f %4.0f %4.0f %4.0f\n", d.Class, 100*d.Score, d.Box[0], d.Box[1], d.Box[2], d.Box[3])
	}
	if out.Timesteps > 0 {
		if out.MACs > 0 {
			fmt.Fprintf(w, "  %d unit spikes in %d messages, %d synaptic operations: %d multiply-accumulates of graded messages, %d accumulates\n", out.Spikes,
				out.Messages, out.Synops+out.MACs, out.MACs, out.Synops)
		} else {
			fmt.Fprintf(w, "  %d spikes, %d synaptic operations\n", out.Spikes, out.Synops)
		}
	}
	if out.Fidelity != nil {
		fmt.Fprintf(w, "  fidelity %.4f (mAP@0.5 against the float network on this frame)\n", *out.Fidelity)
	}
	if r := out.report; r != nil {
		fmt.Fprintf(w, "  %s: %d cores on %d chips, %d packets, %d hops, %d chip crossings; %.3g J per frame (%.3g J per synaptic op; float network on 45 nm: %.3g J), %.3g s per frame (%.3g s per tick)\n",
			r.Arch, r.Cores, r.Chips, r.Packets, r.Hops, r.Crossings, r.Energy, r.EnergyPerSynop, r.FloatEnergy, r.FrameTime, r.TickTime)
		for _, v := range r.LimitViolations {
			fmt.Fprintf(w, "  note: %s\n", v)
		}
	}
	return nil
}
