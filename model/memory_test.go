package model_test

import (
	"bytes"
	"fmt"
	"math"
	"runtime"
	"testing"

	"spikeyolo/model"
	"spikeyolo/model/preprocess"
	"spikeyolo/model/zoo"
)

// chain builds a network from (op, inputs) pairs on input shape in, without weights.
func chain(t testing.TB, in model.Shape, layers ...any) *model.Network {
	t.Helper()
	net, err := model.NewNetwork(in)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < len(layers); k += 2 {
		if _, err := net.Add(layers[k].(model.Op), layers[k+1].([]int), ""); err != nil {
			t.Fatal(err)
		}
	}
	return net
}

func conv(filters, size, pad int) *model.Conv {
	return &model.Conv{Filters: filters, Size: size, Stride: 1, Padding: pad, Groups: 1, Act: model.Leaky}
}

// TestRunnerMemoryByHand: Memory counts the output buffers and the im2col scratch, worked out
// by hand, without allocating them and without the network's weights.
func TestRunnerMemoryByHand(t *testing.T) {
	// 0: 3×3 conv of 1×4×4 → 2×4×4 (32 values; im2col 1·9·16 = 144), 1: 1×1 conv → 32,
	// 2: shortcut 1 + 0 → 32, 3: max-pool 2/2 → 8, 4: 1×1 conv → 4×2×2 = 16.
	small := chain(t, model.Shape{C: 1, H: 4, W: 4},
		conv(2, 3, 1), []int{-1}, conv(2, 1, 0), []int{0},
		&model.Shortcut{Act: model.Linear}, []int{1, 0}, &model.MaxPool{Size: 2, Stride: 2}, []int{2},
		conv(4, 1, 0), []int{3})
	// Twenty 1×1 convolutions of 16 × 4096 × 4096: 2^28 values, 1 GiB, each.
	var deep []any
	for i := 0; i < 20; i++ {
		deep = append(deep, conv(16, 1, 0), []int{i - 1})
	}
	huge := chain(t, model.Shape{C: 16, H: 4096, W: 4096}, deep...)
	tests := []struct {
		name string
		net  *model.Network
		keep []int // nil: NewRunner
		want int64
	}{
		// Every output: 32 + 32 + 32 + 8 + 16 values, and the scratch.
		{"small, every output", small, nil, 4 * (120 + 144)},
		// Layer 3 reuses layer 0's buffer once 2 has read it; 4 takes 1's: three of 32.
		{"small, the last output", small, []int{4}, 4 * (96 + 144)},
		{"small, none", small, []int{}, 4 * (96 + 144)},
		// 0 must stay: 1 and 2 get their own, 3 reuses 1's, 4 reuses 2's.
		{"small, the first output", small, []int{0}, 4 * (96 + 144)},
		{"20 x 1 GiB, every output", huge, nil, 20 << 30},
		{"20 x 1 GiB, the last output", huge, []int{19}, 2 << 30},
		{"20 x 1 GiB, outputs 5 and 19", huge, []int{5, 19}, 3 << 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r := model.NewRunner(tc.net)
			if tc.keep != nil {
				r = model.NewRunnerKeeping(tc.net, tc.keep)
			}
			got := r.Memory()
			runtime.ReadMemStats(&after)
			if got != tc.want {
				t.Errorf("Memory = %d, want %d", got, tc.want)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
				t.Errorf("estimating allocated %d bytes", grew)
			}
		})
	}
}

// TestRunnerKeepingEqualsRunner: a runner that keeps some outputs returns them bit for bit as
// one that keeps all, and nil for the others, on naiveCfg (every kind of layer, a dropout, a
// route of a dropout) for each choice of one kept layer, the head, and none, over two runs (a
// reused buffer holds the first run's values).
func TestRunnerKeepingEqualsRunner(t *testing.T) {
	net := build(t, naiveCfg, naiveParams())
	all := model.NewRunner(net)
	keeps := [][]int{{}, net.Heads(), {0, 9}}
	for i := range net.Layers {
		keeps = append(keeps, []int{i})
	}
	for _, keep := range keeps {
		t.Run(fmt.Sprint(keep), func(t *testing.T) {
			r := model.NewRunnerKeeping(net, keep)
			if r.Memory() > all.Memory() {
				t.Errorf("Memory = %d, more than keeping all (%d)", r.Memory(), all.Memory())
			}
			kept := map[int]bool{}
			for _, k := range keep {
				kept[k] = true
			}
			if kept[9] {
				kept[8] = true // layer 9 is a dropout: its output is layer 8's
			}
			if kept[8] {
				kept[9] = true
			}
			for _, seed := range []int{3, 11} {
				input := make([]float32, 2*4*6)
				for i := range input {
					input[i] = float32((29*i+seed)%23-11) / 8
				}
				want := all.Run(input)
				got := r.Run(input)
				for i := range want {
					if !kept[i] {
						if got[i] != nil {
							t.Errorf("layer %d: an output, want nil", i)
						}
						continue
					}
					for k := range want[i] {
						if math.Float32bits(got[i][k]) != math.Float32bits(want[i][k]) {
							t.Fatalf("seed %d layer %d value %d: %v, want %v", seed, i, k, got[i][k], want[i][k])
						}
					}
				}
			}
		})
	}
}

// TestRunnerHeadsOnlyYoloFastest: on the embedded Yolo-Fastest and dog.jpg, a runner keeping
// only the heads gives the heads bit for bit, in a fraction of the memory.
func TestRunnerHeadsOnlyYoloFastest(t *testing.T) {
	if testing.Short() {
		t.Skip("two forward passes of Yolo-Fastest")
	}
	net, _ := zoo.Default()
	im, err := preprocess.Decode(bytes.NewReader(zoo.DogJPEG()))
	if err != nil {
		t.Fatal(err)
	}
	input := im.Resize(net.Input.W, net.Input.H).Data
	all, heads := model.NewRunner(net), model.NewRunnerKeeping(net, net.Heads())
	want, got := all.Run(input), heads.Run(input)
	for _, h := range net.Heads() {
		for k := range want[h] {
			if math.Float32bits(got[h][k]) != math.Float32bits(want[h][k]) {
				t.Fatalf("head %d value %d: %v, want %v", h, k, got[h][k], want[h][k])
			}
		}
	}
	t.Logf("memory: %d bytes keeping every output, %d keeping the heads", all.Memory(), heads.Memory())
	if heads.Memory()*3 > all.Memory() {
		t.Errorf("keeping the heads holds %d bytes, more than a third of %d", heads.Memory(), all.Memory())
	}
}
