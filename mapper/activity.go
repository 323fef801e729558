package mapper

import (
	"math"

	"spikeyolo/core"
)

// Activity is how busy a converted network is expected to be, before it runs: for every chip
// layer, per channel, the spike events one neuron emits per tick (a multi-spike counts once).
// Partitioning balances the work it implies and placement the traffic. Rates are >= 0 and
// finite; a layer's slice has one entry per channel.
type Activity struct {
	Rates [][]float64
}

// Rate is the expected spike events per tick of a neuron of channel c of chip layer l.
func (a *Activity) Rate(l, c int) float64 { return a.Rates[l][c] }

// FallbackShare is the spike rate, as a fraction of the percentile statistic of |a| over the
// normalization factor, that Activity assumes for a layer whose calibration has no mean
// magnitudes (one saved before they existed). It is about the channels' median of mean|a|
// over that statistic at percentile 99.9 on darknet's seven sample images: 0.11 on
// yolo-lite-voc, 0.14 on yolo-lite-voc-bn and yolo-fastest-1.1 (lower quartiles 0.07, upper
// 0.17 to 0.25).
const FallbackShare = 0.125

// Activity estimates, from the calibration the network was converted with and without
// running it, the spike events per tick of every chip layer's neurons, per channel: their
// steady rate once the layer's input has arrived (a layer fires nothing before its onset).
//
// A rate-coded neuron of a channel with normalization factor λ (its threshold stands for
// activation λ) carries activation a in |a|/λ spikes per tick on average, on either side
// (an imbalanced threshold's negative spikes stand for λ/α of pre-activation, that is λ of
// activation): a channel's rate is mean|a|/λ, with mean|a| the calibration's mean magnitude
// over the images and the channel's positions. A neuron fires at most one event per tick, a
// burst of up to MaxSpikes spikes being one event, so the rate is min(1, mean|a|/λ). This
// holds for analog input layers (whose constant current is the same normalized activation),
// quantized convolutions and shortcut layers (each from its own statistics) and max-pool
// layers (from the calibrated magnitude of the pool's output, in its input's factors).
// Output accumulators never fire: rate 0. Routes, upsamples and dropouts are wiring, not
// chip layers.
//
// What the calibration does not see: plain IF neurons (Options.Neuron = IF) drop the
// negative side that mean|a| counts, so their estimate is a little high; and undo spikes
// (Options.Undo, the default), which follow the jitter of a neuron's input, add events
// where many neurons hover near zero, as in batch-normalized layers. Measured against runs
// on dog.jpg (events per neuron and tick over each layer, estimate over measurement):
// yolo-lite-voc 0.77..1.34 per layer (64 ticks), yolo-lite-voc-bn 0.52..1.22; Yolo-Fastest
// 1.1 (224 ticks, its 103 layers that start by tick 192) 0.52..1.27 without undo but
// 0.14..1.06 with it, its linear 1×1 projections low by 2 to 7 times.
//
// Fallbacks, for a calibration saved before mean magnitudes existed: a convolution or
// shortcut channel takes min(1, FallbackShare·s/λ), with s its percentile statistic of |a|
// (so FallbackShare under channel-wise normalization by |a|); a max-pool channel takes the
// rate of the input channel it pools, a low estimate, since a window's maximum is at least
// each of its inputs (by more for larger windows: Yolo-Fastest's 9×9 pool has 2.3 times its
// input's mean magnitude).
//
// The result is deterministic: it depends on the conversion and its calibration only.
func (cv *Converted) Activity() *Activity {
	a := &Activity{Rates: make([][]float64, len(cv.Net.Layers))}
	for li := range cv.Net.Layers {
		l := &cv.Net.Layers[li]
		m := cv.Source[li]
		rates := make([]float64, l.Shape.C)
		a.Rates[li] = rates
		if l.Kind == core.Accumulator {
			continue
		}
		var st ChannelStats
		if cv.cal != nil {
			st = cv.cal.Layers[m]
		}
		lambda := cv.Lambda[m]
		switch {
		case len(st.MeanAbs) == len(rates):
			for c := range rates {
				rates[c] = eventRate(float64(st.MeanAbs[c]), lambda[c])
			}
		case l.Kind == core.MaxPool:
			for _, in := range l.Inputs {
				s := &in.Synapses
				for k := 0; k < s.NumC; k++ {
					rates[s.DstC0+k] = a.Rates[in.From][s.SrcC0+k]
				}
			}
		case len(st.Abs) == len(rates):
			for c := range rates {
				rates[c] = eventRate(FallbackShare*float64(st.Abs[c]), lambda[c])
			}
		default: // no statistics at all (a layer Convert normalized cannot lack them)
			for c := range rates {
				rates[c] = FallbackShare
			}
		}
	}
	return a
}

// eventRate is min(1, mean/lambda), the spike events per tick of a neuron whose mean
// activation magnitude is mean under normalization factor lambda; 0 where that is not a
// finite number >= 0.
func eventRate(mean, lambda float64) float64 {
	r := mean / lambda
	if !(r >= 0) || math.IsInf(r, 0) {
		return 0
	}
	return min(1, r)
}
