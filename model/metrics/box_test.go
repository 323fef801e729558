package metrics_test

import (
	"math"
	"testing"

	"spikeyolo/model/metrics"
)

// near reports whether a and b agree to 1e-12, treating two NaNs as equal.
func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-12
}

func TestIoU(t *testing.T) {
	sq := metrics.Box{Left: 0, Top: 0, Right: 10, Bottom: 10} // area 100
	tests := []struct {
		name string
		a, b metrics.Box
		want float64
	}{
		// inter 100, union 100+100-100 = 100.
		{"identical", sq, sq, 1},
		// no overlap in x or y.
		{"disjoint", sq, metrics.Box{Left: 20, Top: 20, Right: 30, Bottom: 30}, 0},
		// share the edge x = 10: intersection width 0.
		{"touching", sq, metrics.Box{Left: 10, Top: 0, Right: 20, Bottom: 10}, 0},
		// inter 5*10 = 50, union 100+100-50 = 150, 50/150 = 1/3.
		{"half shifted", sq, metrics.Box{Left: 5, Top: 0, Right: 15, Bottom: 10}, 1.0 / 3},
		// inter 5*5 = 25, union 100+100-25 = 175, 25/175 = 1/7.
		{"corner overlap", sq, metrics.Box{Left: 5, Top: 5, Right: 15, Bottom: 15}, 1.0 / 7},
		// inside: inter 9*8 = 72, union 100+72-72 = 100, 72/100.
		{"contained", sq, metrics.Box{Left: 0, Top: 0, Right: 9, Bottom: 8}, 0.72},
		// inter 10*5 = 50, union 100+50-50 = 100, 50/100.
		{"top half", sq, metrics.Box{Left: 0, Top: 0, Right: 10, Bottom: 5}, 0.5},
		// zero width: no area to share.
		{"degenerate", sq, metrics.Box{Left: 5, Top: 0, Right: 5, Bottom: 10}, 0},
		// union 0+0-0: defined as 0, not NaN.
		{"both degenerate", metrics.Box{Left: 5, Top: 5, Right: 5, Bottom: 5}, metrics.Box{Left: 5, Top: 5, Right: 5, Bottom: 5}, 0},
		// Left > Right: malformed, 0.
		{"malformed", sq, metrics.Box{Left: 8, Top: 0, Right: 2, Bottom: 10}, 0},
	}
	for _, tc := range tests {
		if got := tc.a.IoU(tc.b); !near(got, tc.want) {
			t.Errorf("%s: %v.IoU(%v) = %v, want %v", tc.name, tc.a, tc.b, got, tc.want)
		}
		if got := tc.b.IoU(tc.a); !near(got, tc.want) {
			t.Errorf("%s: %v.IoU(%v) = %v, want %v (symmetry)", tc.name, tc.b, tc.a, got, tc.want)
		}
	}
}
