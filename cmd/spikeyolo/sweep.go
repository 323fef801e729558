package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"spikeyolo/chip"
	"spikeyolo/mapper"
	"spikeyolo/mapper/fidelity"
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
	archs      []string
	cores      []int
	routings   []string
	multicasts []string
	placements []string
	timesteps  []int
	detection  detectionFlags
	out        string
	shard      string
	quiet      bool
	growBoard  bool
	trim       bool
}

func runSweep(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "merge" {
		return runSweepMerge(args[1:], stdout)
	}
	var o sweepOptions
	fs := newFlags("sweep", "[flags] [IMAGE...]\n       spikeyolo sweep merge --out DIR SHARD_DIR...",
		"Runs the spiking detector on every combination of the listed architectures, tick counts,\n"+
			"core counts, placements, routings and multicasts, and prints one row per (configuration,\n"+
			"image): detections, fidelity, traffic, energy and latency. The network is simulated once\n"+
			"per (architecture, ticks, image), on cores cut wherever one of the swept core counts cuts;\n"+
			"every core count, placement, routing and multicast is priced from that run (the spikes do\n"+
			"not depend on them), and each row equals what detect reports for its configuration. With\n"+
			"no image it reads darknet's dog.jpg, embedded.\n\n"+
			"With --out, each (architecture, ticks, core count, image) point is kept in DIR/points\n"+
			"as it completes, and a rerun with the same flags computes only the missing ones.\n"+
			"--shard i/n runs the i-th of n slices of the simulations (i from 0); 'sweep merge --out\n"+
			"DIR SHARD_DIR...' joins the shards' directories into the files one unsharded run writes.", stdout)
	o.model.register(fs)
	fs.StringSliceVar(&o.archs, "arch", []string{"loihi"}, "architectures, comma-separated: presets ("+strings.Join(chip.Presets(), ", ")+") or YAML files")
	o.cores = []int{0}
	fs.Var(coreList{&o.cores, new(bool)}, "cores", "core counts, comma-separated, or ranges A..B*F (A, A·F, ... up to B) and A..B+S; k is 1024 (2k..16k*2); 0: every core of the chips the fewest cores need (default 0)")
	fs.StringSliceVar(&o.placements, "placement", []string{"traffic"}, "placements, comma-separated: traffic, order")
	fs.StringSliceVar(&o.routings, "routing", []string{"xy"}, "routings, comma-separated: xy, yx")
	fs.StringSliceVar(&o.multicasts, "multicast", []string{"percore"}, "multicasts, comma-separated: percore, tree")
	fs.IntSliceVar(&o.timesteps, "timesteps", []int{defaultTimesteps}, "ticks the spiking network runs, comma-separated")
	o.detection.register(fs)
	fs.StringVar(&o.out, "out", "", "write sweep.csv, sweep.jsonl, summary.csv, the charts (PNG and SVG) and the finished points into `DIR` (created if need be)")
	fs.BoolVar(&o.growBoard, "grow-board", false, "add rows of chips when an architecture's board is too small (default: an error)")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress bar on stderr (there is none when stderr is not a terminal)")
	fs.BoolVar(&o.trim, "trim", false, trimUsage)
	fs.StringVar(&o.shard, "shard", "", "run only slice `i/n` of the points, i from 0 to n-1 (needs --out)")
	o.conv.register(fs)
	o.conv.weightBitsFromArch(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	mode, err := o.detection.check()
	if err != nil {
		return err
	}
	for _, T := range o.timesteps {
		if T < 1 {
			return usagef("--timesteps %d: want a positive number of ticks", T)
		}
	}
	if len(o.timesteps) == 0 || len(o.archs) == 0 {
		return usagef("--timesteps and --arch each need at least one value")
	}
	grid, err := o.configurations()
	if err != nil {
		return err
	}
	shard, shards, err := parseShard(o.shard)
	if err != nil {
		return err
	}
	if shards > 1 && o.out == "" {
		return usagef("--shard %s: a shard keeps its points in --out DIR for sweep merge", o.shard)
	}
	plan := newSweepPlan(fs, fs.Args(), o.archs, o.timesteps, o.cores)
	if o.out != "" {
		if err := os.MkdirAll(filepath.Join(o.out, "points"), 0o755); err != nil {
			return err
		}
		if err := writeAtomic(filepath.Join(o.out, "manifest.json"), plan.write); err != nil {
			return err
		}
	}
	// The model is converted, and each core count partitioned, only when a point needs it.
	var runner *sweepRunner
	groups := plan.groups()
	total := 0
	for k, g := range groups {
		if k%shards == shard {
			total += plan.Points[g[0]].Timesteps
		}
	}
	bar := newProgress(stderr, o.quiet, total, "ticks")
	defer bar.finish()
	rows := make([][]sweepRow, len(plan.Points))
	for k, g := range groups {
		if k%shards != shard {
			continue
		}
		T := plan.Points[g[0]].Timesteps
		tick := bar.run(T)
		var missing []sweepPoint
		var at []int
		for _, i := range g {
			pt := plan.Points[i]
			if o.out != "" {
				if kept, err := readSweepRows(filepath.Join(o.out, "points", pt.File)); err == nil {
					rows[i] = kept
					continue
				} else if !os.IsNotExist(err) {
					return err
				}
			}
			missing, at = append(missing, pt), append(at, i)
		}
		if len(missing) == 0 {
			if tick != nil {
				tick(T)
			}
			continue
		}
		if runner == nil {
			runner = &sweepRunner{fs: fs, o: &o, mode: mode, archs: map[string]*archRunner{}}
		}
		got, err := runner.simulate(missing, grid, tick)
		if err != nil {
			return err
		}
		for j, pt := range missing {
			if o.out != "" {
				if err := writeAtomic(filepath.Join(o.out, "points", pt.File), func(w io.Writer) error { return writeSweepJSONL(w, got[j]) }); err != nil {
					return err
				}
			}
			rows[at[j]] = got[j]
		}
	}
	var all []sweepRow
	for _, r := range rows {
		all = append(all, r...)
	}
	if err := printSweep(stdout, all); err != nil {
		return err
	}
	if o.out == "" || shards > 1 {
		return nil
	}
	return writeSweepOutputs(o.out, all)
}

// parseShard reads --shard i/n (empty: the whole sweep, 0/1).
func parseShard(s string) (i, n int, err error) {
	if s == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, usagef("--shard %q: want i/n with 0 <= i < n, e.g. 0/4", s)
	}
	return i, n, nil
}

// sweepPlan is a sweep's points in order, each an (image, core count) whose configurations
// are priced from one simulation, and the fingerprint of the flags that give their rows: a
// point kept under another fingerprint is not reused.
type sweepPlan struct {
	Fingerprint string       `json:"fingerprint"`
	Points      []sweepPoint `json:"points"`
}

// sweepPoint is one (architecture, ticks, core count, image) of a sweep, kept in
// points/File.
type sweepPoint struct {
	Arch      string `json:"arch"`
	Timesteps int    `json:"timesteps"`
	Cores     int    `json:"cores"`
	Image     string `json:"image"`
	Embedded  bool   `json:"embedded,omitempty"` // the embedded dog.jpg
	File      string `json:"file"`
}

// newSweepPlan lists the points, architectures outermost, then ticks, core counts and images,
// and fingerprints every flag but --out and --shard, with the images (none: the embedded
// dog.jpg).
func newSweepPlan(fs *pflag.FlagSet, images, archs []string, timesteps, cores []int) *sweepPlan {
	embedded := len(images) == 0
	if embedded {
		images = []string{"dog.jpg"}
	}
	h := sha256.New()
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != "out" && f.Name != "shard" {
			fmt.Fprintf(h, "--%s=%s\n", f.Name, f.Value.String())
		}
	})
	fmt.Fprintf(h, "embedded=%v\n", embedded)
	for _, im := range images {
		fmt.Fprintf(h, "%s\n", im)
	}
	plan := &sweepPlan{Fingerprint: hex.EncodeToString(h.Sum(nil)[:8])}
	for a, arch := range archs {
		for _, T := range timesteps {
			for _, c := range cores {
				for i, im := range images {
					plan.Points = append(plan.Points, sweepPoint{Arch: arch, Timesteps: T, Cores: c, Image: im, Embedded: embedded,
						File: fmt.Sprintf("%s-%d-%d-%d-%d.jsonl", plan.Fingerprint, a, T, c, i)})
				}
			}
		}
	}
	return plan
}

func (p *sweepPlan) write(w io.Writer) error { return writeJSON(w, p) }

// groups lists the points that one simulation prices, by their indices: those of one
// architecture, tick count and image, in the order of their first points. A shard runs whole
// groups, so that no simulation is run by two shards.
func (p *sweepPlan) groups() [][]int {
	type key struct {
		arch, image string
		T           int
	}
	index := map[key]int{}
	var groups [][]int
	for i, pt := range p.Points {
		k := key{pt.Arch, pt.Image, pt.Timesteps}
		g, ok := index[k]
		if !ok {
			g = len(groups)
			index[k] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// sweepRunner converts the model once per architecture and partitions each core count once.
type sweepRunner struct {
	fs    *pflag.FlagSet
	o     *sweepOptions
	mode  preprocess.Mode
	archs map[string]*archRunner
}

// archRunner is the model converted for one architecture, its programs by core count and
// placement, and the common refinements of sets of them by their core counts.
type archRunner struct {
	m       *loadedModel
	arch    *chip.Arch
	cv      *mapper.Converted
	act     *mapper.Activity
	placed  map[int]map[mapper.Placement]*chip.Program
	refined map[string]*chip.Program
}

// forArch converts the model for architecture name (with its weight bits unless
// --weight-bits says otherwise), once.
func (r *sweepRunner) forArch(name string) (*archRunner, error) {
	if a := r.archs[name]; a != nil {
		return a, nil
	}
	conv := r.o.conv
	m, arch, cv, err := convertForChip(r.fs, &r.o.model, &conv, &chipFlags{arch: name}, r.mode)
	if err != nil {
		return nil, err
	}
	a := &archRunner{m: m, arch: arch, cv: cv, act: cv.Activity(), placed: map[int]map[mapper.Placement]*chip.Program{}, refined: map[string]*chip.Program{}}
	r.archs[name] = a
	return a, nil
}

// partition partitions the model for a core count and places it as each configuration of
// grid asks.
func (a *archRunner) partition(cores int, grid []sweepConfig, growBoard bool) (map[mapper.Placement]*chip.Program, error) {
	p, err := mapper.Partition(a.cv.Net, a.arch, a.act, mapper.PartitionOptions{Cores: cores, GrowBoard: growBoard}, router.XY, router.PerCore)
	if err != nil {
		return nil, fmt.Errorf("--cores %d: %w", cores, err)
	}
	placed := map[mapper.Placement]*chip.Program{}
	for _, c := range grid {
		if placed[c.placement] == nil {
			if placed[c.placement], err = place(p, a.act, c.placement); err != nil {
				return nil, err
			}
		}
	}
	return placed, nil
}

// simulated is the program a group of points is simulated on: the first configuration's
// program of a lone point, else the common refinement of the points' partitions (chip.Refine),
// kept by their core counts. The core counts not yet partitioned are partitioned in parallel.
func (a *archRunner) simulated(pts []sweepPoint, grid []sweepConfig, growBoard bool) (*chip.Program, error) {
	placed := make([]map[mapper.Placement]*chip.Program, len(pts))
	errs := make([]error, len(pts))
	var wg sync.WaitGroup
	for i, pt := range pts {
		if placed[i] = a.placed[pt.Cores]; placed[i] == nil {
			wg.Go(func() { placed[i], errs[i] = a.partition(pt.Cores, grid, growBoard) })
		}
	}
	wg.Wait()
	var partitions []*chip.Program
	var key []string
	for i, pt := range pts {
		if errs[i] != nil {
			return nil, errs[i]
		}
		a.placed[pt.Cores] = placed[i]
		partitions = append(partitions, placed[i][grid[0].placement].Routed(grid[0].routing, grid[0].multicast))
		key = append(key, strconv.Itoa(pt.Cores))
	}
	if len(partitions) == 1 {
		return partitions[0], nil
	}
	k := strings.Join(key, ",")
	if p := a.refined[k]; p != nil {
		return p, nil
	}
	p, err := chip.Refine(partitions...)
	if err != nil {
		return nil, err
	}
	a.refined[k] = p
	return p, nil
}

// simulate runs the points of one architecture, tick count and image (a group: see
// sweepPlan.groups) in one simulation, telling progress the ticks run, and prices every
// configuration of grid on every point's core count from that run: the rows of each point.
func (r *sweepRunner) simulate(pts []sweepPoint, grid []sweepConfig, progress func(int)) ([][]sweepRow, error) {
	o, pt0 := r.o, pts[0]
	a, err := r.forArch(pt0.Arch)
	if err != nil {
		return nil, err
	}
	cv := a.cv
	sim, err := a.simulated(pts, grid, o.growBoard)
	if err != nil {
		return nil, err
	}
	var im preprocess.Image
	if pt0.Embedded {
		im, err = preprocess.Decode(bytes.NewReader(zoo.DogJPEG()))
	} else {
		im, err = preprocess.Load(pt0.Image)
	}
	if err != nil {
		return nil, err
	}
	// The fidelity measurement runs the float network and, through its engine, the chip
	// once, keeping the run's trace.
	var run *chip.Result
	cfg := fidelity.DefaultConfig([]int{pt0.Timesteps})
	cfg.Mode, cfg.Workers, cfg.Trim = r.mode, 1, o.trim
	cfg.Engine = func(_ *chip.Network, stim chip.Stimulus, probe chip.Probe) (fidelity.Run, error) {
		probe.Trace, probe.TraceOnly, probe.Progress = true, true, progress
		res, err := sim.Run(stim, probe, 0)
		if err != nil {
			return fidelity.Run{}, err
		}
		run = res
		return fidelity.Run{Snapshots: res.Snapshots}, nil // the sweep prices each configuration itself
	}
	points, err := fidelity.Measure(cv, []fidelity.Image{{Name: pt0.Image, Image: im}}, cfg)
	if err != nil {
		return nil, err
	}
	var fid *float64 // none without float detections to measure against
	if m := points[0].MAP; !math.IsNaN(m) {
		fid = &m
	}
	outs, err := cv.Decode(run.Snapshots, pt0.Timesteps)
	if err != nil {
		return nil, err
	}
	dets := detections(a.m, detect.FromOutputs(cv.Float, cv.HeadOutputs(outs), im.W, im.H, r.mode, o.detection.thresh, o.detection.nms), im)
	digest, err := detectionsDigest(dets)
	if err != nil {
		return nil, err
	}
	// Price every (point, configuration) in parallel; each row goes to its place.
	rows := make([][]sweepRow, len(pts))
	for i := range rows {
		rows[i] = make([]sweepRow, len(grid))
	}
	n := len(pts) * len(grid)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for k := range next {
				pt, c := pts[k/len(grid)], grid[k%len(grid)]
				q := a.placed[pt.Cores][c.placement].Routed(c.routing, c.multicast)
				res, err := q.Reprice(run)
				if err != nil {
					errs[k] = err
					continue
				}
				row := newSweepRow(pt, c, len(dets), digest, q.Report(res, floatMACs(cv.Float), cv.AnalogMACs()))
				row.Fidelity = fid
				limit, share := q.WorstUse()
				row.WorstLimit, row.WorstUse = limit.String(), share
				rows[k/len(grid)][k%len(grid)] = row
			}
		})
	}
	for k := range n {
		next <- k
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// runSweepMerge joins the points of shard directories into the files of one unsharded run.
func runSweepMerge(args []string, stdout io.Writer) error {
	fs := newFlags("sweep merge", "--out DIR SHARD_DIR...", "Joins the shards of a sweep (each run with --shard i/n and its own --out) into DIR:\n"+
		"the files one unsharded run writes.", stdout)
	var out string
	fs.StringVar(&out, "out", "", "the merged sweep's `DIR`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if out == "" || len(fs.Args()) == 0 {
		return usagef("want --out DIR and at least one shard directory")
	}
	var plan *sweepPlan
	for _, dir := range fs.Args() {
		b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			return err
		}
		var p sweepPlan
		if err := json.Unmarshal(b, &p); err != nil {
			return fmt.Errorf("%s: %v", filepath.Join(dir, "manifest.json"), err)
		}
		if plan != nil && p.Fingerprint != plan.Fingerprint {
			return fmt.Errorf("%s: a sweep of other flags or images (fingerprint %s, the first shard's %s)", dir, p.Fingerprint, plan.Fingerprint)
		}
		plan = &p
	}
	if err := os.MkdirAll(filepath.Join(out, "points"), 0o755); err != nil {
		return err
	}
	var rows []sweepRow
	for _, pt := range plan.Points {
		var found []sweepRow
		for _, dir := range fs.Args() {
			got, err := readSweepRows(filepath.Join(dir, "points", pt.File))
			if err == nil {
				found = got
				break
			} else if !os.IsNotExist(err) {
				return err
			}
		}
		if found == nil {
			return fmt.Errorf("no shard holds the point %s on %d cores (points/%s): run its shard", pt.Image, pt.Cores, pt.File)
		}
		if err := writeAtomic(filepath.Join(out, "points", pt.File), func(w io.Writer) error { return writeSweepJSONL(w, found) }); err != nil {
			return err
		}
		rows = append(rows, found...)
	}
	if err := writeAtomic(filepath.Join(out, "manifest.json"), plan.write); err != nil {
		return err
	}
	if err := printSweep(stdout, rows); err != nil {
		return err
	}
	return writeSweepOutputs(out, rows)
}

// readSweepRows reads the rows of a point file.
func readSweepRows(path string) ([]sweepRow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rows []sweepRow
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var r sweepRow
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("%s: row %d: %v", path, len(rows)+1, err)
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no rows", path)
	}
	return rows, nil
}

// writeSweepOutputs writes sweep.csv, sweep.jsonl, summary.csv and the charts into dir.
func writeSweepOutputs(dir string, rows []sweepRow) error {
	if err := writeAtomic(filepath.Join(dir, "sweep.csv"), func(w io.Writer) error { return writeSweepCSV(w, rows) }); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, "sweep.jsonl"), func(w io.Writer) error { return writeSweepJSONL(w, rows) }); err != nil {
		return err
	}
	means := summarize(rows)
	if err := writeAtomic(filepath.Join(dir, "summary.csv"), func(w io.Writer) error { return writeSweepSummary(w, means) }); err != nil {
		return err
	}
	return writeSweepCharts(dir, means)
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
	Arch        string             `json:"arch"`
	Cores       int                `json:"cores"`
	Chips       int                `json:"chips"`
	Placement   string             `json:"placement"`
	Routing     string             `json:"routing"`
	Multicast   string             `json:"multicast"`
	Timesteps   int                `json:"timesteps"`
	Detections  int                `json:"detections"`
	Digest      string             `json:"detections_digest"`
	Fidelity    *float64           `json:"fidelity_map"` // mAP@0.5 against the float network's detections; null without any
	WorstLimit  string             `json:"worst_limit"`  // the per-core limit most used by some core
	WorstUse    float64            `json:"worst_limit_use"`
	Spikes      int64              `json:"spikes"`
	Synops      int64              `json:"synops"` // accumulates (binary spikes)
	MACs        int64              `json:"macs"`   // multiply-accumulates (graded messages)
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

func newSweepRow(pt sweepPoint, c sweepConfig, ndet int, digest string, r *chip.Report) sweepRow {
	row := sweepRow{Image: pt.Image, Arch: r.Arch, Cores: r.Cores, Chips: r.Chips, Placement: c.placement.String(), Routing: c.routing.String(),
		Multicast: c.multicast.String(), Timesteps: pt.Timesteps, Detections: ndet, Digest: digest, Spikes: r.Spikes, Synops: r.Synops,
		MACs: r.MACs, Packets: r.Packets, Hops: r.Hops, Crossings: r.Crossings, Energy: r.Energy, ByCategory: r.ByCategory,
		TickTime: r.TickTime, FrameTime: r.FrameTime}
	if len(r.BusiestLinks) > 0 {
		row.BusiestLink = r.BusiestLinks[0].Packets
	}
	return row
}

// sweepColumns are the CSV's columns; energy by category follows in category order.
var sweepColumns = []string{"image", "arch", "cores", "chips", "placement", "routing", "multicast", "timesteps", "detections",
	"detections_digest", "fidelity_map", "spikes", "synops", "macs", "packets", "hops", "chip_crossings", "busiest_link_packets",
	"worst_limit", "worst_limit_use", "energy_total_j", "latency_tick_s", "latency_frame_s"}

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
		fid := "" // no float detections to measure against
		if r.Fidelity != nil {
			fid = formatFloat(*r.Fidelity)
		}
		rec := []string{r.Image, r.Arch, strconv.Itoa(r.Cores), strconv.Itoa(r.Chips), r.Placement, r.Routing, r.Multicast,
			strconv.Itoa(r.Timesteps), strconv.Itoa(r.Detections), r.Digest, fid, strconv.FormatInt(r.Spikes, 10),
			strconv.FormatInt(r.Synops, 10), strconv.FormatInt(r.MACs, 10), strconv.FormatInt(r.Packets, 10), strconv.FormatInt(r.Hops, 10),
			strconv.FormatInt(r.Crossings, 10), strconv.FormatInt(r.BusiestLink, 10), r.WorstLimit, formatFloat(r.WorstUse),
			formatFloat(r.Energy), formatFloat(r.TickTime), formatFloat(r.FrameTime)}
		for c := range chip.NumCategories {
			rec = append(rec, formatFloat(r.ByCategory[c.String()]))
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
	fmt.Fprintln(tw, "image\tarch\tticks\tcores\tchips\tplacement\trouting\tmulticast\tobjects\tdigest\tpackets\thops\tcrossings\tJ/frame\ts/frame\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%.4g\t%.4g\t\n", r.Image, r.Arch, r.Timesteps, r.Cores, r.Chips, r.Placement,
			r.Routing, r.Multicast, r.Detections, r.Digest, r.Packets, r.Hops, r.Crossings, r.Energy, r.FrameTime)
	}
	return tw.Flush()
}

// writeSweepSummary writes the means over images per configuration (see summarize).
func writeSweepSummary(w io.Writer, means []sweepMean) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"arch", "timesteps", "cores", "chips", "placement", "routing", "multicast", "images", "spikes", "synops", "macs", "packets", "hops",
		"chip_crossings", "energy_total_j", "latency_tick_s", "latency_frame_s"}); err != nil {
		return err
	}
	for _, m := range means {
		if err := cw.Write([]string{m.arch, strconv.Itoa(m.timesteps), strconv.Itoa(m.cores), strconv.Itoa(m.chips), m.placement, m.routing, m.multicast, strconv.Itoa(m.images),
			formatFloat(m.spikes), formatFloat(m.synops), formatFloat(m.macs), formatFloat(m.packets), formatFloat(m.hops),
			formatFloat(m.crossings), formatFloat(m.energy), formatFloat(m.tick), formatFloat(m.frame)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// coreList is --cores: comma-separated core counts and ranges, A..B*F for A, A·F, A·F², ...
// up to B, and A..B+S for A, A+S, ... up to B; a count may end in k (1024). The flag's first
// use replaces the default; later ones add.
type coreList struct {
	v   *[]int
	set *bool // the flag was given: its first use replaced the default
}

// coreListMost is the most core counts one --cores may give.
const coreListMost = 1000

func (c coreList) String() string {
	var s []string
	for _, n := range *c.v {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, ",")
}

func (c coreList) Type() string { return "cores" }

func (c coreList) Set(value string) error {
	var out []int
	for _, item := range strings.Split(value, ",") {
		item = strings.TrimSpace(item)
		lo, rest, isRange := strings.Cut(item, "..")
		a, err := parseCount(lo)
		if err != nil {
			return err
		}
		if !isRange {
			out = append(out, a)
			continue
		}
		hiText, stepText, geometric := strings.Cut(rest, "*")
		if !geometric {
			var ok bool
			if hiText, stepText, ok = strings.Cut(rest, "+"); !ok {
				return fmt.Errorf("%q: a range is A..B*F or A..B+S", item)
			}
		}
		b, err := parseCount(hiText)
		if err != nil {
			return err
		}
		step, err := strconv.Atoi(stepText)
		switch {
		case err != nil || step < 1 || geometric && step < 2:
			return fmt.Errorf("%q: want a factor >= 2 after * or a step >= 1 after +", item)
		case a < 1 || a > b:
			return fmt.Errorf("%q: want 1 <= A <= B", item)
		}
		for n := a; n <= b; {
			out = append(out, n)
			if len(out) > coreListMost {
				return fmt.Errorf("%q: more than %d core counts", value, coreListMost)
			}
			if geometric {
				n *= step
			} else {
				n += step
			}
		}
	}
	if !*c.set {
		*c.v, *c.set = nil, true
	}
	*c.v = append(*c.v, out...)
	return nil
}

// parseCount reads a non-negative count, with an optional k suffix for 1024.
func parseCount(s string) (int, error) {
	mult := 1
	if t, ok := strings.CutSuffix(s, "k"); ok {
		s, mult = t, 1024
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 1<<30/mult {
		return 0, fmt.Errorf("%q: want a count of cores, such as 8192 or 8k", s)
	}
	return n * mult, nil
}
