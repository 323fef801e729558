package benchmarks

import (
	"bytes"
	"slices"
	"testing"

	"spikeyolo/chip"
	"spikeyolo/mapper"
	"spikeyolo/model/preprocess"
	"spikeyolo/model/zoo"
	"spikeyolo/router"
)

// placed is the embedded Yolo-Fastest as detect maps it by default: converted with the
// default options at the Loihi preset's weight bits and partitioned onto the Loihi board by
// the activity estimated from its calibration; with the traffic that activity predicts, and
// dog.jpg's input.
type placed struct {
	cv    *mapper.Converted
	prog  *chip.Program
	act   *mapper.Activity
	flows []mapper.Flow
	stim  chip.Stimulus
}

func newPlaced(b *testing.B) placed {
	net, _ := zoo.Default()
	cal, err := mapper.ReadCalibration(bytes.NewReader(zoo.DefaultCalibration()), "embedded calibration", net)
	if err != nil {
		b.Fatal(err)
	}
	arch, err := chip.Preset("loihi")
	if err != nil {
		b.Fatal(err)
	}
	opt := mapper.DefaultOptions()
	opt.WeightBits = arch.WeightBits
	cv, err := mapper.Convert(net, cal, opt)
	if err != nil {
		b.Fatal(err)
	}
	act := cv.Activity()
	prog, err := mapper.Partition(cv.Net, arch, act, mapper.PartitionOptions{}, router.XY, router.PerCore)
	if err != nil {
		b.Fatal(err)
	}
	im, err := preprocess.Decode(bytes.NewReader(zoo.DogJPEG()))
	if err != nil {
		b.Fatal(err)
	}
	input := im.Fit(cv.Float.Input.W, cv.Float.Input.H, preprocess.Plain).Data
	return placed{cv, prog, act, mapper.Flows(prog, act), cv.Encode(input)}
}

// BenchmarkPlace times the placement of Yolo-Fastest's cores (see newPlaced): Flows, then
// Place by order and by traffic, and reports the chip crossings, packet-hops and network
// energy per tick that the flows predict for each.
func BenchmarkPlace(b *testing.B) {
	s := newPlaced(b)
	b.Run("flows", func(b *testing.B) {
		for b.Loop() {
			mapper.Flows(s.prog, s.act)
		}
	})
	for _, how := range []mapper.Placement{mapper.Order, mapper.Traffic} {
		b.Run(how.String(), func(b *testing.B) {
			var slots []int
			for b.Loop() {
				var err error
				if slots, err = mapper.Place(s.prog, s.flows, how); err != nil {
					b.Fatal(err)
				}
			}
			q, err := s.prog.Placed(slots)
			if err != nil {
				b.Fatal(err)
			}
			est := mapper.EstimateTraffic(q, s.flows)
			b.ReportMetric(est.Crossings, "crossings/tick")
			b.ReportMetric(est.Hops, "hops/tick")
			b.ReportMetric(est.Energy, "J/tick")
		})
	}
}

// BenchmarkPlacement runs dog.jpg for 256 ticks (detect's default) on Yolo-Fastest placed in
// layer order and by traffic (see newPlaced), and reports the chip's energy and time per
// frame, its packet-hops and chip crossings. The two runs' spikes and output membranes must
// be equal: placement never changes a spike.
func BenchmarkPlacement(b *testing.B) {
	s := newPlaced(b)
	const T = 256
	probe := chip.Probe{Ticks: s.cv.SnapshotTicks([]int{T})}
	var first []chip.Snapshot
	for _, how := range []mapper.Placement{mapper.Order, mapper.Traffic} {
		b.Run(how.String(), func(b *testing.B) {
			slots, err := mapper.Place(s.prog, s.flows, how)
			if err != nil {
				b.Fatal(err)
			}
			q, err := s.prog.Placed(slots)
			if err != nil {
				b.Fatal(err)
			}
			var res *chip.Result
			for b.Loop() {
				if res, err = q.Run(s.stim, probe, 0); err != nil {
					b.Fatal(err)
				}
			}
			if first == nil {
				first = res.Snapshots
			}
			for k, snap := range res.Snapshots {
				if !slices.Equal(snap.Spikes, first[k].Spikes) || !slices.EqualFunc(snap.Membranes, first[k].Membranes, slices.Equal) {
					b.Fatalf("tick %d: the spikes differ from order's", snap.Tick)
				}
			}
			rep := q.Report(res, 0, s.cv.AnalogMACs())
			b.ReportMetric(rep.Energy, "J/frame")
			b.ReportMetric(rep.FrameTime, "s/frame")
			b.ReportMetric(float64(rep.Hops), "hops/frame")
			b.ReportMetric(float64(rep.Crossings), "crossings/frame")
		})
	}
}
