package core

import "golang.org/x/sys/cpu"

// sweepLanes is sweepLanesAVX2 where the CPU has AVX2 and BMI2 and the box's channels come
// in groups of four, and sweepLanesGo elsewhere: the same bits either way (TestLanesTwins).
var sweepLanes = sweepLanesGo

func init() {
	if cpu.X86.HasAVX2 && cpu.X86.HasBMI2 {
		sweepLanes = sweepLanesVector
	}
}

func sweepLanesVector(v, net, drive []int64, stamp, posMark []int32, lb laneBounds, nc int, t int32, driven bool, flags []uint64) {
	if nc%4 != 0 || len(v) != len(posMark)*nc || len(net) < len(v) || len(drive) < len(v) || len(stamp) < len(v) ||
		len(lb) < nc*4 || len(flags) < (len(v)+63)/64*2 {
		sweepLanesGo(v, net, drive, stamp, posMark, lb, nc, t, driven, flags)
		return
	}
	sweepLanesAVX2(v, net, drive, stamp, posMark, lb, nc*32, t, driven, flags)
}

// sweepLanesAVX2 is sweepLanesGo for nc = laneBytes/32, a multiple of four, four neurons a
// step; the caller has checked every length.
//
//go:noescape
func sweepLanesAVX2(v, net, drive []int64, stamp, posMark []int32, lb laneBounds, laneBytes int, t int32, driven bool, flags []uint64)
