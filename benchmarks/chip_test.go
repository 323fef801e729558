package benchmarks

import (
	"fmt"
	"runtime"
	"testing"

	"spikeyolo/chip"
	"spikeyolo/mapper"
	"spikeyolo/model/darknet"
	"spikeyolo/model/darknetref"
	"spikeyolo/router"
)

// spiking is a converted model ready to run on dog.jpg.
type spiking struct {
	cv   *mapper.Converted
	prog *chip.Program
	stim chip.Stimulus
}

// convertShared converts a shared model, calibrated on darknet's seven sample images, with
// the default options and the architecture's weight bits, mapped on the fewest cores, and
// encodes dog.jpg.
func convertShared(b *testing.B, name, archName string) spiking {
	dir := darknetref.Dir(b)
	var m darknetref.Model
	for _, mm := range darknetref.Models(dir) {
		if mm.Name == name {
			m = mm
		}
	}
	net, err := darknet.Load(m.Cfg, m.Weights)
	if err != nil {
		b.Fatal(err)
	}
	inputs, err := darknetref.SampleInputs(dir, net.Input.W, net.Input.H)
	if err != nil {
		b.Fatal(err)
	}
	c, err := mapper.Calibrate(net, len(inputs), 99.9, func(i int) ([]float32, error) { return inputs[i], nil })
	if err != nil {
		b.Fatal(err)
	}
	dog := inputs[0]
	arch, err := chip.Preset(archName)
	if err != nil {
		b.Fatal(err)
	}
	opt := mapper.DefaultOptions()
	opt.WeightBits = arch.WeightBits
	cv, err := mapper.Convert(net, c, opt)
	if err != nil {
		b.Fatal(err)
	}
	prog, err := mapper.Partition(cv.Net, arch, nil, mapper.PartitionOptions{}, router.XY, router.PerCore)
	if err != nil {
		b.Fatal(err)
	}
	return spiking{cv, prog, cv.Encode(dog)}
}

// BenchmarkChip runs a whole detection's spiking part on the event-driven chip engine
// (Loihi preset, dog.jpg): yolo-lite-voc on the fewest cores, and the embedded Yolo-Fastest
// as detect maps it (partitioned by its expected activity, placed by traffic). It reports
// synaptic operations per second of wall time, wall time per synaptic operation, and the
// modelled energy per frame. Run with -cpu 1,2 to see how the engine scales with threads.
func BenchmarkChip(b *testing.B) {
	lite := convertShared(b, "yolo-lite-voc", "loihi")
	fastest := newPlaced(b)
	slots, err := mapper.Place(fastest.prog, fastest.flows, mapper.Traffic)
	if err != nil {
		b.Fatal(err)
	}
	fastestProg, err := fastest.prog.Placed(slots)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		s    spiking
		T    int
	}{
		{"yolo-lite-voc", lite, 64},
		{"yolo-lite-voc", lite, 256},
		{"yolo-fastest-1.1", spiking{fastest.cv, fastestProg, fastest.stim}, 64},
		{"yolo-fastest-1.1", spiking{fastest.cv, fastestProg, fastest.stim}, 256},
	} {
		b.Run(fmt.Sprintf("%s/T=%d", c.name, c.T), func(b *testing.B) {
			var res *chip.Result
			for b.Loop() {
				var err error
				if res, err = c.s.prog.Run(c.s.stim, chip.Probe{Ticks: []int{c.T}}, 0); err != nil {
					b.Fatal(err)
				}
			}
			var synops int64
			for _, c := range res.Cores {
				synops += c.Synops
			}
			perFrame := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(synops)/perFrame, "synops/s")
			b.ReportMetric(perFrame/float64(synops)*1e9, "ns/synop")
			b.ReportMetric(perFrame, "s/frame")
			b.ReportMetric(c.s.prog.Report(res, 0, c.s.cv.AnalogMACs()).Energy, "J/frame")
		})
	}
}

// BenchmarkReference runs the dense reference engine on the same detection, and on
// Yolo-Fastest's (about 100 layers of mostly 1×1 and depthwise convolutions: the slowest
// model to evaluate, where fidelity runs spend their hours).
func BenchmarkReference(b *testing.B) {
	for _, c := range []struct {
		model string
		T     int
	}{{"yolo-lite-voc", 64}, {"yolo-fastest-1.1-coco", 128}} {
		s := convertShared(b, c.model, "loihi")
		b.Run(fmt.Sprintf("%s/T=%d", c.model, c.T), func(b *testing.B) {
			var snaps []chip.Snapshot
			for b.Loop() {
				var err error
				if snaps, err = chip.Reference(s.cv.Net, s.stim, chip.Probe{Ticks: []int{c.T}}); err != nil {
					b.Fatal(err)
				}
			}
			var synops int64
			for _, n := range snaps[0].Synops {
				synops += n
			}
			perFrame := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(synops)/perFrame, "synops/s")
			b.ReportMetric(perFrame, "s/frame")
		})
	}
}

// BenchmarkEventDriven shows that the chip's time follows the events. Dimming the drive
// (the image's input currents and every layer's bias, scaled by the same factor: a leaky
// network's activations scale with it, so its spikes do) cuts the chip's time with the
// events; a silent network (no current, no bias: nothing ever fires) costs it almost
// nothing per tick, while the reference's loop over every neuron costs the same.
func BenchmarkEventDriven(b *testing.B) {
	s := convertShared(b, "yolo-lite-voc", "loihi")
	const T = 128
	// dimmed returns the network and stimulus with every drive scaled by f.
	dimmed := func(f float64) (*chip.Network, chip.Stimulus) {
		net := *s.cv.Net
		net.Layers = append([]chip.Layer(nil), s.cv.Net.Layers...)
		for i := range net.Layers {
			l := &net.Layers[i]
			l.Bias = append([]int64(nil), l.Bias...)
			for c := range l.Bias {
				l.Bias[c] = int64(float64(l.Bias[c]) * f)
			}
			if f == 0 {
				l.V0 = make([]int64, len(l.V0))
			}
		}
		st := make(chip.Stimulus, len(s.stim))
		for i, cur := range s.stim {
			if cur != nil {
				st[i] = make([]int64, len(cur))
				for k, x := range cur {
					st[i][k] = int64(float64(x) * f)
				}
			}
		}
		return &net, st
	}
	for _, f := range []float64{1, 0.5, 0.25} {
		net, st := dimmed(f)
		prog, err := mapper.Partition(net, s.prog.Arch, nil, mapper.PartitionOptions{}, router.XY, router.PerCore)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("chip/drive=%.2f", f), func(b *testing.B) {
			var res *chip.Result
			for b.Loop() {
				res, _ = prog.Run(st, chip.Probe{Ticks: []int{T}}, 0)
			}
			var spikes, synops, updates, packets int64
			for _, c := range res.Cores {
				spikes, synops, updates, packets = spikes+c.Spikes, synops+c.Synops, updates+c.Updates, packets+c.Packets
			}
			b.ReportMetric(float64(spikes), "spikes/frame")
			b.ReportMetric(float64(synops), "synops/frame")
			b.ReportMetric(float64(updates), "updates/frame")
			b.ReportMetric(float64(packets), "packets/frame")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/frame")
		})
	}
	silent, zero := dimmed(0)
	prog, err := mapper.Partition(silent, s.prog.Arch, nil, mapper.PartitionOptions{}, router.XY, router.PerCore)
	if err != nil {
		b.Fatal(err)
	}
	for _, T := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("chip/silent/T=%d", T), func(b *testing.B) {
			for b.Loop() {
				prog.Run(zero, chip.Probe{Ticks: []int{T}}, 0)
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/float64(T)*1e9, "ns/tick")
		})
	}
	b.Run("reference/silent/T=100", func(b *testing.B) {
		for b.Loop() {
			chip.Reference(silent, zero, chip.Probe{Ticks: []int{100}})
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/100*1e9, "ns/tick")
	})
}

// BenchmarkProgram maps yolo-lite-voc onto the fewest Loihi cores, and the embedded
// Yolo-Fastest as detect does (with its activity), and reports the memory the program holds
// (its tables, kernels and placement; the network's weights are the converter's) and the
// time to build it, limits checked.
func BenchmarkProgram(b *testing.B) {
	lite := convertShared(b, "yolo-lite-voc", "loihi")
	fastest := newPlaced(b)
	for _, c := range []struct {
		name string
		net  *chip.Network
		arch *chip.Arch
		act  *mapper.Activity
	}{
		{"yolo-lite-voc", lite.cv.Net, lite.prog.Arch, nil},
		{"yolo-fastest-1.1", fastest.cv.Net, fastest.prog.Arch, fastest.cv.Activity()},
	} {
		b.Run(c.name, func(b *testing.B) {
			var grown uint64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				prog, err := mapper.Partition(c.net, c.arch, c.act, mapper.PartitionOptions{}, router.XY, router.PerCore)
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				grown = after.HeapAlloc - before.HeapAlloc
				runtime.KeepAlive(prog)
			}
			b.ReportMetric(float64(grown)/1e6, "MB/program")
		})
	}
}

// BenchmarkReprice prices a traced run of the embedded Yolo-Fastest (dog.jpg, 64 ticks, as
// detect maps it) again on the same cores with YX routing and tree multicast, as a sweep
// prices each of its configurations: the traced sends routed through the mesh and every busy
// tick's time. It reports the seconds per configuration and the sends routed.
func BenchmarkReprice(b *testing.B) {
	p := newPlaced(b)
	slots, err := mapper.Place(p.prog, p.flows, mapper.Traffic)
	if err != nil {
		b.Fatal(err)
	}
	prog, err := p.prog.Placed(slots)
	if err != nil {
		b.Fatal(err)
	}
	res, err := prog.Run(p.stim, chip.Probe{Ticks: []int{64}, Trace: true}, 0)
	if err != nil {
		b.Fatal(err)
	}
	other := prog.Routed(router.YX, router.Tree)
	for b.Loop() {
		if _, err := other.Reprice(res); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/configuration")
	b.ReportMetric(float64(res.Network.Sent), "packets/run")
}
