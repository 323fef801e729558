package preprocess_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"path/filepath"
	"testing"

	"spikeyolo/model/darknetref"
	"spikeyolo/model/preprocess"
)

// TestResizeMatchesDarknet: from darknet's decoded bytes of dog.jpg, Resize gives darknet's
// network input bit for bit, at 224 and at 320.
func TestResizeMatchesDarknet(t *testing.T) {
	dir := darknetref.Dir(t)
	im, err := preprocess.Load(filepath.Join(dir, "reference", "decoded", "dog.decoded.png"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		size int
		file string
	}{{224, "yolo-lite-voc/dog.input.f32"}, {320, "yolo-fastest-1.1-coco/dog.input.f32"}} {
		want, err := darknetref.ReadF32(filepath.Join(dir, "reference", c.file))
		if err != nil {
			t.Fatal(err)
		}
		got := im.Resize(c.size, c.size).Data
		diff := 0
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				diff++
			}
		}
		if diff != 0 {
			t.Errorf("%d: %d of %d values differ from darknet's", c.size, diff, len(want))
		}
	}
}

// TestJPEGCloseToDarknet: Go's JPEG decoder with stb_image's chroma upsampling and colour
// conversion stays within 3 levels of darknet's decoded bytes on every sample image (the
// IDCTs round differently; measured: every image has some values 3 levels apart, none 4).
func TestJPEGCloseToDarknet(t *testing.T) {
	dir := darknetref.Dir(t)
	for _, name := range darknetref.Images {
		a, err := preprocess.Load(filepath.Join(dir, "images", name+".jpg"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := preprocess.Load(filepath.Join(dir, "reference", "decoded", name+".decoded.png"))
		if err != nil {
			t.Fatal(err)
		}
		// Values are byte/255: the level is the byte back.
		level := func(x float32) int { return int(math.Round(float64(x) * 255)) }
		worst, sum := 0, 0
		for i := range a.Data {
			d := level(a.Data[i]) - level(b.Data[i])
			d = max(d, -d)
			worst, sum = max(worst, d), sum+d
		}
		if worst > 3 {
			t.Errorf("%s: a channel differs by %d levels from darknet's decoder, want at most 3", name, worst)
		}
		if mean := float64(sum) / float64(len(a.Data)); mean > 0.1 {
			t.Errorf("%s: mean difference %.3f levels", name, mean)
		}
	}
}

// TestResizeByHand checks a 3×1 → 2×1 and a 2×2 → 3×3 resize against hand computation.
func TestResizeByHand(t *testing.T) {
	// One channel shown; the three are resized alike.
	im := gray(3, 1, 0, 0.5, 1)
	// Width scale (3-1)/(2-1) = 2: column 0 takes x=0, the last column takes the last pixel.
	if got := im.Resize(2, 1).Data[:2]; got[0] != 0 || got[1] != 1 {
		t.Errorf("3→2: %v, want [0 1]", got)
	}
	im = gray(2, 2, 0, 1, 1, 0)
	// Scales (2-1)/(3-1) = 0.5. Row 0: 0, 0.5, 1. Row 2: 1, 0.5, 0. Row 1 halfway: 0.5, 0.5, 0.5.
	want := []float32{0, 0.5, 1, 0.5, 0.5, 0.5, 1, 0.5, 0}
	got := im.Resize(3, 3).Data[:9]
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("2x2→3x3 = %v, want %v", got, want)
		}
	}
}

// TestLetterbox: a 4×2 image in a 4×4 box keeps its aspect: 4×2 in the middle rows, grey 0.5
// above and below (darknet's letterbox_image).
func TestLetterbox(t *testing.T) {
	im := gray(4, 2, 1, 1, 1, 1, 1, 1, 1, 1)
	if w, h := preprocess.LetterboxSize(4, 2, 4, 4); w != 4 || h != 2 {
		t.Fatalf("LetterboxSize = %dx%d, want 4x2", w, h)
	}
	got := im.Letterbox(4, 4).Data[:16]
	for i, v := range got {
		want := float32(0.5)
		if row := i / 4; row == 1 || row == 2 {
			want = 1
		}
		if v != want {
			t.Fatalf("letterbox = %v", got)
		}
	}
}

// TestDecodeDropsAlpha: a half-transparent PNG pixel keeps its colour (no premultiplication).
func TestDecodeDropsAlpha(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.NRGBA{R: 255, G: 51, B: 0, A: 128})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	im, err := preprocess.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if im.Data[0] != 1 || im.Data[1] != 0.2 || im.Data[2] != 0 {
		t.Errorf("RGB = %v, want [1 0.2 0]", im.Data)
	}
}

func TestDecodeRejectsNonImages(t *testing.T) {
	for _, data := range []string{"", "hello", "\x89PNG\r\n\x1a\n truncated"} {
		if _, err := preprocess.Decode(bytes.NewReader([]byte(data))); err == nil {
			t.Errorf("%q decoded without error", data)
		}
	}
}

// gray builds a w×h image whose three channels all hold v (row by row).
func gray(w, h int, v ...float32) preprocess.Image {
	im := preprocess.Image{W: w, H: h, Data: make([]float32, 3*w*h)}
	for c := 0; c < 3; c++ {
		copy(im.Data[c*w*h:], v)
	}
	return im
}
