package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestSweepEqualsDetect: a sweep of 2 core counts, 2 placements, 2 routings and 2 multicasts
// on the embedded model gives 16 rows with one detection digest and energies and latencies
// that differ; the rows equal detect --json run alone with their configuration (two of them
// checked, one per core count), and the CSV and JSON lines agree.
func TestSweepEqualsDetect(t *testing.T) {
	if testing.Short() {
		t.Skip("converts and runs the embedded model on two partitions, then twice more")
	}
	dir := t.TempDir()
	const ticks = "24"
	code, out, errOut := runCLI(t, "sweep", "--timesteps", ticks, "--cores", "0,8000", "--placement", "traffic,order",
		"--routing", "xy,yx", "--multicast", "percore,tree", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("stderr is not a terminal, yet the sweep wrote to it: %q", errOut)
	}
	if lines := strings.Count(out, "\n"); lines != 17 {
		t.Errorf("the table has %d lines, want a header and 16 rows:\n%s", lines, out)
	}
	var rows []sweepRow
	f, err := os.Open(filepath.Join(dir, "sweep.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var r sweepRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("sweep.jsonl: %v", err)
		}
		rows = append(rows, r)
	}
	if len(rows) != 16 {
		t.Fatalf("%d JSON lines, want 16", len(rows))
	}
	digests, energies, frames := map[string]bool{}, map[float64]bool{}, map[float64]bool{}
	for _, r := range rows {
		// The float network finds objects on dog.jpg: the fidelity is measured.
		if r.Fidelity == nil || *r.Fidelity < 0 || *r.Fidelity > 1 || r.WorstLimit == "" || !(r.WorstUse > 0 && r.WorstUse <= 1) {
			t.Errorf("row %+v: want a fidelity in [0, 1] and the worst use of a limit in (0, 1]", r)
		}
		digests[r.Digest] = true
		energies[r.Energy] = true
		frames[r.FrameTime] = true
	}
	if len(digests) != 1 || len(energies) < 12 || len(frames) < 8 {
		t.Errorf("%d digests (want 1), %d distinct energies, %d distinct frame times over 16 configurations", len(digests), len(energies), len(frames))
	}
	cf, err := os.Open(filepath.Join(dir, "sweep.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	records, err := csv.NewReader(cf).ReadAll()
	if err != nil {
		t.Fatalf("sweep.csv: %v", err)
	}
	if len(records) != 17 {
		t.Fatalf("sweep.csv has %d records, want a header and 16", len(records))
	}
	col := map[string]int{}
	for i, name := range records[0] {
		col[name] = i
	}
	for i, r := range rows {
		rec := records[i+1]
		if rec[col["energy_total_j"]] != strconv.FormatFloat(r.Energy, 'g', -1, 64) || rec[col["hops"]] != strconv.FormatInt(r.Hops, 10) {
			t.Errorf("row %d: CSV %v, JSON %+v", i, rec, r)
		}
	}
	for _, r := range []sweepRow{rows[5], rows[8+6]} { // order/xy/tree on the fewest cores, order/yx/percore on 8,000
		cores := strconv.Itoa(r.Cores)
		if r.Cores == rows[0].Cores {
			cores = "0"
		}
		code, out, errOut := runCLI(t, "detect", "--json", "--timesteps", ticks, "--cores", cores, "--placement", r.Placement,
			"--routing", r.Routing, "--multicast", r.Multicast)
		if code != 0 {
			t.Fatalf("detect: exit %d: %s", code, errOut)
		}
		var d jsonImage
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		digest, err := detectionsDigest(d.Detections)
		if err != nil {
			t.Fatal(err)
		}
		if d.Cores != r.Cores || d.Chips != r.Chips || d.Packets != r.Packets || d.Hops != r.Hops || d.Crossings != r.Crossings ||
			d.Spikes != r.Spikes || d.Synops != r.Synops || d.Energy.Total != r.Energy || d.Latency.Frame != r.FrameTime || digest != r.Digest {
			t.Errorf("%s/%s/%s on %d cores: detect %+v %+v %+v; sweep %+v", r.Placement, r.Routing, r.Multicast, r.Cores, d, d.Energy, d.Latency, r)
		}
		for k, v := range d.Energy.ByCategory {
			if r.ByCategory[k] != v {
				t.Errorf("%s/%s/%s: energy %s %v in detect, %v in the sweep", r.Placement, r.Routing, r.Multicast, k, v, r.ByCategory[k])
			}
		}
	}
}

// TestSweepBadLists: a value outside a list's choices is a usage error naming the flag.
func TestSweepBadLists(t *testing.T) {
	for _, c := range []struct{ flag, value string }{{"--routing", "xy,zz"}, {"--multicast", "star"}, {"--placement", "random"}, {"--cores", "-5"}, {"--thresh", "2"}, {"--cores", "4..2*2"}} {
		code, _, errOut := runCLI(t, "sweep", c.flag, c.value)
		if code != 2 || !strings.Contains(errOut, c.flag) {
			t.Errorf("sweep %s %s: exit %d, %q; want 2 naming the flag", c.flag, c.value, code, errOut)
		}
	}
}

// TestSweepResumeAndShards: two shards merged give the unsharded run's files byte for byte;
// a rerun reuses the points it finds (a kept point marked by hand shows through) and
// computes the missing one; a bad --shard is a usage error.
func TestSweepResumeAndShards(t *testing.T) {
	if testing.Short() {
		t.Skip("converts the embedded model five times")
	}
	base := t.TempDir()
	sweep := func(out string, extra ...string) {
		t.Helper()
		// Two tick counts: two simulations (groups of points), one per shard.
		args := append([]string{"sweep", "--timesteps", "8,6", "--cores", "0,8000", "--routing", "xy,yx", "--out", out}, extra...)
		if code, _, errOut := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
	}
	whole, s0, s1, merged := filepath.Join(base, "whole"), filepath.Join(base, "s0"), filepath.Join(base, "s1"), filepath.Join(base, "merged")
	sweep(whole)
	sweep(s0, "--shard", "0/2")
	sweep(s1, "--shard", "1/2")
	if code, _, errOut := runCLI(t, "sweep", "merge", "--out", merged, s0, s1); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, errOut)
	}
	read := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	files := []string{"sweep.csv", "sweep.jsonl", "summary.csv", "manifest.json"}
	for _, chart := range []string{"energy_vs_cores", "latency_vs_cores", "energy_breakdown", "pareto"} {
		files = append(files, chart+".png", chart+".svg")
	}
	for _, f := range files {
		if read(filepath.Join(whole, f)) != read(filepath.Join(merged, f)) {
			t.Errorf("%s: the merged shards differ from the unsharded run", f)
		}
	}
	// The charts: PNGs that decode, SVGs whose text holds the axes' labels with units and
	// the legends.
	for chart, texts := range map[string][]string{
		"energy_vs_cores":  {"cores", "energy per frame (J)", "loihi T=8 traffic xy percore", "loihi T=8 traffic yx percore"},
		"latency_vs_cores": {"cores", "latency per frame (s)", "loihi T=8 traffic xy percore"},
		"energy_breakdown": {"energy per frame (J)", "synapse", "static", "hops_east_west"},
		"pareto":           {"latency per frame (s)", "energy per frame (J)", "Pareto front"},
	} {
		if _, err := png.Decode(strings.NewReader(read(filepath.Join(whole, chart+".png")))); err != nil {
			t.Errorf("%s.png: %v", chart, err)
		}
		svg := read(filepath.Join(whole, chart+".svg"))
		if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
			t.Errorf("%s.svg is not XML: %v", chart, err)
		}
		for _, text := range texts {
			if !strings.Contains(svg, ">"+text+"<") {
				t.Errorf("%s.svg: no text %q", chart, text)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(s0, "sweep.csv")); err == nil {
		t.Error("a shard wrote sweep.csv: only merge or an unsharded run may")
	}
	var plan sweepPlan
	if err := json.Unmarshal([]byte(read(filepath.Join(whole, "manifest.json"))), &plan); err != nil || len(plan.Points) != 4 {
		t.Fatalf("manifest: %v, %d points, want 4", err, len(plan.Points))
	}
	// Mark the first point's rows, drop the second (the first's other core count, simulated
	// with it), and run again.
	kept := filepath.Join(whole, "points", plan.Points[0].File)
	rows := read(kept)
	digest := rows[strings.Index(rows, `"detections_digest":"`)+len(`"detections_digest":"`):][:16]
	if err := os.WriteFile(kept, []byte(strings.ReplaceAll(rows, digest, "0123456789abcdef")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(whole, "points", plan.Points[1].File)); err != nil {
		t.Fatal(err)
	}
	sweep(whole)
	again, err := readSweepRows(filepath.Join(whole, "sweep.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	marked, computed := 0, 0
	for _, r := range again {
		if r.Timesteps == 8 && r.Digest == "0123456789abcdef" {
			marked++
		}
		if r.Timesteps == 8 && r.Cores == plan.Points[1].Cores && r.Digest == digest {
			computed++
		}
	}
	if marked != 2 || computed != 2 {
		t.Errorf("the kept point's 2 rows reused: %d; the dropped point's 2 rows computed again: %d; rows %+v", marked, computed, again)
	}
	for _, bad := range []string{"2/2", "1", "a/b", "-1/3"} {
		if code, _, errOut := runCLI(t, "sweep", "--shard", bad, "--out", base); code != 2 || !strings.Contains(errOut, "--shard") {
			t.Errorf("--shard %s: exit %d, %q", bad, code, errOut)
		}
	}
	if code, _, errOut := runCLI(t, "sweep", "merge", "--out", filepath.Join(base, "m2"), s0); code != 1 || !strings.Contains(errOut, "run its shard") {
		t.Errorf("merge of one shard of two: exit %d, %q; want 1 naming the missing point", code, errOut)
	}
}

// TestCoreList: --cores takes counts, k for 1024, geometric and arithmetic ranges; its first
// use replaces the default, later ones add; bad ranges are errors.
func TestCoreList(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []int
	}{
		{nil, []int{0}},
		{[]string{"--cores", "2k..16k*2"}, []int{2048, 4096, 8192, 16384}},
		{[]string{"--cores", "0,1000..1300+100", "--cores", "5k"}, []int{0, 1000, 1100, 1200, 1300, 5120}},
		{[]string{"--cores", "3..20*3"}, []int{3, 9}},
	} {
		cores := []int{0}
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		fs.Var(coreList{&cores, new(bool)}, "cores", "")
		if err := fs.Parse(c.args); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if !slices.Equal(cores, c.want) {
			t.Errorf("%v: %v, want %v", c.args, cores, c.want)
		}
	}
	for _, bad := range []string{"2k..16k*1", "8..4*2", "1..9", "1..9+0", "x", "-3", "1..100000000+1"} {
		var cores []int
		if err := (coreList{&cores, new(bool)}).Set(bad); err == nil {
			t.Errorf("--cores %s: accepted as %v", bad, cores)
		}
	}
}

// TestSweepArchsAndTicks: architectures and tick counts are swept too, each (architecture,
// ticks) simulated on its own; a row equals detect --json with its architecture and ticks.
func TestSweepArchsAndTicks(t *testing.T) {
	if testing.Short() {
		t.Skip("converts the embedded model for two architectures")
	}
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "sweep", "--arch", "loihi,loihi-sanafe", "--timesteps", "4,8", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "sweep.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []sweepRow
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r sweepRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Arch+"/"+strconv.Itoa(r.Timesteps))
	}
	if want := []string{"loihi/4", "loihi/8", "loihi-sanafe/4", "loihi-sanafe/8"}; !slices.Equal(got, want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	if rows[1].Energy == rows[3].Energy || rows[0].Spikes == rows[1].Spikes {
		t.Errorf("the architectures or the ticks change nothing: %+v", rows)
	}
	code, out, errOut := runCLI(t, "detect", "--json", "--arch", "loihi-sanafe", "--timesteps", "8")
	if code != 0 {
		t.Fatalf("detect: exit %d: %s", code, errOut)
	}
	var d jsonImage
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if r := rows[3]; d.Energy.Total != r.Energy || d.Latency.Frame != r.FrameTime || d.Spikes != r.Spikes || d.Packets != r.Packets {
		t.Errorf("loihi-sanafe at 8 ticks: detect %v J, %v s, %d spikes, %d packets; sweep %+v", d.Energy.Total, d.Latency.Frame, d.Spikes, d.Packets, r)
	}
}
