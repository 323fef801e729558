package darknet_test

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math"
	"runtime"
	"strings"
	"testing"

	"spikeyolo/model"
	"spikeyolo/model/darknet"
	"spikeyolo/model/preprocess"
	"spikeyolo/model/zoo"
)

// randomCfg has a layer of every kind RandomWeights handles: convolutions with and without
// batch norm, a depthwise one, a max-pool, a shortcut, a route, an upsample, a relu and a
// logistic convolution, and a yolo head of 3 anchors of 2 classes.
var randomCfg = netHdr(3, 24, 32) + `
[convolutional]
batch_normalize=1
filters=16
size=3
pad=1
activation=leaky
[maxpool]
size=2
stride=2
[convolutional]
batch_normalize=1
filters=16
groups=16
size=3
pad=1
activation=leaky
[convolutional]
filters=8
size=1
activation=linear
[convolutional]
batch_normalize=1
filters=16
size=1
activation=leaky
[shortcut]
from=1
activation=linear
[route]
layers=-1,1
[upsample]
stride=2
[convolutional]
filters=8
size=3
stride=2
pad=1
activation=relu
[convolutional]
filters=8
size=1
activation=logistic
[convolutional]
filters=21
size=1
activation=linear
[yolo]
mask=0,1,2
anchors=10,14,23,27,37,58
classes=2
num=3
`

// params lists net's parameters in the order of a weights file (see LoadWeights).
func params(net *model.Network) []float32 {
	var v []float32
	for _, l := range net.Layers {
		if c, ok := l.Op.(*model.Conv); ok {
			v = append(v, c.Biases...)
			v = append(v, c.BatchNorm.Scales...)
			v = append(v, c.BatchNorm.Mean...)
			v = append(v, c.BatchNorm.Variance...)
			v = append(v, c.Weights...)
		}
	}
	return v
}

func randomNet(t testing.TB, cfg string, seed uint64) *model.Network {
	t.Helper()
	net := mustParse(t, cfg)
	darknet.RandomWeights(net, seed)
	return net
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestRandomWeightsDeterministic: a seed gives the same bits every time, whatever the network
// held before and for any GOMAXPROCS; another seed gives other values in every convolution.
func TestRandomWeightsDeterministic(t *testing.T) {
	a := params(randomNet(t, randomCfg, 7))
	b := randomNet(t, randomCfg, 8)
	darknet.RandomWeights(b, 7) // over other random weights
	if !sameBits(a, params(b)) {
		t.Errorf("seed 7 gave different bits on a second draw")
	}
	real := mustParse(t, tinyCfg)
	if err := darknet.LoadWeights(real, weightsFile(0, 2, true, tinyValues(0)), "w.weights"); err != nil {
		t.Fatal(err)
	}
	darknet.RandomWeights(real, 7) // over trained weights
	if fresh := randomNet(t, tinyCfg, 7); !sameBits(params(real), params(fresh)) {
		t.Errorf("seed 7 over loaded weights differs from seed 7 on a fresh network")
	}
	procs := runtime.GOMAXPROCS(1)
	one := params(randomNet(t, randomCfg, 7))
	runtime.GOMAXPROCS(procs)
	if !sameBits(a, one) {
		t.Errorf("seed 7 gave different bits with GOMAXPROCS=1 and %d", procs)
	}
	n7, n8 := convs(randomNet(t, randomCfg, 7)), convs(randomNet(t, randomCfg, 8))
	for i, c := range n7 {
		if sameBits(c.Weights, n8[i].Weights) || sameBits(c.Biases, n8[i].Biases) {
			t.Errorf("layer %d: seeds 7 and 8 gave the same weights or biases", i)
		}
	}
}

// TestRandomWeightsGolden pins the bits of seed 1 (the default), so that a change of the
// generator, which would change every user's random network, shows; if the change is meant,
// update the hash. With batch norm in every layer, the weights and biases are the draws
// themselves, which depend on nothing but the seed (batch norm's statistics come from float
// inference, checked by TestRandomWeightsNormalizesOnProbe).
func TestRandomWeightsGolden(t *testing.T) {
	net := randomNet(t, leakyCfg(3, true), darknet.DefaultSeed)
	h := fnv.New64a()
	for _, l := range net.Layers {
		if c, ok := l.Op.(*model.Conv); ok {
			for _, x := range append(append([]float32{}, c.Weights...), c.Biases...) {
				b := math.Float32bits(x)
				h.Write([]byte{byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24)})
			}
		}
	}
	const want uint64 = 0x4595f02bee2f12c6
	if got := h.Sum64(); got != want {
		t.Errorf("seed %d: weights and biases hash to %#x, want %#x", darknet.DefaultSeed, got, want)
	}
}

// TestRandomWeightsFillsEveryParameter: RandomWeights fills exactly what LoadWeights reads (a
// weights file made of its parameters loads back into the same network), with finite values,
// batch norm where the cfg asks for it (scales 1, positive variances) and nowhere else.
func TestRandomWeightsFillsEveryParameter(t *testing.T) {
	net := randomNet(t, randomCfg, 3)
	v := params(net)
	total := 0
	for i := range net.Layers {
		total += net.Params(i)
	}
	if len(v) != total || total == 0 {
		t.Fatalf("%d parameters, the network holds %d", len(v), total)
	}
	loaded := mustParse(t, randomCfg)
	if err := darknet.LoadWeights(loaded, weightsFile(0, 2, true, v), "random.weights"); err != nil {
		t.Fatalf("the random parameters as a weights file: %v", err)
	}
	if !sameBits(params(loaded), v) {
		t.Errorf("a weights file of the random parameters loads other values")
	}
	bn := map[int]bool{0: true, 2: true, 4: true}
	for i, c := range convs(net) {
		if len(c.Weights) != c.WeightCount(net.InShape(i).C) || len(c.Biases) != c.Filters {
			t.Errorf("layer %d: %d weights, %d biases for %d filters", i, len(c.Weights), len(c.Biases), c.Filters)
		}
		if c.HasBatchNorm() != bn[i] {
			t.Errorf("layer %d: batch norm %v, want %v", i, c.HasBatchNorm(), bn[i])
		}
		for f := range c.BatchNorm.Scales {
			if c.BatchNorm.Scales[f] != 1 || !(c.BatchNorm.Variance[f] > 0) {
				t.Errorf("layer %d filter %d: batch-norm scale %v, variance %v, want 1 and positive", i, f, c.BatchNorm.Scales[f], c.BatchNorm.Variance[f])
			}
		}
		nonzero := false
		for _, x := range append(append(append([]float32{}, c.Weights...), c.Biases...), c.BatchNorm.Mean...) {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("layer %d: parameter %v", i, x)
			}
			nonzero = nonzero || x != 0
		}
		if !nonzero {
			t.Errorf("layer %d: every parameter is zero", i)
		}
	}
}

// TestRandomWeightsNormalizesOnProbe runs the random network (model's inference, not
// RandomWeights' own layer-by-layer evaluation) on the probe image and recovers each
// convolution's sums from its output (leaky and logistic are invertible; the relu layer is
// skipped): every filter's sums have standard deviation 1 and, as the bias sets it, a mean
// in [-0.1, 0.1], or -ln(99) for the head's objectness and class scores.
func TestRandomWeightsNormalizesOnProbe(t *testing.T) {
	net := randomNet(t, randomCfg, 5)
	outs := net.Forward(darknet.ProbeImage(net.Input))
	prior := map[int]bool{}
	for a := 0; a < 3; a++ {
		for k := 4; k < 7; k++ { // objectness, then 2 classes
			prior[a*7+k] = true
		}
	}
	for i, c := range convs(net) {
		if c.Act == model.ReLU {
			continue
		}
		n := net.Layers[i].Out.H * net.Layers[i].Out.W
		for f := 0; f < c.Filters; f++ {
			var sum, squares float64
			for _, y := range outs[i][f*n : (f+1)*n] {
				z := float64(y)
				switch c.Act {
				case model.Leaky:
					if z < 0 {
						z /= float64(model.LeakySlope)
					}
				case model.Logistic:
					z = math.Log(z / (1 - z))
				}
				sum += z
				squares += z * z
			}
			mean := sum / float64(n)
			sd := math.Sqrt(squares/float64(n) - mean*mean)
			if math.Abs(sd-1) > 1e-3 {
				t.Errorf("layer %d filter %d: the sums vary with standard deviation %.5f on the probe, want 1", i, f, sd)
			}
			want, tol := 0.0, 0.1+1e-4
			if i == 10 && prior[f] {
				want, tol = -math.Log(99), 1e-4
			}
			if math.Abs(mean-want) > tol {
				t.Errorf("layer %d filter %d: the sums average %.5f on the probe, want %.4f ± %v", i, f, mean, want, tol)
			}
		}
	}
}

// TestProbeImage: the probe is fixed, in [0, 1], and has roughly the mean and contrast of a
// natural image, with edges: neighbouring pixels are close but not always equal.
func TestProbeImage(t *testing.T) {
	s := sh(3, 48, 64)
	p := darknet.ProbeImage(s)
	if !sameBits(p, darknet.ProbeImage(s)) || len(p) != s.Size() {
		t.Fatalf("the probe is not fixed, or has %d values for %v", len(p), s)
	}
	var sum, squares float64
	equal := 0
	for k, x := range p {
		if !(x >= 0 && x <= 1) {
			t.Fatalf("value %d = %v, want it in [0, 1]", k, x)
		}
		sum += float64(x)
		squares += float64(x) * float64(x)
		if k%s.W > 0 && p[k-1] == x {
			equal++
		}
	}
	n := float64(len(p))
	mean, sd := sum/n, math.Sqrt(squares/n-(sum/n)*(sum/n))
	if mean < 0.35 || mean > 0.65 || sd < 0.15 || sd > 0.35 {
		t.Errorf("mean %.3f, standard deviation %.3f: want about 0.5 and 0.25", mean, sd)
	}
	if f := float64(equal) / n; f < 0.3 || f > 0.95 {
		t.Errorf("%.2f of horizontal neighbours are equal: want flat regions and edges", f)
	}
}

// leakyCfg is a stack of n 3×3 leaky convolutions of 16 filters on a 64×64 image, with a
// 2×2 max-pool after every other one, and batch norm if bn.
func leakyCfg(n int, bn bool) string {
	var b strings.Builder
	b.WriteString(netHdr(3, 64, 64))
	for i := 0; i < n; i++ {
		b.WriteString("[convolutional]\nfilters=16\nsize=3\npad=1\nactivation=leaky\n")
		if bn {
			b.WriteString("batch_normalize=1\n")
		}
		if i%2 == 1 {
			b.WriteString("[maxpool]\nsize=2\nstride=2\n")
		}
	}
	return b.String()
}

// residualCfg is a leaky convolution followed by n residual blocks (1×1 leaky, 3×3 linear,
// shortcut): without accounting for the shortcuts, the activations would double in mean
// square at each block.
func residualCfg(n int) string {
	var b strings.Builder
	b.WriteString(netHdr(3, 32, 32) + "[convolutional]\nfilters=16\nsize=3\npad=1\nactivation=leaky\n")
	for i := 0; i < n; i++ {
		b.WriteString("[convolutional]\nfilters=16\nsize=1\nactivation=leaky\n" +
			"[convolutional]\nfilters=16\nsize=3\npad=1\nactivation=linear\n" +
			"[shortcut]\nfrom=-3\nactivation=linear\n")
	}
	return b.String()
}

// TestRandomWeightsScale runs random networks on darknet's dog.jpg, a real image rather than
// the probe their scale was set on: the standard deviation of the convolutions' activations
// stays within a factor of 4 from the first layer to the last, for several seeds, with and
// without batch norm, and through residual blocks. The sum a shortcut carries grows in mean
// square by about one branch's per block, as in any residual network whose branches have
// unit scale (linear growth, not the doubling per block the branches would show if their
// scale ignored it): its standard deviation after k blocks stays within 3·sqrt(k+1) of the
// first layer's.
func TestRandomWeightsScale(t *testing.T) {
	im, err := preprocess.Decode(bytes.NewReader(zoo.DogJPEG()))
	if err != nil {
		t.Fatal(err)
	}
	std := func(v []float32) float64 {
		var sum, squares float64
		for _, x := range v {
			sum += float64(x)
			squares += float64(x) * float64(x)
		}
		n := float64(len(v))
		return math.Sqrt(squares/n - (sum/n)*(sum/n))
	}
	for _, c := range []struct {
		name string
		cfg  string
	}{
		{"leaky", leakyCfg(6, false)},
		{"leaky+bn", leakyCfg(6, true)},
		{"residual", residualCfg(6)},
	} {
		t.Run(c.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 4; seed++ {
				net := randomNet(t, c.cfg, seed)
				outs := net.Forward(im.Fit(net.Input.W, net.Input.H, preprocess.Plain).Data)
				lo, hi := math.Inf(1), 0.0
				var stds []float64
				blocks := 0
				for i, l := range net.Layers {
					s := std(outs[i])
					switch l.Op.(type) {
					case *model.Conv:
						stds = append(stds, s)
						lo, hi = min(lo, s), max(hi, s)
					case *model.Shortcut:
						blocks++
						if limit := 3 * math.Sqrt(float64(blocks+1)) * stds[0]; !(s <= limit) {
							t.Errorf("seed %d: shortcut %d (layer %d): standard deviation %.3g, want at most 3·sqrt(%d) times the first layer's %.3g", seed, blocks, i, s, blocks+1, stds[0])
						}
					}
				}
				if !(lo > 0 && hi/lo <= 4) {
					t.Errorf("seed %d: the convolutions' standard deviations %.3g range from %.3g to %.3g: want them within a factor of 4", seed, stds, lo, hi)
				}
			}
		})
	}
}

// ExampleRandomWeights gives a cfg untrained weights: every parameter a weights file would
// hold, here a 3×3 convolution's 216 weights, 8 biases and batch norm's 3×8 statistics.
func ExampleRandomWeights() {
	cfg := "[net]\nwidth=32\nheight=32\nchannels=3\n" +
		"[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\npad=1\nactivation=leaky\n"
	net, err := darknet.ParseConfig(strings.NewReader(cfg), "tiny.cfg")
	if err != nil {
		panic(err)
	}
	darknet.RandomWeights(net, darknet.DefaultSeed)
	c := net.Layers[0].Op.(*model.Conv)
	fmt.Printf("%d parameters; batch-norm scales %v\n", net.Params(0), c.BatchNorm.Scales)
	// Output: 248 parameters; batch-norm scales [1 1 1 1 1 1 1 1]
}
