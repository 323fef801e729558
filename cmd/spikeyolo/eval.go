package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"spikeyolo/chip"
	"spikeyolo/mapper"
	"spikeyolo/mapper/fidelity"
	"spikeyolo/model/metrics"
	"spikeyolo/model/preprocess"
)

func runEval(args []string, stdout, stderr io.Writer) error {
	var mf modelFlags
	var cf convFlags
	var hw chipFlags
	var ticks, resize, engine, labelDir string
	var jsonOut, layers bool
	fs := newFlags("eval", "[flags] IMAGE|FOLDER...",
		"Measures how close the spiking network's detections come to the float network's on the images, at each\n"+
			"checkpoint: fidelity mAP@0.5 (float detections >= 0.25 as ground truth, spiking ones >= 0.005 as\n"+
			"predictions), relative L2 error of the output layers, spikes and synaptic operations per frame.\n"+
			"Calibrate on other images than these. Images with labels (IMAGE's base name with .xml, PASCAL VOC, or\n"+
			".txt, YOLO, beside it or in --labels DIR) also give both networks' mAP@0.5 and COCO mAP@[.5:.95]\n"+
			"against the labels, side by side.", stdout)
	mf.register(fs)
	cf.register(fs)
	cf.weightBitsFromArch(fs)
	hw.register(fs)
	fs.StringVar(&engine, "engine", "reference", "spiking engine: reference (dense, fastest for many images) or chip (event-driven); the results are identical")
	fs.StringVar(&ticks, "timesteps", "32,64,128,256,512", "checkpoints: ticks at which to measure, comma-separated")
	fs.StringVar(&resize, "resize", "plain", "fit images to the network input: plain or letterbox")
	fs.BoolVar(&layers, "layers", false, "also measure each chip layer's error (decoded spike counts against the float layer): where precision is lost; keeps every neuron's count per checkpoint in memory")
	var trim bool
	fs.BoolVar(&trim, "trim", false, trimUsage+"; not with --layers")
	fs.BoolVar(&jsonOut, "json", false, "print one JSON object per checkpoint per line")
	fs.StringVar(&labelDir, "labels", "", "read the labels from `DIR` (default: beside each image)")
	if err := parse(fs, args); err != nil {
		return err
	}
	checkpoints, err := parseTicks(ticks)
	if err != nil {
		return usagef("--timesteps: %v", err)
	}
	mode, err := preprocess.ParseMode(resize)
	if err != nil {
		return usagef("--resize: %v", err)
	}
	if fs.NArg() == 0 {
		return usagef("no images to evaluate")
	}
	if trim && layers {
		return usagef("--trim cuts the layers' counts short: --layers cannot measure them")
	}
	files, err := imageFiles(fs.Args())
	if err != nil {
		return err
	}
	m, arch, cv, err := convertForChip(fs, &mf, &cf, &hw, mode)
	if err != nil {
		return err
	}
	cfg := fidelity.DefaultConfig(checkpoints)
	cfg.Mode = mode
	cfg.Layers, cfg.Trim = layers, trim
	switch engine {
	case "reference":
	case "chip":
		prog, err := hw.program(cv, arch)
		if err != nil {
			return err
		}
		// Images run in parallel already: each run steps its cores on one goroutine.
		cfg.Engine = func(_ *chip.Network, stim chip.Stimulus, probe chip.Probe) (fidelity.Run, error) {
			res, err := prog.Run(stim, probe, 1)
			if err != nil {
				return fidelity.Run{}, err
			}
			return fidelity.Run{Snapshots: res.Snapshots, Energy: prog.Report(res, floatMACs(cv.Float), cv.AnalogMACs()).Energy}, nil
		}
	default:
		return usagef("--engine %q: want chip or reference", engine)
	}
	if st, err := os.Stat(labelDir); labelDir != "" && (err != nil || !st.IsDir()) {
		return usagef("--labels %s: want a folder of label files", labelDir)
	}
	var images []fidelity.Image
	anyLabels := false
	for _, f := range files {
		im, err := preprocess.Load(f)
		if err != nil {
			return err
		}
		labelled, labels, err := readLabels(f, labelDir, im, m.names)
		if err != nil {
			return err
		}
		anyLabels = anyLabels || labelled
		images = append(images, fidelity.Image{Name: f, Image: im, Labelled: labelled, Labels: labels})
	}
	if labelDir != "" && !anyLabels {
		return fmt.Errorf("--labels %s: no label file for any image (want IMAGE.xml or IMAGE.txt, named as the images)", labelDir)
	}
	points, err := fidelity.Measure(cv, images, cfg)
	if err != nil {
		return err
	}
	var macs int64
	for i := range m.net.Layers {
		macs += m.net.MACs(i)
	}
	if !jsonOut {
		fmt.Fprintf(stdout, "%s on %d images (%d classes in the float detections), options %+v\n", m.name, len(images), points[0].Classes, cv.Options)
		fmt.Fprintf(stdout, "%7s %9s %8s %13s %13s %15s %13s %12s %12s", "ticks", "fid. mAP", "rel. L2", "spikes/frame", "events/frame", "synops/frame", "MACs/frame",
			"firing rate", "ops/MAC")
		if l := points[0].Labels; l != nil {
			fmt.Fprintf(stdout, " | against the labels of %d images (%d objects): %10s %10s %10s %10s", l.Images, l.Objects, "float mAP", "SNN mAP", "float COCO", "SNN COCO")
		}
		fmt.Fprintln(stdout)
	}
	for _, p := range points {
		if jsonOut {
			var fidelityMAP any = p.MAP
			if math.IsNaN(p.MAP) {
				fidelityMAP = nil // no float detections to measure against: JSON has no NaN
			}
			obj := map[string]any{"model": m.name, "images": len(images), "timesteps": p.Ticks, "fidelity_map": fidelityMAP,
				"rel_l2": p.RelL2, "spikes_per_frame": p.SpikesPerFrame, "synops_per_frame": p.SynopsPerFrame, "macs_per_frame": p.MACsPerFrame, "events_per_frame": p.EventsPerFrame,
				"firing_rate": p.FiringRate, "synops_per_mac": p.SynopsPerFrame / float64(macs), "ops_per_mac": (p.SynopsPerFrame + p.MACsPerFrame) / float64(macs),
				"options": cv.Options}
			if layers {
				obj["layer_rel_l2"] = p.Layers // indexed by chip layer, as spikeyolo convert lists them
			}
			if engine == "chip" && p.Ticks == points[len(points)-1].Ticks {
				obj["energy_per_frame_j"], obj["float_network_j"] = p.Energy, float64(macs)*chip.FloatMACEnergy
			}
			if l := p.Labels; l != nil {
				obj["labelled_images"], obj["labelled_objects"] = l.Images, l.Objects
				obj["float_map50"], obj["spiking_map50"], obj["float_coco_map"], obj["spiking_coco_map"] = l.Float, l.Spiking, l.FloatCOCO, l.SpikingCOCO
			}
			line, err := json.Marshal(obj)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s\n", line)
			continue
		}
		fmt.Fprintf(stdout, "%7d %9.4f %8.4f %13.4g %13.4g %15.4g %13.4g %12.4f %12.2f", p.Ticks, p.MAP, p.RelL2, p.SpikesPerFrame, p.EventsPerFrame, p.SynopsPerFrame,
			p.MACsPerFrame, p.FiringRate, (p.SynopsPerFrame+p.MACsPerFrame)/float64(macs))
		if l := p.Labels; l != nil {
			fmt.Fprintf(stdout, " | %*s %10.4f %10.4f %10.4f %10.4f", len(fmt.Sprintf("against the labels of %d images (%d objects):", l.Images, l.Objects)), "", l.Float, l.Spiking, l.FloatCOCO, l.SpikingCOCO)
		}
		fmt.Fprintln(stdout)
	}
	if last := points[len(points)-1]; engine == "chip" && !jsonOut {
		fmt.Fprintf(stdout, "energy per frame on %s at %d ticks: %.4g J (the float network on 45 nm: %.4g J)\n", arch.Name, last.Ticks, last.Energy, float64(macs)*chip.FloatMACEnergy)
	}
	if layers && !jsonOut {
		printLayerErrors(stdout, cv, points)
	}
	return nil
}

// printLayerErrors prints each chip layer's relative L2 error at every checkpoint.
func printLayerErrors(w io.Writer, cv *mapper.Converted, points []fidelity.Point) {
	fmt.Fprintf(w, "\nrel. L2 error of each chip layer's decoded activations\n%5s  %-26s %5s", "layer", "name", "onset")
	for _, p := range points {
		fmt.Fprintf(w, " %8s", fmt.Sprintf("T=%d", p.Ticks))
	}
	fmt.Fprintln(w)
	for li, l := range cv.Net.Layers {
		fmt.Fprintf(w, "%5d  %-26s %5d", li, l.Name, l.Onset)
		for _, p := range points {
			fmt.Fprintf(w, " %8.4f", p.Layers[li])
		}
		fmt.Fprintln(w)
	}
}

// parseTicks reads an ascending comma-separated list of positive tick counts.
func parseTicks(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		t, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || t < 1 {
			return nil, fmt.Errorf("%q is not a positive number of ticks", f)
		}
		if len(out) > 0 && t <= out[len(out)-1] {
			return nil, fmt.Errorf("%d after %d: list checkpoints in ascending order", t, out[len(out)-1])
		}
		out = append(out, t)
	}
	return out, nil
}

// readLabels reads the labels of image file path: its base name with .xml (PASCAL VOC, class
// names from names) or .txt (YOLO), in dir or, if dir is empty, beside the image. An image
// with neither is unlabelled; a label file that does not parse is an error naming its line.
func readLabels(path, dir string, im preprocess.Image, names []string) (bool, []metrics.Object, error) {
	if dir == "" {
		dir = filepath.Dir(path)
	}
	base := filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)))
	var objs []metrics.Object
	var err error
	switch {
	case exists(base + ".xml"):
		index := map[string]int{}
		for i, n := range names {
			index[n] = i
		}
		_, objs, err = metrics.ReadVOC(base+".xml", index)
	case exists(base + ".txt"):
		objs, err = metrics.ReadYOLO(base+".txt", im.W, im.H)
	default:
		return false, nil, nil
	}
	if err != nil {
		return false, nil, err
	}
	for i := range objs {
		objs[i].Image = path // the key of the image's predictions
	}
	return true, objs, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
