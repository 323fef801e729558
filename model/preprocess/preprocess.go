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

// Load decodes a JPEG or PNG file.
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

// Decode reads a JPEG or PNG image.
func Decode(r io.Reader) (Image, error) {
	img, format, err := image.Decode(r)
	if err != nil {
		if err == image.ErrFormat {
			return Image{}, fmt.Errorf("not a JPEG or PNG image")
		}
		return Image{}, fmt.Errorf("decoding image: %w", err)
	}
	if format != "jpeg" && format != "png" {
		return Image{}, fmt.Errorf("%s image: want JPEG or PNG", format)
	}
	return FromImage(img), nil
}

// FromImage converts a decoded image, dropping alpha without premultiplying (as stb_image
// does when darknet asks it for 3 channels); 16-bit samples keep their high byte. Y'CbCr
// images (JPEG) are converted as stb_image converts them (see stbRGB).
func FromImage(img image.Image) Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	im := Image{W: w, H: h, Data: make([]float32, 3*w*h)}
	set := func(x, y int, r, g, bl uint8) {
		i := y*w + x
		im.Data[i] = float32(r) / 255
		im.Data[w*h+i] = float32(g) / 255
		im.Data[2*w*h+i] = float32(bl) / 255
	}
	if ycc, ok := img.(*image.YCbCr); ok && stbRGB(ycc, set) {
		return im
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			set(x, y, c.R, c.G, c.B)
		}
	}
	return im
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
