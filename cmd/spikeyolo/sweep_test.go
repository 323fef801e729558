package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
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
	for _, c := range []struct{ flag, value string }{{"--routing", "xy,zz"}, {"--multicast", "star"}, {"--placement", "random"}, {"--cores", "-5"}} {
		code, _, errOut := runCLI(t, "sweep", c.flag, c.value)
		if code != 2 || !strings.Contains(errOut, c.flag) {
			t.Errorf("sweep %s %s: exit %d, %q; want 2 naming the flag", c.flag, c.value, code, errOut)
		}
	}
}
