package darknet_test

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"spikeyolo/model"
	"spikeyolo/model/darknet"
	"spikeyolo/model/darknetref"
)

// tinyCfg: a 3x3 convolution with batch norm (2 filters, 1 input channel), a maxpool, and a
// 1x1 convolution without batch norm (3 filters, 2 input channels). The weights file holds,
// by darknet's layout:
//
//	layer 0: biases[2] scales[2] rolling_mean[2] rolling_variance[2] weights[2][1][3][3]  (26)
//	layer 2: biases[3] weights[3][2][1][1]                                                 (9)
//
// 35 float32 values: 140 bytes after a 20-byte (version >= 0.2) or 16-byte header.
const tinyCfg = `[net]
width=4
height=4
channels=1
[convolutional]
batch_normalize=1
filters=2
size=3
stride=1
pad=1
activation=leaky
[maxpool]
size=2
stride=2
[convolutional]
filters=3
size=1
activation=linear
`

const tinyParams = 35

// tinyValues are distinct positive values (valid as variances), offset by base.
func tinyValues(base float32) []float32 {
	v := make([]float32, tinyParams)
	for k := range v {
		v[k] = base + 1 + float32(k)/4
	}
	return v
}

// checkTiny checks that every parameter of tinyCfg's network is at its place in v, the
// parameters of the file in file order.
func checkTiny(t *testing.T, net *model.Network, v []float32) {
	t.Helper()
	c0 := op[*model.Conv](t, net, 0)
	c2 := op[*model.Conv](t, net, 2)
	expect := func(what string, got []float32, want ...float32) {
		t.Helper()
		if !equalFloats(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	expect("layer 0 biases", c0.Biases, v[0], v[1])
	expect("layer 0 scales", c0.BatchNorm.Scales, v[2], v[3])
	expect("layer 0 rolling mean", c0.BatchNorm.Mean, v[4], v[5])
	expect("layer 0 rolling variance", c0.BatchNorm.Variance, v[6], v[7])
	if len(c0.Weights) != 2*1*3*3 {
		t.Fatalf("layer 0: %d weights, want 18", len(c0.Weights))
	}
	// Weights are [filter][channel][ky][kx]: in the file, after the 8 values above.
	for f := 0; f < 2; f++ {
		for ky := 0; ky < 3; ky++ {
			for kx := 0; kx < 3; kx++ {
				at := ((f*1+0)*3+ky)*3 + kx
				if got, want := c0.Weights[at], v[8+f*9+ky*3+kx]; got != want {
					t.Errorf("layer 0 weight [f%d][c0][ky%d][kx%d] = %v, want %v", f, ky, kx, got, want)
				}
			}
		}
	}
	expect("layer 2 biases", c2.Biases, v[26], v[27], v[28])
	if c2.HasBatchNorm() {
		t.Errorf("layer 2 has batch norm")
	}
	if len(c2.Weights) != 3*2 {
		t.Fatalf("layer 2: %d weights, want 6", len(c2.Weights))
	}
	for f := 0; f < 3; f++ {
		for c := 0; c < 2; c++ {
			if got, want := c2.Weights[f*2+c], v[29+f*2+c]; got != want {
				t.Errorf("layer 2 weight [f%d][c%d] = %v, want %v", f, c, got, want)
			}
		}
	}
}

// TestLoadWeightsLayout builds weights files by hand for the versions of the format: seen is
// an int64 when major·10+minor >= 2, an int32 before.
func TestLoadWeightsLayout(t *testing.T) {
	tests := []struct {
		major, minor int32
		seen64       bool
	}{
		{0, 2, true},
		{0, 1, false},
		{0, 0, false},
		{1, 0, true},
		{0, 5, true},
	}
	v := tinyValues(0)
	for _, tt := range tests {
		t.Run(strconv.Itoa(int(tt.major))+"."+strconv.Itoa(int(tt.minor)), func(t *testing.T) {
			net := mustParse(t, tinyCfg)
			total := 0
			for i := range net.Layers {
				total += net.Params(i)
			}
			if total != tinyParams {
				t.Fatalf("%d parameters, want %d", total, tinyParams)
			}
			data := weightsFile(tt.major, tt.minor, tt.seen64, v)
			if err := darknet.LoadWeights(net, data, "w.weights"); err != nil {
				t.Fatal(err)
			}
			checkTiny(t, net, v)
		})
	}
}

// TestLoadWeightsKernelOrientation runs a convolution whose only non-zero weight is
// [filter 1][channel 1][ky 0][kx 2]: output (y, x) of filter 1 is then input[1][y-1][x+1]
// plus its bias (zero outside the input), which tells rows from columns and channels from
// filters.
func TestLoadWeightsKernelOrientation(t *testing.T) {
	net := mustParse(t, netHdr(2, 3, 3)+"[convolutional]\nfilters=2\nsize=3\npad=1\nactivation=linear\n")
	// biases[2], then weights[2][2][3][3]
	params := make([]float32, 2+2*2*3*3)
	params[0], params[1] = 0, 0.5
	params[2+((1*2+1)*3+0)*3+2] = 1
	if err := darknet.LoadWeights(net, weightsFile(0, 2, true, params), "w.weights"); err != nil {
		t.Fatal(err)
	}
	in := make([]float32, 2*3*3)
	for c := 0; c < 2; c++ {
		for y := 0; y < 3; y++ {
			for x := 0; x < 3; x++ {
				in[(c*3+y)*3+x] = float32(100*c + 10*y + x)
			}
		}
	}
	out := model.NewRunner(net).Run(in)[0]
	for y := 0; y < 3; y++ {
		for x := 0; x < 3; x++ {
			if got := out[(0*3+y)*3+x]; got != 0 {
				t.Errorf("filter 0 (%d,%d) = %v, want 0", y, x, got)
			}
			want := float32(0.5)
			if y-1 >= 0 && x+1 < 3 {
				want += float32(100 + 10*(y-1) + x + 1)
			}
			if got := out[(1*3+y)*3+x]; got != want {
				t.Errorf("filter 1 (%d,%d) = %v, want %v", y, x, got, want)
			}
		}
	}
}

// TestLoadWeightsErrors: a file of the wrong size, or holding a value that cannot be a
// trained parameter, is an error that names the file (and for a size error both byte counts
// and the first layer that does not fit); net keeps the parameters it had.
func TestLoadWeightsErrors(t *testing.T) {
	good := tinyValues(0)
	bad := tinyValues(100) // what an erroneous load must not leave behind
	with := func(k int, x float32) []float32 {
		v := append([]float32(nil), bad...)
		v[k] = x
		return v
	}
	v02 := func(p []float32) []byte { return weightsFile(0, 2, true, p) }
	file := v02(bad) // 20 + 140 = 160 bytes
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"empty", nil, []string{"w.weights", "0 bytes"}},
		{"8 bytes", file[:8], []string{"w.weights", "8 bytes"}},
		{"a version and no seen", file[:12], []string{"w.weights", "12 bytes"}},
		{"shorter than the 0.2 header", file[:16], []string{"w.weights", "16 bytes"}},
		{"header only", file[:20], []string{"w.weights", "20", "160", "layer 0"}},
		{"truncated in layer 0", file[:20+4*10], []string{"w.weights", "60", "160", "layer 0", "t.cfg:5"}},
		{"layer 0 exactly, nothing of layer 2", file[:20+4*26], []string{"w.weights", "124", "160", "layer 2", "t.cfg:15"}},
		{"last value missing", file[:156], []string{"w.weights", "156", "160", "layer 2"}},
		{"last byte missing", file[:159], []string{"w.weights", "159", "160", "layer 2"}},
		{"4 extra bytes", append(v02(bad), 0, 0, 0, 0), []string{"w.weights", "164", "160"}},
		{"1 extra byte", append(v02(bad), 0), []string{"w.weights", "161", "160"}},
		{"0.1 header with 0.2 length", weightsFile(0, 1, false, append(bad, 0)), []string{"w.weights", "160", "156"}},
		{"0.2 header with 0.1 length", weightsFile(0, 2, true, bad[:tinyParams-1]), []string{"w.weights", "156", "160", "layer 2"}},
		{"NaN bias", v02(with(0, float32(math.NaN()))), []string{"w.weights", "layer 0"}},
		{"+Inf scale", v02(with(3, float32(math.Inf(1)))), []string{"w.weights", "layer 0"}},
		{"-Inf rolling mean", v02(with(4, float32(math.Inf(-1)))), []string{"w.weights", "layer 0"}},
		{"NaN variance", v02(with(7, float32(math.NaN()))), []string{"w.weights", "layer 0"}},
		{"negative variance", v02(with(7, -0.5)), []string{"w.weights", "layer 0", "variance"}},
		{"NaN weight of layer 0", v02(with(25, float32(math.NaN()))), []string{"w.weights", "layer 0"}},
		{"Inf bias of layer 2", v02(with(28, float32(math.Inf(1)))), []string{"w.weights", "layer 2"}},
		{"NaN in the last weight", v02(with(34, float32(math.NaN()))), []string{"w.weights", "layer 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net := mustParse(t, tinyCfg)
			if err := darknet.LoadWeights(net, v02(good), "w.weights"); err != nil {
				t.Fatal(err)
			}
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("LoadWeights panicked: %v", r)
					}
				}()
				err = darknet.LoadWeights(net, tt.data, "w.weights")
			}()
			wantErr(t, err, tt.want...)
			checkTiny(t, net, good)
		})
	}
}

// TestLoadWeightsNoConvolutions: a network without convolutions takes a bare header.
func TestLoadWeightsNoConvolutions(t *testing.T) {
	cfg := netHdr(1, 4, 4) + "[maxpool]\nsize=2\nstride=2\n"
	net := mustParse(t, cfg)
	if err := darknet.LoadWeights(net, weightsFile(0, 2, true, nil), "w.weights"); err != nil {
		t.Errorf("20-byte 0.2 header: %v", err)
	}
	if err := darknet.LoadWeights(net, weightsFile(0, 1, false, nil), "w.weights"); err != nil {
		t.Errorf("16-byte 0.1 header: %v", err)
	}
	err := darknet.LoadWeights(net, weightsFile(0, 2, true, []float32{1}), "w.weights")
	wantErr(t, err, "w.weights", "24", "20", "4 bytes")
	// 14 bytes: shorter than any header.
	err = darknet.LoadWeights(net, weightsFile(0, 1, false, nil)[:14], "w.weights")
	wantErr(t, err, "w.weights", "14")
	if err != nil && containsNegativeCount(err.Error()) {
		t.Errorf("error %q counts a negative number of bytes: a 14-byte file is shorter than the 16-byte header", err)
	}
}

// containsNegativeCount reports whether s says "-N bytes".
func containsNegativeCount(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '-' && s[i+1] >= '0' && s[i+1] <= '9' && (i == 0 || s[i-1] == ' ') {
			return true
		}
	}
	return false
}

// TestLoadMissingFiles: Load names the path it could not read.
func TestLoadMissingFiles(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tiny.cfg")
	weights := filepath.Join(dir, "tiny.weights")
	if err := os.WriteFile(cfg, []byte(tinyCfg), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nowhere", "missing.cfg")
	if _, err := darknet.Load(missing, weights); err == nil {
		t.Error("missing cfg: no error")
	} else {
		wantErr(t, err, missing)
	}
	if _, err := darknet.Load(cfg, weights); err == nil {
		t.Error("missing weights: no error")
	} else {
		wantErr(t, err, weights)
	}
	// A bad cfg is reported under its path.
	badCfg := filepath.Join(dir, "bad.cfg")
	if err := os.WriteFile(badCfg, []byte(tinyCfg+"filtres=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := darknet.Load(badCfg, weights)
	wantErr(t, err, badCfg+":19:", "filtres")

	// With both files, Load reads the parameters; a short file is reported under its path.
	v := tinyValues(0)
	if err := os.WriteFile(weights, weightsFile(0, 2, true, v), 0o644); err != nil {
		t.Fatal(err)
	}
	net, err := darknet.Load(cfg, weights)
	if err != nil {
		t.Fatal(err)
	}
	checkTiny(t, net, v)
	if net.Layers[2].Source != cfg+":15" {
		t.Errorf("layer 2 source %q, want %q", net.Layers[2].Source, cfg+":15")
	}
	if err := os.WriteFile(weights, weightsFile(0, 2, true, v[:30]), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = darknet.Load(cfg, weights)
	wantErr(t, err, weights, "layer 2")
}

// TestLoadWeightsRealTruncated: yolo-lite-voc's file without its last 100 bytes ends inside
// layer 11, its last convolution (32125 parameters).
func TestLoadWeightsRealTruncated(t *testing.T) {
	m := darknetref.Models(darknetref.Dir(t))[0]
	if m.Name != "yolo-lite-voc" {
		t.Fatalf("first model is %s", m.Name)
	}
	f, err := os.Open(m.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	net, err := darknet.ParseConfig(f, m.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(m.Weights)
	if err != nil {
		t.Fatal(err)
	}
	n := len(data)
	err = darknet.LoadWeights(net, data[:n-100], m.Weights)
	wantErr(t, err, "layer 11", strconv.Itoa(n-100), strconv.Itoa(n), m.Weights)
	for i, c := range convs(net) {
		for _, x := range c.Weights {
			if x != 0 {
				t.Fatalf("layer %d changed by a failed load", i)
			}
		}
	}
	// Another model's weights (with batch norm) do not fit this network either.
	bn := darknetref.Models(darknetref.Dir(t))[1]
	other, err := os.ReadFile(bn.Weights)
	if err != nil {
		t.Fatal(err)
	}
	// yolo-lite-voc-bn holds 3 more values for each of the 624 filters with batch norm.
	wantErr(t, darknet.LoadWeights(net, other, bn.Weights), strconv.Itoa(len(other)), strconv.Itoa(n), strconv.Itoa(3*4*624))
}
