package main

import (
	"math"

	"spikeyolo/chip"
	"spikeyolo/mapper"
	"spikeyolo/mapper/fidelity"
	"spikeyolo/model/preprocess"
)

// frameSequence carries a graded network's state from one frame of a video to the next
// (detect --sequence): each frame resumes where the last ended (chip.Probe.From) and adds the
// change of the input currents, so that only the neurons whose inputs changed send messages.
type frameSequence struct {
	prev chip.Stimulus  // the last frame's input currents
	last *chip.Snapshot // the last frame's end, with its state
}

// next turns a frame's stimulus and probe into the run that continues the sequence.
func (f *frameSequence) next(stim chip.Stimulus, probe chip.Probe) (chip.Stimulus, chip.Probe) {
	probe.State = true
	run := stim
	if f.last != nil {
		run = make(chip.Stimulus, len(stim))
		for l, cur := range stim {
			if cur == nil {
				continue
			}
			run[l] = make([]int64, len(cur))
			for n, c := range cur {
				run[l][n] = c - f.prev[l][n]
			}
		}
		probe.From = f.last
	}
	f.prev = stim
	return run, probe
}

// keep records the end of a frame's run (its snapshots, the last taken with State).
func (f *frameSequence) keep(snaps []chip.Snapshot) { f.last = &snaps[len(snaps)-1] }

// frameFidelity is the fidelity mAP@0.5 of a frame's spiking detections, decoded from its
// run's snapshots at tick T, against the float network's on the frame, as eval measures it
// (nil when the float network finds nothing to measure against).
func frameFidelity(cv *mapper.Converted, mode preprocess.Mode, im preprocess.Image, snaps []chip.Snapshot, T int) (*float64, error) {
	cfg := fidelity.DefaultConfig([]int{T})
	cfg.Mode, cfg.Workers = mode, 1
	cfg.Engine = func(*chip.Network, chip.Stimulus, chip.Probe) (fidelity.Run, error) {
		return fidelity.Run{Snapshots: snaps}, nil
	}
	points, err := fidelity.Measure(cv, []fidelity.Image{{Name: "frame", Image: im}}, cfg)
	if err != nil || math.IsNaN(points[0].MAP) {
		return nil, err
	}
	return &points[0].MAP, nil
}
