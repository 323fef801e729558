package mapper

import (
	"fmt"

	"spikeyolo/core"
)

// Norm is how normalization factors are shared.
type Norm uint8

const (
	ChannelWise Norm = iota // one factor per channel (Spiking-YOLO)
	LayerWise               // one factor per layer (Diehl et al. 2015)
)

func (n Norm) String() string { return [...]string{"channel", "layer"}[n] }

// Stat is the activation statistic the factors are taken from.
type Stat uint8

const (
	StatAbs      Stat = iota // the magnitude |a|: covers the negative side a signed neuron carries
	StatPositive             // the activation a itself, as Spiking-YOLO, for leaky and relu layers (linear ones keep |a|)
)

func (s Stat) String() string { return [...]string{"abs", "positive"}[s] }

// NeuronModel is the neuron used for leaky-ReLU layers.
type NeuronModel uint8

const (
	IBT NeuronModel = iota // signed, imbalanced threshold: carries the negative slope
	IF                     // plain integrate-and-fire: no negative spikes (drops the negative slope)
)

func (n NeuronModel) String() string { return [...]string{"ibt", "if"}[n] }

// Init is the initial membrane of spiking neurons.
type Init uint8

const (
	InitZero Init = iota // V0 = 0, as Spiking-YOLO
	InitHalf             // V0 = theta/2: rounds rates to nearest instead of down
)

func (i Init) String() string { return [...]string{"zero", "half"}[i] }

// Coding is how neurons send their activations.
type Coding uint8

const (
	// Rate codes an activation as a rate of binary spikes over the ticks (Spiking-YOLO).
	Rate Coding = iota
	// Graded sends an activation once, quantized to Levels per normalization factor, as graded messages (Loihi 2's graded spikes), and each later
	// change of it (a deeper input arriving) the same way.
	Graded
	// SigmaDelta is Graded that sends an activation once, whole, and afterwards only its
	// changes of at least Delta levels (Loihi 2's sigma-delta neurons, whose first message
	// lava-dl thresholds too; here small activations are not lost).
	SigmaDelta
)

func (c Coding) String() string { return [...]string{"rate", "graded", "sigma-delta"}[c] }

// ParseCoding reads "rate", "graded" or "sigma-delta".
func ParseCoding(s string) (Coding, error) {
	i, err := parseName("coding", s, "rate", "graded", "sigma-delta")
	return Coding(i), err
}

// Options control the conversion.
type Options struct {
	// Coding is how neurons send activations; PayloadBits (5..21: a message's payload is at
	// most core.MaxSpikesLimit) the bits of a graded message, signed (see Levels), and Delta the least change a sigma-delta neuron sends, in levels.
	// Graded codings ignore MaxSpikes, Undo, UndoMargin and Warmup.
	Coding      Coding
	PayloadBits int
	Delta       int
	Norm        Norm
	Stat        Stat
	Neuron      NeuronModel
	Init        Init
	Pool        core.PoolRule
	WeightBits  int // bits of a signed weight, 2..24
	MaxSpikes   int // spikes a neuron may emit per tick, >= 1
	// Undo lets signed neurons take back spikes, so that their counts follow the activation
	// of their cumulative input (see core.Threshold) instead of keeping what a transient sent;
	// UndoMargin, a fraction of the threshold in [0, 1], is how far past zero the membrane
	// must go first: larger margins spend fewer spikes following the input's jitter.
	Undo       bool
	UndoMargin float64
	// Fold folds each linear convolution that only a shortcut or an output 1x1 reads into
	// that reader (see foldable): exact, and a layer, a rounding and a tick fewer each.
	Fold bool
	// Warmup is the fraction of the ticks, from the start, that the read-out ignores:
	// outputs are (V(T) - V(Warmup·T)) / ticks in between.
	Warmup float64
}

// DefaultOptions are the settings that detect best per tick (see benchmarks/RESULTS.md),
// folded linear convolutions included (Spiking-YOLO's conversion keeps every layer); for
// graded codings, 12 payload bits: 256 levels per factor kept fidelity 0.99 on unseen images
// where 128 did not, with fewer messages than 1024.
func DefaultOptions() Options {
	return Options{Norm: ChannelWise, Stat: StatAbs, Neuron: IBT, Init: InitZero, Pool: core.PoolExact, WeightBits: 16, MaxSpikes: 4, Undo: true, UndoMargin: 0.5, Warmup: 0.25,
		Fold: true, PayloadBits: 12, Delta: 1}
}

// Levels is the number of levels per normalization factor of a graded coding:
// 2^(PayloadBits-4), which leaves a message room for activations up to 8 times the factor
// (a percentile of the calibration images, which unseen images exceed: a larger activation
// takes more than one message).
func (o Options) Levels() int64 { return 1 << (o.PayloadBits - 4) }

// maxPayload is the largest magnitude of a graded message.
func (o Options) maxPayload() int64 { return 1<<(o.PayloadBits-1) - 1 }

// PaperOptions are Spiking-YOLO's settings: channel-wise normalization of the positive
// activations, IBT neurons starting at 0, the paper's max-pool, no warm-up window.
func PaperOptions() Options {
	return Options{Norm: ChannelWise, Stat: StatPositive, Neuron: IBT, Init: InitZero, Pool: core.PoolFirstMax, WeightBits: 16, MaxSpikes: 1, Warmup: 0,
		PayloadBits: 12, Delta: 1}
}

// Validate checks the options' ranges.
func (o Options) Validate() error {
	switch {
	case o.WeightBits < 2 || o.WeightBits > 24:
		return fmt.Errorf("weight bits %d: want 2..24", o.WeightBits)
	case o.MaxSpikes < 1 || o.MaxSpikes > core.MaxSpikesLimit:
		return fmt.Errorf("max spikes %d: want 1..%d", o.MaxSpikes, core.MaxSpikesLimit)
	case !(o.UndoMargin >= 0 && o.UndoMargin <= 1):
		return fmt.Errorf("undo margin %v: want a fraction in [0, 1]", o.UndoMargin)
	case !(o.Warmup >= 0 && o.Warmup < 1):
		return fmt.Errorf("warm-up %v: want a fraction in [0, 1)", o.Warmup)
	case o.Coding > SigmaDelta:
		return fmt.Errorf("coding %d: want rate, graded or sigma-delta", o.Coding)
	case o.PayloadBits < 5 || o.PayloadBits > 21:
		return fmt.Errorf("payload bits %d: want 5..21", o.PayloadBits)
	case o.Delta < 1 || int64(o.Delta) > o.maxPayload():
		return fmt.Errorf("delta %d: want 1..%d (the largest payload of %d bits)", o.Delta, o.maxPayload(), o.PayloadBits)
	case o.Coding == Graded && o.Delta != 1:
		return fmt.Errorf("delta %d: graded coding sends every change (delta 1); use sigma-delta", o.Delta)
	}
	return nil
}

// parseName returns the index of s among names, for option parsers.
func parseName(what, s string, names ...string) (int, error) {
	for i, n := range names {
		if s == n {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%s %q: want one of %v", what, s, names)
}

// ParseNorm reads "channel" or "layer".
func ParseNorm(s string) (Norm, error) {
	i, err := parseName("normalization", s, "channel", "layer")
	return Norm(i), err
}

// ParseStat reads "abs" or "positive".
func ParseStat(s string) (Stat, error) {
	i, err := parseName("normalization statistic", s, "abs", "positive")
	return Stat(i), err
}

// ParseNeuron reads "ibt" or "if".
func ParseNeuron(s string) (NeuronModel, error) {
	i, err := parseName("neuron", s, "ibt", "if")
	return NeuronModel(i), err
}

// ParseInit reads "zero" or "half".
func ParseInit(s string) (Init, error) {
	i, err := parseName("initial membrane", s, "zero", "half")
	return Init(i), err
}

// ParsePool reads "exact" or "firmax".
func ParsePool(s string) (core.PoolRule, error) {
	i, err := parseName("max-pool rule", s, "exact", "firmax")
	return core.PoolRule(i), err
}
