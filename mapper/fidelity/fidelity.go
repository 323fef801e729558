// Package fidelity measures how close a converted network's detections come to those of the
// float network it was converted from, as the number of ticks grows.
//
// Fidelity mAP takes the float network's own detections (score >= GroundTruthScore) as
// ground truth and the spiking network's (score >= PredictionScore) as predictions: VOC
// all-point AP per class at IoU 0.5, averaged over the classes present in the ground truth,
// over all the images together. It also reports the relative L2 error of the decoded output
// layers against the float ones, and the spikes and synaptic operations per frame.
package fidelity

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"spikeyolo/chip"
	"spikeyolo/core"
	"spikeyolo/mapper"
	"spikeyolo/model"
	"spikeyolo/model/detect"
	"spikeyolo/model/metrics"
	"spikeyolo/model/preprocess"
)

// Engine runs a chip network on one stimulus, recording what the probe asks for.
// Reference runs chip.Reference.
type Engine func(net *chip.Network, stim chip.Stimulus, probe chip.Probe) (Run, error)

// Run is what an engine gives for one image: the snapshots the probe asked for and, from an
// engine that prices its runs, the run's energy in joules per frame (0 otherwise).
type Run struct {
	Snapshots []chip.Snapshot
	Energy    float64
}

// Reference is the dense reference engine, which prices nothing.
func Reference(net *chip.Network, stim chip.Stimulus, probe chip.Probe) (Run, error) {
	snaps, err := chip.Reference(net, stim, probe)
	return Run{Snapshots: snaps}, err
}

// Config controls a measurement.
type Config struct {
	Checkpoints      []int   // ticks at which to measure, ascending
	GroundTruthScore float32 // float detections kept as ground truth (0.25)
	PredictionScore  float32 // spiking detections kept as predictions (0.005)
	NMS              float32 // IoU of non-maximum suppression (0.45)
	Mode             preprocess.Mode
	Workers          int // images run at once; 0: GOMAXPROCS
	Engine           Engine
	// Layers also measures every chip layer's error (Point.Layers). It keeps every neuron's
	// spike count at each checkpoint, so it needs as much memory per image in flight.
	Layers bool
	// Trim stops each layer once its spikes can no longer reach an output by the last
	// checkpoint (chip.Probe.Trim): the same detections, fewer spikes. Not with Layers, whose
	// counts it would cut short.
	Trim bool
}

// DefaultConfig measures at the given checkpoints with the thresholds and the
// reference engine.
func DefaultConfig(checkpoints []int) Config {
	return Config{Checkpoints: checkpoints, GroundTruthScore: 0.25, PredictionScore: 0.005, NMS: 0.45, Engine: Reference}
}

// Image is an evaluation image. A labelled image also measures both networks against its
// labels (its objects, keyed by Name; a label file may list none).
type Image struct {
	Name string
	preprocess.Image
	Labelled bool
	Labels   []metrics.Object
}

// Point is the measurement at one checkpoint.
type Point struct {
	Ticks          int
	MAP            float64 // fidelity mAP@0.5
	RelL2          float64 // ||decoded - float|| / ||float|| over all output layers and images
	SpikesPerFrame float64
	SynopsPerFrame float64 // accumulates: binary spikes' synaptic operations
	MACsPerFrame   float64 // multiply-accumulates: graded messages' synaptic operations
	EventsPerFrame float64 // spike events: a neuron's spikes of one tick, or a graded message
	FiringRate     float64 // spikes per spiking neuron per tick
	Classes        int     // classes present in the ground truth
	// Layers is, with Config.Layers, the relative L2 error of each chip layer's decoded
	// activations (mapper.Converted.DecodeCounts; Decode for output layers) against the
	// model layer it implements, over all images: where a conversion loses precision.
	Layers []float64
	// Labels measures both networks against the labels of the labelled images (nil if none
	// is): the float network's figures are the same at every checkpoint.
	Labels *LabelMAP
	// Energy is the engine's energy per frame, joules averaged over the images, of runs as long
	// as the last checkpoint: set at the last checkpoint only, by an engine that prices.
	Energy float64
}

// LabelMAP is the accuracy of both networks' detections (those scoring at least
// Config.PredictionScore) against labels: mAP@0.5 (all-point interpolation) and COCO's
// mAP@[.5:.95].
type LabelMAP struct {
	Images                 int // labelled images
	Objects                int // labelled objects
	Float, Spiking         float64
	FloatCOCO, SpikingCOCO float64
}

// perImage is what one image contributes.
type perImage struct {
	truth      []metrics.Object
	floatPreds []metrics.Prediction   // the float detections as predictions, for labelled images
	preds      [][]metrics.Prediction // per checkpoint
	num, den   []float64              // per checkpoint: squared error and squared norm
	layerNum   [][]float64            // per checkpoint, per chip layer, with Config.Layers
	layerDen   [][]float64
	spikes     []int64
	synops     []int64
	macs       []int64
	events     []int64
	energy     float64 // the engine's joules per frame
	err        error
}

// Measure runs every image through the float network and the converted one and returns a
// point per checkpoint. Images run in parallel; results are merged in image order, so they
// do not depend on scheduling.
func Measure(cv *mapper.Converted, images []Image, cfg Config) ([]Point, error) {
	if len(images) == 0 || len(cfg.Checkpoints) == 0 {
		return nil, fmt.Errorf("fidelity: need images and checkpoints")
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	results := make([]perImage, len(images))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, len(images)); w++ {
		wg.Go(func() {
			runner := model.NewRunner(cv.Float)
			for i := range next {
				results[i] = measureImage(cv, runner, images[i], cfg)
			}
		})
	}
	for i := range images {
		next <- i
	}
	close(next)
	wg.Wait()

	spiking := 0
	for _, l := range cv.Net.Layers {
		if l.Kind != core.Accumulator {
			spiking += l.Shape.Size()
		}
	}
	classes := 0
	for _, h := range cv.Float.Heads() {
		switch op := cv.Float.Layers[h].Op.(type) {
		case *model.Region:
			classes = op.Classes
		case *model.Yolo:
			classes = op.Classes
		}
	}
	var truth []metrics.Object
	present := map[int]bool{}
	for i, r := range results {
		if r.err != nil {
			return nil, fmt.Errorf("fidelity: %s: %w", images[i].Name, r.err)
		}
		truth = append(truth, r.truth...)
		for _, o := range r.truth {
			present[o.Class] = true
		}
	}
	var labels []metrics.Object
	var floatPreds []metrics.Prediction
	labelled := 0
	for i, im := range images {
		if im.Labelled {
			labelled++
			labels = append(labels, im.Labels...)
			floatPreds = append(floatPreds, results[i].floatPreds...)
		}
	}
	points := make([]Point, len(cfg.Checkpoints))
	for k, T := range cfg.Checkpoints {
		var preds []metrics.Prediction
		var num, den float64
		var spikes, synops, macs, events int64
		for _, r := range results {
			preds = append(preds, r.preds[k]...)
			num, den = num+r.num[k], den+r.den[k]
			spikes, synops, macs, events = spikes+r.spikes[k], synops+r.synops[k], macs+r.macs[k], events+r.events[k]
		}
		p := Point{Ticks: T, RelL2: math.Sqrt(num / den), Classes: len(present)}
		if cfg.Layers {
			p.Layers = make([]float64, len(cv.Net.Layers))
			for li := range p.Layers {
				var num, den float64
				for _, r := range results {
					num, den = num+r.layerNum[k][li], den+r.layerDen[k][li]
				}
				p.Layers[li] = math.Sqrt(num / den)
			}
		}
		p.SpikesPerFrame = float64(spikes) / float64(len(images))
		p.SynopsPerFrame = float64(synops) / float64(len(images))
		p.MACsPerFrame = float64(macs) / float64(len(images))
		p.EventsPerFrame = float64(events) / float64(len(images))
		p.FiringRate = p.SpikesPerFrame / float64(spiking) / float64(T)
		p.MAP, _ = metrics.MeanAP(preds, truth, classes, 0.5, metrics.AllPoint)
		if labelled > 0 {
			var spiking []metrics.Prediction
			for i, r := range results {
				if images[i].Labelled {
					spiking = append(spiking, r.preds[k]...)
				}
			}
			l := &LabelMAP{Images: labelled, Objects: len(labels)}
			l.Float, _ = metrics.MeanAP(floatPreds, labels, classes, 0.5, metrics.AllPoint)
			l.Spiking, _ = metrics.MeanAP(spiking, labels, classes, 0.5, metrics.AllPoint)
			l.FloatCOCO = metrics.COCOMeanAP(floatPreds, labels, classes)
			l.SpikingCOCO = metrics.COCOMeanAP(spiking, labels, classes)
			p.Labels = l
		}
		points[k] = p
	}
	var energy float64
	for _, r := range results {
		energy += r.energy
	}
	points[len(points)-1].Energy = energy / float64(len(images))
	return points, nil
}

func measureImage(cv *mapper.Converted, runner *model.Runner, im Image, cfg Config) perImage {
	net := cv.Float
	input := im.Fit(net.Input.W, net.Input.H, cfg.Mode).Data
	floatOuts := runner.Run(input)
	var r perImage
	for _, o := range detect.FromOutputs(net, floatOuts, im.W, im.H, cfg.Mode, cfg.GroundTruthScore, cfg.NMS) {
		r.truth = append(r.truth, metrics.Object{Image: im.Name, Class: o.Class, Box: pixels(o.Box, im)})
	}
	if im.Labelled {
		for _, o := range detect.FromOutputs(net, floatOuts, im.W, im.H, cfg.Mode, cfg.PredictionScore, cfg.NMS) {
			r.floatPreds = append(r.floatPreds, metrics.Prediction{Image: im.Name, Class: o.Class, Score: float64(o.Score), Box: pixels(o.Box, im)})
		}
	}
	run, err := cfg.Engine(cv.Net, cv.Encode(input), chip.Probe{Ticks: cv.SnapshotTicks(cfg.Checkpoints), Counts: cfg.Layers, Trim: cfg.Trim})
	if err != nil {
		r.err = err
		return r
	}
	snaps := run.Snapshots
	r.energy = run.Energy
	for _, T := range cfg.Checkpoints {
		outs, err := cv.Decode(snaps, T)
		if err != nil {
			r.err = err
			return r
		}
		var num, den float64
		for layer, v := range outs {
			n, d := sqErr(v, floatOuts[layer])
			num, den = num+n, den+d
		}
		if cfg.Layers {
			nums, dens := make([]float64, len(cv.Net.Layers)), make([]float64, len(cv.Net.Layers))
			for li, l := range cv.Net.Layers {
				mi := cv.Source[li]
				v := outs[mi] // accumulators are the decoded outputs
				if l.Kind != core.Accumulator {
					if v, err = cv.DecodeCounts(snaps, T, li); err != nil {
						r.err = err
						return r
					}
				}
				nums[li], dens[li] = sqErr(v, floatOuts[mi])
			}
			r.layerNum, r.layerDen = append(r.layerNum, nums), append(r.layerDen, dens)
		}
		var preds []metrics.Prediction
		for _, o := range detect.FromOutputs(net, cv.HeadOutputs(outs), im.W, im.H, cfg.Mode, cfg.PredictionScore, cfg.NMS) {
			preds = append(preds, metrics.Prediction{Image: im.Name, Class: o.Class, Score: float64(o.Score), Box: pixels(o.Box, im)})
		}
		var spikes, synops, macs, events int64
		for _, s := range snaps {
			if s.Tick == T {
				for i := range s.Spikes {
					spikes, synops, macs, events = spikes+s.Spikes[i], synops+s.Synops[i], macs+s.MACs[i], events+s.Events[i]
				}
			}
		}
		r.preds = append(r.preds, preds)
		r.num, r.den = append(r.num, num), append(r.den, den)
		r.spikes, r.synops, r.macs, r.events = append(r.spikes, spikes), append(r.synops, synops), append(r.macs, macs), append(r.events, events)
	}
	return r
}

// sqErr returns the squared L2 distance of got from want, and the squared norm of want.
func sqErr(got, want []float32) (num, den float64) {
	for k, x := range got {
		d := float64(x) - float64(want[k])
		num += d * d
		den += float64(want[k]) * float64(want[k])
	}
	return num, den
}

func pixels(b detect.Box, im Image) metrics.Box {
	l, t, r, bo := b.Pixels(im.W, im.H)
	return metrics.Box{Left: l, Top: t, Right: r, Bottom: bo}
}
