package detect_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"strings"
	"testing"

	"spikeyolo/model"
	"spikeyolo/model/darknet"
	"spikeyolo/model/detect"
	"spikeyolo/model/preprocess"
)

// fuzzCfg is a small detector with a yolo head, for the image fuzz target.
const fuzzCfg = `[net]
width=32
height=32
channels=3
[convolutional]
filters=8
size=3
stride=2
pad=1
activation=leaky
[convolutional]
filters=18
size=1
activation=linear
[yolo]
mask=0,1,2
anchors=4,6,10,12,20,24
classes=1
num=3
`

// FuzzDetectImage runs arbitrary bytes through the whole detect --dnn path: decoding (with
// its size limit), fitting in both modes, the float network, decoding of the head and NMS.
// Bad bytes must give an error, never a panic; a decoded image must give boxes within it
// with finite scores in (0, 1].
func FuzzDetectImage(f *testing.F) {
	net, err := darknet.ParseConfig(strings.NewReader(fuzzCfg), "fuzz.cfg")
	if err != nil {
		f.Fatal(err)
	}
	darknet.RandomWeights(net, 1)
	runner := model.NewRunner(net)
	src := image.NewNRGBA(image.Rect(0, 0, 9, 7))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 37)
	}
	var pngBuf, jpgBuf, grayBuf bytes.Buffer
	png.Encode(&pngBuf, src)
	jpeg.Encode(&jpgBuf, src, nil)
	gray := image.NewGray(image.Rect(0, 0, 3, 40))
	gray.Set(1, 1, color.Gray{200})
	png.Encode(&grayBuf, gray)
	for _, seed := range [][]byte{pngBuf.Bytes(), jpgBuf.Bytes(), grayBuf.Bytes(), []byte("not an image"), pngBuf.Bytes()[:30]} {
		f.Add(seed)
	}
	preprocess.MaxPixels = 1 << 16 // keep each input small
	f.Fuzz(func(t *testing.T, data []byte) {
		im, err := preprocess.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		if im.W < 1 || im.H < 1 || int64(im.W)*int64(im.H) > preprocess.MaxPixels || len(im.Data) != 3*im.W*im.H {
			t.Fatalf("decoded a %dx%d image of %d values", im.W, im.H, len(im.Data))
		}
		for _, mode := range []preprocess.Mode{preprocess.Plain, preprocess.Letterbox} {
			for _, o := range detect.Image(net, runner, im, mode, 0.01, 0.45) {
				b := o.Box
				if !(o.Score > 0 && o.Score <= 1) || math.IsNaN(float64(b.X)) || math.IsNaN(float64(b.W)) {
					t.Fatalf("object %+v", o)
				}
			}
		}
	})
}
