package core

import "fmt"

// Kind is what a layer's neurons do.
type Kind uint8

const (
	// Signed neurons integrate and fire +n when V >= ThetaPos and -n when V <= -ThetaNeg,
	// resetting by subtraction. ThetaNeg = ThetaPos/alpha gives the imbalanced threshold
	// (IBT) that carries a leaky ReLU of slope alpha; ThetaNeg = ThetaPos is a symmetric
	// signed neuron for linear layers.
	Signed Kind = iota
	// IF neurons integrate and fire +n when V >= ThetaPos only (plain integrate-and-fire,
	// a ReLU).
	IF
	// Accumulator neurons integrate and never fire: output layers, read by their membrane.
	Accumulator
	// MaxPool neurons track the net spike counts of their window's inputs and emit spikes
	// by a PoolRule.
	MaxPool
)

var kindNames = [...]string{Signed: "signed", IF: "if", Accumulator: "accumulator", MaxPool: "maxpool"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// PoolRule is how a spiking max-pool neuron turns its inputs' spikes into its own.
type PoolRule uint8

const (
	// PoolExact emits +1 when the maximum of the window's net input counts rises above the
	// count it has emitted, and -1 when it falls below, so that its own count always equals
	// the maximum of its inputs' counts.
	PoolExact PoolRule = iota
	// PoolFirstMax is the rule of the Spiking-YOLO paper (after Rueckauer et al. 2017): it
	// passes the spikes of the input whose net count, after this tick's spikes, is the
	// largest; ties go to the first input in window order (row by row). It lets extra
	// spikes through when winners alternate.
	PoolFirstMax
)

func (r PoolRule) String() string {
	if r == PoolFirstMax {
		return "firmax"
	}
	return "exact"
}

// Fire applies the firing rule of Signed and IF neurons to a membrane after integration:
// it returns the signed number of spikes emitted this tick (at most maxSpikes of either sign)
// and subtracts their charge from v. thetaNeg is ignored for IF neurons.
func Fire(kind Kind, v *int64, thetaPos, thetaNeg int64, maxSpikes int64) int64 {
	switch {
	case *v >= thetaPos:
		n := min(*v/thetaPos, maxSpikes)
		*v -= n * thetaPos
		return n
	case kind == Signed && *v <= -thetaNeg:
		n := min(-*v/thetaNeg, maxSpikes)
		*v += n * thetaNeg
		return -n
	}
	return 0
}
