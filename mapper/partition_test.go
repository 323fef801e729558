package mapper

import (
	"testing"

	"spikeyolo/chip"
	"spikeyolo/router"
)

// TestTile checks the tile choice by hand: 64 positions of a 224-wide map are best as 8×8
// (halo 10·10/64 = 1.56, against 9·11/63 = 1.57 for 7×9 and 3·66/64 = 3.09 for 1×64); 32
// positions as 5×6 (7·8/30 = 1.867, against 6·10/32 = 1.875 for 4×8); a map 3 rows high caps
// the rows (3×20: 5·22/60 = 1.83, against 4·32/60 = 2.13 for 2×30).
func TestTile(t *testing.T) {
	for _, c := range []struct {
		c, h, w, positions int
		want               chip.Grid
	}{
		{16, 224, 224, 64, chip.Grid{Channels: 16, Rows: 8, Cols: 8}},
		{32, 112, 112, 32, chip.Grid{Channels: 32, Rows: 5, Cols: 6}},
		{8, 3, 100, 60, chip.Grid{Channels: 8, Rows: 3, Cols: 20}},
	} {
		if got := tile(c.c, c.h, c.w, c.positions); got != c.want {
			t.Errorf("tile(%d, %d, %d, %d) = %+v, want %+v", c.c, c.h, c.w, c.positions, got, c.want)
		}
	}
}

// TestPartition: the cores cover every neuron of every layer exactly once, each within the
// neuron limit, and asking for more cores gives at least that many.
func TestPartition(t *testing.T) {
	net := randomDetector(t, 5)
	cv, err := Convert(net, uniformCalibration(net, 2), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	arch, err := chip.Preset("truenorth") // 256 neurons per core
	if err != nil {
		t.Fatal(err)
	}
	var fewest int
	for _, ask := range []int{1, 20, 100, 500} {
		p, err := Partition(cv.Net, arch, ask, router.XY, router.PerCore)
		if err != nil {
			t.Fatal(err)
		}
		if ask == 1 {
			fewest = len(p.Cores)
		}
		if len(p.Cores) < max(ask, fewest) {
			t.Errorf("asked for %d cores, got %d", ask, len(p.Cores))
		}
		seen := make([][]int, len(cv.Net.Layers))
		for i, l := range cv.Net.Layers {
			seen[i] = make([]int, l.Shape.Size())
		}
		for _, c := range p.Cores {
			if c.Box.Size() > arch.Limits.Neurons {
				t.Fatalf("core of %d neurons", c.Box.Size())
			}
			shape := cv.Net.Layers[c.Layer].Shape
			for k := 0; k < c.Box.Size(); k++ {
				ch, y, x := c.Box.At(k)
				seen[c.Layer][shape.Index(ch, y, x)]++
			}
		}
		for l := range seen {
			for n, k := range seen[l] {
				if k != 1 {
					t.Fatalf("asked %d: layer %d neuron %d held by %d cores", ask, l, n, k)
				}
			}
		}
	}
	if _, err := Partition(cv.Net, arch, cv.Net.Neurons()+1, router.XY, router.PerCore); err == nil {
		t.Error("more cores than neurons: no error")
	}
}
