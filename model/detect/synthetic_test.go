package detect_test

// Data-free tests of the detection path: every expected value is derived by hand in the
// comments, from darknet's definitions (region_layer.c, yolo_layer.c, box.c, image.c), so
// these tests run on a clone without the shared reference data.
//
// A head's output tensor is in darknet's layout: for anchor slot a (of num, or of the
// [yolo] mask), entry e and grid cell (row, col) of an H×W grid, the value is at
//
//	a·(4+1+classes)·H·W + e·H·W + row·W + col
//
// with entries e = 0 tx, 1 ty, 2 tw, 3 th, 4 objectness, 5+c the score of class c. The
// logistic σ and the softmax are applied by the head's Activate (in the network's forward
// pass); the decoders read the activated tensor:
//
//	[region]: x = (col + σ(tx))/W, y = (row + σ(ty))/H, w = e^tw·anchor_w/W, h = e^th·anchor_h/H
//	          (anchors in grid cells; class scores by softmax, or σ without softmax=1)
//	[yolo]:   x = (col + σ'(tx))/W, y = (row + σ'(ty))/H, w = e^tw·anchor_w/netW, h = e^th·anchor_h/netH
//	          (anchors in input pixels, chosen by mask; σ' = σ·scale_x_y - (scale_x_y-1)/2;
//	          class scores by σ)
//
// A cell and anchor is a detection when its objectness is above the threshold; its class
// probabilities are objectness × class score where that is above the threshold, else 0.
//
// Values are chosen so that σ and e^x come out round: σ(0) = 1/2, σ(ln 3) = 3/4,
// σ(-ln 3) = 1/4, σ(ln 4) = 4/5, σ(ln 9) = 9/10, σ(-ln 9) = 1/10, e^(ln 2) = 2,
// e^(ln 1/2) = 1/2.

import (
	"fmt"
	"math"
	"testing"

	"spikeyolo/model"
	"spikeyolo/model/detect"
	"spikeyolo/model/preprocess"
)

// darknetNMS is the NMS threshold darknet's detector uses (and the reference data: 0.45).
const darknetNMS float32 = 0.45

func ln(x float64) float32 { return float32(math.Log(x)) }

// tensor is a head's input or output in darknet's layout (see the top of the file).
type tensor struct {
	s       model.Shape
	classes int
	v       []float32
}

// newTensor makes a head tensor of num anchor slots over an h×w grid, all zero except the
// objectness, which is obj everywhere.
func newTensor(num, classes, h, w int, obj float32) tensor {
	t := tensor{s: model.Shape{C: num * (5 + classes), H: h, W: w}, classes: classes}
	t.v = make([]float32, t.s.Size())
	for a := 0; a < num; a++ {
		for cell := 0; cell < h*w; cell++ {
			t.v[t.index(a, 4, cell/w, cell%w)] = obj
		}
	}
	return t
}

func (t tensor) index(a, e, row, col int) int {
	hw := t.s.H * t.s.W
	return a*(5+t.classes)*hw + e*hw + row*t.s.W + col
}

// set writes entries 0, 1, ... (tx, ty, tw, th, objectness, class scores) of anchor slot a
// at cell (row, col).
func (t tensor) set(a, row, col int, entries ...float32) {
	for e, v := range entries {
		t.v[t.index(a, e, row, col)] = v
	}
}

// wantDet is an expected detection.
type wantDet struct {
	box  detect.Box
	obj  float32
	prob []float32
}

const tol = 1e-6

func near(got, want float32) bool { return math.Abs(float64(got)-float64(want)) <= tol }

func nearBox(got, want detect.Box) bool {
	return near(got.X, want.X) && near(got.Y, want.Y) && near(got.W, want.W) && near(got.H, want.H)
}

// checkDets requires got to hold exactly the wanted detections (matched by box), with their
// objectness and class probabilities. A probability expected to be 0 must be exactly 0.
func checkDets(t *testing.T, got []detect.Detection, wants []wantDet) {
	t.Helper()
	if len(got) != len(wants) {
		t.Errorf("%d detections, want %d:\n%s", len(got), len(wants), dump(got))
		return
	}
	for _, w := range wants {
		found := false
		for _, g := range got {
			if !nearBox(g.Box, w.box) {
				continue
			}
			found = true
			if !near(g.Objectness, w.obj) {
				t.Errorf("box %+v: objectness %v, want %v", w.box, g.Objectness, w.obj)
			}
			if len(g.Prob) != len(w.prob) {
				t.Errorf("box %+v: %d class probabilities, want %d", w.box, len(g.Prob), len(w.prob))
				break
			}
			for c, p := range w.prob {
				if (p == 0 && g.Prob[c] != 0) || !near(g.Prob[c], p) {
					t.Errorf("box %+v: class %d probability %v, want %v", w.box, c, g.Prob[c], p)
				}
			}
			break
		}
		if !found {
			t.Errorf("no detection with box %+v among:\n%s", w.box, dump(got))
		}
	}
}

func dump(dets []detect.Detection) string {
	s := ""
	for _, d := range dets {
		s += fmt.Sprintf("  %+v objectness %v probs %v\n", d.Box, d.Objectness, d.Prob)
	}
	return s
}

// TestRegionDecodeByHand runs a raw [region] output through the head's activation and
// decoder: a 3-wide, 2-high grid (W ≠ H, so a swap shows), 2 anchors, 2 classes.
func TestRegionDecodeByHand(t *testing.T) {
	// Anchors in grid cells: anchor 0 = (1.5, 0.5), anchor 1 = (0.75, 2).
	newRegion := func(softmax bool) *model.Region {
		return &model.Region{Anchors: []float32{1.5, 0.5, 0.75, 2}, Classes: 2, Num: 2, Coords: 4, Softmax: softmax}
	}
	raw := newTensor(2, 2, 2, 3, -10) // σ(-10) = 4.5e-5: no detection elsewhere
	// A: anchor 0 at row 0, col 1: tx=0, ty=ln 3, tw=0, th=ln 1/2, objectness ln 9, classes (0, ln 2).
	raw.set(0, 0, 1, 0, ln(3), 0, ln(0.5), ln(9), 0, ln(2))
	// B: anchor 1 at row 1, col 2: tx=ln 3, ty=-ln 3, tw=ln 2, th=0, objectness ln 4, classes (ln 3, 0).
	raw.set(1, 1, 2, ln(3), -ln(3), ln(2), 0, ln(4), ln(3), 0)
	// C: anchor 0 at row 1, col 0: everything 0 (objectness σ(0) = 1/2).
	raw.set(0, 1, 0, 0, 0, 0, 0, 0, 0, 0)

	// Boxes, the same with and without softmax:
	// A: x = (1 + σ(0))/3 = 1.5/3 = 0.5;   y = (0 + σ(ln 3))/2 = 0.75/2 = 0.375;
	//    w = e^0·1.5/3 = 0.5;              h = e^(ln 1/2)·0.5/2 = 0.125.
	// B: x = (2 + σ(ln 3))/3 = 2.75/3 = 11/12; y = (1 + σ(-ln 3))/2 = 1.25/2 = 0.625;
	//    w = e^(ln 2)·0.75/3 = 0.5;        h = e^0·2/2 = 1.
	// C: x = (0 + 1/2)/3 = 1/6;            y = (1 + 1/2)/2 = 0.75;
	//    w = 1·1.5/3 = 0.5;                h = 1·0.5/2 = 0.25.
	boxA := detect.Box{X: 0.5, Y: 0.375, W: 0.5, H: 0.125}
	boxB := detect.Box{X: 11.0 / 12, Y: 0.625, W: 0.5, H: 1}
	boxC := detect.Box{X: 1.0 / 6, Y: 0.75, W: 0.5, H: 0.25}
	const thresh = 0.25
	for _, tt := range []struct {
		softmax bool
		want    []wantDet
	}{
		// Softmax: A's scores (0, ln 2) → (1/3, 2/3), probabilities 0.9·(1/3, 2/3) = (0.3, 0.6).
		// B's (ln 3, 0) → (3/4, 1/4), probabilities 0.8·(3/4, 1/4) = (0.6, 0.2): 0.2 is not above
		// 0.25. C's (0, 0) → (1/2, 1/2), probabilities 1/2·1/2 = 0.25 exactly, not above 0.25;
		// C's objectness 1/2 is above it, so C is a detection with no class.
		{true, []wantDet{{boxA, 0.9, []float32{0.3, 0.6}}, {boxB, 0.8, []float32{0.6, 0}}, {boxC, 0.5, []float32{0, 0}}}},
		// Logistic scores: A's (σ(0), σ(ln 2)) = (1/2, 2/3), probabilities (0.45, 0.6); B's
		// (σ(ln 3), σ(0)) = (3/4, 1/2), probabilities (0.6, 0.4); C's (1/2, 1/2) → 0.25: not kept.
		{false, []wantDet{{boxA, 0.9, []float32{0.45, 0.6}}, {boxB, 0.8, []float32{0.6, 0.4}}, {boxC, 0.5, []float32{0, 0}}}},
	} {
		t.Run(fmt.Sprintf("softmax=%v", tt.softmax), func(t *testing.T) {
			r := newRegion(tt.softmax)
			out := make([]float32, len(raw.v))
			r.Activate(raw.v, raw.s, out)
			checkDets(t, detect.Region(r, raw.s, out, thresh), tt.want)
		})
	}
}

// TestYoloDecodeByHand runs a raw [yolo] output through the head's activation and decoder:
// a 4-wide, 3-high grid of a 64×48 network input (stride 16), 4 anchors of which the mask
// picks 3 and 2, in that order, 2 classes.
func TestYoloDecodeByHand(t *testing.T) {
	in := model.Shape{C: 3, H: 48, W: 64}
	anchors := []float32{10, 13, 16, 30, 32, 24, 48, 36} // pixels: (10,13) (16,30) (32,24) (48,36)
	raw := newTensor(2, 2, 3, 4, -10)
	// Slot 0 (mask 3: anchor (48, 36)) at row 2, col 1: tx=ln 3, ty=0, tw=ln 1/2, th=0,
	// objectness ln 4, classes (ln 3, -ln 3).
	raw.set(0, 2, 1, ln(3), 0, ln(0.5), 0, ln(4), ln(3), -ln(3))
	// Slot 1 (mask 2: anchor (32, 24)) at row 0, col 3: tx=-ln 3, ty=ln 3, tw=ln 2, th=ln 1/2,
	// objectness ln 9, classes (-ln 9, ln 9).
	raw.set(1, 0, 3, -ln(3), ln(3), ln(2), ln(0.5), ln(9), -ln(9), ln(9))
	// Widths and heights, for every scale_x_y:
	// slot 0: w = e^(ln 1/2)·48/64 = 0.375, h = e^0·36/48 = 0.75.
	// slot 1: w = e^(ln 2)·32/64 = 1,       h = e^(ln 1/2)·24/48 = 0.25.
	// Class probabilities: slot 0: 0.8·(σ(ln 3), σ(-ln 3)) = 0.8·(3/4, 1/4) = (0.6, 0.2 → 0);
	// slot 1: 0.9·(σ(-ln 9), σ(ln 9)) = 0.9·(1/10, 9/10) = (0.09 → 0, 0.81).
	for _, tt := range []struct {
		scale float32
		want  []wantDet
	}{
		// scale_x_y = 1: slot 0: x = (1 + σ(ln 3))/4 = 1.75/4 = 0.4375, y = (2 + σ(0))/3 = 2.5/3;
		// slot 1: x = (3 + σ(-ln 3))/4 = 3.25/4 = 0.8125, y = (0 + σ(ln 3))/3 = 0.25.
		{1, []wantDet{
			{detect.Box{X: 0.4375, Y: 2.5 / 3, W: 0.375, H: 0.75}, 0.8, []float32{0.6, 0}},
			{detect.Box{X: 0.8125, Y: 0.25, W: 1, H: 0.25}, 0.9, []float32{0, 0.81}},
		}},
		// scale_x_y = 2: σ' = 2σ - 1/2, so 3/4 → 1, 1/2 → 1/2, 1/4 → 0. Slot 0: x = (1 + 1)/4 = 0.5,
		// y = (2 + 1/2)/3; slot 1: x = (3 + 0)/4 = 0.75, y = (0 + 1)/3.
		{2, []wantDet{
			{detect.Box{X: 0.5, Y: 2.5 / 3, W: 0.375, H: 0.75}, 0.8, []float32{0.6, 0}},
			{detect.Box{X: 0.75, Y: 1.0 / 3, W: 1, H: 0.25}, 0.9, []float32{0, 0.81}},
		}},
	} {
		t.Run(fmt.Sprintf("scale_x_y=%v", tt.scale), func(t *testing.T) {
			y := &model.Yolo{Anchors: anchors, Mask: []int{3, 2}, Classes: 2, ScaleXY: tt.scale}
			out := make([]float32, len(raw.v))
			y.Activate(raw.v, raw.s, out)
			checkDets(t, detect.Yolo(y, raw.s, out, in, 0.25), tt.want)
		})
	}
}

// TestDecodeThresholds pins darknet's strict comparisons on an activated output whose
// products are exact: a cell is a detection only if its objectness is above thresh, and a
// class keeps objectness × score only if that is above thresh; Objects lists only
// probabilities above its threshold.
func TestDecodeThresholds(t *testing.T) {
	r := &model.Region{Anchors: []float32{1, 1}, Classes: 2, Num: 1, Coords: 4}
	out := newTensor(1, 2, 1, 3, 0)                  // a 3-wide, 1-high grid, already activated
	out.set(0, 0, 0, 0.5, 0.5, 0, 0, 0.25, 1, 1)     // objectness 0.25 = thresh: no detection
	out.set(0, 0, 1, 0.5, 0.5, 0, 0, 0.5, 0.5, 0.75) // 0.5·0.5 = 0.25 = thresh → 0; 0.5·0.75 = 0.375
	out.set(0, 0, 2, 0.5, 0.5, 0, 0, 0.5, 1, 0)      // 0.5·1 = 0.5; 0.5·0 = 0
	// Boxes: x = (col + 0.5)/3, y = (0 + 0.5)/1, w = e^0·1/3, h = e^0·1/1.
	dets := detect.Region(r, out.s, out.v, 0.25)
	checkDets(t, dets, []wantDet{
		{detect.Box{X: 1.5 / 3, Y: 0.5, W: 1.0 / 3, H: 1}, 0.5, []float32{0, 0.375}},
		{detect.Box{X: 2.5 / 3, Y: 0.5, W: 1.0 / 3, H: 1}, 0.5, []float32{0.5, 0}},
	})
	// Objects at 0.375: 0.375 is not above it; 0.5 is.
	objs := detect.Objects(dets, 0.375)
	if len(objs) != 1 || objs[0].Class != 0 || objs[0].Score != 0.5 || objs[0].Objectness != 0.5 {
		t.Errorf("Objects(0.375) = %+v, want only class 0 with score 0.5", objs)
	}
}

// TestHeadsByHand decodes both kinds of head of one network: a 4-high, 6-wide input of 7
// channels, a 2×2/2 maxpool down to a 3-wide, 2-high grid, and a [region] and a [yolo]
// head on that grid (1 anchor slot, 2 classes: 1·(4+1+2) = 7 channels). The [yolo] head
// divides its box sizes by the network input (6×4), not by its grid (3×2).
func TestHeadsByHand(t *testing.T) {
	net, err := model.NewNetwork(model.Shape{C: 7, H: 4, W: 6})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct {
		op model.Op
		in int
	}{
		{&model.MaxPool{Size: 2, Stride: 2}, -1},
		{&model.Region{Anchors: []float32{2, 1}, Classes: 2, Num: 1, Coords: 4, Softmax: true}, 0},
		{&model.Yolo{Anchors: []float32{4, 4, 6, 2}, Mask: []int{1}, Classes: 2, ScaleXY: 1}, 0},
	} {
		if _, err := net.Add(l.op, []int{l.in}, ""); err != nil {
			t.Fatal(err)
		}
	}
	grid := newTensor(1, 2, 2, 3, -10)
	// Cell row 1, col 2: tx=ty=ln 3, tw=0, th=ln 2, objectness ln 4, classes (ln 3, 0).
	grid.set(0, 1, 2, ln(3), ln(3), 0, ln(2), ln(4), ln(3), 0)
	// The input repeats each grid value over a 2×2 block, so the maxpool gives the grid back.
	input := make([]float32, net.Input.Size())
	for c := 0; c < 7; c++ {
		for y := 0; y < 4; y++ {
			for x := 0; x < 6; x++ {
				input[(c*4+y)*6+x] = grid.v[(c*2+y/2)*3+x/2]
			}
		}
	}
	got := detect.Heads(net, net.Forward(input), 0.25)
	// Both: x = (2 + 3/4)/3 = 11/12, y = (1 + 3/4)/2 = 0.875, objectness σ(ln 4) = 0.8.
	// [region] (anchor (2, 1) in cells): w = e^0·2/3, h = e^(ln 2)·1/2 = 1; softmax (ln 3, 0) =
	// (3/4, 1/4): probabilities (0.6, 0.2 → 0).
	// [yolo] (mask 1: anchor (6, 2) in pixels): w = e^0·6/6 = 1, h = e^(ln 2)·2/4 = 1;
	// σ(ln 3, 0) = (3/4, 1/2): probabilities (0.6, 0.4).
	wants := []wantDet{
		{detect.Box{X: 11.0 / 12, Y: 0.875, W: 2.0 / 3, H: 1}, 0.8, []float32{0.6, 0}},
		{detect.Box{X: 11.0 / 12, Y: 0.875, W: 1, H: 1}, 0.8, []float32{0.6, 0.4}},
	}
	checkDets(t, got, wants)
	// In head order: the [region] head's detection first.
	if len(got) == 2 && !nearBox(got[0].Box, wants[0].box) {
		t.Errorf("detections out of head order:\n%s", dump(got))
	}
}

// det is a detection for the NMS tests.
func det(b detect.Box, obj float32, prob ...float32) detect.Detection {
	return detect.Detection{Box: b, Objectness: obj, Prob: prob}
}

// TestIoUByHand checks box_iou on boxes whose float32 arithmetic is exact.
func TestIoUByHand(t *testing.T) {
	unit := detect.Box{X: 0, Y: 0, W: 1, H: 1}
	for _, tt := range []struct {
		name string
		a, b detect.Box
		want float32
	}{
		{"identical", unit, unit, 1},
		// Shifted by 1/4 along x: intersection 3/4·1, union 1 + 1 - 3/4 = 5/4: 0.6.
		{"shifted 1/4", unit, detect.Box{X: 0.25, W: 1, H: 1}, 0.6},
		// Shifted by 1/2: intersection 1/2, union 3/2: 1/3.
		{"shifted 1/2", unit, detect.Box{X: 0.5, W: 1, H: 1}, float32(1.0 / 3)},
		// Shifted by 1/2 along y, with height 1 and width 2 for b: intersection 1·1/2, union 1 + 2 - 1/2 = 5/2: 0.2.
		{"shifted along y", unit, detect.Box{Y: 0.5, W: 2, H: 1}, 0.2},
		// Nested, b = 1/2 × 1 inside: intersection 1/2, union 1: 1/2.
		{"nested", unit, detect.Box{W: 0.5, H: 1}, 0.5},
		{"touching", unit, detect.Box{X: 1, W: 1, H: 1}, 0},
		{"apart", unit, detect.Box{X: 3, Y: 3, W: 1, H: 1}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := detect.IoU(tt.a, tt.b); got != tt.want {
				t.Errorf("IoU(%+v, %+v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			if got := detect.IoU(tt.b, tt.a); got != tt.want {
				t.Errorf("IoU(%+v, %+v) = %v, want %v", tt.b, tt.a, got, tt.want)
			}
		})
	}
}

// TestNMSAtThreshold pins do_nms_sort's comparison, iou > thresh, at darknet's 0.45: a box
// of 1×1 and a box of w×1 inside it, both centred at the origin. Their intersection is w·1
// and their union 1·1 + w·1 - w, which in float32 is exactly 1 for the three widths used,
// so IoU = w exactly. (For w = float32(0.45) = 15099494·2^-25, 1 + w lies halfway between
// two float32 neighbours and rounds to the even one, 1 + w + 2^-24; subtracting w leaves
// 1 + 2^-24, again halfway, which rounds to 1. The test checks this premise for every w.)
// Only the box above the threshold is suppressed.
func TestNMSAtThreshold(t *testing.T) {
	for _, tt := range []struct {
		name       string
		w          float32
		suppressed bool
	}{
		{"just below", math.Nextafter32(darknetNMS, 0), false},
		{"at", darknetNMS, false},
		{"just above", math.Nextafter32(darknetNMS, 1), true},
		{"well below", 0.25, false},
		{"well above", 0.75, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			big, small := detect.Box{W: 1, H: 1}, detect.Box{W: tt.w, H: 1}
			if iou := detect.IoU(big, small); iou != tt.w {
				t.Fatalf("IoU = %v, want exactly %v (the test's premise)", iou, tt.w)
			}
			// The stronger detection is listed second: NMS must sort first.
			got := detect.NMS([]detect.Detection{det(small, 0.8, 0.8), det(big, 0.9, 0.9)}, darknetNMS)
			want := float32(0.8)
			if tt.suppressed {
				want = 0
			}
			if len(got) != 2 || got[0].Prob[0] != 0.9 || got[1].Prob[0] != want {
				t.Errorf("IoU %v at threshold %v: got\n%swant the 0.9 box kept and the 0.8 box's probability %v", tt.w, darknetNMS, dump(got), want)
			}
		})
	}
}

// TestNMSSuppressedDoNotSuppress: three 1×1 boxes in a row, 1/4 apart. IoU(A,B) =
// IoU(B,C) = 0.6 > 0.45, IoU(A,C) = 1/3. A (0.9) suppresses B (0.8); B, suppressed, no
// longer suppresses anything (darknet skips detections whose probability is 0), so C (0.7)
// stays.
func TestNMSSuppressedDoNotSuppress(t *testing.T) {
	a := det(detect.Box{X: 0, W: 1, H: 1}, 0.9, 0.9)
	b := det(detect.Box{X: 0.25, W: 1, H: 1}, 0.8, 0.8)
	c := det(detect.Box{X: 0.5, W: 1, H: 1}, 0.7, 0.7)
	got := detect.NMS([]detect.Detection{c, b, a}, darknetNMS)
	want := []float32{0.9, 0, 0.7} // in order of decreasing probability: A, B, C
	if len(got) != 3 {
		t.Fatalf("NMS kept %d of 3:\n%s", len(got), dump(got))
	}
	for i, w := range want {
		if got[i].Prob[0] != w {
			t.Errorf("got\n%swant probabilities %v (A, B, C)", dump(got), want)
			break
		}
	}
}

// TestNMSPerClass: suppression is per class. D1 and D2 are the same box; D1 has class 0 at
// 0.9 and no class 1, D2 has 0.8 and 0.7. Class 0: D1 suppresses D2's 0.8. Class 1: D2's
// 0.7 is the best and stays (D1 has nothing to lose). D3, far away (IoU 0), keeps both.
func TestNMSPerClass(t *testing.T) {
	box := detect.Box{X: 0.5, Y: 0.5, W: 0.2, H: 0.2}
	d1 := det(box, 0.95, 0.9, 0)
	d2 := det(box, 0.85, 0.8, 0.7)
	d3 := det(detect.Box{X: 0.1, Y: 0.1, W: 0.1, H: 0.1}, 0.6, 0.5, 0.5)
	got := detect.NMS([]detect.Detection{d2, d1, d3}, darknetNMS)
	want := map[float32][]float32{0.95: {0.9, 0}, 0.85: {0, 0.7}, 0.6: {0.5, 0.5}} // by objectness
	if len(got) != 3 {
		t.Fatalf("NMS kept %d of 3:\n%s", len(got), dump(got))
	}
	for _, g := range got {
		w := want[g.Objectness]
		if len(w) != 2 || g.Prob[0] != w[0] || g.Prob[1] != w[1] {
			t.Errorf("detection with objectness %v: probabilities %v, want %v", g.Objectness, g.Prob, w)
		}
	}
	// Objects at 0.1: D1 class 0, D2 class 1, D3 classes 0 and 1: four objects.
	if objs := detect.Objects(got, 0.1); len(objs) != 4 {
		t.Errorf("Objects = %+v, want 4", objs)
	}
}

// TestNMSOrder: for each class NMS sorts by that class's probability, highest first, and
// the higher suppresses the lower whatever their order in the input and their objectness;
// detections with objectness 0 are dropped first and suppress nothing; the result is in the
// order of the last class's sort, ties in input order.
func TestNMSOrder(t *testing.T) {
	box := detect.Box{X: 0.3, Y: 0.3, W: 0.2, H: 0.2}
	far := detect.Box{X: 0.8, Y: 0.8, W: 0.1, H: 0.1}
	in := []detect.Detection{
		det(box, 0.95, 0.6), // E1: higher objectness, lower probability: suppressed by E2
		det(box, 0.91, 0.9), // E2
		det(far, 0, 0.75),   // E3: objectness 0: dropped, so it does not suppress E4
		det(far, 0.5, 0.7),  // E4
		det(detect.Box{X: 0.1, Y: 0.9, W: 0.05, H: 0.05}, 0.31, 0.3), // E5 and E6: a tie, apart
		det(detect.Box{X: 0.9, Y: 0.1, W: 0.05, H: 0.05}, 0.32, 0.3),
	}
	got := detect.NMS(in, darknetNMS)
	// Sorted: E2 0.9, E4 0.7, E1 0.6 (suppressed to 0 after the sort), E5 0.3, E6 0.3.
	type od struct{ obj, prob float32 }
	want := []od{{0.91, 0.9}, {0.5, 0.7}, {0.95, 0}, {0.31, 0.3}, {0.32, 0.3}}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = got[i].Objectness == want[i].obj && got[i].Prob[0] == want[i].prob
	}
	if !ok {
		t.Errorf("got\n%swant (objectness, probability) %v", dump(got), want)
	}
}

// TestCorrectLetterboxByHand maps boxes from a letterboxed network input back to the image,
// as darknet's correct_yolo_boxes: the image is scaled to newW×newH inside netW×netH
// (newW = netW and newH = imH·netW/imW, integer division, when netW/imW < netH/imH; the
// other way round otherwise), centred, so
//
//	x' = (x - (netW-newW)/2/netW) / (newW/netW),  w' = w·netW/newW,  and likewise y, h.
func TestCorrectLetterboxByHand(t *testing.T) {
	for _, tt := range []struct {
		name       string
		imW, imH   int
		netW, netH int
		in, want   detect.Box
		corners    [4]float64 // left, top, right, bottom in pixels of the image
	}{
		{
			// 416/768 < 416/576: newW = 416, newH = 576·416/768 = 312, 52 rows of padding above.
			// A box centred at net pixel (104, 156), 52×78 pixels: (0.25, 0.375, 0.125, 0.1875).
			// x' = 0.25, w' = 0.125; y' = (0.375 - 52/416)/(312/416) = 0.25/0.75 = 1/3,
			// h' = 0.1875·416/312 = 0.25. In the image: centre (192, 192), 96×144 pixels:
			// corners 144, 120, 240, 264 (the net box scaled by 768/416 after removing the padding).
			"landscape 768x576 in 416x416", 768, 576, 416, 416,
			detect.Box{X: 0.25, Y: 0.375, W: 0.125, H: 0.1875}, detect.Box{X: 0.25, Y: 1.0 / 3, W: 0.125, H: 0.25},
			[4]float64{144, 120, 240, 264},
		},
		{
			// The transpose: newW = 576·416/768 = 312, newH = 416, 52 columns of padding on the left.
			"portrait 576x768 in 416x416", 576, 768, 416, 416,
			detect.Box{X: 0.375, Y: 0.25, W: 0.1875, H: 0.125}, detect.Box{X: 1.0 / 3, Y: 0.25, W: 0.25, H: 0.125},
			[4]float64{120, 144, 264, 240},
		},
		{
			// newH = 575·416/768 = 311 (311.46 truncated); the padding (416-311)/2 = 52.5 is not
			// truncated (darknet divides by 2.). y' = (156 - 52.5)/311 = 103.5/311, h' = 78/311.
			// In the image: top = (103.5 - 39)/311·575 = 64.5·575/311, bottom = 142.5·575/311.
			"odd padding 768x575 in 416x416", 768, 575, 416, 416,
			detect.Box{X: 0.25, Y: 0.375, W: 0.125, H: 0.1875}, detect.Box{X: 0.25, Y: 103.5 / 311, W: 0.125, H: 78.0 / 311},
			[4]float64{144, 64.5 * 575 / 311, 240, 142.5 * 575 / 311},
		},
		{
			// A non-square network, 320 wide and 192 high: 320/640 = 0.5 is not below 192/480 = 0.4,
			// so newH = 192, newW = 640·192/480 = 256, 32 columns of padding on the left.
			// x' = (0.3 - 32/320)/(256/320) = 0.2/0.8 = 0.25, w' = 0.2·320/256 = 0.25; y, h unchanged.
			"640x480 in 320x192", 640, 480, 320, 192,
			detect.Box{X: 0.3, Y: 0.5, W: 0.2, H: 0.5}, detect.Box{X: 0.25, Y: 0.5, W: 0.25, H: 0.5},
			[4]float64{80, 120, 240, 360},
		},
		{
			// The network's aspect: newW×newH = 416×416, no padding, no change.
			"same aspect 832x832 in 416x416", 832, 832, 416, 416,
			detect.Box{X: 0.25, Y: 0.375, W: 0.125, H: 0.1875}, detect.Box{X: 0.25, Y: 0.375, W: 0.125, H: 0.1875},
			[4]float64{156, 234, 260, 390},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dets := []detect.Detection{det(tt.in, 0.9, 0.9)}
			detect.CorrectLetterbox(dets, tt.imW, tt.imH, tt.netW, tt.netH)
			if !nearBox(dets[0].Box, tt.want) {
				t.Errorf("corrected box %+v, want %+v", dets[0].Box, tt.want)
			}
			checkPixels(t, dets[0].Box, tt.imW, tt.imH, tt.corners)
		})
	}
}

func checkPixels(t *testing.T, b detect.Box, w, h int, want [4]float64) {
	t.Helper()
	l, tp, r, bt := b.Pixels(w, h)
	got := [4]float64{l, tp, r, bt}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-3 {
			t.Errorf("box %+v in %dx%d: corners %v, want %v", b, w, h, got, want)
			return
		}
	}
}

// TestFromOutputsLetterboxAndPlain finishes a detection of a 768×576 image from the output
// of a [yolo] head: a 416×416 network input pooled 32×32/32 to a 13×13 grid, one anchor
// slot (anchor 52×78 pixels), 2 classes. With a plain resize the box is relative to the
// image as it is; with a letterbox it is corrected as in TestCorrectLetterboxByHand.
func TestFromOutputsLetterboxAndPlain(t *testing.T) {
	net, err := model.NewNetwork(model.Shape{C: 7, H: 416, W: 416})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.Add(&model.MaxPool{Size: 32, Stride: 32}, []int{-1}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Add(&model.Yolo{Anchors: []float32{52, 78}, Mask: []int{0}, Classes: 2, ScaleXY: 1}, []int{0}, ""); err != nil {
		t.Fatal(err)
	}
	// The head's activated output: row 4, col 3: x = 0.25, y = 0.875, tw = th = 0,
	// objectness 0.8, class scores (0.75, 0.25). Box: x = (3 + 0.25)/13 = 0.25,
	// y = (4 + 0.875)/13 = 0.375, w = e^0·52/416 = 0.125, h = e^0·78/416 = 0.1875;
	// probabilities 0.8·(0.75, 0.25) = (0.6, 0.2): class 1 is not above 0.25.
	out := newTensor(1, 2, 13, 13, 0)
	out.set(0, 4, 3, 0.25, 0.875, 0, 0, 0.8, 0.75, 0.25)
	outs := [][]float32{nil, out.v} // only the head's output is read
	for _, tt := range []struct {
		mode    preprocess.Mode
		box     detect.Box
		corners [4]float64
	}{
		// Plain: corners (0.25 ∓ 0.0625)·768 = 144, 240 and (0.375 ∓ 0.09375)·576 = 162, 270.
		{preprocess.Plain, detect.Box{X: 0.25, Y: 0.375, W: 0.125, H: 0.1875}, [4]float64{144, 162, 240, 270}},
		// Letterbox: 52 rows of padding removed: (0.25, 1/3, 0.125, 0.25), corners 144, 120, 240, 264.
		{preprocess.Letterbox, detect.Box{X: 0.25, Y: 1.0 / 3, W: 0.125, H: 0.25}, [4]float64{144, 120, 240, 264}},
	} {
		t.Run(tt.mode.String(), func(t *testing.T) {
			objs := detect.FromOutputs(net, outs, 768, 576, tt.mode, 0.25, darknetNMS)
			if len(objs) != 1 || objs[0].Class != 0 || !near(objs[0].Score, 0.6) || !near(objs[0].Objectness, 0.8) {
				t.Fatalf("objects %+v, want one of class 0, score 0.6, objectness 0.8", objs)
			}
			if !nearBox(objs[0].Box, tt.box) {
				t.Errorf("box %+v, want %+v", objs[0].Box, tt.box)
			}
			checkPixels(t, objs[0].Box, 768, 576, tt.corners)
		})
	}
}

// TestPixelsClips: corners are clipped to the image as darknet's draw_detections clips
// them: left and top at 0, right at w-1, bottom at h-1 (here a 200×100 image).
func TestPixelsClips(t *testing.T) {
	for _, tt := range []struct {
		name string
		box  detect.Box
		want [4]float64
	}{
		// Inside: (0.5 ∓ 0.25)·200 = 50, 150; (0.5 ∓ 0.25)·100 = 25, 75.
		{"inside", detect.Box{X: 0.5, Y: 0.5, W: 0.5, H: 0.5}, [4]float64{50, 25, 150, 75}},
		// Left (0.05 - 0.1)·200 = -10 → 0, right 0.15·200 = 30; top (0.9 - 0.2)·100 = 70,
		// bottom 1.1·100 = 110 → 99.
		{"bottom left", detect.Box{X: 0.05, Y: 0.9, W: 0.2, H: 0.4}, [4]float64{0, 70, 30, 99}},
		// Left 0.85·200 = 170, right 1.05·200 = 210 → 199; top -0.1·100 → 0, bottom 0.3·100 = 30.
		{"top right", detect.Box{X: 0.95, Y: 0.1, W: 0.2, H: 0.4}, [4]float64{170, 0, 199, 30}},
		// Larger than the image: the whole image.
		{"everything", detect.Box{X: 0.5, Y: 0.5, W: 3, H: 3}, [4]float64{0, 0, 199, 99}},
	} {
		t.Run(tt.name, func(t *testing.T) { checkPixels(t, tt.box, 200, 100, tt.want) })
	}
}
