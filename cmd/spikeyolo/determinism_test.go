package main

import (
	"runtime"
	"testing"
)

// TestDetectSameBytes: detect --json on the chip prints the same bytes, run after run, at
// GOMAXPROCS 1, 2 and 4 (the engine steps cores on that many workers), on a small detector
// with random weights spread over many cores and chips, routed by tree multicast so that
// packets branch. Energy sums, link loads and detections must not depend on scheduling.
func TestDetectSameBytes(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "small.cfg", []byte(randomCfg))
	args := []string{"detect", "--json", "--model", cfg, "--weights", "random:3", "--timesteps", "48", "--cores", "300",
		"--multicast", "tree"}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var first string
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		for run := range 4 {
			code, out, errOut := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if first == "" {
				first = out
				continue
			}
			if out != first {
				t.Fatalf("GOMAXPROCS %d, run %d: the output differs from the first run's:\n%s\nfirst:\n%s", procs, run, out, first)
			}
		}
	}
}
