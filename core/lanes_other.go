//go:build !amd64

package core

// sweepLanes is sweepLanesGo where there is no vector twin.
var sweepLanes = sweepLanesGo
