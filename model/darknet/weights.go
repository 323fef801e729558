package darknet

import (
	"encoding/binary"
	"fmt"
	"math"

	"spikeyolo/model"
)

// LoadWeights fills the parameters of net's convolutions from the bytes of a darknet weights
// file (name is used in error messages). The file holds a header (int32 major, minor,
// revision; then the number of images seen, int64 when major·10+minor >= 2, else int32) and,
// for each convolution in order: biases, then if it has batch norm its scales, rolling means
// and rolling variances, then its weights, all float32 little-endian. The file size must be
// exactly what net implies, and every value finite; otherwise net is left unchanged and the
// error names both byte counts and the first layer that does not fit.
func LoadWeights(net *model.Network, data []byte, name string) error {
	if len(data) < 12 {
		return fmt.Errorf("%s: %d bytes is too short for a darknet weights header (16 or 20 bytes)", name, len(data))
	}
	major := binary.LittleEndian.Uint32(data[0:])
	minor := binary.LittleEndian.Uint32(data[4:])
	header := 12 + 8 // version, then a 64-bit count of images seen
	if major*10+minor < 2 || major >= 1000 || minor >= 1000 {
		header = 12 + 4 // older files count images seen in 32 bits
	}
	if len(data) < header {
		return fmt.Errorf("%s: %d bytes is too short for the %d-byte header of a version %d.%d weights file", name, len(data), header, major, minor)
	}
	// Where each convolution's parameters end, to name the first one that does not fit.
	type span struct {
		layer      int
		begin, end int64
	}
	var spans []span
	off := int64(header)
	for i, l := range net.Layers {
		if _, ok := l.Op.(*model.Conv); ok {
			n := int64(net.Params(i)) * 4
			spans = append(spans, span{i, off, off + n})
			off += n
		}
	}
	if int64(len(data)) != off {
		msg := fmt.Sprintf("%s: %d bytes, but the network needs %d (%d-byte header, version %d.%d, and %d float32 parameters)",
			name, len(data), off, header, major, minor, (off-int64(header))/4)
		for _, s := range spans {
			if s.end > int64(len(data)) {
				return fmt.Errorf("%s: layer %d (%s, bytes %d..%d) does not fit", msg, s.layer, net.Layers[s.layer].Source, s.begin, s.end)
			}
		}
		return fmt.Errorf("%s: %d bytes remain after the last layer", msg, int64(len(data))-off)
	}
	// Decode into fresh slices first, so that an error leaves net unchanged.
	pos := header
	next := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[pos:]))
			pos += 4
		}
		return v
	}
	type params struct {
		c    *model.Conv
		bias []float32
		bn   model.BatchNorm
		w    []float32
	}
	var all []params
	for _, s := range spans {
		c := net.Layers[s.layer].Op.(*model.Conv)
		p := params{c: c, bias: next(len(c.Biases))}
		if c.HasBatchNorm() {
			p.bn = model.BatchNorm{Scales: next(c.Filters), Mean: next(c.Filters), Variance: next(c.Filters)}
		}
		p.w = next(len(c.Weights))
		for _, v := range [][]float32{p.bias, p.bn.Scales, p.bn.Mean, p.bn.Variance, p.w} {
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return fmt.Errorf("%s: layer %d (%s) holds a non-finite parameter (%v): the file is corrupt", name, s.layer, net.Layers[s.layer].Source, x)
				}
			}
		}
		for j, v := range p.bn.Variance {
			if v < 0 {
				return fmt.Errorf("%s: layer %d (%s) filter %d has negative variance %v: the file is corrupt", name, s.layer, net.Layers[s.layer].Source, j, v)
			}
		}
		all = append(all, p)
	}
	for _, p := range all {
		p.c.Biases, p.c.Weights = p.bias, p.w
		if p.c.HasBatchNorm() {
			p.c.BatchNorm = p.bn
		}
	}
	return nil
}
