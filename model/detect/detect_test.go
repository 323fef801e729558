package detect_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"spikeyolo/model"
	"spikeyolo/model/darknet"
	"spikeyolo/model/darknetref"
	"spikeyolo/model/detect"
	"spikeyolo/model/preprocess"
)

// TestDetectionsMatchDarknet checks every model × image against darknet's detections at
// threshold 0.1: the same (class, box) set, scores within scoreTol, boxes within 1.5 pixels.
// From darknet's decoded bytes the scores agree to 0.005; from the JPEG files (decoded by Go,
// slightly differently) to 0.05.
func TestDetectionsMatchDarknet(t *testing.T) {
	dir := darknetref.Dir(t)
	for _, src := range []struct {
		name     string
		path     func(img string) string
		scoreTol float64
	}{
		{"decoded", func(img string) string { return filepath.Join(dir, "reference", "decoded", img+".decoded.png") }, 0.005},
		{"jpeg", func(img string) string { return filepath.Join(dir, "images", img+".jpg") }, 0.05},
	} {
		for _, m := range darknetref.Models(dir) {
			net, err := darknet.Load(m.Cfg, m.Weights)
			if err != nil {
				t.Fatal(err)
			}
			names, err := detect.ReadNames(m.Names)
			if err != nil {
				t.Fatal(err)
			}
			r := model.NewRunner(net)
			for _, img := range darknetref.Images {
				t.Run(src.name+"/"+m.Name+"/"+img, func(t *testing.T) {
					want, err := darknetref.ReadDets(filepath.Join(dir, "reference", m.Name, img+".dets.txt"))
					if err != nil {
						t.Fatal(err)
					}
					im, err := preprocess.Load(src.path(img))
					if err != nil {
						t.Fatal(err)
					}
					got := detect.Image(net, r, im, preprocess.Plain, 0.1, 0.45)
					if src.name == "jpeg" {
						// Scores near the threshold may cross it when the decoder differs.
						want = dropNear(want, 0.1, src.scoreTol)
						got = dropNearObj(got, 0.1, src.scoreTol)
					}
					compare(t, names, im, got, want, src.scoreTol)
				})
			}
		}
	}
}

func dropNear(dets []darknetref.Det, thresh, tol float64) []darknetref.Det {
	var out []darknetref.Det
	for _, d := range dets {
		if d.Prob > thresh+tol {
			out = append(out, d)
		}
	}
	return out
}

func dropNearObj(objs []detect.Object, thresh, tol float64) []detect.Object {
	var out []detect.Object
	for _, o := range objs {
		if float64(o.Score) > thresh+tol {
			out = append(out, o)
		}
	}
	return out
}

// compare matches each of darknet's detections to one of ours of the same class whose box
// corners are within 1.5 pixels, and checks the score; both sets must have the same size.
func compare(t *testing.T, names []string, im preprocess.Image, got []detect.Object, want []darknetref.Det, scoreTol float64) {
	t.Helper()
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for i, g := range got {
			if used[i] || names[g.Class] != w.Class {
				continue
			}
			l, tp, r, b := g.Box.Pixels(im.W, im.H)
			// darknet truncates corners to integers.
			d := max(math.Abs(math.Trunc(l)-float64(w.Left)), math.Abs(math.Trunc(tp)-float64(w.Top)),
				math.Abs(math.Trunc(r)-float64(w.Right)), math.Abs(math.Trunc(b)-float64(w.Bottom)))
			if d > 1.5 {
				continue
			}
			used[i], found = true, true
			if e := math.Abs(float64(g.Score) - w.Prob); e > scoreTol {
				t.Errorf("%s at %d,%d,%d,%d: score %.4f, darknet %.4f", w.Class, w.Left, w.Top, w.Right, w.Bottom, g.Score, w.Prob)
			}
			break
		}
		if !found {
			t.Errorf("darknet's %s %.4f at %d,%d,%d,%d: no match among ours:\n%s", w.Class, w.Prob, w.Left, w.Top, w.Right, w.Bottom, list(names, im, got))
		}
	}
	for i, g := range got {
		if !used[i] {
			l, tp, r, b := g.Box.Pixels(im.W, im.H)
			t.Errorf("ours %s %.4f at %.0f,%.0f,%.0f,%.0f: not among darknet's", names[g.Class], g.Score, l, tp, r, b)
		}
	}
}

func list(names []string, im preprocess.Image, objs []detect.Object) string {
	s := ""
	for _, o := range objs {
		l, t, r, b := o.Box.Pixels(im.W, im.H)
		s += fmt.Sprintf("  %s %.4f %.1f %.1f %.1f %.1f\n", names[o.Class], o.Score, l, t, r, b)
	}
	return s
}
