package core

// boxTaps is a single kernel's taps (Kernel.single, no upsampling) into every box of one
// shape: bh rows, bw columns and nc channels. A source position (sy, sx) is taken relative
// to the box, (ry, rx) = (sy + Offset - Y0·Stride, sx + Offset - X0·Stride) for a box whose
// first row and column are Y0 and X0; relative to any box of the shape, a position has the
// same taps inside it. Those of (ry, rx), in Synapses.Taps' order, are
// entries[offset[ry·spanW + rx] : offset[ry·spanW + rx + 1]]; positions outside the span
// (spanH × spanW) have none.
type boxTaps struct {
	spanH, spanW int
	offset       []int32
	entries      []boxTap
}

// boxTap is a tap inside a box: at is its target's index in the box for the box's first
// channel (the source's target channel is at + that channel's offset), k its weight's index
// in the kernel window.
type boxTap struct{ at, k int32 }

// boxTapsFor returns the taps of single kernel k into boxes of bh × bw positions and nc
// channels, computed once per shape and shared by the layer's cores.
func (k *Kernel) boxTapsFor(bh, bw, nc int) *boxTaps {
	k.mu.Lock()
	defer k.mu.Unlock()
	key := [3]int{bh, bw, nc}
	if bt := k.shapes[key]; bt != nil {
		return bt
	}
	s := k.Syn
	bt := &boxTaps{spanH: (bh-1)*s.Stride + s.Size, spanW: (bw-1)*s.Stride + s.Size}
	bt.offset = make([]int32, 0, bt.spanH*bt.spanW+1)
	bt.offset = append(bt.offset, 0)
	// Target (ty, tx) of the box sees relative rows ty·Stride + ky: a relative row ry reaches
	// ty = (ry - ky)/Stride when that divides and lies in the box.
	inBox := func(r, kk, n int) (int, bool) {
		d := r - kk
		return d / s.Stride, d >= 0 && d%s.Stride == 0 && d/s.Stride < n
	}
	for ry := range bt.spanH {
		for rx := range bt.spanW {
			for ky := range s.Size {
				ty, ok := inBox(ry, ky, bh)
				if !ok {
					continue
				}
				for kx := range s.Size {
					if tx, ok := inBox(rx, kx, bw); ok {
						bt.entries = append(bt.entries, boxTap{int32((ty*bw + tx) * nc), int32(ky*s.Size + kx)})
					}
				}
			}
			bt.offset = append(bt.offset, int32(len(bt.entries)))
		}
	}
	if k.shapes == nil {
		k.shapes = map[[3]int]*boxTaps{}
	}
	k.shapes[key] = bt
	return bt
}
