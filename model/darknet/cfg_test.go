package darknet_test

import (
	"strconv"
	"strings"
	"testing"

	"spikeyolo/model"
)

// TestConv checks [convolutional]: darknet's defaults (filters=1, size=1, stride=1, no
// padding, groups=1, logistic), pad=1 meaning padding size/2 (overriding padding=), padding=N
// used when pad=0, and the output size (h + 2·padding - size)/stride + 1. Input: 3x6x10.
func TestConv(t *testing.T) {
	tests := []struct {
		name    string
		sec     string
		want    model.Conv // Filters, Size, Stride, Padding, Groups, Act
		out     model.Shape
		weights int // filters·(channels/groups)·size²
	}{
		{"defaults", "filters=2",
			model.Conv{Filters: 2, Size: 1, Stride: 1, Padding: 0, Groups: 1, Act: model.Logistic}, sh(2, 6, 10), 2 * 3},
		{"no keys at all", "",
			model.Conv{Filters: 1, Size: 1, Stride: 1, Padding: 0, Groups: 1, Act: model.Logistic}, sh(1, 6, 10), 3},
		{"size=3 pad=1", "filters=4\nsize=3\npad=1\nactivation=leaky",
			model.Conv{Filters: 4, Size: 3, Stride: 1, Padding: 1, Groups: 1, Act: model.Leaky}, sh(4, 6, 10), 4 * 3 * 9},
		{"size=5 pad=1 is padding 2", "filters=4\nsize=5\npad=1\nactivation=linear",
			model.Conv{Filters: 4, Size: 5, Stride: 1, Padding: 2, Groups: 1, Act: model.Linear}, sh(4, 6, 10), 4 * 3 * 25},
		{"size=1 pad=1 is padding 0", "filters=4\nsize=1\npad=1\nactivation=relu",
			model.Conv{Filters: 4, Size: 1, Stride: 1, Padding: 0, Groups: 1, Act: model.ReLU}, sh(4, 6, 10), 4 * 3},
		// (6+4-4)/1+1 = 7, (10+4-4)/1+1 = 11
		{"size=4 pad=1 is padding 2", "filters=4\nsize=4\npad=1",
			model.Conv{Filters: 4, Size: 4, Stride: 1, Padding: 2, Groups: 1, Act: model.Logistic}, sh(4, 7, 11), 4 * 3 * 16},
		// (6+4-3)+1 = 8, (10+4-3)+1 = 12
		{"padding=2 with pad=0", "filters=4\nsize=3\npad=0\npadding=2",
			model.Conv{Filters: 4, Size: 3, Stride: 1, Padding: 2, Groups: 1, Act: model.Logistic}, sh(4, 8, 12), 4 * 3 * 9},
		{"padding=2 without pad", "filters=4\nsize=3\npadding=2",
			model.Conv{Filters: 4, Size: 3, Stride: 1, Padding: 2, Groups: 1, Act: model.Logistic}, sh(4, 8, 12), 4 * 3 * 9},
		{"pad=1 overrides padding=5", "filters=4\nsize=3\npadding=5\npad=1",
			model.Conv{Filters: 4, Size: 3, Stride: 1, Padding: 1, Groups: 1, Act: model.Logistic}, sh(4, 6, 10), 4 * 3 * 9},
		// (6-3)+1 = 4, (10-3)+1 = 8
		{"size=3 without padding", "filters=4\nsize=3",
			model.Conv{Filters: 4, Size: 3, Stride: 1, Padding: 0, Groups: 1, Act: model.Logistic}, sh(4, 4, 8), 4 * 3 * 9},
		// (6+2-3)/2+1 = 3, (10+2-3)/2+1 = 5
		{"stride=2 pad=1", "filters=4\nsize=3\nstride=2\npad=1",
			model.Conv{Filters: 4, Size: 3, Stride: 2, Padding: 1, Groups: 1, Act: model.Logistic}, sh(4, 3, 5), 4 * 3 * 9},
		// (6-3)/3+1 = 2, (10-3)/3+1 = 3
		{"stride=3 no padding", "filters=4\nsize=3\nstride=3",
			model.Conv{Filters: 4, Size: 3, Stride: 3, Padding: 0, Groups: 1, Act: model.Logistic}, sh(4, 2, 3), 4 * 3 * 9},
		{"groups=3 (depthwise)", "filters=3\nsize=3\npad=1\ngroups=3",
			model.Conv{Filters: 3, Size: 3, Stride: 1, Padding: 1, Groups: 3, Act: model.Logistic}, sh(3, 6, 10), 3 * 1 * 9},
		{"groups=3 filters=6", "filters=6\nsize=3\npad=1\ngroups=3",
			model.Conv{Filters: 6, Size: 3, Stride: 1, Padding: 1, Groups: 3, Act: model.Logistic}, sh(6, 6, 10), 6 * 1 * 9},
		{"stride_x and stride_y equal to stride", "filters=2\nsize=3\nstride=2\nstride_x=2\nstride_y=2",
			model.Conv{Filters: 2, Size: 3, Stride: 2, Padding: 0, Groups: 1, Act: model.Logistic}, sh(2, 2, 4), 2 * 3 * 9},
		{"neutral values accepted", "filters=2\ndilation=1\nantialiasing=0\nbinary=0\nxnor=0\nbatch_normalize=0",
			model.Conv{Filters: 2, Size: 1, Stride: 1, Padding: 0, Groups: 1, Act: model.Logistic}, sh(2, 6, 10), 2 * 3},
		{"training keys ignored", "filters=2\nlearning_rate=0.5\nstopbackward=1\ndontload=1\nshare_index=3",
			model.Conv{Filters: 2, Size: 1, Stride: 1, Padding: 0, Groups: 1, Act: model.Logistic}, sh(2, 6, 10), 2 * 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net := mustParse(t, hdr+"[convolutional]\n"+tt.sec+"\n")
			if len(net.Layers) != 1 {
				t.Fatalf("%d layers, want 1", len(net.Layers))
			}
			c := op[*model.Conv](t, net, 0)
			got := model.Conv{Filters: c.Filters, Size: c.Size, Stride: c.Stride, Padding: c.Padding, Groups: c.Groups, Act: c.Act}
			want := tt.want
			if got.Filters != want.Filters || got.Size != want.Size || got.Stride != want.Stride ||
				got.Padding != want.Padding || got.Groups != want.Groups || got.Act != want.Act {
				t.Errorf("conv = {filters %d size %d stride %d padding %d groups %d %v}, want {filters %d size %d stride %d padding %d groups %d %v}",
					got.Filters, got.Size, got.Stride, got.Padding, got.Groups, got.Act,
					want.Filters, want.Size, want.Stride, want.Padding, want.Groups, want.Act)
			}
			if l := net.Layers[0]; l.Out != tt.out || !equalInts(l.Inputs, []int{-1}) {
				t.Errorf("out %v inputs %v, want %v [-1]", l.Out, l.Inputs, tt.out)
			}
			if len(c.Weights) != tt.weights || len(c.Biases) != tt.want.Filters {
				t.Errorf("%d weights, %d biases, want %d and %d", len(c.Weights), len(c.Biases), tt.weights, tt.want.Filters)
			}
			if c.HasBatchNorm() {
				t.Errorf("has batch norm without batch_normalize=1")
			}
			if got, want := net.Params(0), tt.weights+tt.want.Filters; got != want {
				t.Errorf("Params = %d, want %d", got, want)
			}
		})
	}
}

// TestConvBatchNorm: batch_normalize=1 gives a scale, a rolling mean and a rolling variance per
// filter; they count as parameters, as in the weights file.
func TestConvBatchNorm(t *testing.T) {
	net := mustParse(t, hdr+"[convolutional]\nbatch_normalize=1\nfilters=5\nsize=3\npad=1\nactivation=leaky\n")
	c := op[*model.Conv](t, net, 0)
	if !c.HasBatchNorm() {
		t.Fatal("no batch norm")
	}
	bn := c.BatchNorm
	if len(bn.Scales) != 5 || len(bn.Mean) != 5 || len(bn.Variance) != 5 || len(c.Biases) != 5 || len(c.Weights) != 5*3*9 {
		t.Errorf("scales %d, mean %d, variance %d, biases %d, weights %d; want 5, 5, 5, 5, 135",
			len(bn.Scales), len(bn.Mean), len(bn.Variance), len(c.Biases), len(c.Weights))
	}
	if got := net.Params(0); got != 5*3*9+4*5 {
		t.Errorf("Params = %d, want %d", got, 5*3*9+4*5)
	}
}

// TestMaxPool checks [maxpool]: stride defaults to 1, size to stride, padding to size-1; the
// output size is (w + padding - size)/stride + 1. Input: 2 channels, 13 rows, 12 columns.
func TestMaxPool(t *testing.T) {
	tests := []struct {
		name, sec             string
		size, stride, padding int
		out                   model.Shape
	}{
		// (13+1-2)/2+1 = 7, (12+1-2)/2+1 = 6
		{"size=2 stride=2", "[maxpool]\nsize=2\nstride=2", 2, 2, 1, sh(2, 7, 6)},
		{"[max] synonym", "[max]\nsize=2\nstride=2", 2, 2, 1, sh(2, 7, 6)},
		{"stride=2 alone: size=2", "[maxpool]\nstride=2", 2, 2, 1, sh(2, 7, 6)},
		// tiny YOLO's last maxpool keeps the size: (13+1-2)/1+1 = 13
		{"size=2 stride=1 keeps the size", "[maxpool]\nsize=2\nstride=1", 2, 1, 1, sh(2, 13, 12)},
		// (13+2-3)/2+1 = 7, (12+2-3)/2+1 = 6
		{"size=3 stride=2", "[maxpool]\nsize=3\nstride=2", 3, 2, 2, sh(2, 7, 6)},
		// (13+2-3)/3+1 = 5, (12+2-3)/3+1 = 4
		{"size=3 stride=3", "[maxpool]\nsize=3\nstride=3", 3, 3, 2, sh(2, 5, 4)},
		{"SPP size=9 stride=1", "[maxpool]\nsize=9\nstride=1", 9, 1, 8, sh(2, 13, 12)},
		{"no keys", "[maxpool]", 1, 1, 0, sh(2, 13, 12)},
		// (13-2)/2+1 = 6, (12-2)/2+1 = 6
		{"padding=0", "[maxpool]\nsize=2\nstride=2\npadding=0", 2, 2, 0, sh(2, 6, 6)},
		// (13+0-5)/1+1 = 9, 8
		{"size=5 stride=1 padding=0", "[maxpool]\nsize=5\nstride=1\npadding=0", 5, 1, 0, sh(2, 9, 8)},
		// (13+3-2)/2+1 = 8, (12+3-2)/2+1 = 7
		{"padding=3", "[maxpool]\nsize=2\nstride=2\npadding=3", 2, 2, 3, sh(2, 8, 7)},
		{"neutral keys", "[maxpool]\nsize=2\nstride=2\nstride_x=2\nstride_y=2\nmaxpool_depth=0\nantialiasing=0", 2, 2, 1, sh(2, 7, 6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net := mustParse(t, netHdr(2, 13, 12)+tt.sec+"\n")
			m := op[*model.MaxPool](t, net, 0)
			if m.Size != tt.size || m.Stride != tt.stride || m.Padding != tt.padding {
				t.Errorf("size %d stride %d padding %d, want %d %d %d", m.Size, m.Stride, m.Padding, tt.size, tt.stride, tt.padding)
			}
			if out := net.Layers[0].Out; out != tt.out {
				t.Errorf("out %v, want %v", out, tt.out)
			}
			if net.Params(0) != 0 || net.MACs(0) != 0 {
				t.Errorf("params %d MACs %d, want 0 0", net.Params(0), net.MACs(0))
			}
		})
	}
}

// TestRoute checks [route]: negative references are relative to the route's own index,
// others absolute; channels are concatenated, and with groups only the group_id-th slice of
// each input's channels is taken.
func TestRoute(t *testing.T) {
	cfg := hdr + strings.Join([]string{
		"[convolutional]\nfilters=4",                          // 0: 4x6x10
		"[convolutional]\nfilters=6",                          // 1: 6x6x10
		"[convolutional]\nfilters=2\nsize=3\nstride=2\npad=1", // 2: 2x3x5
		"[route]\nlayers=-1",                                  // 3: [2] 2x3x5
		"[route]\nlayers=0,1",                                 // 4: [0 1] 10x6x10
		"[route]\nlayers=-4,-5",                               // 5: [1 0] 10x6x10
		"[route]\nlayers=1\ngroups=2\ngroup_id=1",             // 6: [1] 3x6x10
		"[route]\nlayers=0,-6\ngroups=2",                      // 7: [0 1] 2+3 = 5x6x10
		"[route]\nlayers = 4, -3",                             // 8: [4 5] 20x6x10
		"[route]\nlayers=3",                                   // 9: [3] 2x3x5
	}, "\n") + "\n"
	net := mustParse(t, cfg)
	want := []struct {
		i             int
		inputs        []int
		groups, group int
		out           model.Shape
	}{
		{3, []int{2}, 1, 0, sh(2, 3, 5)},
		{4, []int{0, 1}, 1, 0, sh(10, 6, 10)},
		{5, []int{1, 0}, 1, 0, sh(10, 6, 10)},
		{6, []int{1}, 2, 1, sh(3, 6, 10)},
		{7, []int{0, 1}, 2, 0, sh(5, 6, 10)},
		{8, []int{4, 5}, 1, 0, sh(20, 6, 10)},
		{9, []int{3}, 1, 0, sh(2, 3, 5)},
	}
	if len(net.Layers) != 10 {
		t.Fatalf("%d layers, want 10", len(net.Layers))
	}
	for _, w := range want {
		r := op[*model.Route](t, net, w.i)
		l := net.Layers[w.i]
		if !equalInts(l.Inputs, w.inputs) || r.Groups != w.groups || r.GroupID != w.group || l.Out != w.out {
			t.Errorf("layer %d: inputs %v groups %d group_id %d out %v; want %v %d %d %v",
				w.i, l.Inputs, r.Groups, r.GroupID, l.Out, w.inputs, w.groups, w.group, w.out)
		}
	}
}

// TestShortcut checks [shortcut]: the previous layer plus the layer named by from (relative
// when negative), linear by default.
func TestShortcut(t *testing.T) {
	cfg := hdr + strings.Join([]string{
		"[convolutional]\nfilters=4",             // 0
		"[convolutional]\nfilters=4",             // 1
		"[convolutional]\nfilters=4",             // 2
		"[shortcut]\nfrom=-3",                    // 3: [2 0]
		"[shortcut]\nfrom=1\nactivation=leaky",   // 4: [3 1]
		"[shortcut]\nfrom=-1\nweights_type=none", // 5: [4 4]
	}, "\n") + "\n"
	net := mustParse(t, cfg)
	want := []struct {
		i      int
		inputs []int
		act    model.Activation
	}{
		{3, []int{2, 0}, model.Linear},
		{4, []int{3, 1}, model.Leaky},
		{5, []int{4, 4}, model.Linear},
	}
	for _, w := range want {
		s := op[*model.Shortcut](t, net, w.i)
		l := net.Layers[w.i]
		if !equalInts(l.Inputs, w.inputs) || s.Act != w.act || l.Out != sh(4, 6, 10) {
			t.Errorf("layer %d: inputs %v act %v out %v; want %v %v 4x6x10 (CxHxW)", w.i, l.Inputs, s.Act, l.Out, w.inputs, w.act)
		}
	}
}

// TestUpsample: stride defaults to 2; height and width are multiplied by it.
func TestUpsample(t *testing.T) {
	tests := []struct {
		sec    string
		stride int
		out    model.Shape
	}{
		{"[upsample]", 2, sh(3, 12, 20)},
		{"[upsample]\nstride=2", 2, sh(3, 12, 20)},
		{"[upsample]\nstride = 3", 3, sh(3, 18, 30)},
		{"[upsample]\nstride=1", 1, sh(3, 6, 10)},
		{"[upsample]\nstride=2\nscale=1", 2, sh(3, 12, 20)},
		{"[upsample]\nstride=2\nscale=1.0", 2, sh(3, 12, 20)},
	}
	for _, tt := range tests {
		net := mustParse(t, hdr+tt.sec+"\n")
		u := op[*model.Upsample](t, net, 0)
		if u.Stride != tt.stride || net.Layers[0].Out != tt.out {
			t.Errorf("%q: stride %d out %v, want %d %v", tt.sec, u.Stride, net.Layers[0].Out, tt.stride, tt.out)
		}
	}
}

// TestDropout: [dropout] is the identity at inference; its training keys are ignored.
func TestDropout(t *testing.T) {
	net := mustParse(t, hdr+"[convolutional]\nfilters=4\nsize=3\nstride=2\n[dropout]\nprobability=.15\n")
	op[*model.Dropout](t, net, 1)
	// conv: (6-3)/2+1 = 2, (10-3)/2+1 = 4
	if l := net.Layers[1]; l.Out != sh(4, 2, 4) || !equalInts(l.Inputs, []int{0}) {
		t.Errorf("dropout out %v inputs %v, want 4x2x4 (CxHxW) [0]", l.Out, l.Inputs)
	}
}

// TestRegion checks [region]: coords (default 4), classes (default 20), num (default 1),
// softmax, and num anchor pairs (darknet reads only num pairs).
func TestRegion(t *testing.T) {
	tests := []struct {
		name    string
		filters int
		sec     string
		want    model.Region
	}{
		{"tiny yolo", 2 * (4 + 1 + 3), "anchors =  1.08,1.19,  3.42,4.41\nnum=2\nclasses=3\ncoords=4\nsoftmax=1\nbias_match=1\njitter=.2\nrescore=1\nobject_scale=5\nthresh = .6\nrandom=1",
			model.Region{Anchors: []float32{1.08, 1.19, 3.42, 4.41}, Classes: 3, Num: 2, Coords: 4, Softmax: true}},
		{"defaults", 1 * (4 + 1 + 20), "anchors=0.5,0.75",
			model.Region{Anchors: []float32{0.5, 0.75}, Classes: 20, Num: 1, Coords: 4, Softmax: false}},
		{"softmax=0", 1 * (4 + 1 + 2), "anchors=1,2\nclasses=2\nsoftmax=0",
			model.Region{Anchors: []float32{1, 2}, Classes: 2, Num: 1, Coords: 4, Softmax: false}},
		{"extra anchors ignored", 1 * (4 + 1 + 2), "anchors=1,2,3,4,5,6\nclasses=2\nnum=1",
			model.Region{Anchors: []float32{1, 2}, Classes: 2, Num: 1, Coords: 4}},
		{"trailing comma and comment", 2 * (4 + 1 + 1), "anchors=1,2,3,4, # two pairs\nclasses=1\nnum=2",
			model.Region{Anchors: []float32{1, 2, 3, 4}, Classes: 1, Num: 2, Coords: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net := mustParse(t, hdr+"[convolutional]\nfilters="+strconv.Itoa(tt.filters)+"\n[region]\n"+tt.sec+"\n")
			r := op[*model.Region](t, net, 1)
			if !equalFloats(r.Anchors, tt.want.Anchors) || r.Classes != tt.want.Classes || r.Num != tt.want.Num ||
				r.Coords != tt.want.Coords || r.Softmax != tt.want.Softmax {
				t.Errorf("region = %+v, want %+v", *r, tt.want)
			}
			if l := net.Layers[1]; l.Out != sh(tt.filters, 6, 10) || !equalInts(l.Inputs, []int{0}) {
				t.Errorf("out %v inputs %v", l.Out, l.Inputs)
			}
			if h := net.Heads(); !equalInts(h, []int{1}) {
				t.Errorf("heads %v, want [1]", h)
			}
		})
	}
}

// TestYolo checks [yolo]: all num anchor pairs are kept and mask selects this head's;
// without mask, the head uses anchors 0..num-1; scale_x_y is read (1 by default).
func TestYolo(t *testing.T) {
	tests := []struct {
		name     string
		filters  int
		sec      string
		want     model.Yolo
		selected []float32 // the anchors named by the mask, in mask order
	}{
		{"mask selects", 2 * (2 + 5), "mask = 1,2\nanchors = 10,14,  23,27,  37,58\nclasses=2\nnum=3\nscale_x_y = 1.05\njitter=.3\nignore_thresh = .7\ntruth_thresh = 1\nrandom=1\niou_loss=ciou\nnms_kind=greedynms\nbeta_nms=0.6",
			model.Yolo{Anchors: []float32{10, 14, 23, 27, 37, 58}, Mask: []int{1, 2}, Classes: 2, ScaleXY: 1.05},
			[]float32{23, 27, 37, 58}},
		{"mask out of order", 2 * (1 + 5), "mask=2,0\nanchors=1,2,3,4,5,6\nclasses=1\nnum=3",
			model.Yolo{Anchors: []float32{1, 2, 3, 4, 5, 6}, Mask: []int{2, 0}, Classes: 1, ScaleXY: 1},
			[]float32{5, 6, 1, 2}},
		{"no mask: all num anchors", 2 * (1 + 5), "anchors=1,2,3,4\nclasses=1\nnum=2",
			model.Yolo{Anchors: []float32{1, 2, 3, 4}, Mask: []int{0, 1}, Classes: 1, ScaleXY: 1},
			[]float32{1, 2, 3, 4}},
		{"defaults: classes=20 num=1", 1 * (20 + 5), "anchors=5,6",
			model.Yolo{Anchors: []float32{5, 6}, Mask: []int{0}, Classes: 20, ScaleXY: 1},
			[]float32{5, 6}},
		{"extra anchors beyond num ignored", 1 * (1 + 5), "mask=1\nanchors=1,2,3,4,5,6,7,8\nclasses=1\nnum=2",
			model.Yolo{Anchors: []float32{1, 2, 3, 4}, Mask: []int{1}, Classes: 1, ScaleXY: 1},
			[]float32{3, 4}},
		{"scale_x_y=2", 1 * (1 + 5), "anchors=1,2\nclasses=1\nscale_x_y=2",
			model.Yolo{Anchors: []float32{1, 2}, Mask: []int{0}, Classes: 1, ScaleXY: 2},
			[]float32{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net := mustParse(t, hdr+"[convolutional]\nfilters="+strconv.Itoa(tt.filters)+"\n[yolo]\n"+tt.sec+"\n")
			y := op[*model.Yolo](t, net, 1)
			if !equalFloats(y.Anchors, tt.want.Anchors) || !equalInts(y.Mask, tt.want.Mask) ||
				y.Classes != tt.want.Classes || y.ScaleXY != tt.want.ScaleXY {
				t.Errorf("yolo = %+v, want %+v", *y, tt.want)
			}
			var sel []float32
			for _, m := range y.Mask {
				if 2*m+1 < len(y.Anchors) && m >= 0 {
					sel = append(sel, y.Anchors[2*m], y.Anchors[2*m+1])
				}
			}
			if !equalFloats(sel, tt.selected) {
				t.Errorf("anchors selected by the mask %v, want %v", sel, tt.selected)
			}
			if l := net.Layers[1]; l.Out != sh(tt.filters, 6, 10) {
				t.Errorf("out %v, want %v", l.Out, sh(tt.filters, 6, 10))
			}
		})
	}
}

// TestSyntax checks what darknet's read_cfg does with a file: white space anywhere in a line
// is removed, lines starting with '#' or ';' are comments, [network] means [net], [conv]
// means [convolutional] and [max] means [maxpool], and training keys are ignored.
func TestSyntax(t *testing.T) {
	lines := []string{
		"# a comment before everything", // 1
		"; another kind of comment",     // 2
		"",                              // 3
		"[network]",                     // 4
		"  width = 10",                  // 5
		"height\t=\t6   ",               // 6
		"channels= 3",                   // 7
		"batch=64",                      // 8
		"momentum=0.9",                  // 9
		"   # indented comment",         // 10
		"[conv]",                        // 11
		"filters = 16",                  // 12
		"size = 3",                      // 13
		" pad = 1",                      // 14
		";activation=relu",              // 15
		"activation = leaky",            // 16
		"",                              // 17
		"[ max ]",                       // 18
		"size=2",                        // 19
		"stride=2",                      // 20
		"[convolutional]",               // 21
		"filters = 1 8",                 // 22: white space inside a value is removed too
		"[region]",                      // 23
		"anchors =  1,2,  3,4, 5 ,6",    // 24
		"num = 3",                       // 25
		"classes = 1",                   // 26
		"softmax=1",                     // 27
	}
	for _, eol := range []string{"\n", "\r\n"} {
		net := mustParse(t, strings.Join(lines, eol)+eol)
		if net.Input != sh(3, 6, 10) {
			t.Errorf("input %v, want 3x6x10 (CxHxW)", net.Input)
		}
		if len(net.Layers) != 4 {
			t.Fatalf("%d layers, want 4", len(net.Layers))
		}
		c := op[*model.Conv](t, net, 0)
		if c.Filters != 16 || c.Size != 3 || c.Padding != 1 || c.Act != model.Leaky {
			t.Errorf("conv %+v, want 16 filters 3x3 padding 1 leaky", *c)
		}
		m := op[*model.MaxPool](t, net, 1)
		if m.Size != 2 || m.Stride != 2 {
			t.Errorf("maxpool %+v, want 2/2", *m)
		}
		// (6+1-2)/2+1 = 3, (10+1-2)/2+1 = 5
		if out := net.Layers[1].Out; out != sh(16, 3, 5) {
			t.Errorf("maxpool out %v, want 16x3x5 (CxHxW)", out)
		}
		if c := op[*model.Conv](t, net, 2); c.Filters != 18 {
			t.Errorf("filters = 1 8 gives %d filters, want 18", c.Filters)
		}
		r := op[*model.Region](t, net, 3)
		if !equalFloats(r.Anchors, []float32{1, 2, 3, 4, 5, 6}) || r.Num != 3 || r.Classes != 1 {
			t.Errorf("region %+v", *r)
		}
		for i, wantLine := range []int{11, 18, 21, 23} {
			if got, want := net.Layers[i].Source, "t.cfg:"+strconv.Itoa(wantLine); got != want {
				t.Errorf("layer %d source %q, want %q", i, got, want)
			}
		}
	}
}
