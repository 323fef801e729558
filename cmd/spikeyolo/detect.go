package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"

	"spikeyolo/model"
	"spikeyolo/model/detect"
	"spikeyolo/model/preprocess"
	"spikeyolo/model/zoo"
)

type detectOptions struct {
	model      modelFlags
	dnn        bool
	resize     string
	thresh     float32
	nms        float32
	jsonOutput bool
}

func runDetect(args []string, stdout, stderr io.Writer) error {
	var o detectOptions
	fs := newFlags("detect", "[flags] [IMAGE...]",
		"Detects objects in JPEG or PNG images. With no image it reads darknet's dog.jpg, embedded.", stdout)
	o.model.register(fs)
	fs.BoolVar(&o.dnn, "dnn", false, "run the float network (the only engine so far)")
	fs.StringVar(&o.resize, "resize", "plain", "fit images to the network input: plain (stretch) or letterbox")
	fs.Float32Var(&o.thresh, "thresh", 0.25, "report objects with class probability above this")
	fs.Float32Var(&o.nms, "nms", 0.45, "non-maximum suppression IoU threshold")
	fs.BoolVar(&o.jsonOutput, "json", false, "print one JSON object per image per line")
	if err := parse(fs, args); err != nil {
		return err
	}
	mode, err := preprocess.ParseMode(o.resize)
	if err != nil {
		return usagef("--resize: %v", err)
	}
	if !(o.thresh >= 0 && o.thresh < 1) {
		return usagef("--thresh %v: want a probability in [0, 1)", o.thresh)
	}
	if !(o.nms > 0 && o.nms <= 1) {
		return usagef("--nms %v: want an IoU in (0, 1]", o.nms)
	}
	m, err := o.model.load()
	if err != nil {
		return err
	}
	runner := model.NewRunner(m.net)
	images := fs.Args()
	var failed error
	if len(images) == 0 {
		im, err := preprocess.Decode(bytes.NewReader(zoo.DogJPEG()))
		if err != nil {
			return fmt.Errorf("embedded dog.jpg: %v", err)
		}
		return report(stdout, &o, m, "dog.jpg", im, detect.Image(m.net, runner, im, mode, o.thresh, o.nms))
	}
	for _, path := range images {
		im, err := preprocess.Load(path)
		if err != nil {
			if failed == nil {
				failed = err
			} else {
				fmt.Fprintf(stderr, "spikeyolo detect: %v\n", err)
			}
			continue
		}
		if err := report(stdout, &o, m, path, im, detect.Image(m.net, runner, im, mode, o.thresh, o.nms)); err != nil {
			return err
		}
	}
	return failed
}

// jsonImage is the --json output for one image.
type jsonImage struct {
	Image      string          `json:"image"`
	Width      int             `json:"width"`
	Height     int             `json:"height"`
	Engine     string          `json:"engine"`
	Detections []jsonDetection `json:"detections"`
}

type jsonDetection struct {
	Class   string     `json:"class"`
	ClassID int        `json:"class_id"`
	Score   float64    `json:"score"`
	Box     [4]float64 `json:"box"` // left, top, right, bottom in pixels, clipped to the image
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// report prints one image's objects, best first.
func report(w io.Writer, o *detectOptions, m *loadedModel, path string, im preprocess.Image, objs []detect.Object) error {
	slices.SortStableFunc(objs, func(a, b detect.Object) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return a.Class - b.Class
	})
	out := jsonImage{Image: path, Width: im.W, Height: im.H, Engine: "dnn", Detections: []jsonDetection{}}
	for _, obj := range objs {
		l, t, r, b := obj.Box.Pixels(im.W, im.H)
		out.Detections = append(out.Detections, jsonDetection{
			Class: m.names[obj.Class], ClassID: obj.Class, Score: round(float64(obj.Score), 4),
			Box: [4]float64{round(l, 1), round(t, 1), round(r, 1), round(b, 1)},
		})
	}
	if o.jsonOutput {
		line, err := json.Marshal(out)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", line)
		return err
	}
	fmt.Fprintf(w, "%s: %dx%d, %d objects (%s, %s)\n", path, im.W, im.H, len(objs), out.Engine, m.name)
	for _, d := range out.Detections {
		fmt.Fprintf(w, "  %-14s %5.1f%%  box %4.0f %4.0f %4.0f %4.0f\n", d.Class, 100*d.Score, d.Box[0], d.Box[1], d.Box[2], d.Box[3])
	}
	return nil
}
