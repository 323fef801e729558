package mapper

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"

	"spikeyolo/model"
)

// WriteCalibration writes cal as JSON.
func WriteCalibration(w io.Writer, cal *Calibration) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(cal)
}

// ReadCalibration reads a calibration written by WriteCalibration and checks it against net:
// one JSON object and nothing after it; statistics only for layers of net; every convolution
// and shortcut layer must have finite percentile statistics for each of its channels, those
// of the magnitude (abs) >= 0 (those of the activation itself, positive, are negative for a
// channel that never activates); mean magnitudes, where present (calibrations saved before
// they existed lack them), must be finite and >= 0, one per channel, and belong to a
// convolution, shortcut or max-pool layer. name is used in error messages.
func ReadCalibration(r io.Reader, name string, net *model.Network) (*Calibration, error) {
	var cal Calibration
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cal); err != nil {
		return nil, fmt.Errorf("%s: not a calibration file: %w", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: not a calibration file: data after the calibration's JSON object, at byte %d", name, dec.InputOffset())
	}
	if !(cal.Percentile > 0 && cal.Percentile <= 100) || cal.Images < 1 {
		return nil, fmt.Errorf("%s: percentile %v over %d images: want 0 < percentile <= 100 and images >= 1", name, cal.Percentile, cal.Images)
	}
	for _, i := range slices.Sorted(maps.Keys(cal.Layers)) {
		if i < 0 || i >= len(net.Layers) {
			return nil, fmt.Errorf("%s: statistics for layer %d, but the network has layers 0..%d: was it made for another model?", name, i, len(net.Layers)-1)
		}
	}
	for i, l := range net.Layers {
		st, ok := cal.Layers[i]
		switch l.Op.(type) {
		case *model.Conv, *model.Shortcut:
		case *model.MaxPool:
			if ok && (st.Positive != nil || st.Abs != nil) {
				return nil, fmt.Errorf("%s: layer %d (%s) has percentile statistics, which only convolution and shortcut layers have: was it made for another model?", name, i, l.Op.Kind())
			}
			if err := checkMeans(name, i, l, st.MeanAbs); err != nil {
				return nil, err
			}
			continue
		default:
			if ok && (st.Positive != nil || st.Abs != nil || st.MeanAbs != nil) {
				return nil, fmt.Errorf("%s: layer %d (%s) has statistics, which only convolution, shortcut and max-pool layers have: was it made for another model?", name, i, l.Op.Kind())
			}
			continue
		}
		if !ok {
			return nil, fmt.Errorf("%s: no statistics for layer %d (%s): was it made for another model?", name, i, l.Op.Kind())
		}
		for _, v := range []struct {
			stat     string
			x        []float32
			negative bool // may be negative
		}{{"positive", st.Positive, true}, {"abs", st.Abs, false}} {
			if len(v.x) != l.Out.C {
				return nil, fmt.Errorf("%s: layer %d (%s) has %d channels, the calibration's %s %d: was it made for another model?", name, i, l.Op.Kind(), l.Out.C, v.stat, len(v.x))
			}
			for c, x := range v.x {
				switch {
				case math.IsNaN(float64(x)) || math.IsInf(float64(x), 0):
					return nil, fmt.Errorf("%s: layer %d (%s) channel %d: %s %v is not finite", name, i, l.Op.Kind(), c, v.stat, x)
				case x < 0 && !v.negative:
					return nil, fmt.Errorf("%s: layer %d (%s) channel %d: %s %v: want a finite value >= 0 (a percentile of a magnitude)", name, i, l.Op.Kind(), c, v.stat, x)
				}
			}
		}
		if err := checkMeans(name, i, l, st.MeanAbs); err != nil {
			return nil, err
		}
	}
	return &cal, nil
}

// checkMeans checks layer i's mean magnitudes, if it has them: one per channel, finite, >= 0.
func checkMeans(name string, i int, l model.Layer, mean []float32) error {
	if mean == nil {
		return nil
	}
	if len(mean) != l.Out.C {
		return fmt.Errorf("%s: layer %d (%s) has %d channels, the calibration's mean_abs %d: was it made for another model?", name, i, l.Op.Kind(), l.Out.C, len(mean))
	}
	for c, x := range mean {
		if !(x >= 0) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%s: layer %d (%s) channel %d: mean_abs %v: want a finite value >= 0", name, i, l.Op.Kind(), c, x)
		}
	}
	return nil
}
