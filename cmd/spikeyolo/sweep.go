package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"spikeyolo/chip"
	"spikeyolo/mapper"
	"spikeyolo/model/detect"
	"spikeyolo/model/preprocess"
	"spikeyolo/model/zoo"
	"spikeyolo/router"
)

// sweepOptions are the flags of spikeyolo sweep: the conversion of detect, and lists of the
// mapping choices to sweep.
type sweepOptions struct {
	model      modelFlags
	conv       convFlags
	hw         chipFlags // its arch only
	cores      []int
	routings   []string
	multicasts []string
	placements []string
	timesteps  int
	resize     string
	thresh     float32
	nms        float32
	out        string
}

func runSweep(args []string, stdout, stderr io.Writer) error {
	var o sweepOptions
	fs := newFlags("sweep", "[flags] [IMAGE...]",
		"Runs the spiking detector on every combination of the listed core counts, placements,\n"+
			"routings and multicasts, and prints one row per (configuration, image): detections,\n"+
			"energy and latency. The network is simulated once per image and core count; every\n"+
			"placement, routing and multicast is priced from that run (the spikes do not depend on\n"+
			"them), and each row equals what detect reports for its configuration. With no image\n"+
			"it reads darknet's dog.jpg, embedded.", stdout)
	o.model.register(fs)
	fs.StringVar(&o.hw.arch, "arch", "loihi", "architecture: a preset ("+strings.Join(chip.Presets(), ", ")+") or a YAML `FILE`")
	fs.IntSliceVar(&o.cores, "cores", []int{0}, "core counts, comma-separated (0: every core of the chips the fewest cores need)")
	fs.StringSliceVar(&o.placements, "placement", []string{"traffic"}, "placements, comma-separated: traffic, order")
	fs.StringSliceVar(&o.routings, "routing", []string{"xy"}, "routings, comma-separated: xy, yx")
	fs.StringSliceVar(&o.multicasts, "multicast", []string{"percore"}, "multicasts, comma-separated: percore, tree")
	fs.IntVar(&o.timesteps, "timesteps", defaultTimesteps, "ticks the spiking network runs")
	fs.StringVar(&o.resize, "resize", "plain", "fit images to the network input: plain (stretch) or letterbox")
	fs.Float32Var(&o.thresh, "thresh", 0.25, "report objects with class probability above this")
	fs.Float32Var(&o.nms, "nms", 0.45, "non-maximum suppression IoU threshold")
	fs.StringVar(&o.out, "out", "", "also write sweep.csv and sweep.jsonl into `DIR` (created if need be)")
	o.conv.register(fs)
	o.conv.weightBitsFromArch(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	mode, err := preprocess.ParseMode(o.resize)
	if err != nil {
		return usagef("--resize: %v", err)
	}
	if o.timesteps < 1 {
		return usagef("--timesteps %d: want a positive number of ticks", o.timesteps)
	}
	grid, err := o.configurations()
	if err != nil {
		return err
	}
	m, arch, cv, err := convertForChip(fs, &o.model, &o.conv, &o.hw, mode)
	if err != nil {
		return err
	}
	type input struct {
		name string
		im   preprocess.Image
	}
	var inputs []input
	if len(fs.Args()) == 0 {
		im, err := preprocess.Decode(bytes.NewReader(zoo.DogJPEG()))
		if err != nil {
			return fmt.Errorf("embedded dog.jpg: %v", err)
		}
		inputs = append(inputs, input{"dog.jpg", im})
	}
	for _, path := range fs.Args() {
		im, err := preprocess.Load(path)
		if err != nil {
			return err
		}
		inputs = append(inputs, input{path, im})
	}
	var rows []sweepRow
	act := cv.Activity()
	for _, cores := range o.cores {
		p, err := mapper.Partition(cv.Net, arch, act, mapper.PartitionOptions{Cores: cores}, router.XY, router.PerCore)
		if err != nil {
			return fmt.Errorf("--cores %d: %w", cores, err)
		}
		placed := map[mapper.Placement]*chip.Program{}
		for _, c := range grid {
			if placed[c.placement] == nil {
				if placed[c.placement], err = place(p, act, c.placement); err != nil {
					return err
				}
			}
		}
		for _, in := range inputs {
			// Simulate once, on the first configuration; price the others from its trace.
			first := placed[grid[0].placement].Routed(grid[0].routing, grid[0].multicast)
			input := in.im.Fit(cv.Float.Input.W, cv.Float.Input.H, mode).Data
			probe := chip.Probe{Ticks: cv.SnapshotTicks([]int{o.timesteps}), Trace: true}
			run, err := first.Run(cv.Encode(input), probe, 0)
			if err != nil {
				return err
			}
			outs, err := cv.Decode(run.Snapshots, o.timesteps)
			if err != nil {
				return err
			}
			dets := detections(m, detect.FromOutputs(cv.Float, cv.HeadOutputs(outs), in.im.W, in.im.H, mode, o.thresh, o.nms), in.im)
			digest, err := detectionsDigest(dets)
			if err != nil {
				return err
			}
			for _, c := range grid {
				q := placed[c.placement].Routed(c.routing, c.multicast)
				res, err := q.Reprice(run)
				if err != nil {
					return err
				}
				r := q.Report(res, floatMACs(cv.Float), cv.AnalogMACs())
				rows = append(rows, newSweepRow(in.name, c, o.timesteps, len(dets), digest, r))
			}
		}
	}
	if err := printSweep(stdout, rows); err != nil {
		return err
	}
	if o.out == "" {
		return nil
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(o.out, "sweep.csv"), func(w io.Writer) error { return writeSweepCSV(w, rows) }); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(o.out, "sweep.jsonl"), func(w io.Writer) error { return writeSweepJSONL(w, rows) })
}

// sweepConfig is one combination of the mapping choices that do not change the spikes.
type sweepConfig struct {
	placement mapper.Placement
	routing   router.Routing
	multicast router.Multicast
}

// configurations is the cartesian product of the listed placements, routings and multicasts,
// in that order of nesting; core counts are checked here and swept outside.
func (o *sweepOptions) configurations() ([]sweepConfig, error) {
	for _, c := range o.cores {
		if c < 0 {
			return nil, usagef("--cores %d: want a positive number, or 0", c)
		}
	}
	if len(o.cores) == 0 || len(o.placements) == 0 || len(o.routings) == 0 || len(o.multicasts) == 0 {
		return nil, usagef("--cores, --placement, --routing and --multicast each need at least one value")
	}
	var grid []sweepConfig
	for _, ps := range o.placements {
		pl, err := mapper.ParsePlacement(ps)
		if err != nil {
			return nil, usagef("--placement: %v", err)
		}
		for _, rs := range o.routings {
			r, err := router.ParseRouting(rs)
			if err != nil {
				return nil, usagef("--routing: %v", err)
			}
			for _, ms := range o.multicasts {
				m, err := router.ParseMulticast(ms)
				if err != nil {
					return nil, usagef("--multicast: %v", err)
				}
				grid = append(grid, sweepConfig{pl, r, m})
			}
		}
	}
	return grid, nil
}

// detectionsDigest is a short hash of an image's detections as detect --json lists them: the
// same detections give the same digest.
func detectionsDigest(dets []jsonDetection) (string, error) {
	b, err := json.Marshal(dets)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8]), nil
}

// sweepRow is one (configuration, image) of a sweep. Energies are joules per frame, times
// seconds.
type sweepRow struct {
	Image       string             `json:"image"`
	Cores       int                `json:"cores"`
	Chips       int                `json:"chips"`
	Placement   string             `json:"placement"`
	Routing     string             `json:"routing"`
	Multicast   string             `json:"multicast"`
	Timesteps   int                `json:"timesteps"`
	Detections  int                `json:"detections"`
	Digest      string             `json:"detections_digest"`
	Spikes      int64              `json:"spikes"`
	Synops      int64              `json:"synops"`
	Packets     int64              `json:"packets"`
	Hops        int64              `json:"hops"`
	Crossings   int64              `json:"chip_crossings"`
	BusiestLink int64              `json:"busiest_link_packets"`
	Energy      float64            `json:"energy_total_j"`
	ByCategory  map[string]float64 `json:"energy_j"`
	TickTime    float64            `json:"latency_tick_s"`
	FrameTime   float64            `json:"latency_frame_s"`
	energies    chip.Energies
}

func newSweepRow(image string, c sweepConfig, timesteps, ndet int, digest string, r *chip.Report) sweepRow {
	row := sweepRow{Image: image, Cores: r.Cores, Chips: r.Chips, Placement: c.placement.String(), Routing: c.routing.String(),
		Multicast: c.multicast.String(), Timesteps: timesteps, Detections: ndet, Digest: digest, Spikes: r.Spikes, Synops: r.Synops,
		Packets: r.Packets, Hops: r.Hops, Crossings: r.Crossings, Energy: r.Energy, ByCategory: r.ByCategory,
		TickTime: r.TickTime, FrameTime: r.FrameTime, energies: r.Energies}
	if len(r.BusiestLinks) > 0 {
		row.BusiestLink = r.BusiestLinks[0].Packets
	}
	return row
}

// sweepColumns are the CSV's columns; energy by category follows in category order.
var sweepColumns = []string{"image", "cores", "chips", "placement", "routing", "multicast", "timesteps", "detections",
	"detections_digest", "spikes", "synops", "packets", "hops", "chip_crossings", "busiest_link_packets",
	"energy_total_j", "latency_tick_s", "latency_frame_s"}

// formatFloat writes v in the fewest digits that read back as v: the same run gives the
// same bytes.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func writeSweepCSV(w io.Writer, rows []sweepRow) error {
	cw := csv.NewWriter(w)
	header := append([]string(nil), sweepColumns...)
	for c := range chip.NumCategories {
		header = append(header, "energy_"+c.String()+"_j")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range rows {
		rec := []string{r.Image, strconv.Itoa(r.Cores), strconv.Itoa(r.Chips), r.Placement, r.Routing, r.Multicast,
			strconv.Itoa(r.Timesteps), strconv.Itoa(r.Detections), r.Digest, strconv.FormatInt(r.Spikes, 10),
			strconv.FormatInt(r.Synops, 10), strconv.FormatInt(r.Packets, 10), strconv.FormatInt(r.Hops, 10),
			strconv.FormatInt(r.Crossings, 10), strconv.FormatInt(r.BusiestLink, 10), formatFloat(r.Energy),
			formatFloat(r.TickTime), formatFloat(r.FrameTime)}
		for _, e := range r.energies {
			rec = append(rec, formatFloat(e))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeSweepJSONL(w io.Writer, rows []sweepRow) error {
	enc := json.NewEncoder(w)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// printSweep prints the rows as a table for people.
func printSweep(w io.Writer, rows []sweepRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "image\tcores\tchips\tplacement\trouting\tmulticast\tobjects\tdigest\tpackets\thops\tcrossings\tJ/frame\ts/frame\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%.4g\t%.4g\t\n", r.Image, r.Cores, r.Chips, r.Placement,
			r.Routing, r.Multicast, r.Detections, r.Digest, r.Packets, r.Hops, r.Crossings, r.Energy, r.FrameTime)
	}
	return tw.Flush()
}
