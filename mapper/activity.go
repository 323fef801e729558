package mapper

// Activity is how busy a converted network is expected to be, before it runs: for every chip
// layer, per channel, the spike events one neuron emits per tick (a multi-spike counts once).
// Partitioning balances the work it implies and placement the traffic. Rates are >= 0 and
// finite; a layer's slice has one entry per channel.
type Activity struct {
	Rates [][]float64
}

// Rate is the expected spike events per tick of a neuron of channel c of chip layer l.
func (a *Activity) Rate(l, c int) float64 { return a.Rates[l][c] }
