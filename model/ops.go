package model

import (
	"errors"
	"fmt"
)

// Activation is a layer's pointwise non-linearity.
type Activation int

const (
	Linear   Activation = iota // x
	Leaky                      // x if x > 0, else LeakySlope·x
	ReLU                       // max(x, 0)
	Logistic                   // 1 / (1 + e^-x)
)

// LeakySlope is darknet's slope of the leaky ReLU for negative inputs (0.1, fixed in darknet).
const LeakySlope float32 = 0.1

var activationNames = map[Activation]string{Linear: "linear", Leaky: "leaky", ReLU: "relu", Logistic: "logistic"}

func (a Activation) String() string {
	if s, ok := activationNames[a]; ok {
		return s
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// ParseActivation reads darknet's name of an activation.
func ParseActivation(name string) (Activation, error) {
	for a, s := range activationNames {
		if s == name {
			return a, nil
		}
	}
	return 0, fmt.Errorf("activation %q is not supported (want linear, leaky, relu or logistic)", name)
}

// Conv is darknet's [convolutional] layer: Filters output channels, square kernels of Size
// with Stride and zero Padding on every side, input and output channels split into Groups
// (Groups = channels is a depthwise convolution), then batch norm or bias, then Act.
type Conv struct {
	Filters, Size, Stride, Padding, Groups int
	Act                                    Activation
	// Weights are indexed [filter][input channel of its group][ky][kx]; len = Filters·(C/Groups)·Size².
	Weights []float32
	// Biases has one entry per filter: darknet's bias, added after batch norm.
	Biases []float32
	// BatchNorm is empty when the layer has no batch normalization.
	BatchNorm BatchNorm
}

// BatchNorm holds darknet's per-filter batch-norm statistics. The layer computes
// (x - Mean) / (sqrt(Variance) + BatchNormEpsilon) · Scales, then adds the bias.
type BatchNorm struct{ Scales, Mean, Variance []float32 }

// BatchNormEpsilon is what pjreddie's darknet adds to the standard deviation (not the variance).
const BatchNormEpsilon float32 = 0.000001

// Kind implements Op.
func (c *Conv) Kind() string { return "convolutional" }

// HasBatchNorm reports whether the layer normalizes its output.
func (c *Conv) HasBatchNorm() bool { return len(c.BatchNorm.Scales) > 0 }

// WeightCount is the number of kernel weights for inC input channels.
func (c *Conv) WeightCount(inC int) int { return c.Filters * (inC / c.Groups) * c.Size * c.Size }

func (c *Conv) outShape(in []Shape) (Shape, error) {
	if len(in) != 1 {
		return Shape{}, errors.New("takes exactly one input")
	}
	for _, err := range []error{inRange("filters", c.Filters, 1), inRange("size", c.Size, 1), inRange("stride", c.Stride, 1),
		inRange("padding", c.Padding, 0), inRange("groups", c.Groups, 1)} {
		if err != nil {
			return Shape{}, err
		}
	}
	if in[0].C%c.Groups != 0 || c.Filters%c.Groups != 0 {
		return Shape{}, fmt.Errorf("groups = %d must divide the %d input channels and the %d filters", c.Groups, in[0].C, c.Filters)
	}
	if n := c.WeightCount(in[0].C); n > MaxValues {
		return Shape{}, fmt.Errorf("%d weights, more than %d", n, MaxValues)
	}
	h := (in[0].H+2*c.Padding-c.Size)/c.Stride + 1
	w := (in[0].W+2*c.Padding-c.Size)/c.Stride + 1
	return Shape{c.Filters, h, w}, nil
}

// MaxPool is darknet's [maxpool]: the maximum over Size×Size windows moved by Stride. The
// input is padded with -infinity: Padding/2 before and the rest after, in both directions.
type MaxPool struct{ Size, Stride, Padding int }

// Kind implements Op.
func (m *MaxPool) Kind() string { return "maxpool" }

func (m *MaxPool) outShape(in []Shape) (Shape, error) {
	if len(in) != 1 {
		return Shape{}, errors.New("takes exactly one input")
	}
	for _, err := range []error{inRange("size", m.Size, 1), inRange("stride", m.Stride, 1), inRange("padding", m.Padding, 0)} {
		if err != nil {
			return Shape{}, err
		}
	}
	return Shape{in[0].C, (in[0].H+m.Padding-m.Size)/m.Stride + 1, (in[0].W+m.Padding-m.Size)/m.Stride + 1}, nil
}

// Route is darknet's [route]: the concatenation along channels of its inputs. With Groups > 1
// it takes, from each input, only the GroupID-th of Groups equal slices of its channels.
type Route struct{ Groups, GroupID int }

// Kind implements Op.
func (r *Route) Kind() string { return "route" }

func (r *Route) outShape(in []Shape) (Shape, error) {
	if r.Groups <= 0 || r.GroupID < 0 || r.GroupID >= r.Groups {
		return Shape{}, fmt.Errorf("groups = %d, group_id = %d: want 0 <= group_id < groups", r.Groups, r.GroupID)
	}
	out := Shape{0, in[0].H, in[0].W}
	for i, s := range in {
		if s.H != out.H || s.W != out.W {
			return Shape{}, fmt.Errorf("input %d is %v but input 0 is %v: routed layers must have the same width and height", i, s, in[0])
		}
		if s.C%r.Groups != 0 {
			return Shape{}, fmt.Errorf("input %d has %d channels, not divisible into %d groups", i, s.C, r.Groups)
		}
		out.C += s.C / r.Groups
	}
	return out, nil
}

// Shortcut is darknet's [shortcut]: the sum of its two inputs (the previous layer and the
// layer named by `from`), then Act. Both must have the same shape.
type Shortcut struct{ Act Activation }

// Kind implements Op.
func (s *Shortcut) Kind() string { return "shortcut" }

func (s *Shortcut) outShape(in []Shape) (Shape, error) {
	if len(in) != 2 {
		return Shape{}, errors.New("takes exactly two inputs")
	}
	if in[0] != in[1] {
		return Shape{}, fmt.Errorf("adds %v to %v: shortcut needs equal shapes", in[1], in[0])
	}
	return in[0], nil
}

// Upsample is darknet's [upsample]: nearest-neighbour enlargement by an integer Stride.
type Upsample struct{ Stride int }

// Kind implements Op.
func (u *Upsample) Kind() string { return "upsample" }

func (u *Upsample) outShape(in []Shape) (Shape, error) {
	if len(in) != 1 {
		return Shape{}, errors.New("takes exactly one input")
	}
	if err := inRange("stride", u.Stride, 1); err != nil {
		return Shape{}, err
	}
	return Shape{in[0].C, in[0].H * u.Stride, in[0].W * u.Stride}, nil
}

// Dropout is darknet's [dropout]: the identity at inference.
type Dropout struct{}

// Kind implements Op.
func (d *Dropout) Kind() string { return "dropout" }

func (d *Dropout) outShape(in []Shape) (Shape, error) {
	if len(in) != 1 {
		return Shape{}, errors.New("takes exactly one input")
	}
	return in[0], nil
}

// Region is darknet's YOLOv2 [region] head. Its input holds, for each of Num anchors, Coords
// box entries, an objectness and Classes class scores, each an H×W plane. It applies the
// logistic to x, y and objectness, and a softmax (or, without Softmax, the logistic) over
// the class scores. Anchors are (width, height) pairs in grid cells.
type Region struct {
	Anchors              []float32
	Classes, Num, Coords int
	Softmax              bool
}

// Kind implements Op.
func (r *Region) Kind() string { return "region" }

func (r *Region) outShape(in []Shape) (Shape, error) {
	if len(in) != 1 {
		return Shape{}, errors.New("takes exactly one input")
	}
	if r.Coords != 4 {
		return Shape{}, fmt.Errorf("coords = %d: only 4 box coordinates are supported", r.Coords)
	}
	for _, err := range []error{inRange("num", r.Num, 1), inRange("classes", r.Classes, 1)} {
		if err != nil {
			return Shape{}, err
		}
	}
	if len(r.Anchors) != 2*r.Num {
		return Shape{}, fmt.Errorf("num = %d needs %d anchor values, got %d", r.Num, 2*r.Num, len(r.Anchors))
	}
	if want := r.Num * (r.Coords + 1 + r.Classes); in[0].C != want {
		return Shape{}, fmt.Errorf("input has %d channels, want num·(coords+1+classes) = %d", in[0].C, want)
	}
	return in[0], nil
}

// Yolo is darknet's YOLOv3 [yolo] head. Its input holds, for each anchor of Mask, 4 box
// entries, an objectness and Classes class scores, each an H×W plane; it applies the logistic
// to all but the box width and height. Anchors are (width, height) pairs in pixels of the
// network input; Mask selects this head's anchors. ScaleXY (AlexeyAB's scale_x_y, 1 by
// default) stretches the logistic of x and y: x·ScaleXY - (ScaleXY-1)/2.
type Yolo struct {
	Anchors []float32
	Mask    []int
	Classes int
	ScaleXY float32
}

// Kind implements Op.
func (y *Yolo) Kind() string { return "yolo" }

func (y *Yolo) outShape(in []Shape) (Shape, error) {
	if len(in) != 1 {
		return Shape{}, errors.New("takes exactly one input")
	}
	for _, err := range []error{inRange("classes", y.Classes, 1), inRange("masks", len(y.Mask), 1)} {
		if err != nil {
			return Shape{}, err
		}
	}
	if len(y.Anchors)%2 != 0 {
		return Shape{}, fmt.Errorf("%d anchor values: want (width, height) pairs", len(y.Anchors))
	}
	for _, m := range y.Mask {
		if m < 0 || m >= len(y.Anchors)/2 {
			return Shape{}, fmt.Errorf("mask %d names no anchor (there are %d)", m, len(y.Anchors)/2)
		}
	}
	if want := len(y.Mask) * (y.Classes + 5); in[0].C != want {
		return Shape{}, fmt.Errorf("input has %d channels, want masks·(classes+5) = %d", in[0].C, want)
	}
	return in[0], nil
}
