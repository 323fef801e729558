// Package preprocess turns image files into a network's input the way darknet does: RGB
// float32 planes with values in [0, 1] (byte / 255), resized with darknet's bilinear
// resize_image or its letterbox.
//
// The arithmetic follows darknet's C operation by operation in float32, so that the same
// decoded bytes give the same input bits: from darknet's own decoded bytes (a PNG of them),
// Resize reproduces darknet's network input exactly. Go's JPEG decoder differs slightly from
// the stb_image decoder darknet uses (chroma upsampling), so JPEG inputs differ by a few
// levels per pixel.
package preprocess

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // registers JPEG for image.Decode
	_ "image/png"  // registers PNG for image.Decode
	"io"
	"os"
)

// Image is an RGB image as darknet holds it: three float32 planes (R, G, B) of H rows of W
// columns, values in [0, 1].
type Image struct {
	W, H int
	Data []float32 // len 3·W·H, index (c·H + y)·W + x
}

// Mode is how an image is fitted to the network's input size.
type Mode int

const (
	// Plain stretches the image to the input size (darknet's resize_image).
	Plain Mode = iota
	// Letterbox scales the image to fit, keeping its aspect ratio, and pads it with grey 0.5
	// (darknet's letterbox_image).
	Letterbox
)

func (m Mode) String() string {
	if m == Letterbox {
		return "letterbox"
	}
	return "plain"
}

// ParseMode reads "plain" or "letterbox".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "plain":
		return Plain, nil
	case "letterbox":
		return Letterbox, nil
	}
	return 0, fmt.Errorf("resize mode %q: want plain or letterbox", s)
}

// DefaultMaxPixels is the largest image Load and Decode accept unless MaxPixels says
// otherwise: 2^26 = 67,108,864 pixels (8192 × 8192, or a 64-megapixel photograph). An image
// takes about 16 bytes a pixel while it is converted (the decoded image, up to 4 bytes a
// pixel for 8-bit samples, and Image's 12), so about 1.1 GB at the limit; a file declaring
// more is refused from its header, before anything is allocated.
const DefaultMaxPixels = 1 << 26

// MaxPixels is the largest image, in pixels (width × height), that Load and Decode accept.
// Programs may raise it before they decode (spikeyolo's --max-pixels does); it is not safe to
// change while images are being decoded.
var MaxPixels int64 = DefaultMaxPixels

// TooLargeError is the error of Load and Decode for an image larger than MaxPixels.
type TooLargeError struct {
	W, H  int   // the size the file declares
	Limit int64 // MaxPixels when it was decoded
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("image of %d × %d = %d pixels, more than the limit of %d pixels", e.W, e.H, int64(e.W)*int64(e.H), e.Limit)
}

// Load decodes a JPEG or PNG file of at most MaxPixels pixels. Errors name the file.
func Load(path string) (Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return Image{}, err
	}
	defer f.Close()
	im, err := Decode(bufio.NewReader(f))
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", path, err)
	}
	return im, nil
}

// Decode reads a JPEG or PNG image of at most MaxPixels pixels. The size the header declares
// is checked before the image is decoded; a larger one is a *TooLargeError.
func Decode(r io.Reader) (Image, error) {
	// Read the header through a record of what it consumed, then decode from the start.
	var head bytes.Buffer
	cfg, format, err := image.DecodeConfig(io.TeeReader(r, &head))
	if err != nil {
		return Image{}, decodeError(err)
	}
	if err := checkFormat(format); err != nil {
		return Image{}, err
	}
	if limit := MaxPixels; cfg.Width < 0 || cfg.Height < 0 || int64(cfg.Width)*int64(cfg.Height) > limit {
		return Image{}, &TooLargeError{W: cfg.Width, H: cfg.Height, Limit: limit}
	}
	img, _, err := image.Decode(io.MultiReader(&head, r))
	if err != nil {
		return Image{}, decodeError(err)
	}
	if b := img.Bounds(); b.Dx() < 1 || b.Dy() < 1 {
		return Image{}, fmt.Errorf("an empty image of %d × %d pixels", b.Dx(), b.Dy())
	}
	return FromImage(img), nil
}

func checkFormat(format string) error {
	if format != "jpeg" && format != "png" {
		return fmt.Errorf("%s image: want JPEG or PNG", format)
	}
	return nil
}

func decodeError(err error) error {
	if err == image.ErrFormat {
		return fmt.Errorf("not a JPEG or PNG image")
	}
	return fmt.Errorf("decoding image: %w", err)
}

// levels[v] is the sample v as darknet holds it, v / 255.
var levels = func() (l [256]float32) {
	for v := range l {
		l[v] = float32(v) / 255
	}
	return l
}()

// FromImage converts a decoded image, dropping alpha without premultiplying (as stb_image
// does when darknet asks it for 3 channels); 16-bit samples keep their high byte. Y'CbCr
// images (JPEG) are converted as stb_image converts them (see stbRGB).
//
// The image types of the standard library (those the JPEG and PNG decoders return among
// them) are read without an allocation per pixel, giving the bits color.NRGBAModel gives;
// other types go through At and color.NRGBAModel.
func FromImage(img image.Image) Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	im := Image{W: w, H: h, Data: make([]float32, 3*w*h)}
	rs, gs, bs := im.Data[:w*h], im.Data[w*h:2*w*h], im.Data[2*w*h:]
	set := func(x, y int, r, g, bl uint8) {
		i := y*w + x
		rs[i], gs[i], bs[i] = levels[r], levels[g], levels[bl]
	}
	switch src := img.(type) {
	case *image.YCbCr:
		if !stbRGB(src, set) {
			fromColors(b, src.YCbCrAt, set)
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			for x := 0; x < w; x++ {
				set(x, y, row[4*x], row[4*x+1], row[4*x+2])
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			for x := 0; x < w; x++ {
				p := color.RGBA{row[4*x], row[4*x+1], row[4*x+2], row[4*x+3]}
				if p.A == 0xff {
					set(x, y, p.R, p.G, p.B)
					continue
				}
				r, g, bl := unpremultiply(p.RGBA())
				set(x, y, r, g, bl)
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:w]
			for x, v := range row {
				set(x, y, v, v, v)
			}
		}
	case *image.Paletted:
		// Each palette entry converted once, as At would convert it. An index past the
		// palette (which image/png never leaves: it pads the palette with opaque black)
		// reads as opaque black.
		var pal [256]color.NRGBA
		for i := range pal {
			pal[i] = color.NRGBA{A: 0xff}
			if i < len(src.Palette) {
				pal[i] = color.NRGBAModel.Convert(src.Palette[i]).(color.NRGBA)
			}
		}
		for y := 0; y < h; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:w]
			for x, v := range row {
				c := pal[v]
				set(x, y, c.R, c.G, c.B)
			}
		}
	case *image.CMYK:
		fromColors(b, src.CMYKAt, set)
	case *image.Gray16:
		fromColors(b, src.Gray16At, set)
	case *image.RGBA64:
		fromColors(b, src.RGBA64At, set)
	case *image.NRGBA64:
		fromColors(b, src.NRGBA64At, set)
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				set(x, y, c.R, c.G, c.B)
			}
		}
	}
	return im
}

// fromColors converts the pixels of the rectangle r, read by at as a concrete colour type
// (no allocation), as color.NRGBAModel converts them.
func fromColors[C interface{ RGBA() (r, g, b, a uint32) }](r image.Rectangle, at func(x, y int) C, set func(x, y int, r, g, b uint8)) {
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			cr, cg, cb := unpremultiply(at(r.Min.X+x, r.Min.Y+y).RGBA())
			set(x, y, cr, cg, cb)
		}
	}
}

// unpremultiply is color.NRGBAModel's arithmetic: the 8-bit colour, not premultiplied, of the
// premultiplied 16-bit colour (r, g, b, a) that a color.Color's RGBA method returns.
func unpremultiply(r, g, b, a uint32) (uint8, uint8, uint8) {
	switch a {
	case 0xffff:
		return uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)
	case 0:
		return 0, 0, 0
	}
	return uint8(r * 0xffff / a >> 8), uint8(g * 0xffff / a >> 8), uint8(b * 0xffff / a >> 8)
}

// Fit resizes the image to w×h by mode.
func (im Image) Fit(w, h int, mode Mode) Image {
	if mode == Letterbox {
		return im.Letterbox(w, h)
	}
	return im.Resize(w, h)
}

// Resize is darknet's resize_image: bilinear with align-corners scale (in-1)/(out-1), first
// along the width, then along the height, in float32. It panics if w or h is not positive.
func (im Image) Resize(w, h int) Image {
	if w <= 0 || h <= 0 {
		panic(fmt.Sprintf("preprocess: resize to %dx%d", w, h))
	}
	part := make([]float32, 3*w*im.H) // width resized, height not yet
	// darknet divides by zero for a one-pixel output; a zero scale gives what it means.
	var wScale, hScale float32
	if w > 1 {
		wScale = float32(im.W-1) / float32(w-1)
	}
	if h > 1 {
		hScale = float32(im.H-1) / float32(h-1)
	}
	for k := 0; k < 3; k++ {
		for r := 0; r < im.H; r++ {
			src := im.Data[(k*im.H+r)*im.W : (k*im.H+r+1)*im.W]
			dst := part[(k*im.H+r)*w : (k*im.H+r+1)*w]
			for c := range dst {
				if c == w-1 || im.W == 1 {
					dst[c] = src[im.W-1]
					continue
				}
				sx := float32(c) * wScale
				ix := int(sx)
				dx := sx - float32(ix)
				dst[c] = float32((1-dx)*src[ix]) + float32(dx*src[ix+1])
			}
		}
	}
	out := Image{W: w, H: h, Data: make([]float32, 3*w*h)}
	for k := 0; k < 3; k++ {
		for r := 0; r < h; r++ {
			sy := float32(r) * hScale
			iy := int(sy)
			dy := sy - float32(iy)
			dst := out.Data[(k*h+r)*w : (k*h+r+1)*w]
			top := part[(k*im.H+iy)*w : (k*im.H+iy+1)*w]
			for c := range dst {
				dst[c] = (1 - dy) * top[c]
			}
			if r == h-1 || im.H == 1 {
				continue
			}
			bottom := part[(k*im.H+iy+1)*w : (k*im.H+iy+2)*w]
			for c := range dst {
				dst[c] += float32(dy * bottom[c])
			}
		}
	}
	return out
}

// Letterbox is darknet's letterbox_image: the image scaled by Resize to fit w×h with its
// aspect ratio (integer sizes as darknet computes them), centred on a grey (0.5) canvas.
func (im Image) Letterbox(w, h int) Image {
	nw, nh := LetterboxSize(im.W, im.H, w, h)
	small := im.Resize(nw, nh)
	out := Image{W: w, H: h, Data: make([]float32, 3*w*h)}
	for i := range out.Data {
		out.Data[i] = 0.5
	}
	dx, dy := (w-nw)/2, (h-nh)/2
	for k := 0; k < 3; k++ {
		for y := 0; y < nh; y++ {
			copy(out.Data[(k*h+y+dy)*w+dx:], small.Data[(k*nh+y)*nw:(k*nh+y+1)*nw])
		}
	}
	return out
}

// LetterboxSize is the size darknet gives an imW×imH image inside a netW×netH letterbox.
func LetterboxSize(imW, imH, netW, netH int) (w, h int) {
	if float32(netW)/float32(imW) < float32(netH)/float32(imH) {
		return netW, max(1, imH*netW/imW)
	}
	return max(1, imW*netH/imH), netH
}
