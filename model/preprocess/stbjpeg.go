package preprocess

import "image"

// stbRGB converts a decoded JPEG's Y'CbCr planes to RGB bytes the way stb_image (darknet's
// decoder) does, rather than as image/jpeg's At does: chroma planes are upsampled with
// stb's "fancy" triangle filter (weights 3/4, 1/4 towards the nearer sample) and converted
// with its 12-bit fixed-point formula. The DCT still differs (Go's IDCT rounds differently),
// which leaves differences of a few levels instead of tens.
//
// It returns false for images it does not handle (a sub-image, an unknown subsampling).
func stbRGB(img *image.YCbCr, set func(x, y int, r, g, b uint8)) bool {
	hs, vs := 1, 1
	switch img.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
	case image.YCbCrSubsampleRatio440:
		vs = 2
	case image.YCbCrSubsampleRatio422:
		hs = 2
	case image.YCbCrSubsampleRatio420:
		hs, vs = 2, 2
	case image.YCbCrSubsampleRatio411:
		hs = 4
	case image.YCbCrSubsampleRatio410:
		hs, vs = 4, 2
	default:
		return false
	}
	if img.Rect.Min != (image.Point{}) {
		return false
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	cw, ch := (w+hs-1)/hs, (h+vs-1)/vs
	row := func(plane []uint8, cy int) []uint8 { return plane[cy*img.CStride : cy*img.CStride+cw] }
	cb := make([]uint8, cw*hs+3)
	cr := make([]uint8, cw*hs+3)
	// stb's walk over chroma rows: output row y reads a "near" and a "far" chroma row.
	ystep, line0, line1, ypos := vs>>1, 0, 0, 0
	for y := 0; y < h; y++ {
		near, far := line0, line1
		if ystep >= vs>>1 {
			near, far = line1, line0
		}
		stbResample(cb, row(img.Cb, near), row(img.Cb, far), hs, vs)
		stbResample(cr, row(img.Cr, near), row(img.Cr, far), hs, vs)
		if ystep++; ystep >= vs {
			ystep, line0 = 0, line1
			if ypos++; ypos < ch {
				line1++
			}
		}
		lum := img.Y[y*img.YStride : y*img.YStride+w]
		for x, yy := range lum {
			r, g, b := stbYCbCrToRGB(yy, cb[x], cr[x])
			set(x, y, r, g, b)
		}
	}
	return true
}

func div4(x int) uint8  { return uint8(x >> 2) }
func div16(x int) uint8 { return uint8(x >> 4) }

// stbResample upsamples one chroma row by hs horizontally, blending near with far vertically
// when vs is 2 (stb_image's resample_row_* kernels).
func stbResample(out, near, far []uint8, hs, vs int) {
	w := len(near)
	switch {
	case hs == 1 && vs == 1:
		copy(out, near)
	case hs == 1 && vs == 2:
		for i := range near {
			out[i] = div4(3*int(near[i]) + int(far[i]) + 2)
		}
	case hs == 2 && vs == 1:
		if w == 1 {
			out[0], out[1] = near[0], near[0]
			return
		}
		out[0] = near[0]
		out[1] = div4(3*int(near[0]) + int(near[1]) + 2)
		i := 1
		for ; i < w-1; i++ {
			n := 3*int(near[i]) + 2
			out[2*i] = div4(n + int(near[i-1]))
			out[2*i+1] = div4(n + int(near[i+1]))
		}
		out[2*i] = div4(3*int(near[w-2]) + int(near[w-1]) + 2)
		out[2*i+1] = near[w-1]
	case hs == 2 && vs == 2:
		if w == 1 {
			v := div4(3*int(near[0]) + int(far[0]) + 2)
			out[0], out[1] = v, v
			return
		}
		t1 := 3*int(near[0]) + int(far[0])
		out[0] = div4(t1 + 2)
		for i := 1; i < w; i++ {
			t0 := t1
			t1 = 3*int(near[i]) + int(far[i])
			out[2*i-1] = div16(3*t0 + t1 + 8)
			out[2*i] = div16(3*t1 + t0 + 8)
		}
		out[2*w-1] = div4(t1 + 2)
	default: // stb's generic kernel: nearest sample
		for i, v := range near {
			for j := 0; j < hs; j++ {
				out[i*hs+j] = v
			}
		}
	}
}

// stbFixed is stb_image's float2fixed: x in 12-bit fixed point, shifted into the high bits.
func stbFixed(x float32) int { return int(x*4096+0.5) << 8 }

var (
	crR = stbFixed(1.40200)
	crG = -stbFixed(0.71414)
	cbG = -stbFixed(0.34414)
	cbB = stbFixed(1.77200)
)

// stbYCbCrToRGB is stb_image's scalar YCbCr_to_RGB_row for one pixel.
func stbYCbCrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yf := int32(y)<<20 + 1<<19
	icr, icb := int32(cr)-128, int32(cb)-128
	r := (yf + icr*int32(crR)) >> 20
	g := (yf + icr*int32(crG) + (icb*int32(cbG))&^0xffff) >> 20
	b := (yf + icb*int32(cbB)) >> 20
	return clamp8(r), clamp8(g), clamp8(b)
}

func clamp8(v int32) uint8 {
	if uint32(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return uint8(v)
}
