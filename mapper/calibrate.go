package mapper

import (
	"fmt"
	"math"

	"spikeyolo/model"
)

// Calibration holds what data-based normalization needs from a float network's activations
// on calibration images: for every convolution and shortcut layer, per channel, the maximum
// over the channel's positions of each neuron's p-th percentile over the images. It also
// holds what the activity estimate needs (see Converted.Activity): for those layers and
// every max-pool layer, per channel, the mean of the activation's magnitude over the images
// and positions; a max-pool layer has only that. Calibrations saved before the means existed
// lack them, and remain valid.
type Calibration struct {
	Percentile float64 `json:"percentile"` // p, in (0, 100]
	Images     int     `json:"images"`     // how many images were seen
	// Layers maps a model layer index to its statistics.
	Layers map[int]ChannelStats `json:"layers"`
}

// ChannelStats are one layer's per-channel statistics: the percentile statistics that
// normalization uses (convolution and shortcut layers only), and the mean magnitude that the
// activity estimate uses (nil in calibrations made before it existed).
type ChannelStats struct {
	Positive []float32 `json:"positive,omitempty"` // of the activation itself (Spiking-YOLO's statistic)
	Abs      []float32 `json:"abs,omitempty"`      // of its magnitude, which covers the negative side too
	// MeanAbs is the mean of |a| over the images and the channel's positions.
	MeanAbs []float32 `json:"mean_abs,omitempty"`
}

// Calibrator accumulates a Calibration image by image. Per neuron it keeps only the few
// largest values the percentile needs, and per channel a sum, so its memory does not grow
// with the images.
type Calibrator struct {
	net        *model.Network
	runner     *model.Runner
	percentile float64
	images     int // announced
	seen       int
	keep       int // values kept per neuron: n - floor(p/100·(n-1))
	top        map[int]*[2][]float32
	// sums is, per convolution, shortcut and max-pool layer, per channel, the sum of |a| over
	// the images and positions so far, in float64: each image's sum over the channel's
	// positions in index order, added image by image, so the result is the same on every run.
	sums map[int][]float64
}

// NewCalibrator prepares to calibrate net on exactly images images at the given percentile.
func NewCalibrator(net *model.Network, images int, percentile float64) (*Calibrator, error) {
	if images < 1 {
		return nil, fmt.Errorf("calibration needs at least one image")
	}
	if !(percentile > 0 && percentile <= 100) {
		return nil, fmt.Errorf("percentile %v: want 0 < p <= 100", percentile)
	}
	c := &Calibrator{net: net, runner: model.NewRunner(net), percentile: percentile, images: images, top: map[int]*[2][]float32{},
		sums: map[int][]float64{}}
	c.keep = images - int(math.Floor(percentile/100*float64(images-1)))
	for i, l := range net.Layers {
		switch l.Op.(type) {
		case *model.Conv, *model.Shortcut, *model.MaxPool:
			c.sums[i] = make([]float64, l.Out.C)
		}
		switch l.Op.(type) {
		case *model.Conv, *model.Shortcut:
			var t [2][]float32
			for s := range t {
				t[s] = make([]float32, l.Out.Size()*c.keep)
				for k := range t[s] {
					t[s][k] = float32(math.Inf(-1))
				}
			}
			c.top[i] = &t
		}
	}
	return c, nil
}

// Add runs the network on one input (the network's input shape, CHW) and records its
// activations.
func (c *Calibrator) Add(input []float32) error {
	if c.seen == c.images {
		return fmt.Errorf("calibration: more than the %d images announced", c.images)
	}
	c.seen++
	outs := c.runner.Run(input)
	for i, t := range c.top {
		for k, x := range outs[i] {
			insertTop(t[0][k*c.keep:(k+1)*c.keep], x)
			insertTop(t[1][k*c.keep:(k+1)*c.keep], float32(math.Abs(float64(x))))
		}
	}
	for i, sum := range c.sums {
		out := outs[i]
		hw := len(out) / len(sum)
		for ch := range sum {
			s := 0.0
			for _, x := range out[ch*hw : (ch+1)*hw] {
				s += math.Abs(float64(x))
			}
			sum[ch] += s
		}
	}
	return nil
}

// insertTop keeps top (descending) the largest values seen.
func insertTop(top []float32, x float32) {
	last := len(top) - 1
	if !(x > top[last]) {
		return
	}
	i := last
	for ; i > 0 && top[i-1] < x; i-- {
		top[i] = top[i-1]
	}
	top[i] = x
}

// Finish computes the calibration once every announced image has been added.
func (c *Calibrator) Finish() (*Calibration, error) {
	if c.seen != c.images {
		return nil, fmt.Errorf("calibration: %d images added, %d announced", c.seen, c.images)
	}
	cal := &Calibration{Percentile: c.percentile, Images: c.images, Layers: map[int]ChannelStats{}}
	// The percentile by linear interpolation between order statistics (as numpy's default):
	// rank r = p/100·(n-1) in ascending order; the kept values are the largest, descending.
	r := c.percentile / 100 * float64(c.images-1)
	lo := int(math.Floor(r))
	frac := float32(r - float64(lo))
	at := func(top []float32, asc int) float32 { return top[c.images-1-asc] }
	for i, t := range c.top {
		shape := c.net.Layers[i].Out
		hw := shape.H * shape.W
		var st [2][]float32
		for s := range st {
			st[s] = make([]float32, shape.C)
			for ch := range st[s] {
				best := float32(math.Inf(-1))
				for k := ch * hw; k < (ch+1)*hw; k++ {
					top := t[s][k*c.keep : (k+1)*c.keep]
					v := at(top, lo)
					if lo+1 < c.images {
						v += frac * (at(top, lo+1) - v)
					}
					best = max(best, v)
				}
				st[s][ch] = best
			}
		}
		cal.Layers[i] = ChannelStats{Positive: st[0], Abs: st[1]}
	}
	for i, sum := range c.sums {
		shape := c.net.Layers[i].Out
		n := float64(c.images) * float64(shape.H*shape.W)
		mean := make([]float32, len(sum))
		for ch, s := range sum {
			mean[ch] = float32(s / n)
		}
		st := cal.Layers[i]
		st.MeanAbs = mean
		cal.Layers[i] = st
	}
	return cal, nil
}

// Calibrate calibrates net on n inputs at the given percentile; input(i) returns the i-th,
// of the network's input shape (CHW). An error from input stops it.
func Calibrate(net *model.Network, n int, percentile float64, input func(i int) ([]float32, error)) (*Calibration, error) {
	c, err := NewCalibrator(net, n, percentile)
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		in, err := input(i)
		if err != nil {
			return nil, err
		}
		if err := c.Add(in); err != nil {
			return nil, err
		}
	}
	return c.Finish()
}
