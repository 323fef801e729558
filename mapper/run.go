package mapper

import (
	"fmt"
	"math"
	"slices"

	"spikeyolo/chip"
	"spikeyolo/core"
	"spikeyolo/model"
)

// Encode computes the input currents of the analog layers for one network input (CHW, the
// float network's input shape): each neuron's normalized pre-activation times its threshold,
// rounded to an integer charge per tick (graded codings: times the levels, once). It performs
// AnalogMACs float multiply-accumulates.
func (cv *Converted) Encode(input []float32) chip.Stimulus {
	outs := model.NewRunner(cv.encoder).Run(input)
	stim := make(chip.Stimulus, len(cv.Net.Layers))
	scale := 1.0
	if cv.Options.Coding != Rate {
		scale = float64(cv.Options.Levels())
	}
	for k, li := range cv.analog {
		cur := make([]int64, len(outs[k]))
		for n, x := range outs[k] {
			cur[n] = int64(math.Round(float64(x) * scale))
		}
		stim[li] = cur
	}
	return stim
}

// AnalogMACs is the number of float multiply-accumulates Encode performs per image.
func (cv *Converted) AnalogMACs() int64 {
	var macs int64
	for i := range cv.encoder.Layers {
		macs += cv.encoder.MACs(i)
	}
	return macs
}

// WindowStart is the first tick of the read-out window of a run of T ticks: the outputs are
// the membranes' growth from tick WindowStart(T) to T, per tick (rate coding), or their
// state at T (graded codings, whose window is the whole run).
func (cv *Converted) WindowStart(T int) int {
	if cv.Options.Coding != Rate {
		return 0
	}
	return int(fractionOf(cv.Options.Warmup, int64(T)))
}

// fractionOf is floor(f·n), where a product within rounding error of a whole number is that
// number: 0.29 of 100 is 29, although 0.29·100 is 28.999999999999996 in floating point.
func fractionOf(f float64, n int64) int64 {
	x := f * float64(n)
	if r := math.Round(x); math.Abs(x-r) <= 1e-9*max(1, math.Abs(x)) {
		return int64(r)
	}
	return int64(math.Floor(x))
}

// SnapshotTicks lists, ascending and without repeats, the ticks a run must snapshot to decode
// its outputs at each of the checkpoints.
func (cv *Converted) SnapshotTicks(checkpoints []int) []int {
	var ticks []int
	for _, T := range checkpoints {
		ticks = append(ticks, T)
		if s := cv.WindowStart(T); s > 0 {
			ticks = append(ticks, s)
		}
	}
	slices.Sort(ticks)
	return slices.Compact(ticks)
}

// Decode reads the float network's output layers at checkpoint T from a run's snapshots
// (which must include SnapshotTicks(T)): per model output layer, the membrane's growth over
// the read-out window, per tick the layer integrated in it, times the read-out scale, through
// the layer's activation. A layer deeper than the window is long reads as zeros.
func (cv *Converted) Decode(snaps []chip.Snapshot, T int) (map[int][]float32, error) {
	out := map[int][]float32{}
	for mi, li := range cv.outputs {
		l := &cv.Net.Layers[li]
		hw := l.Shape.H * l.Shape.W
		vals, err := cv.decodeWindow(snaps, T, li, func(s *chip.Snapshot) []int64 { return s.Membranes[li] },
			func(n int) float64 { return l.Readout[n/hw] })
		if err != nil {
			return nil, err
		}
		cv.Float.Layers[mi].Op.(*model.Conv).Act.Apply(vals)
		out[mi] = vals
	}
	return out, nil
}

// DecodeCounts reads chip layer li's activations at checkpoint T from its neurons' net spike
// counts, in the units of the model layer it implements (Source[li]): each count's growth
// over the read-out window (as Decode), per tick (or level), times the channel's
// normalization factor.
// The snapshots must hold counts (chip.Probe.Counts); an accumulator has none (see Decode).
func (cv *Converted) DecodeCounts(snaps []chip.Snapshot, T, li int) ([]float32, error) {
	l := &cv.Net.Layers[li]
	if l.Kind == core.Accumulator {
		return nil, fmt.Errorf("mapper: chip layer %d (%s) does not spike: decode its membranes", li, l.Name)
	}
	lambda := cv.Lambda[cv.Source[li]]
	hw := l.Shape.H * l.Shape.W
	return cv.decodeWindow(snaps, T, li, func(s *chip.Snapshot) []int64 {
		if s.Counts == nil {
			return nil
		}
		return s.Counts[li]
	}, func(n int) float64 { return lambda[n/hw] })
}

// decodeWindow returns, per neuron of chip layer li, the growth of state (membranes or
// counts, from a snapshot) over the read-out window of checkpoint T, per tick the layer was
// active in it, times scale(neuron).
func (cv *Converted) decodeWindow(snaps []chip.Snapshot, T, li int, state func(*chip.Snapshot) []int64, scale func(n int) float64) ([]float32, error) {
	find := func(tick int) ([]int64, error) {
		for i := range snaps {
			if snaps[i].Tick == tick {
				if v := state(&snaps[i]); v != nil {
					return v, nil
				}
				return nil, fmt.Errorf("mapper: the snapshot at tick %d lacks layer %d's state", tick, li)
			}
		}
		return nil, fmt.Errorf("mapper: no snapshot at tick %d", tick)
	}
	end, err := find(T)
	if err != nil {
		return nil, err
	}
	s := cv.WindowStart(T)
	var start []int64
	if s > 0 {
		if start, err = find(s); err != nil {
			return nil, err
		}
	}
	// A rate's unit is a spike per tick of the window the layer integrated in, a graded
	// level's a level.
	per := float64(T - max(s, cv.Net.Layers[li].Onset))
	if cv.Options.Coding != Rate {
		per = float64(cv.Options.Levels())
	}
	vals := make([]float32, len(end))
	if per <= 0 {
		return vals, nil
	}
	for n, x := range end {
		if start != nil {
			x -= start[n]
		}
		vals[n] = float32(float64(x) * scale(n) / per)
	}
	return vals, nil
}

// HeadOutputs applies the detection heads to decoded output layers, giving a slice indexed
// like the float network's layer outputs in which only the heads are set (see detect.FromOutputs).
func (cv *Converted) HeadOutputs(outputs map[int][]float32) [][]float32 {
	outs := make([][]float32, len(cv.Float.Layers))
	for _, h := range cv.Float.Heads() {
		l := cv.Float.Layers[h]
		in := outputs[l.Inputs[0]]
		o := make([]float32, len(in))
		switch op := l.Op.(type) {
		case *model.Region:
			op.Activate(in, l.Out, o)
		case *model.Yolo:
			op.Activate(in, l.Out, o)
		}
		outs[h] = o
	}
	return outs
}
