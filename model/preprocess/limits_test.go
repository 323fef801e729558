package preprocess_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spikeyolo/model/preprocess"
)

// HugePNG is a PNG of a few dozen bytes whose header declares w × h pixels of 8-bit RGBA:
// a 1 × 1 image with its IHDR's size (and CRC) rewritten.
func HugePNG(t testing.TB, w, h uint32) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4), 5 more bytes, CRC.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// hugeJPEG is a small JPEG whose frame header declares w × h pixels.
func hugeJPEG(t testing.TB, w, h uint16) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	sof := bytes.Index(b, []byte{0xff, 0xc0})
	if sof < 0 {
		t.Fatal("no SOF0 marker")
	}
	// Marker (2), length (2), precision (1), height (2), width (2).
	binary.BigEndian.PutUint16(b[sof+5:], h)
	binary.BigEndian.PutUint16(b[sof+7:], w)
	return b
}

// TestDecodeRefusesHugeImages: an image whose header declares more than MaxPixels is refused
// from the header, before its pixels are allocated, with an error giving its size and the
// limit (and, from Load, the file).
func TestDecodeRefusesHugeImages(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		w, h int
	}{
		{"png 60000x60000", HugePNG(t, 60000, 60000), 60000, 60000},
		{"png 20000x20000", HugePNG(t, 20000, 20000), 20000, 20000},
		{"png 2^31-1 wide", HugePNG(t, 1<<31-1, 1), 1<<31 - 1, 1},
		{"jpeg 65535x65535", hugeJPEG(t, 65535, 65535), 65535, 65535},
		{"png just over", HugePNG(t, 8193, 8192), 8193, 8192},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "huge.img")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := preprocess.Load(path)
			var big *preprocess.TooLargeError
			if !errors.As(err, &big) || big.W != tc.w || big.H != tc.h || big.Limit != preprocess.DefaultMaxPixels {
				t.Fatalf("Load = %v, want a TooLargeError of %d × %d, limit %d", err, tc.w, tc.h, preprocess.DefaultMaxPixels)
			}
			for _, want := range []string{path, "67108864"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
		})
	}
}

// TestMaxPixelsRaisesAndLowers: the limit is MaxPixels, inclusive.
func TestMaxPixelsRaisesAndLowers(t *testing.T) {
	defer func(old int64) { preprocess.MaxPixels = old }(preprocess.MaxPixels)
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 5, 4))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		limit int64
		ok    bool
	}{{19, false}, {20, true}, {preprocess.DefaultMaxPixels, true}} {
		preprocess.MaxPixels = tc.limit
		im, err := preprocess.Decode(bytes.NewReader(buf.Bytes()))
		if tc.ok && (err != nil || im.W != 5 || im.H != 4) {
			t.Errorf("limit %d: %v, want the 5 × 4 image", tc.limit, err)
		}
		if !tc.ok && !errors.As(err, new(*preprocess.TooLargeError)) {
			t.Errorf("limit %d: %v, want a TooLargeError", tc.limit, err)
		}
	}
}

// hidden hides an image's concrete type, so FromImage converts it through At.
type hidden struct{ image.Image }

// decodedTypes are the image types of the standard library (the JPEG and PNG decoders return
// them), filled with random pixels (partly transparent where the type has alpha), each also
// as a sub-image.
func decodedTypes() map[string]image.Image {
	rng := rand.New(rand.NewPCG(1, 2))
	r := image.Rect(3, 5, 3+37, 5+23)
	rgba, nrgba, gray := image.NewRGBA(r), image.NewNRGBA(r), image.NewGray(r)
	for i := range nrgba.Pix {
		nrgba.Pix[i] = uint8(rng.IntN(256))
	}
	for i := 0; i < len(rgba.Pix); i += 4 {
		a := uint8(rng.IntN(256))
		if i%12 == 0 {
			a = []uint8{0, 255, 1}[i/12%3]
		}
		for k := 0; k < 3; k++ {
			rgba.Pix[i+k] = uint8(rng.IntN(int(a) + 1)) // premultiplied: at most alpha
		}
		rgba.Pix[i+3] = a
	}
	for i := range gray.Pix {
		gray.Pix[i] = uint8(rng.IntN(256))
	}
	pal := color.Palette{color.RGBA{10, 20, 30, 255}, color.NRGBA{200, 100, 50, 128}, color.RGBA{40, 30, 20, 100}, color.Gray{77}}
	paletted := image.NewPaletted(r, pal)
	for i := range paletted.Pix {
		paletted.Pix[i] = uint8(rng.IntN(len(pal)))
	}
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	for _, p := range [][]uint8{ycc.Y, ycc.Cb, ycc.Cr} {
		for i := range p {
			p[i] = uint8(rng.IntN(256))
		}
	}
	cmyk, gray16, rgba64, nrgba64 := image.NewCMYK(r), image.NewGray16(r), image.NewRGBA64(r), image.NewNRGBA64(r)
	for _, p := range [][]uint8{cmyk.Pix, gray16.Pix, nrgba64.Pix} {
		for i := range p {
			p[i] = uint8(rng.IntN(256))
		}
	}
	for i := 0; i < len(rgba64.Pix); i += 8 {
		a := uint16(rng.IntN(1 << 16))
		for k := 0; k < 3; k++ {
			binary.BigEndian.PutUint16(rgba64.Pix[i+2*k:], uint16(rng.IntN(int(a)+1)))
		}
		binary.BigEndian.PutUint16(rgba64.Pix[i+6:], a)
	}
	out := map[string]image.Image{}
	sub := image.Rect(7, 9, 30, 20)
	for name, img := range map[string]interface {
		image.Image
		SubImage(image.Rectangle) image.Image
	}{"RGBA": rgba, "NRGBA": nrgba, "Gray": gray, "Paletted": paletted, "YCbCr": ycc,
		"CMYK": cmyk, "Gray16": gray16, "RGBA64": rgba64, "NRGBA64": nrgba64} {
		out[name] = img
		out[name+" sub-image"] = img.SubImage(sub)
	}
	return out
}

// TestFromImageTypesMatchAt: the types read from their pixel buffers give the same bits as
// the same images read through At and color.NRGBAModel.
func TestFromImageTypesMatchAt(t *testing.T) {
	for name, img := range decodedTypes() {
		t.Run(name, func(t *testing.T) {
			got, want := preprocess.FromImage(img), preprocess.FromImage(hidden{img})
			if got.W != want.W || got.H != want.H {
				t.Fatalf("%d × %d, want %d × %d", got.W, got.H, want.W, want.H)
			}
			if ycc, ok := img.(*image.YCbCr); ok && ycc.Rect.Min == (image.Point{}) {
				return // converted as stb_image converts it, not as At does (TestJPEGCloseToDarknet)
			}
			for i := range want.Data {
				if got.Data[i] != want.Data[i] {
					t.Fatalf("value %d = %v, want %v", i, got.Data[i], want.Data[i])
				}
			}
		})
	}
}

// TestFromImageAllocations: the standard library's image types are converted without an
// allocation per pixel (a 10000 × 10000 PNG would otherwise make 10^8 of them).
func TestFromImageAllocations(t *testing.T) {
	for name, img := range decodedTypes() {
		t.Run(name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(3, func() { preprocess.FromImage(img) })
			// The planes, the set closure, stbRGB's row buffers.
			if allocs > 16 {
				t.Errorf("%v allocations for %d pixels, want at most 16", allocs, img.Bounds().Dx()*img.Bounds().Dy())
			}
		})
	}
}
