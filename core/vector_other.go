//go:build !amd64

package core

// sweepLanes is sweepLanesGo where there is no vector twin.
var sweepLanes = sweepLanesGo

// addScaled adds n times the weights w to dst (of w's length at least).
func addScaled(dst []int64, w []int32, n int64) { addScaledGo(dst, w, n) }
