package metrics

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strings"
)

// APMethod selects how AveragePrecision summarises a precision/recall curve.
// All methods first replace each precision by its envelope: the highest
// precision reached at that recall or any higher recall.
type APMethod int

const (
	// AllPoint is the PASCAL VOC 2010+ method: the exact area under the
	// precision envelope as a function of recall.
	AllPoint APMethod = iota
	// ElevenPoint is the PASCAL VOC 2007 method: the mean of the envelope
	// at the recalls 0, 0.1, ..., 1 (0 where a recall is never reached).
	ElevenPoint
	// COCO101 is the pycocotools method: the mean of the envelope at the
	// recalls 0, 0.01, ..., 1 (0 where a recall is never reached).
	COCO101
)

// AveragePrecision returns the average precision of the predictions of one
// class against the ground truth, following the PASCAL VOC devkit
// (voc_eval.py), and nTruth, the number of non-difficult ground-truth objects
// of that class. If nTruth is 0, AP is undefined and ap is returned as 0;
// callers should skip such classes. Objects and predictions of other classes
// are ignored.
//
// Predictions are taken by descending score; equal scores are ordered by
// Image, then by input order (the sort is stable), so the result does not
// depend on the sort algorithm. NaN scores come last.
//
// Each prediction is compared with every ground-truth object of its image and
// class, difficult or not, matched or not, and takes the one with the highest
// IoU (the first in input order on ties). As in the VOC devkit, there is no
// fall-back to the second-best object:
//   - if that IoU is below the iou threshold (or the image has no object), the
//     prediction is a false positive;
//   - otherwise, if the object is difficult, the prediction is ignored: it is
//     neither a true nor a false positive;
//   - otherwise, if the object was matched by a higher-ranked prediction, the
//     prediction is a false positive (a duplicate);
//   - otherwise it is a true positive and the object becomes matched.
//
// The devkit requires IoU > threshold; this function requires IoU >= iou, as
// pycocotools does. The two differ only when an IoU equals the threshold.
//
// Recall is the number of true positives divided by nTruth; precision is the
// number of true positives divided by the number of true and false positives.
// method selects how the curve is summarised; AveragePrecision panics if it
// is not one of the APMethod constants.
func AveragePrecision(preds []Prediction, truth []Object, class int, iou float64, method APMethod) (ap float64, nTruth int) {
	var p []Prediction
	for _, x := range preds {
		if x.Class == class {
			p = append(p, x)
		}
	}
	var t []Object
	for _, x := range truth {
		if x.Class == class {
			t = append(t, x)
		}
	}
	return classAP(p, t, iou, method)
}

// MeanAP returns the mean of AveragePrecision over the classes 0..classes-1
// that have at least one non-difficult ground-truth object, and the AP of
// every class in perClass (len(perClass) == classes), which holds NaN for
// classes without such objects. If no class has one, mean is NaN. Objects
// and predictions whose class is outside 0..classes-1 are ignored.
func MeanAP(preds []Prediction, truth []Object, classes int, iou float64, method APMethod) (mean float64, perClass []float64) {
	classes = max(classes, 0)
	p := make([][]Prediction, classes)
	for _, x := range preds {
		if 0 <= x.Class && x.Class < classes {
			p[x.Class] = append(p[x.Class], x)
		}
	}
	t := make([][]Object, classes)
	for _, x := range truth {
		if 0 <= x.Class && x.Class < classes {
			t[x.Class] = append(t[x.Class], x)
		}
	}
	perClass = make([]float64, classes)
	sum, n := 0.0, 0
	for c := range classes {
		ap, nTruth := classAP(p[c], t[c], iou, method)
		if nTruth == 0 {
			perClass[c] = math.NaN()
			continue
		}
		perClass[c] = ap
		sum += ap
		n++
	}
	if n == 0 {
		return math.NaN(), perClass
	}
	return sum / float64(n), perClass
}

// COCOMeanAP returns the COCO primary metric, mAP@[.50:.95]: the mean of
// MeanAP with the COCO101 method over the IoU thresholds 0.50, 0.55, ..., 0.95
// (each the float64 nearest to the decimal value). It is NaN when no class
// 0..classes-1 has a non-difficult ground-truth object.
//
// It differs from pycocotools in the matching, which follows the VOC rule of
// AveragePrecision (pycocotools falls back to the best unmatched object, and
// treats crowd regions differently from difficult objects), and in having no
// limit on the number of predictions per image (pycocotools keeps the 100
// highest-scoring, maxDets=100) and no object-size ranges.
func COCOMeanAP(preds []Prediction, truth []Object, classes int) float64 {
	sum := 0.0
	for i := range 10 {
		m, _ := MeanAP(preds, truth, classes, float64(50+5*i)/100, COCO101)
		sum += m
	}
	return sum / 10
}

// classAP is AveragePrecision for predictions and truth already restricted to
// one class.
func classAP(preds []Prediction, truth []Object, iou float64, method APMethod) (float64, int) {
	prec, rec, nTruth := curve(preds, truth, iou)
	if nTruth == 0 {
		return 0, 0
	}
	for i := len(prec) - 2; i >= 0; i-- {
		prec[i] = max(prec[i], prec[i+1]) // envelope
	}
	switch method {
	case AllPoint:
		ap, prev := 0.0, 0.0
		for i, r := range rec {
			ap += (r - prev) * prec[i]
			prev = r
		}
		return ap, nTruth
	case ElevenPoint:
		return interpolated(prec, rec, 10), nTruth
	case COCO101:
		return interpolated(prec, rec, 100), nTruth
	}
	panic("metrics: unknown APMethod")
}

// interpolated returns the mean of the precision envelope env at the recalls
// i/n for i = 0..n, taking 0 at recalls above the highest one reached. rec is
// non-decreasing.
func interpolated(env, rec []float64, n int) float64 {
	sum := 0.0
	for i := 0; i <= n; i++ {
		k := sort.SearchFloat64s(rec, float64(i)/float64(n)) // first rec[k] >= i/n
		if k < len(rec) {
			sum += env[k]
		}
	}
	return sum / float64(n+1)
}

// curve ranks and matches the predictions of one class as AveragePrecision
// documents and returns the precision and recall after each prediction that
// is not ignored, and the number of non-difficult objects. It returns no
// curve when that number is 0.
func curve(preds []Prediction, truth []Object, iou float64) (prec, rec []float64, nTruth int) {
	byImage := make(map[string][]int) // image key -> indices into truth
	for i, o := range truth {
		byImage[o.Image] = append(byImage[o.Image], i)
		if !o.Difficult {
			nTruth++
		}
	}
	if nTruth == 0 {
		return nil, nil, 0
	}
	ranked := slices.Clone(preds)
	slices.SortStableFunc(ranked, func(a, b Prediction) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.Image, b.Image)
	})
	matched := make([]bool, len(truth))
	tp, fp := 0, 0
	for _, p := range ranked {
		best, bestIoU := -1, math.Inf(-1)
		for _, i := range byImage[p.Image] {
			if v := p.Box.IoU(truth[i].Box); v > bestIoU {
				best, bestIoU = i, v
			}
		}
		switch {
		case best < 0 || bestIoU < iou:
			fp++
		case truth[best].Difficult:
			continue
		case matched[best]:
			fp++
		default:
			matched[best] = true
			tp++
		}
		prec = append(prec, float64(tp)/float64(tp+fp))
		rec = append(rec, float64(tp)/float64(nTruth))
	}
	return prec, rec, nTruth
}
