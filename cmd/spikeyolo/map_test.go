package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMap: map --json describes a mapping whose layers add up to its cores, every limit's
// use within 1, on no more chips than the board; the mapping saved by --save runs detect
// with the same cores; a mapping made for another model, or a bad --placement, is refused.
func TestMap(t *testing.T) {
	dir := t.TempDir()
	saved := filepath.Join(dir, "yolo-fastest.mapping.json")
	code, out, errOut := runCLI(t, "map", "--json", "--save", saved)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var m jsonMapping
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if m.Arch != "loihi" || m.Placement != "traffic" || m.Chips > m.BoardChips || m.Packets <= 0 || m.PacketHops <= 0 || m.ChipCrossings < 0 {
		t.Errorf("header %+v", m)
	}
	sum := 0
	for i, l := range m.Layers {
		sum += l.Cores
		if l.Index != i || l.Cores < 1 || l.BindingLimit == "" {
			t.Errorf("layer %+v", l)
		}
		for k, u := range l.Use {
			if u > 1 || u < 0 {
				t.Errorf("layer %d uses %v of its %s", i, u, k)
			}
		}
	}
	if sum != m.Cores {
		t.Errorf("layers hold %d cores, the mapping %d", sum, m.Cores)
	}

	// The saved mapping runs: the same cores.
	code, out, errOut = runCLI(t, "detect", "--json", "--timesteps", "4", "--mapping", saved)
	if code != 0 {
		t.Fatalf("detect --mapping: exit %d: %s", code, errOut)
	}
	var res jsonImage
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Cores != m.Cores {
		t.Errorf("detect on the saved mapping used %d cores, map %d", res.Cores, m.Cores)
	}

	// A mapping of another model is refused, naming the file.
	cfg := filepath.Join(dir, "other.cfg")
	if err := os.WriteFile(cfg, []byte(randomCfg), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "detect", "--model", cfg, "--weights", "random", "--timesteps", "2", "--mapping", saved)
	if code != 1 || !strings.Contains(errOut, saved) || !strings.Contains(errOut, "another network") {
		t.Errorf("another model's mapping: exit %d: %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "detect", "--timesteps", "2", "--mapping", saved, "--cores", "9000")
	if code != 2 || !strings.Contains(errOut, "drop --cores") {
		t.Errorf("--mapping with --cores: exit %d: %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "map", "--placement", "random")
	if code != 2 || !strings.Contains(errOut, "--placement") {
		t.Errorf("bad --placement: exit %d: %s", code, errOut)
	}
}
