// Package detect turns the outputs of a detector's heads into detections, as darknet does:
// box decoding of [region] (YOLOv2) and [yolo] (YOLOv3) heads, class probability =
// objectness × class score, darknet's per-class non-maximum suppression (do_nms_sort), and
// class names.
//
// Boxes are (centre x, centre y, width, height) relative to the image, in [0, 1] for boxes
// inside it; Pixels converts them to pixel corners clipped to the image as darknet draws them.
package detect

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"spikeyolo/model"
	"spikeyolo/model/preprocess"
)

// Box is a box by its centre and size, relative to the image width and height.
type Box struct{ X, Y, W, H float32 }

// Detection is one anchor of one cell whose objectness passed the threshold: its box and,
// per class, objectness × class score (0 where that is not above the threshold).
type Detection struct {
	Box        Box
	Objectness float32
	Prob       []float32
}

// Check reports whether net can detect: it needs at least one [region] or [yolo] head, and
// heads whose anchors are positive box sizes (and, for [yolo], a positive scale_x_y). A
// darknet cfg without a head parses (it is a backbone to inspect or convert); detecting with
// it would report no objects, so detect, eval and map call Check first. name (the cfg's)
// is used in the error.
func Check(net *model.Network, name string) error {
	heads := net.Heads()
	if len(heads) == 0 {
		return fmt.Errorf("%s: no [region] or [yolo] head: a detector needs one", name)
	}
	for _, i := range heads {
		l := net.Layers[i]
		at := fmt.Sprintf("%s: layer %d [%s]", name, i, l.Op.Kind())
		if l.Source != "" {
			at = fmt.Sprintf("%s: [%s]", l.Source, l.Op.Kind())
		}
		var anchors []float32
		switch op := l.Op.(type) {
		case *model.Region:
			anchors = op.Anchors
		case *model.Yolo:
			anchors = op.Anchors
			if !(op.ScaleXY > 0) || math.IsInf(float64(op.ScaleXY), 0) {
				return fmt.Errorf("%s: scale_x_y = %v: want a finite number > 0", at, op.ScaleXY)
			}
		}
		for k, a := range anchors {
			if !(a > 0) || math.IsInf(float64(a), 0) {
				return fmt.Errorf("%s: anchor value %d is %v: want a finite box size > 0", at, k+1, a)
			}
		}
		if in := l.Inputs[0]; in >= 0 {
			switch net.Layers[in].Op.(type) {
			case *model.Region, *model.Yolo:
				return fmt.Errorf("%s: reads layer %d, another head", at, in)
			}
		}
	}
	return nil
}

// Heads decodes every detection head of net from the layer outputs of one run (model.Runner's
// result), in head order. Boxes are relative to the network input; see Correct. A detection is
// kept when its objectness is above thresh.
func Heads(net *model.Network, outs [][]float32, thresh float32) []Detection {
	var dets []Detection
	for _, i := range net.Heads() {
		switch op := net.Layers[i].Op.(type) {
		case *model.Region:
			dets = append(dets, Region(op, net.Layers[i].Out, outs[i], thresh)...)
		case *model.Yolo:
			dets = append(dets, Yolo(op, net.Layers[i].Out, outs[i], net.Input, thresh)...)
		}
	}
	return dets
}

// Region decodes the output (after activation) of a [region] head of shape s, as darknet's
// get_region_detections: box = ((col + x)/W, (row + y)/H, e^w·anchor_w/W, e^h·anchor_h/H).
func Region(r *model.Region, s model.Shape, out []float32, thresh float32) []Detection {
	anchors := make([][2]float32, r.Num)
	for a := range anchors {
		anchors[a] = [2]float32{r.Anchors[2*a], r.Anchors[2*a+1]}
	}
	// Anchors are in grid cells: relative sizes divide by the grid.
	return decode(out, s, anchors, r.Coords, r.Classes, float64(s.W), float64(s.H), thresh)
}

// Yolo decodes the output (after activation) of a [yolo] head of shape s for a network input
// of shape in, as darknet's get_yolo_detections: box = ((col + x)/W, (row + y)/H,
// e^w·anchor_w/in.W, e^h·anchor_h/in.H), anchors in input pixels.
func Yolo(y *model.Yolo, s model.Shape, out []float32, in model.Shape, thresh float32) []Detection {
	anchors := make([][2]float32, len(y.Mask))
	for a, m := range y.Mask {
		anchors[a] = [2]float32{y.Anchors[2*m], y.Anchors[2*m+1]}
	}
	return decode(out, s, anchors, 4, y.Classes, float64(in.W), float64(in.H), thresh)
}

// decode reads a head's output: for each cell and anchor a, entries x, y, w, h, then the
// objectness (entry obj), then the class scores, each an H×W plane. Box sizes are
// e^w·anchor/sizeW and e^h·anchor/sizeH. Detections are kept where the objectness is above
// thresh, their class probabilities where objectness × score is.
func decode(out []float32, s model.Shape, anchors [][2]float32, obj, classes int, sizeW, sizeH float64, thresh float32) []Detection {
	hw := s.H * s.W
	per := (obj + 1 + classes) * hw
	var dets []Detection
	for cell := 0; cell < hw; cell++ {
		row, col := cell/s.W, cell%s.W
		for a, anchor := range anchors {
			at := func(entry int) float32 { return out[a*per+entry*hw+cell] }
			objectness := at(obj)
			if !(objectness > thresh) {
				continue
			}
			d := Detection{Objectness: objectness, Prob: make([]float32, classes)}
			d.Box = Box{
				X: (float32(col) + at(0)) / float32(s.W),
				Y: (float32(row) + at(1)) / float32(s.H),
				W: float32(math.Exp(float64(at(2))) * float64(anchor[0]) / sizeW),
				H: float32(math.Exp(float64(at(3))) * float64(anchor[1]) / sizeH),
			}
			for c := range d.Prob {
				if p := objectness * at(obj+1+c); p > thresh {
					d.Prob[c] = p
				}
			}
			dets = append(dets, d)
		}
	}
	return dets
}

// CorrectLetterbox maps boxes relative to a letterboxed network input of netW×netH back to
// an imW×imH image (darknet's correct_yolo_boxes). Boxes from a plain resize need no
// correction.
func CorrectLetterbox(dets []Detection, imW, imH, netW, netH int) {
	newW, newH := preprocess.LetterboxSize(imW, imH, netW, netH)
	for i := range dets {
		b := &dets[i].Box
		b.X = float32((float64(b.X) - float64(netW-newW)/2/float64(netW)) / float64(float32(newW)/float32(netW)))
		b.Y = float32((float64(b.Y) - float64(netH-newH)/2/float64(netH)) / float64(float32(newH)/float32(netH)))
		b.W *= float32(netW) / float32(newW)
		b.H *= float32(netH) / float32(newH)
	}
}

// IoU is darknet's box_iou: intersection over union of two centre-size boxes, in float32.
func IoU(a, b Box) float32 {
	overlap := func(x1, w1, x2, w2 float32) float32 {
		left := max(x1-w1/2, x2-w2/2)
		right := min(x1+w1/2, x2+w2/2)
		return right - left
	}
	w := overlap(a.X, a.W, b.X, b.W)
	h := overlap(a.Y, a.H, b.Y, b.H)
	if w < 0 || h < 0 {
		return 0
	}
	inter := w * h
	union := a.W*a.H + b.W*b.H - inter
	return inter / union
}

// NMS is darknet's do_nms_sort: for each class, detections in order of decreasing
// probability suppress (set to 0) that class's probability in later detections whose IoU
// with them exceeds thresh. Detections with zero objectness are dropped. It reorders dets
// (darknet's qsort is not stable; here ties keep their earlier order, so the result is
// deterministic) and returns the kept prefix.
func NMS(dets []Detection, thresh float32) []Detection {
	dets = slices.DeleteFunc(dets, func(d Detection) bool { return d.Objectness == 0 })
	if len(dets) == 0 {
		return dets
	}
	for k := range dets[0].Prob {
		slices.SortStableFunc(dets, func(a, b Detection) int {
			switch {
			case a.Prob[k] > b.Prob[k]:
				return -1
			case a.Prob[k] < b.Prob[k]:
				return 1
			}
			return 0
		})
		for i := range dets {
			if dets[i].Prob[k] == 0 {
				continue
			}
			for j := i + 1; j < len(dets); j++ {
				if IoU(dets[i].Box, dets[j].Box) > thresh {
					dets[j].Prob[k] = 0
				}
			}
		}
	}
	return dets
}

// Object is one (detection, class) pair whose probability passed the threshold.
type Object struct {
	Class      int
	Score      float32 // objectness × class score
	Objectness float32
	Box        Box
}

// Objects lists, for each detection in order, every class with probability above thresh, as
// darknet prints them.
func Objects(dets []Detection, thresh float32) []Object {
	var objs []Object
	for _, d := range dets {
		for c, p := range d.Prob {
			if p > thresh {
				objs = append(objs, Object{Class: c, Score: p, Objectness: d.Objectness, Box: d.Box})
			}
		}
	}
	return objs
}

// Pixels gives the box corners in pixels of a w×h image, clipped to it, as darknet's
// draw_detections computes them (but without truncating to integers).
func (b Box) Pixels(w, h int) (left, top, right, bottom float64) {
	left = max(0, (float64(b.X)-float64(b.W)/2)*float64(w))
	right = min(float64(w-1), (float64(b.X)+float64(b.W)/2)*float64(w))
	top = max(0, (float64(b.Y)-float64(b.H)/2)*float64(h))
	bottom = min(float64(h-1), (float64(b.Y)+float64(b.H)/2)*float64(h))
	return
}

// ReadNames reads a darknet .names file: one class name per line.
func ReadNames(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseNames(f, path)
}

// ParseNames reads class names, one per line; surrounding white space is trimmed, and blank
// lines are allowed only at the end. name is used in error messages.
func ParseNames(r io.Reader, name string) ([]string, error) {
	var names []string
	blank := 0
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			if blank == 0 {
				blank = n
			}
			continue
		}
		if blank != 0 {
			return nil, fmt.Errorf("%s:%d: blank line among the class names: every line names one class", name, blank)
		}
		names = append(names, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no class names", name)
	}
	return names, nil
}

// Image runs net on an image fitted to its input by mode and returns the objects above
// thresh after non-maximum suppression at nms, boxes relative to the image. r must be a
// runner of net.
func Image(net *model.Network, r *model.Runner, im preprocess.Image, mode preprocess.Mode, thresh, nms float32) []Object {
	return FromOutputs(net, r.Run(im.Fit(net.Input.W, net.Input.H, mode).Data), im.W, im.H, mode, thresh, nms)
}

// FromOutputs finishes a detection from the heads' outputs (outs indexed by layer; only the
// heads are read) of an imW×imH image fitted by mode: decoding, letterbox correction,
// non-maximum suppression at nms, and the objects above thresh.
func FromOutputs(net *model.Network, outs [][]float32, imW, imH int, mode preprocess.Mode, thresh, nms float32) []Object {
	dets := Heads(net, outs, thresh)
	if mode == preprocess.Letterbox {
		CorrectLetterbox(dets, imW, imH, net.Input.W, net.Input.H)
	}
	return Objects(NMS(dets, nms), thresh)
}
