package mapper

import (
	"encoding/json"
	"fmt"
	"io"
	"math"

	"spikeyolo/model"
)

// WriteCalibration writes cal as JSON.
func WriteCalibration(w io.Writer, cal *Calibration) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(cal)
}

// ReadCalibration reads a calibration written by WriteCalibration and checks it against net:
// every convolution and shortcut layer must have finite statistics for each of its channels;
// mean magnitudes, where present (calibrations saved before they existed lack them), must
// be finite and >= 0, one per channel, and belong to a convolution, shortcut or max-pool
// layer. name is used in error messages.
func ReadCalibration(r io.Reader, name string, net *model.Network) (*Calibration, error) {
	var cal Calibration
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cal); err != nil {
		return nil, fmt.Errorf("%s: not a calibration file: %w", name, err)
	}
	if !(cal.Percentile > 0 && cal.Percentile <= 100) || cal.Images < 1 {
		return nil, fmt.Errorf("%s: percentile %v over %d images: want 0 < percentile <= 100 and images >= 1", name, cal.Percentile, cal.Images)
	}
	for i, l := range net.Layers {
		switch l.Op.(type) {
		case *model.Conv, *model.Shortcut:
		case *model.MaxPool:
			if st, ok := cal.Layers[i]; ok {
				if err := checkMeans(name, i, l, st.MeanAbs); err != nil {
					return nil, err
				}
			}
			continue
		default:
			if st, ok := cal.Layers[i]; ok && len(st.MeanAbs) > 0 {
				return nil, fmt.Errorf("%s: layer %d (%s) has mean statistics, which only convolution, shortcut and max-pool layers have: was it made for another model?", name, i, l.Op.Kind())
			}
			continue
		}
		st, ok := cal.Layers[i]
		if !ok {
			return nil, fmt.Errorf("%s: no statistics for layer %d (%s): was it made for another model?", name, i, l.Op.Kind())
		}
		for _, v := range [][]float32{st.Positive, st.Abs} {
			if len(v) != l.Out.C {
				return nil, fmt.Errorf("%s: layer %d has %d channels, the calibration %d: was it made for another model?", name, i, l.Out.C, len(v))
			}
			for c, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return nil, fmt.Errorf("%s: layer %d channel %d: statistic %v is not finite", name, i, c, x)
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
		return fmt.Errorf("%s: layer %d has %d channels, the calibration's mean_abs %d: was it made for another model?", name, i, l.Out.C, len(mean))
	}
	for c, x := range mean {
		if !(x >= 0) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%s: layer %d channel %d: mean_abs %v: want a finite value >= 0", name, i, c, x)
		}
	}
	return nil
}
