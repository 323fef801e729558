package metrics_test

import (
	"math"
	"slices"
	"testing"

	"spikeyolo/model/metrics"
)

var (
	boxA   = metrics.Box{Left: 0, Top: 0, Right: 10, Bottom: 10}
	boxB   = metrics.Box{Left: 20, Top: 20, Right: 30, Bottom: 30}
	boxFar = metrics.Box{Left: 50, Top: 50, Right: 60, Bottom: 60} // disjoint from boxA and boxB
)

func obj(image string, class int, b metrics.Box) metrics.Object {
	return metrics.Object{Image: image, Class: class, Box: b}
}

func pred(image string, class int, score float64, b metrics.Box) metrics.Prediction {
	return metrics.Prediction{Image: image, Class: class, Score: score, Box: b}
}

// Three class-0 objects in two images, and five class-0 predictions giving
// TP, FP, TP, FP, TP by descending score, plus class-1 noise that must not
// matter.
var (
	seqTruth = []metrics.Object{
		obj("a", 0, boxA), obj("a", 0, boxB), obj("b", 0, boxA),
		obj("b", 1, boxB),
	}
	seqPreds = []metrics.Prediction{
		pred("a", 0, 0.5, boxB),   // 5th: TP (a/boxB)
		pred("a", 0, 0.8, boxFar), // 2nd: FP (no overlap)
		pred("a", 0, 0.9, boxA),   // 1st: TP (a/boxA)
		pred("a", 0, 0.6, boxA),   // 4th: FP (a/boxA already matched)
		pred("b", 0, 0.7, boxA),   // 3rd: TP (b/boxA)
		pred("a", 1, 0.95, boxA),  // other class: ignored
		pred("b", 1, 0.99, boxFar),
	}
)

// Curve of seqPreds, nTruth = 3:
//
//	k  result  tp fp  precision  recall  envelope (max precision at k or later)
//	1  TP      1  0   1          1/3     1
//	2  FP      1  1   1/2        1/3     2/3
//	3  TP      2  1   2/3        2/3     2/3
//	4  FP      2  2   1/2        2/3     3/5
//	5  TP      3  2   3/5        1       3/5
const (
	// all-point: (1/3-0)*1 + (2/3-1/3)*2/3 + (1-2/3)*3/5
	//          = 1/3 + 2/9 + 1/5 = (15+10+9)/45 = 34/45
	seqAllPoint = 34.0 / 45
	// 11-point: recalls 0, .1, .2, .3 <= 1/3 take k=1: 4 × 1;
	// .4, .5, .6 <= 2/3 take k=3: 3 × 2/3 = 2; .7, .8, .9, 1 take k=5: 4 × 3/5 = 2.4.
	// (4 + 2 + 2.4) / 11 = 8.4/11 = 42/55
	seqEleven = 42.0 / 55
	// 101-point: recalls .00-.33 take k=1: 34 × 1 = 34; .34-.66 take k=3:
	// 33 × 2/3 = 22; .67-1.00 take k=5: 34 × 3/5 = 20.4.
	// (34 + 22 + 20.4) / 101 = 76.4/101 = 382/505
	seqCOCO = 382.0 / 505
)

func TestAveragePrecision(t *testing.T) {
	tests := []struct {
		name   string
		preds  []metrics.Prediction
		truth  []metrics.Object
		iou    float64
		method metrics.APMethod
		wantAP float64
		wantN  int
	}{
		{"TP,FP,TP,FP,TP all-point", seqPreds, seqTruth, 0.5, metrics.AllPoint, seqAllPoint, 3},
		{"TP,FP,TP,FP,TP 11-point", seqPreds, seqTruth, 0.5, metrics.ElevenPoint, seqEleven, 3},
		{"TP,FP,TP,FP,TP 101-point", seqPreds, seqTruth, 0.5, metrics.COCO101, seqCOCO, 3},
		{
			// TP (p 1, r 1/2), duplicate FP (p 1/2, r 1/2), TP (p 2/3, r 1);
			// envelope 1, 2/3, 2/3; AP = 1/2*1 + 0 + 1/2*2/3 = 5/6.
			// Were the duplicate not an FP, AP would be 1.
			name: "duplicate is FP",
			preds: []metrics.Prediction{
				pred("a", 0, 0.9, boxA), pred("a", 0, 0.8, boxA), pred("b", 0, 0.7, boxB),
			},
			truth:  []metrics.Object{obj("a", 0, boxA), obj("b", 0, boxB)},
			iou:    0.5,
			method: metrics.AllPoint,
			wantAP: 5.0 / 6,
			wantN:  2,
		},
		{
			// Objects boxA and top (IoU 50/100 = 1/2 between them). The second
			// prediction has IoU 1 with boxA (taken) and 1/2 with top: VOC
			// takes boxA and makes it an FP. Curve: (p 1, r 1/2), (p 1/2, r 1/2);
			// AP = 1/2*1 = 1/2 (it would be 1 with a fall-back to top).
			name:   "no fall-back to second-best object",
			preds:  []metrics.Prediction{pred("a", 0, 0.9, boxA), pred("a", 0, 0.8, boxA)},
			truth:  []metrics.Object{obj("a", 0, boxA), obj("a", 0, metrics.Box{Left: 0, Top: 0, Right: 10, Bottom: 5})},
			iou:    0.5,
			method: metrics.AllPoint,
			wantAP: 0.5,
			wantN:  2,
		},
		{
			// The 0.9 prediction hits the difficult object: ignored, so the
			// curve is the single point (p 1, r 1/1): AP 1, nTruth 1.
			// Counted as FP it would give (0, 0), (1/2, 1): AP 1/2.
			name:  "difficult object ignored",
			preds: []metrics.Prediction{pred("a", 0, 0.9, boxB), pred("a", 0, 0.8, boxA)},
			truth: []metrics.Object{
				obj("a", 0, boxA),
				{Image: "a", Class: 0, Box: boxB, Difficult: true},
			},
			iou:    0.5,
			method: metrics.AllPoint,
			wantAP: 1,
			wantN:  1,
		},
		{
			name:   "only difficult objects",
			preds:  []metrics.Prediction{pred("a", 0, 0.9, boxA)},
			truth:  []metrics.Object{{Image: "a", Class: 0, Box: boxA, Difficult: true}},
			iou:    0.5,
			method: metrics.AllPoint,
			wantAP: 0,
			wantN:  0,
		},
		{
			name:   "no object of the class",
			preds:  []metrics.Prediction{pred("a", 0, 0.9, boxA)},
			truth:  []metrics.Object{obj("a", 1, boxA)},
			iou:    0.5,
			method: metrics.AllPoint,
			wantAP: 0,
			wantN:  0,
		},
		{
			name:   "no predictions",
			truth:  []metrics.Object{obj("a", 0, boxA)},
			iou:    0.5,
			method: metrics.ElevenPoint,
			wantAP: 0,
			wantN:  1,
		},
		{
			// Image "z" has no object: FP. Curve (p 0, r 0), (p 1/2, r 1);
			// envelope 1/2, 1/2. All-point: 0*1/2 + 1*1/2 = 1/2.
			name:   "prediction on an image without objects",
			preds:  []metrics.Prediction{pred("z", 0, 0.9, boxA), pred("a", 0, 0.8, boxA)},
			truth:  []metrics.Object{obj("a", 0, boxA)},
			iou:    0.5,
			method: metrics.AllPoint,
			wantAP: 0.5,
			wantN:  1,
		},
		{
			// Same curve; 11-point: recall 0 takes k=1 (envelope 1/2), the
			// ten others k=2 (1/2): 11 × 1/2 / 11 = 1/2.
			name:   "prediction on an image without objects, 11-point",
			preds:  []metrics.Prediction{pred("z", 0, 0.9, boxA), pred("a", 0, 0.8, boxA)},
			truth:  []metrics.Object{obj("a", 0, boxA)},
			iou:    0.5,
			method: metrics.ElevenPoint,
			wantAP: 0.5,
			wantN:  1,
		},
		{
			// IoU 72/100 (see TestIoU) >= 0.70: TP, AP 1.
			name:   "IoU 0.72 at threshold 0.70",
			preds:  []metrics.Prediction{pred("a", 0, 0.9, metrics.Box{Left: 0, Top: 0, Right: 9, Bottom: 8})},
			truth:  []metrics.Object{obj("a", 0, boxA)},
			iou:    0.70,
			method: metrics.AllPoint,
			wantAP: 1,
			wantN:  1,
		},
		{
			// IoU 0.72 < 0.75: FP, AP 0.
			name:   "IoU 0.72 at threshold 0.75",
			preds:  []metrics.Prediction{pred("a", 0, 0.9, metrics.Box{Left: 0, Top: 0, Right: 9, Bottom: 8})},
			truth:  []metrics.Object{obj("a", 0, boxA)},
			iou:    0.75,
			method: metrics.AllPoint,
			wantAP: 0,
			wantN:  1,
		},
		{
			// IoU exactly 50/100 = 0.5 counts at threshold 0.5 (>=).
			name:   "IoU equal to threshold",
			preds:  []metrics.Prediction{pred("a", 0, 0.9, metrics.Box{Left: 0, Top: 0, Right: 10, Bottom: 5})},
			truth:  []metrics.Object{obj("a", 0, boxA)},
			iou:    0.5,
			method: metrics.AllPoint,
			wantAP: 1,
			wantN:  1,
		},
	}
	for _, tc := range tests {
		ap, n := metrics.AveragePrecision(tc.preds, tc.truth, 0, tc.iou, tc.method)
		if !near(ap, tc.wantAP) || n != tc.wantN {
			t.Errorf("%s: AveragePrecision = %v, %d; want %v, %d", tc.name, ap, n, tc.wantAP, tc.wantN)
		}
	}
}

// TestAveragePrecisionTies checks that equal scores are ordered by image,
// then by input order, whatever the order of the input.
func TestAveragePrecisionTies(t *testing.T) {
	// One object, in image "b". A miss in "a" and a hit in "b", both 0.5:
	// "a" < "b" puts the FP first: (p 0, r 0), (p 1/2, r 1), AP = 1*1/2 = 1/2
	// in both input orders (hit first would give (1, 1), (1/2, 1), AP 1).
	truth := []metrics.Object{obj("b", 0, boxA)}
	miss, hit := pred("a", 0, 0.5, boxA), pred("b", 0, 0.5, boxA)
	for _, preds := range [][]metrics.Prediction{{miss, hit}, {hit, miss}} {
		if ap, _ := metrics.AveragePrecision(preds, truth, 0, 0.5, metrics.AllPoint); !near(ap, 0.5) {
			t.Errorf("ties across images %v: AP = %v, want 1/2", preds, ap)
		}
	}

	// Same image and score: input order decides. Miss first: AP 1/2 as
	// above; hit first: (p 1, r 1), (p 1/2, r 1), envelope 1, 1/2, AP = 1*1 = 1.
	truth = []metrics.Object{obj("a", 0, boxA)}
	miss, hit = pred("a", 0, 0.5, boxFar), pred("a", 0, 0.5, boxA)
	if ap, _ := metrics.AveragePrecision([]metrics.Prediction{miss, hit}, truth, 0, 0.5, metrics.AllPoint); !near(ap, 0.5) {
		t.Errorf("ties in one image, miss first: AP = %v, want 1/2", ap)
	}
	if ap, _ := metrics.AveragePrecision([]metrics.Prediction{hit, miss}, truth, 0, 0.5, metrics.AllPoint); !near(ap, 1) {
		t.Errorf("ties in one image, hit first: AP = %v, want 1", ap)
	}
}

func TestMeanAP(t *testing.T) {
	truth := []metrics.Object{
		obj("a", 0, boxA),                    // class 0
		obj("b", 2, boxA), obj("b", 2, boxB), // class 2
		obj("a", 5, boxA), // out of range: ignored
	}
	preds := []metrics.Prediction{
		pred("a", 0, 0.9, boxA),   // class 0: TP; curve (1, 1): AP 1
		pred("a", 1, 0.8, boxA),   // class 1 has no object: NaN
		pred("b", 2, 0.9, boxA),   // class 2: TP (p 1, r 1/2)
		pred("b", 2, 0.8, boxFar), // class 2: FP (p 1/2, r 1/2); AP = 1/2*1 = 1/2
	}
	// mean over classes 0 and 2: (1 + 1/2) / 2 = 3/4.
	mean, per := metrics.MeanAP(preds, truth, 3, 0.5, metrics.AllPoint)
	wantPer := []float64{1, math.NaN(), 0.5}
	if !near(mean, 0.75) || !slices.EqualFunc(per, wantPer, near) {
		t.Errorf("MeanAP = %v, %v; want 0.75, %v", mean, per, wantPer)
	}

	mean, per = metrics.MeanAP(preds, nil, 2, 0.5, metrics.AllPoint)
	if !math.IsNaN(mean) || len(per) != 2 || !math.IsNaN(per[0]) || !math.IsNaN(per[1]) {
		t.Errorf("MeanAP without truth = %v, %v; want NaN, [NaN NaN]", mean, per)
	}
	mean, per = metrics.MeanAP(preds, truth, 0, 0.5, metrics.AllPoint)
	if !math.IsNaN(mean) || len(per) != 0 {
		t.Errorf("MeanAP of 0 classes = %v, %v; want NaN, []", mean, per)
	}
}

func TestCOCOMeanAP(t *testing.T) {
	big := metrics.Box{Left: 0, Top: 0, Right: 20, Bottom: 20} // area 400
	tests := []struct {
		name  string
		preds []metrics.Prediction
		truth []metrics.Object
		want  float64
	}{
		{
			// IoU 1 at every threshold: each class has one TP (p 1, r 1),
			// so all 101 recalls give 1: AP 1 per class and threshold.
			name:  "perfect",
			preds: []metrics.Prediction{pred("a", 0, 0.9, boxA), pred("b", 1, 0.3, big)},
			truth: []metrics.Object{obj("a", 0, boxA), obj("b", 1, big)},
			want:  1,
		},
		{
			// class 0: 9*8 = 72 inside 10*10 = 100: IoU 0.72.
			// class 1: 18*16 = 288 inside 20*20 = 400: IoU 288/400 = 0.72.
			// Thresholds .50 .55 .60 .65 .70 <= 0.72: TP, AP 1 (as above);
			// .75 .80 .85 .90 .95 > 0.72: one FP, AP 0. Mean (5*1 + 5*0)/10 = 0.5.
			name: "IoU 0.72",
			preds: []metrics.Prediction{
				pred("a", 0, 0.9, metrics.Box{Left: 0, Top: 0, Right: 9, Bottom: 8}),
				pred("b", 1, 0.9, metrics.Box{Left: 2, Top: 4, Right: 20, Bottom: 20}),
			},
			truth: []metrics.Object{obj("a", 0, boxA), obj("b", 1, big)},
			want:  0.5,
		},
		{
			name:  "no truth",
			preds: []metrics.Prediction{pred("a", 0, 0.9, boxA)},
			want:  math.NaN(),
		},
	}
	for _, tc := range tests {
		if got := metrics.COCOMeanAP(tc.preds, tc.truth, 2); !near(got, tc.want) {
			t.Errorf("%s: COCOMeanAP = %v, want %v", tc.name, got, tc.want)
		}
	}
}
