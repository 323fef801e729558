package metrics

// Box is an axis-aligned rectangle in pixels: Left <= Right, Top <= Bottom.
// Coordinates are continuous (see the package documentation).
type Box struct{ Left, Top, Right, Bottom float64 }

// IoU returns the intersection over union of b and o, in [0, 1]. The area of
// a box is (Right-Left)*(Bottom-Top), with no +1 pixel. IoU is 0 when the
// boxes are disjoint or only touch, and when either box is degenerate (zero
// width or height) or malformed (Left > Right or Top > Bottom). Coordinates
// must be finite.
func (b Box) IoU(o Box) float64 {
	w := min(b.Right, o.Right) - max(b.Left, o.Left)
	h := min(b.Bottom, o.Bottom) - max(b.Top, o.Top)
	if !(w > 0 && h > 0) {
		return 0
	}
	inter := w * h
	union := (b.Right-b.Left)*(b.Bottom-b.Top) + (o.Right-o.Left)*(o.Bottom-o.Top) - inter
	return inter / union
}

// Object is one ground-truth object of one image. Difficult objects (a VOC
// notion) are neither required nor penalised: see AveragePrecision.
type Object struct {
	Image     string // image key
	Class     int    // 0-based class index
	Box       Box
	Difficult bool
}

// Prediction is one detection of one image.
type Prediction struct {
	Image string  // image key
	Class int     // 0-based class index
	Score float64 // confidence; higher is more confident
	Box   Box
}
