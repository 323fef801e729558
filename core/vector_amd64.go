package core

import "golang.org/x/sys/cpu"

// hasAVX2 says whether the CPU runs the vector twins (AVX2, and BMI2 for sweepLanesAVX2's
// shifts); they compute what their Go forms compute, bit for bit (TestLanesTwins,
// TestAddScaled).
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasBMI2

// sweepLanes is sweepLanesAVX2 where the CPU has it and the box's channels come in groups of
// four, and sweepLanesGo elsewhere.
var sweepLanes = sweepLanesGo

func init() {
	if hasAVX2 {
		sweepLanes = sweepLanesVector
	}
}

func sweepLanesVector(v, net, drive []int64, stamp, posMark []int32, lb laneBounds, nc int, t int32, driven bool, flags []uint64) {
	if nc%4 != 0 || len(v) != len(posMark)*nc || len(net) < len(v) || len(drive) < len(v) || len(stamp) < len(v) ||
		len(lb) < nc/4*laneWords || len(flags) < (len(v)+63)/64*3 {
		sweepLanesGo(v, net, drive, stamp, posMark, lb, nc, t, driven, flags)
		return
	}
	sweepLanesAVX2(v, net, drive, stamp, posMark, lb, nc/4*laneWords*8, t, driven, flags)
}

// sweepLanesAVX2 is sweepLanesGo for nc a multiple of four, whose bounds take laneBytes
// bytes a position, four neurons a step; the caller has checked every length.
//
//go:noescape
func sweepLanesAVX2(v, net, drive []int64, stamp, posMark []int32, lb laneBounds, laneBytes int, t int32, driven bool, flags []uint64)

// addScaled adds n times the weights w to dst (of w's length at least): four at a time with
// AVX2 (a packet's n is an int32, so each product is exact), else addScaledGo.
func addScaled(dst []int64, w []int32, n int64) {
	if hasAVX2 && len(w) >= 4 {
		addScaledAVX2(dst[:len(w)], w, n)
		return
	}
	addScaledGo(dst, w, n)
}

// addScaledAVX2 is addScaledGo for len(dst) == len(w) and n in the int32 range.
//
//go:noescape
func addScaledAVX2(dst []int64, w []int32, n int64)
