package core

import (
	"errors"
	"fmt"
)

// Synapses connect channels of a source map to channels of a target map through a window
// moved by Stride: a weight-shared convolution kernel (Weights set) or a max-pool window
// (Weights nil). The kernel is stored once, never expanded into per-synapse lists.
//
// The source channels [SrcC0, SrcC0+NumC) are read, enlarged by nearest neighbour by
// Upsample, as a virtual input map of NumC × (Src.H·Upsample) × (Src.W·Upsample). Target
// neuron (DstC0 + f, ty, tx) sees the virtual rows ty·Stride - Offset + ky and columns
// tx·Stride - Offset + kx for ky, kx < Size; rows and columns outside the map are padding
// and contribute nothing. Channels are split into Groups: target channels of group g see only
// the input channels of group g.
type Synapses struct {
	Src                  Shape // the source layer's map
	SrcC0, NumC          int   // source channels read: [SrcC0, SrcC0+NumC)
	Upsample             int   // nearest-neighbour enlargement of the read channels, >= 1
	Dst                  Shape // the target layer's map
	DstC0, DstC          int   // target channels written: [DstC0, DstC0+DstC)
	Size, Stride, Offset int   // the window
	Groups               int   // channel groups; a max-pool window has Groups = NumC = DstC
	// Weights of a convolution, indexed [f][c][ky][kx] for target channel DstC0+f and input
	// channel c of its group; nil for a max-pool window.
	Weights []int32
	// WeightShift: every weight is a mantissa times 2^WeightShift, the exponent these
	// synapses share (Loihi's weight exponent per connection), so that a neuron's inputs of
	// different magnitudes each keep the mantissa's precision. 0..MaxWeightShift.
	WeightShift int
}

// MaxWeightShift bounds Synapses.WeightShift.
const MaxWeightShift = 24

// Tap is one (window position, target position) pair of a source position: Tap.K = ky·Size + kx
// indexes the kernel, (Tap.Y, Tap.X) is the target's row and column.
type Tap struct{ K, Y, X int32 }

// IsPool reports whether the synapses are a max-pool window rather than a kernel.
func (s *Synapses) IsPool() bool { return s.Weights == nil }

// Validate checks the geometry against the shapes and the weights' length.
func (s *Synapses) Validate() error {
	switch {
	case s.NumC <= 0 || s.SrcC0 < 0 || s.SrcC0+s.NumC > s.Src.C:
		return fmt.Errorf("source channels [%d, %d) outside the source's %d", s.SrcC0, s.SrcC0+s.NumC, s.Src.C)
	case s.DstC <= 0 || s.DstC0 < 0 || s.DstC0+s.DstC > s.Dst.C:
		return fmt.Errorf("target channels [%d, %d) outside the target's %d", s.DstC0, s.DstC0+s.DstC, s.Dst.C)
	case s.Upsample < 1 || s.Size < 1 || s.Stride < 1 || s.Offset < 0:
		return fmt.Errorf("upsample %d, size %d, stride %d, offset %d: want upsample, size, stride >= 1, offset >= 0", s.Upsample, s.Size, s.Stride, s.Offset)
	case s.Groups < 1 || s.NumC%s.Groups != 0 || s.DstC%s.Groups != 0:
		return fmt.Errorf("%d groups do not divide %d input and %d target channels", s.Groups, s.NumC, s.DstC)
	case s.IsPool() && (s.Groups != s.NumC || s.DstC != s.NumC):
		return errors.New("a max-pool window maps each channel to itself: groups = input channels = target channels")
	case s.IsPool() && (s.Offset >= s.Size || (s.Dst.H-1)*s.Stride-s.Offset >= s.Src.H*s.Upsample || (s.Dst.W-1)*s.Stride-s.Offset >= s.Src.W*s.Upsample):
		return errors.New("a max-pool window lies wholly in the padding")
	case !s.IsPool() && len(s.Weights) != s.DstC*(s.NumC/s.Groups)*s.Size*s.Size:
		return fmt.Errorf("%d weights, want %d×%d×%d×%d", len(s.Weights), s.DstC, s.NumC/s.Groups, s.Size, s.Size)
	case s.WeightShift < 0 || s.WeightShift > MaxWeightShift:
		return fmt.Errorf("weight shift %d: want 0..%d", s.WeightShift, MaxWeightShift)
	}
	for i, w := range s.Weights {
		if s.WeightShift > 0 && w%(1<<s.WeightShift) != 0 {
			return fmt.Errorf("weight %d is %d, not a multiple of 2^%d (the weight shift)", i, w, s.WeightShift)
		}
	}
	return nil
}

// Reads reports whether source channel c is read by these synapses.
func (s *Synapses) Reads(c int) bool { return c >= s.SrcC0 && c < s.SrcC0+s.NumC }

// Taps appends to buf the taps of source position (ys, xs): every window position of every
// target position that sees one of its Upsample² copies, in order of copy, then ky, then kx.
func (s *Synapses) Taps(ys, xs int, buf []Tap) []Tap {
	u := s.Upsample
	for i := 0; i < u; i++ {
		yv := ys*u + i
		for j := 0; j < u; j++ {
			xv := xs*u + j
			for ky := 0; ky < s.Size; ky++ {
				ty := yv + s.Offset - ky
				if ty < 0 || ty%s.Stride != 0 || ty/s.Stride >= s.Dst.H {
					continue
				}
				for kx := 0; kx < s.Size; kx++ {
					tx := xv + s.Offset - kx
					if tx < 0 || tx%s.Stride != 0 || tx/s.Stride >= s.Dst.W {
						continue
					}
					buf = append(buf, Tap{int32(ky*s.Size + kx), int32(ty / s.Stride), int32(tx / s.Stride)})
				}
			}
		}
	}
	return buf
}

// Targets gives the target channels [f0, f1) (absolute) that source channel c reaches, and
// c's index within its group's input channels.
func (s *Synapses) Targets(c int) (f0, f1, local int) {
	ci := c - s.SrcC0
	inPer, outPer := s.NumC/s.Groups, s.DstC/s.Groups
	g := ci / inPer
	return s.DstC0 + g*outPer, s.DstC0 + (g+1)*outPer, ci % inPer
}

// Deliver adds n times the weights of source channel c, at the position whose taps are
// taps, to the membranes of its targets, where v holds the whole target map (CHW). It
// returns the number of synaptic operations performed: one per target. It panics on max-pool
// synapses. (Cores use a Kernel, which delivers into a box.)
func (s *Synapses) Deliver(c int, taps []Tap, n int64, v []int64) int64 {
	f0, f1, local := s.Targets(c)
	k2 := s.Size * s.Size
	per := (s.NumC / s.Groups) * k2
	hw := s.Dst.H * s.Dst.W
	for f := f0; f < f1; f++ {
		w := s.Weights[(f-s.DstC0)*per+local*k2 : (f-s.DstC0)*per+(local+1)*k2]
		plane := v[f*hw : (f+1)*hw]
		for _, t := range taps {
			plane[int(t.Y)*s.Dst.W+int(t.X)] += n * int64(w[t.K])
		}
	}
	return int64((f1 - f0) * len(taps))
}

// TapTable holds the taps of every source position of a set of synapses, computed once so
// that cores need not recompute them for every packet.
type TapTable struct {
	offset []int32
	taps   []Tap
}

// NewTapTable computes the taps of every source position of s.
func NewTapTable(s *Synapses) *TapTable {
	t := &TapTable{offset: make([]int32, 0, s.Src.H*s.Src.W+1)}
	t.offset = append(t.offset, 0)
	for y := 0; y < s.Src.H; y++ {
		for x := 0; x < s.Src.W; x++ {
			t.taps = s.Taps(y, x, t.taps)
			t.offset = append(t.offset, int32(len(t.taps)))
		}
	}
	return t
}

// At returns the taps of source position pos = y·Src.W + x.
func (t *TapTable) At(pos int) []Tap { return t.taps[t.offset[pos]:t.offset[pos+1]] }
