// Package mapper turns a trained float detector into a program for the chip.
//
// Conversion follows Spiking-YOLO (Kim et al., AAAI 2020) and improves on it: batch norm
// is folded into the preceding convolution; every layer's activations are normalized by a
// per-channel factor lambda taken from calibration images (weights scale by
// lambda_in/lambda_out, biases by 1/lambda_out, the image has lambda 1), so that a neuron's
// firing rate in spikes per tick stands for its activation over lambda; leaky layers get
// signed neurons with an imbalanced threshold (+1 at V >= theta, -1 at V <= -theta/alpha),
// linear layers symmetric ones; weights are quantized per output channel to the chip's weight
// bits, the channel's scale carried by its threshold theta. Route, upsample and dropout
// layers become wiring, not neurons; shortcuts become neurons that add their two inputs
// brought to one scale; max-pool layers become spiking max-pool neurons. The convolutions
// that feed detection heads become accumulators whose membranes are decoded back to floats.
// With Options.Fold (the default), a linear convolution that only a shortcut or an output 1x1
// reads has no neurons of its own: its synapses join the shortcut's, or compose with the
// output's weights (exact either way: linear maps add and compose), sparing a rounding into
// spikes and a tick.
package mapper
