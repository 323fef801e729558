package darknet_test

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"spikeyolo/model"
	"spikeyolo/model/darknet"
	"spikeyolo/model/darknetref"
)

// layerWant is a layer's kind, output shape (C, H, W) and, if given, its inputs.
type layerWant struct {
	i      int
	kind   string
	out    model.Shape
	inputs []int
}

func checkLayers(t *testing.T, net *model.Network, want []layerWant) {
	t.Helper()
	for _, w := range want {
		if w.i >= len(net.Layers) {
			t.Errorf("layer %d: the network has %d layers", w.i, len(net.Layers))
			continue
		}
		l := net.Layers[w.i]
		if l.Op.Kind() != w.kind || l.Out != w.out {
			t.Errorf("layer %d: %s %v (CxHxW %d %d %d), want %s %d %d %d",
				w.i, l.Op.Kind(), l.Out, l.Out.C, l.Out.H, l.Out.W, w.kind, w.out.C, w.out.H, w.out.W)
		}
		if w.inputs != nil && !equalInts(l.Inputs, w.inputs) {
			t.Errorf("layer %d: inputs %v, want %v", w.i, l.Inputs, w.inputs)
		}
	}
}

// yoloLite is the layers of yolo-lite (224x224 input, filters as in its cfg): conv 3x3 pad 1
// keeps the size, maxpool 2/2 with darknet's padding 1 halves it: 224, 112, 56, 28, 14, 7.
var yoloLite = []layerWant{
	{0, "convolutional", sh(16, 224, 224), []int{-1}},
	{1, "maxpool", sh(16, 112, 112), []int{0}},
	{2, "convolutional", sh(32, 112, 112), []int{1}},
	{3, "maxpool", sh(32, 56, 56), nil},
	{4, "convolutional", sh(64, 56, 56), nil},
	{5, "maxpool", sh(64, 28, 28), nil},
	{6, "convolutional", sh(128, 28, 28), nil},
	{7, "maxpool", sh(128, 14, 14), nil},
	{8, "convolutional", sh(128, 14, 14), nil},
	{9, "maxpool", sh(128, 7, 7), nil},
	{10, "convolutional", sh(256, 7, 7), nil},
	{11, "convolutional", sh(125, 7, 7), []int{10}},
	{12, "region", sh(125, 7, 7), []int{11}},
}

// yoloFastest: 320x320 input; stride-2 convolutions at layers 0, 10, 23, 59 and 82 give
// 160, 80, 40, 20 and 10; the SPP maxpools (stride 1, padding size-1) keep 10x10.
var yoloFastest = []layerWant{
	{0, "convolutional", sh(8, 160, 160), []int{-1}},
	{2, "convolutional", sh(8, 160, 160), nil}, // depthwise, groups=8
	{3, "convolutional", sh(4, 160, 160), nil},
	{7, "dropout", sh(4, 160, 160), []int{6}},
	{8, "shortcut", sh(4, 160, 160), []int{7, 3}}, // from=-5
	{10, "convolutional", sh(24, 80, 80), nil},
	{23, "convolutional", sh(32, 40, 40), nil},
	{59, "convolutional", sh(96, 20, 20), nil},
	{80, "shortcut", sh(24, 20, 20), []int{79, 75}},
	{82, "convolutional", sh(136, 10, 10), nil},
	{108, "shortcut", sh(48, 10, 10), []int{107, 103}},
	{109, "maxpool", sh(48, 10, 10), []int{108}}, // size 3: (10+2-3)/1+1
	{110, "route", sh(48, 10, 10), []int{108}},   // layers=-2
	{111, "maxpool", sh(48, 10, 10), []int{110}}, // size 5
	{112, "route", sh(48, 10, 10), []int{108}},   // layers=-4
	{113, "maxpool", sh(48, 10, 10), []int{112}}, // size 9
	{114, "route", sh(192, 10, 10), []int{113, 111, 109, 108}},
	{115, "convolutional", sh(96, 10, 10), []int{114}},
	{116, "convolutional", sh(96, 10, 10), nil}, // 5x5 depthwise, pad=1: padding 2
	{120, "convolutional", sh(255, 10, 10), nil},
	{121, "yolo", sh(255, 10, 10), []int{120}}, // 3·(80+5)
	{122, "route", sh(96, 10, 10), []int{115}}, // layers=-7
	{123, "upsample", sh(96, 20, 20), []int{122}},
	{124, "route", sh(120, 20, 20), []int{123, 80}}, // 96+24
	{125, "convolutional", sh(120, 20, 20), nil},
	{129, "convolutional", sh(255, 20, 20), nil},
	{130, "yolo", sh(255, 20, 20), []int{129}},
}

// TestRealModels loads the three trained models and checks their layers by hand from the
// cfg, and that the weights file holds exactly the network's parameters:
// (file size - header)/4, the header being 16 bytes before version 0.2 and 20 after.
func TestRealModels(t *testing.T) {
	dir := darknetref.Dir(t)
	tests := map[string]struct {
		layers int
		heads  []int
		params int // by hand from the cfg, 0 if not computed
		check  []layerWant
	}{
		// 16·3·9+16 + 32·16·9+32 + 64·32·9+64 + 128·64·9+128 + 128·128·9+128 + 256·128·9+256 + 125·256+125
		"yolo-lite-voc": {13, []int{12}, 572317, yoloLite},
		// the same, plus scales, means and variances for the 16+32+64+128+128+256 filters with batch norm
		"yolo-lite-voc-bn":      {13, []int{12}, 572317 + 3*624, yoloLite},
		"yolo-fastest-1.1-coco": {131, []int{121, 130}, 0, yoloFastest},
	}
	for _, m := range darknetref.Models(dir) {
		t.Run(m.Name, func(t *testing.T) {
			want, ok := tests[m.Name]
			if !ok {
				t.Fatalf("no expectations for %s", m.Name)
			}
			net, err := darknet.Load(m.Cfg, m.Weights)
			if err != nil {
				t.Fatal(err)
			}
			if len(net.Layers) != want.layers {
				t.Errorf("%d layers, want %d", len(net.Layers), want.layers)
			}
			checkLayers(t, net, want.check)
			if h := net.Heads(); !equalInts(h, want.heads) {
				t.Errorf("heads %v, want %v", h, want.heads)
			}

			data, err := os.ReadFile(m.Weights)
			if err != nil {
				t.Fatal(err)
			}
			major := binary.LittleEndian.Uint32(data[0:])
			minor := binary.LittleEndian.Uint32(data[4:])
			header := 16
			if major*10+minor >= 2 {
				header = 20
			}
			total := 0
			for i := range net.Layers {
				total += net.Params(i)
			}
			if (len(data)-header)%4 != 0 || total != (len(data)-header)/4 {
				t.Errorf("%d parameters; the %d-byte file (version %d.%d, %d-byte header) holds %d",
					total, len(data), major, minor, header, (len(data)-header)/4)
			}
			if want.params != 0 && total != want.params {
				t.Errorf("%d parameters, want %d", total, want.params)
			}

			// The first value after the header is layer 0's first bias; the last value of the
			// file is the last weight of the last convolution.
			f32 := func(off int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(data[off:])) }
			first := op[*model.Conv](t, net, 0)
			if got, want := first.Biases[0], f32(header); got != want {
				t.Errorf("layer 0 bias 0 = %v, want %v", got, want)
			}
			last := -1
			for i, l := range net.Layers {
				if _, ok := l.Op.(*model.Conv); ok {
					last = i
				}
			}
			lc := op[*model.Conv](t, net, last)
			if got, want := lc.Weights[len(lc.Weights)-1], f32(len(data)-4); got != want {
				t.Errorf("layer %d last weight = %v, want %v", last, got, want)
			}
			if first.HasBatchNorm() {
				// biases[n], scales[n], rolling_mean[n], rolling_variance[n], weights
				n := first.Filters
				bn := first.BatchNorm
				if bn.Scales[0] != f32(header+4*n) || bn.Mean[0] != f32(header+8*n) || bn.Variance[0] != f32(header+12*n) ||
					first.Weights[0] != f32(header+16*n) {
					t.Errorf("layer 0 batch norm or weights not where the format puts them")
				}
			}
		})
	}
}

// TestRealModelsMatchDarknetShapes compares every layer's kind and output shape with what the
// original darknet printed for it (reference/<model>/dog.layers.txt). darknet calls the
// upsample layer "none".
func TestRealModelsMatchDarknetShapes(t *testing.T) {
	dir := darknetref.Dir(t)
	for _, m := range darknetref.Models(dir) {
		t.Run(m.Name, func(t *testing.T) {
			f, err := os.Open(m.Cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			net, err := darknet.ParseConfig(f, m.Cfg)
			if err != nil {
				t.Fatal(err)
			}
			stats, err := darknetref.ReadLayers(filepath.Join(dir, "reference", m.Name, "dog.layers.txt"))
			if err != nil {
				t.Fatal(err)
			}
			if len(stats) != len(net.Layers) {
				t.Fatalf("%d layers, darknet has %d", len(net.Layers), len(stats))
			}
			for i, s := range stats {
				l := net.Layers[i]
				kind := l.Op.Kind()
				if s.Index != i || (s.Type != kind && !(s.Type == "none" && kind == "upsample")) || l.Out != sh(s.C, s.H, s.W) {
					t.Errorf("layer %d: %s %v, darknet: layer %d %s %dx%dx%d (WxHxC)", i, kind, l.Out, s.Index, s.Type, s.W, s.H, s.C)
				}
			}
		})
	}
}

// TestDarknetCfgs parses darknet's own cfg files (no weights) and checks every layer against
// what darknet prints for them, computed by hand: 416 input, conv 3x3 pad 1 keeps the size,
// maxpool 2/2 halves it, the maxpool 2/1 keeps 13x13 (padding size-1 = 1: (13+1-2)/1+1).
// The parameter counts are the sizes of darknet's published weights files, less the header,
// over 4 (63471556, 44948600 and 35434956 bytes).
func TestDarknetCfgs(t *testing.T) {
	dir := darknetref.Dir(t)
	backbone := func(lastFilters, head int, headKind string) []layerWant {
		return []layerWant{
			{0, "convolutional", sh(16, 416, 416), []int{-1}},
			{1, "maxpool", sh(16, 208, 208), nil},
			{2, "convolutional", sh(32, 208, 208), nil},
			{3, "maxpool", sh(32, 104, 104), nil},
			{4, "convolutional", sh(64, 104, 104), nil},
			{5, "maxpool", sh(64, 52, 52), nil},
			{6, "convolutional", sh(128, 52, 52), nil},
			{7, "maxpool", sh(128, 26, 26), nil},
			{8, "convolutional", sh(256, 26, 26), nil},
			{9, "maxpool", sh(256, 13, 13), nil},
			{10, "convolutional", sh(512, 13, 13), nil},
			{11, "maxpool", sh(512, 13, 13), nil},
			{12, "convolutional", sh(1024, 13, 13), nil},
			{13, "convolutional", sh(lastFilters, 13, 13), nil},
			{14, "convolutional", sh(head, 13, 13), nil},
			{15, headKind, sh(head, 13, 13), []int{14}},
		}
	}
	v3 := []layerWant{
		{0, "convolutional", sh(16, 416, 416), []int{-1}},
		{1, "maxpool", sh(16, 208, 208), nil},
		{2, "convolutional", sh(32, 208, 208), nil},
		{3, "maxpool", sh(32, 104, 104), nil},
		{4, "convolutional", sh(64, 104, 104), nil},
		{5, "maxpool", sh(64, 52, 52), nil},
		{6, "convolutional", sh(128, 52, 52), nil},
		{7, "maxpool", sh(128, 26, 26), nil},
		{8, "convolutional", sh(256, 26, 26), nil},
		{9, "maxpool", sh(256, 13, 13), nil},
		{10, "convolutional", sh(512, 13, 13), nil},
		{11, "maxpool", sh(512, 13, 13), nil},
		{12, "convolutional", sh(1024, 13, 13), nil},
		{13, "convolutional", sh(256, 13, 13), nil},
		{14, "convolutional", sh(512, 13, 13), nil},
		{15, "convolutional", sh(255, 13, 13), nil},
		{16, "yolo", sh(255, 13, 13), []int{15}},
		{17, "route", sh(256, 13, 13), []int{13}},
		{18, "convolutional", sh(128, 13, 13), []int{17}},
		{19, "upsample", sh(128, 26, 26), []int{18}},
		{20, "route", sh(384, 26, 26), []int{19, 8}},
		{21, "convolutional", sh(256, 26, 26), []int{20}},
		{22, "convolutional", sh(255, 26, 26), nil},
		{23, "yolo", sh(255, 26, 26), []int{22}},
	}
	tests := []struct {
		file   string
		layers []layerWant
		heads  []int
		params int
	}{
		{"yolov2-tiny-voc.cfg", backbone(1024, 125, "region"), []int{15}, (63471556 - 16) / 4},
		{"yolov2-tiny.cfg", backbone(512, 425, "region"), []int{15}, (44948600 - 20) / 4},
		{"yolov3-tiny.cfg", v3, []int{16, 23}, (35434956 - 20) / 4},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(dir, "models", "darknet-cfg", tt.file)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			net, err := darknet.ParseConfig(f, path)
			if err != nil {
				t.Fatal(err)
			}
			if net.Input != sh(3, 416, 416) {
				t.Errorf("input %v", net.Input)
			}
			if len(net.Layers) != len(tt.layers) {
				t.Errorf("%d layers, want %d", len(net.Layers), len(tt.layers))
			}
			checkLayers(t, net, tt.layers)
			if h := net.Heads(); !equalInts(h, tt.heads) {
				t.Errorf("heads %v, want %v", h, tt.heads)
			}
			total := 0
			for i := range net.Layers {
				total += net.Params(i)
			}
			if total != tt.params {
				t.Errorf("%d parameters, want %d", total, tt.params)
			}
		})
	}
}

// TestRealHeads checks the detection heads of the trained models against their cfgs.
func TestRealHeads(t *testing.T) {
	dir := darknetref.Dir(t)
	ms := darknetref.Models(dir)
	parseFile := func(path string) *model.Network {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		net, err := darknet.ParseConfig(f, path)
		if err != nil {
			t.Fatal(err)
		}
		return net
	}
	lite := parseFile(ms[0].Cfg)
	r := op[*model.Region](t, lite, 12)
	if !equalFloats(r.Anchors, []float32{1.08, 1.19, 3.42, 4.41, 6.63, 11.38, 9.42, 5.11, 16.62, 10.52}) ||
		r.Num != 5 || r.Classes != 20 || r.Coords != 4 || !r.Softmax {
		t.Errorf("yolo-lite region %+v", *r)
	}
	fastest := parseFile(ms[2].Cfg)
	anchors := []float32{12, 18, 37, 49, 52, 132, 115, 73, 119, 199, 242, 238}
	for _, h := range []struct {
		i    int
		mask []int
	}{{121, []int{3, 4, 5}}, {130, []int{0, 1, 2}}} {
		y := op[*model.Yolo](t, fastest, h.i)
		if !equalFloats(y.Anchors, anchors) || !equalInts(y.Mask, h.mask) || y.Classes != 80 || y.ScaleXY != 1 {
			t.Errorf("yolo-fastest layer %d: %+v", h.i, *y)
		}
	}
	// Depthwise convolutions: groups = channels = filters, one 3x3 or 5x5 kernel per channel.
	for _, d := range []struct{ i, groups, size int }{{2, 8, 3}, {10, 24, 3}, {116, 96, 5}, {125, 120, 5}} {
		c := op[*model.Conv](t, fastest, d.i)
		if c.Groups != d.groups || c.Size != d.size || c.Padding != d.size/2 || len(c.Weights) != d.groups*d.size*d.size || !c.HasBatchNorm() {
			t.Errorf("yolo-fastest layer %d: groups %d size %d padding %d, %d weights", d.i, c.Groups, c.Size, c.Padding, len(c.Weights))
		}
	}
	// The models with batch norm have it on every convolution but the last.
	bn := parseFile(ms[1].Cfg)
	for i, c := range convs(bn) {
		if c.HasBatchNorm() != (i != 11) {
			t.Errorf("yolo-lite-voc-bn layer %d: batch norm %v", i, c.HasBatchNorm())
		}
	}
	for i, c := range convs(lite) {
		if c.HasBatchNorm() {
			t.Errorf("yolo-lite-voc layer %d has batch norm", i)
		}
	}
}
