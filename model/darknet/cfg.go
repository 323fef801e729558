// Package darknet reads trained detectors in the format of the original darknet: a .cfg file
// that describes the layers and a .weights file that holds their parameters.
//
// The reader accepts the sections [net], [convolutional], [maxpool], [route], [shortcut],
// [upsample], [dropout], [region] and [yolo], with darknet's defaults. Keys that only matter
// for training are accepted and ignored; a key that would change inference in a way this
// package does not implement (dilation, anti-aliasing, ...) is an error unless it has its
// neutral value; an unknown section, an unknown key or a malformed value is an error that
// names the file and line. Weights are float32 little-endian, as darknet writes them;
// RandomWeights gives a network untrained weights instead, to map and cost an architecture
// before it is trained.
package darknet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"spikeyolo/model"
)

// Load reads a detector from its .cfg and .weights files.
func Load(cfgPath, weightsPath string) (*model.Network, error) {
	net, err := LoadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	w, err := os.ReadFile(weightsPath)
	if err != nil {
		return nil, err
	}
	if err := LoadWeights(net, w, weightsPath); err != nil {
		return nil, err
	}
	return net, nil
}

// LoadConfig reads a detector's .cfg file. Its parameters are zero until LoadWeights or
// RandomWeights fills them.
func LoadConfig(cfgPath string) (*model.Network, error) {
	f, err := os.Open(cfgPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseConfig(f, cfgPath)
}

// option is one "key=value" line of a section.
type option struct {
	key, value string
	line       int
}

// section is one "[name]" block of a cfg file.
type section struct {
	name string
	line int
	opts []option
}

// readSections splits a cfg file into sections, as darknet's read_cfg does: white space is
// removed from every line, and lines that are empty or start with '#' or ';' are comments.
func readSections(r io.Reader, file string) ([]section, error) {
	var secs []section
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	n := 1
	for ; sc.Scan(); n++ {
		text := sc.Text()
		if n == 1 {
			text = strings.TrimPrefix(text, "\uFEFF") // a UTF-8 byte-order mark
		}
		line := strings.Join(strings.Fields(text), "")
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") || len(line) < 3 {
				return nil, fmt.Errorf("%s:%d: malformed section header %q, want [name]", file, n, line)
			}
			secs = append(secs, section{name: line[1 : len(line)-1], line: n})
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || key == "" {
				return nil, fmt.Errorf("%s:%d: %q is neither a [section] nor key=value", file, n, line)
			}
			if len(secs) == 0 {
				return nil, fmt.Errorf("%s:%d: %q comes before the first [section]", file, n, line)
			}
			s := &secs[len(secs)-1]
			for _, o := range s.opts {
				if o.key == key {
					return nil, fmt.Errorf("%s:%d: [%s] key %q is already set at line %d", file, n, s.name, key, o.line)
				}
			}
			s.opts = append(s.opts, option{key, value, n})
		}
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return nil, fmt.Errorf("%s:%d: a line longer than %d bytes (1 MiB): not a darknet cfg", file, n, maxLine)
	} else if err != nil {
		return nil, fmt.Errorf("%s:%d: %w", file, n, err)
	}
	return secs, nil
}

// maxLine is the longest cfg line read: darknet's own lines are short (the longest, a list
// of anchors, is a few hundred bytes).
const maxLine = 1 << 20

// fields reads typed values out of one section, keeping the first error. Every key it is
// asked about, or told to ignore, is known; finish reports any other key as unknown.
type fields struct {
	file  string
	sec   *section
	known map[string]bool
	err   error
}

func newFields(file string, sec *section) *fields {
	return &fields{file: file, sec: sec, known: map[string]bool{}}
}

func (f *fields) fail(line int, format string, args ...any) {
	if f.err == nil {
		f.err = fmt.Errorf("%s:%d: [%s] %s", f.file, line, f.sec.name, fmt.Sprintf(format, args...))
	}
}

// lookup marks key as known and returns its option.
func (f *fields) lookup(key string) (option, bool) {
	f.known[key] = true
	for _, o := range f.sec.opts {
		if o.key == key {
			return o, true
		}
	}
	return option{}, false
}

func (f *fields) has(key string) bool { _, ok := f.lookup(key); return ok }

// line is the line of key, or of the section header if the key is absent.
func (f *fields) line(key string) int {
	if o, ok := f.lookup(key); ok {
		return o.line
	}
	return f.sec.line
}

// value is key's value without a trailing '#' comment (darknet's atoi and atof stop there).
func (f *fields) value(key string) (option, bool) {
	o, ok := f.lookup(key)
	o.value, _, _ = strings.Cut(o.value, "#")
	return o, ok
}

func (f *fields) str(key, def string) string {
	if o, ok := f.value(key); ok {
		return o.value
	}
	return def
}

func (f *fields) int(key string, def int) int {
	o, ok := f.value(key)
	if !ok {
		return def
	}
	v, err := strconv.Atoi(o.value)
	if err != nil {
		f.fail(o.line, "%s = %q: want an integer", key, o.value)
	}
	return v
}

func (f *fields) float(key string, def float32) float32 {
	o, ok := f.value(key)
	if !ok {
		return def
	}
	v, err := strconv.ParseFloat(o.value, 32)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		f.fail(o.line, "%s = %q: want a finite number", key, o.value)
	}
	return float32(v)
}

// list splits a comma-separated value; darknet ignores a trailing comma and anything after '#'.
func (f *fields) list(key string) (option, []string) {
	o, ok := f.lookup(key)
	if !ok {
		return o, nil
	}
	v, _, _ := strings.Cut(o.value, "#")
	return o, strings.Split(strings.TrimSuffix(v, ","), ",")
}

func (f *fields) ints(key string) []int {
	o, parts := f.list(key)
	out := make([]int, len(parts))
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			f.fail(o.line, "%s = %q: item %d (%q) is not an integer", key, o.value, i+1, p)
		}
		out[i] = v
	}
	return out
}

func (f *fields) floats(key string) []float32 {
	o, parts := f.list(key)
	out := make([]float32, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseFloat(p, 32)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			f.fail(o.line, "%s = %q: item %d (%q) is not a finite number", key, o.value, i+1, p)
		}
		out[i] = float32(v)
	}
	return out
}

// anchors reads a head's anchors: (width, height) pairs of box sizes, each > 0.
func (f *fields) anchors() []float32 {
	a := f.floats("anchors")
	for i, v := range a {
		if !(v > 0) && f.err == nil {
			o, _ := f.lookup("anchors")
			f.fail(o.line, "anchors = %s: item %d (%v) is not > 0: anchors are box widths and heights", o.value, i+1, v)
		}
	}
	return a
}

// ignore declares keys that do not change inference (training settings).
func (f *fields) ignore(keys ...string) {
	for _, k := range keys {
		f.known[k] = true
	}
}

// neutral accepts key only with a value that leaves inference as this package computes it.
func (f *fields) neutral(key string, values ...string) {
	o, ok := f.lookup(key)
	if !ok {
		return
	}
	for _, v := range values {
		if o.value == v {
			return
		}
	}
	f.fail(o.line, "%s = %s is not supported (only %s)", key, o.value, strings.Join(values, " or "))
}

// finish reports the first error, or the first key that the section does not know.
func (f *fields) finish() error {
	if f.err != nil {
		return f.err
	}
	for _, o := range f.sec.opts {
		if !f.known[o.key] {
			return fmt.Errorf("%s:%d: [%s] has no key %q", f.file, o.line, f.sec.name, o.key)
		}
	}
	return nil
}

// Keys every darknet layer accepts (training controls, stream scheduling).
var layerTrainingKeys = []string{"clip", "onlyforward", "dont_update", "burnin_update", "stopbackward",
	"train_only_bn", "dontload", "dontloadscales", "learning_rate", "stream", "wait_stream"}

// Keys of [net] that configure training or data augmentation (pjreddie's and AlexeyAB's darknet).
var netTrainingKeys = []string{"batch", "subdivisions", "momentum", "decay", "angle", "saturation", "exposure",
	"hue", "aspect", "learning_rate", "learning_rate_min", "burn_in", "max_batches", "policy", "steps", "scales",
	"seq_scales", "step", "scale", "gamma", "power", "sgdr_cycle", "sgdr_mult", "time_steps", "track",
	"augment_speed", "sequential_subdivisions", "try_fix_nan", "weights_reject_freq", "equidistant_point",
	"badlabels_rejection_percentage", "num_sigmas_reject_badlabels", "ema_alpha", "use_cuda_graph", "loss_scale",
	"dynamic_minibatch", "optimized_memory", "workspace_size_limit_MB", "adam", "B1", "B2", "eps", "inputs",
	"max_crop", "min_crop", "max_ratio", "min_ratio", "center", "flip", "blur", "gaussian_noise", "mixup",
	"cutmix", "mosaic", "letter_box", "mosaic_bound", "contrastive", "contrastive_jit_flip", "contrastive_color",
	"unsupervised", "label_smooth_eps", "resize_step", "attention", "adversarial_lr", "max_chart_loss",
	"notruth", "random", "clip", "show_receptive_field"}

// Keys of the detection heads that only matter for training.
var headTrainingKeys = []string{"jitter", "resize", "ignore_thresh", "truth_thresh", "iou_thresh", "random",
	"max", "show_details", "max_delta", "counters_per_class", "label_smooth_eps", "objectness_smooth",
	"iou_normalizer", "obj_normalizer", "cls_normalizer", "delta_normalizer", "iou_loss", "iou_thresh_kind",
	"beta_nms", "nms_kind", "focal_loss", "track_history_size", "sim_thresh", "dets_for_track", "dets_for_show",
	"track_ciou_norm", "bias_match", "rescore", "thresh", "classfix", "absolute", "coord_scale", "object_scale",
	"noobject_scale", "mask_scale", "class_scale", "log", "sqrt"}

// ParseConfig reads a cfg file and builds the network it describes, with empty weights (see
// LoadWeights). name is used in error messages.
func ParseConfig(r io.Reader, name string) (*model.Network, error) {
	secs, err := readSections(r, name)
	if err != nil {
		return nil, err
	}
	if len(secs) == 0 {
		return nil, fmt.Errorf("%s: no sections: a darknet cfg starts with [net]", name)
	}
	if secs[0].name != "net" && secs[0].name != "network" {
		return nil, fmt.Errorf("%s:%d: the first section is [%s], want [net]", name, secs[0].line, secs[0].name)
	}
	net, err := parseNet(name, &secs[0])
	if err != nil {
		return nil, err
	}
	for i := 1; i < len(secs); i++ {
		s := &secs[i]
		f := newFields(name, s)
		f.ignore(layerTrainingKeys...)
		idx := i - 1 // this layer's index
		prev := idx - 1
		var op model.Op
		inputs := []int{prev}
		batchNorm := false
		switch s.name {
		case "convolutional", "conv":
			op, batchNorm = parseConv(f)
		case "maxpool", "max":
			op = parseMaxPool(f)
		case "route":
			op, inputs = parseRoute(f, idx)
		case "shortcut":
			op, inputs = parseShortcut(f, idx)
		case "upsample":
			f.neutral("scale", "1", "1.0")
			op = &model.Upsample{Stride: f.int("stride", 2)}
		case "dropout":
			f.ignore("probability", "dropblock", "dropblock_size_rel", "dropblock_size_abs")
			op = &model.Dropout{}
		case "region", "yolo":
			if s.name == "region" {
				op = parseRegion(f)
			} else {
				op = parseYolo(f)
			}
			if prev >= 0 {
				switch net.Layers[prev].Op.(type) {
				case *model.Region, *model.Yolo:
					return nil, fmt.Errorf("%s:%d: [%s] reads layer %d, itself a [%s] head: a head decodes the output of a convolution, and two stacked heads would decode it twice", name, s.line, s.name, prev, net.Layers[prev].Op.Kind())
				}
			}
		default:
			return nil, fmt.Errorf("%s:%d: unknown section [%s] (supported: net, convolutional, maxpool, route, shortcut, upsample, dropout, region, yolo)", name, s.line, s.name)
		}
		if err := f.finish(); err != nil {
			return nil, err
		}
		where := fmt.Sprintf("%s:%d", name, s.line)
		if _, err := net.Add(op, inputs, where); err != nil {
			return nil, fmt.Errorf("%s: [%s] %w", where, s.name, err)
		}
		if c, ok := op.(*model.Conv); ok {
			allocate(c, net.InShape(idx).C, batchNorm)
		}
	}
	if len(net.Layers) == 0 {
		return nil, fmt.Errorf("%s: the network has no layers", name)
	}
	return net, nil
}

func parseNet(file string, s *section) (*model.Network, error) {
	f := newFields(file, s)
	f.ignore(netTrainingKeys...)
	shape := model.Shape{C: f.int("channels", 0), H: f.int("height", 0), W: f.int("width", 0)}
	if err := f.finish(); err != nil {
		return nil, err
	}
	net, err := model.NewNetwork(shape)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: [%s] width, height and channels: %w", file, s.line, s.name, err)
	}
	return net, nil
}

// allocate gives a convolution zero parameters of the right sizes, for LoadWeights to fill.
func allocate(c *model.Conv, inC int, batchNorm bool) {
	c.Weights = make([]float32, c.WeightCount(inC))
	c.Biases = make([]float32, c.Filters)
	if batchNorm {
		c.BatchNorm = model.BatchNorm{
			Scales:   make([]float32, c.Filters),
			Mean:     make([]float32, c.Filters),
			Variance: make([]float32, c.Filters),
		}
	}
}

// parseConv reads a [convolutional] section; batchNorm reports batch_normalize=1.
func parseConv(f *fields) (c *model.Conv, batchNorm bool) {
	c = &model.Conv{
		Filters: f.int("filters", 1),
		Size:    f.int("size", 1),
		Stride:  f.int("stride", 1),
		Groups:  f.int("groups", 1),
	}
	c.Padding = f.int("padding", 0)
	if f.int("pad", 0) != 0 {
		c.Padding = c.Size / 2
	}
	act, err := model.ParseActivation(f.str("activation", "logistic"))
	if err != nil {
		f.fail(f.line("activation"), "%v", err)
	}
	c.Act = act
	switch bn := f.int("batch_normalize", 0); bn {
	case 0:
	case 1:
		batchNorm = true
	default:
		f.fail(f.line("batch_normalize"), "batch_normalize = %d: want 0 or 1", bn)
	}
	for _, k := range []string{"stride_x", "stride_y"} {
		if f.has(k) && f.int(k, c.Stride) != c.Stride {
			f.fail(f.line(k), "%s different from stride is not supported", k)
		}
	}
	f.neutral("dilation", "1")
	for _, k := range []string{"antialiasing", "binary", "xnor", "bin_output", "sway", "rotate", "stretch",
		"stretch_sway", "coordconv", "cbn", "assisted_excitation", "flipped"} {
		f.neutral(k, "0")
	}
	f.ignore("share_index", "dot", "angle", "grad_centr", "reverse")
	return c, batchNorm
}

func parseMaxPool(f *fields) *model.MaxPool {
	stride := f.int("stride", 1)
	m := &model.MaxPool{Stride: stride, Size: f.int("size", stride)}
	m.Padding = f.int("padding", m.Size-1)
	for _, k := range []string{"stride_x", "stride_y"} {
		if f.has(k) && f.int(k, stride) != stride {
			f.fail(f.line(k), "%s different from stride is not supported", k)
		}
	}
	f.neutral("maxpool_depth", "0")
	f.neutral("out_channels", "1")
	f.neutral("antialiasing", "0")
	f.neutral("maxpool_zero_nonmax", "0")
	return m
}

// absolute turns darknet's layer reference (negative: relative to layer idx) into an index.
func absolute(ref, idx int) int {
	if ref < 0 {
		return idx + ref
	}
	return ref
}

func parseRoute(f *fields, idx int) (model.Op, []int) {
	o, ok := f.lookup("layers")
	if !ok {
		f.fail(f.sec.line, "needs layers = ...")
		return &model.Route{Groups: 1}, []int{idx - 1}
	}
	refs := f.ints("layers")
	inputs := make([]int, len(refs))
	for i, ref := range refs {
		inputs[i] = absolute(ref, idx)
		if inputs[i] < 0 || inputs[i] >= idx {
			f.fail(o.line, "layers = %s: %d names no earlier layer", o.value, ref)
		}
	}
	return &model.Route{Groups: f.int("groups", 1), GroupID: f.int("group_id", 0)}, inputs
}

func parseShortcut(f *fields, idx int) (model.Op, []int) {
	o, ok := f.lookup("from")
	if !ok {
		f.fail(f.sec.line, "needs from = ...")
	}
	refs := f.ints("from")
	if ok && len(refs) != 1 {
		f.fail(o.line, "from = %s: only one layer is supported", o.value)
	}
	from := idx - 1
	if len(refs) > 0 {
		from = absolute(refs[0], idx)
		if from < 0 || from >= idx {
			f.fail(o.line, "from = %s names no earlier layer", o.value)
		}
	}
	act, err := model.ParseActivation(f.str("activation", "linear"))
	if err != nil {
		f.fail(f.line("activation"), "%v", err)
	}
	f.neutral("weights_type", "none")
	f.neutral("weights_normalization", "none")
	return &model.Shortcut{Act: act}, []int{idx - 1, from}
}

func parseRegion(f *fields) *model.Region {
	f.ignore(headTrainingKeys...)
	f.neutral("softmax_tree", "0")
	for _, k := range []string{"tree", "map"} {
		if o, ok := f.lookup(k); ok {
			f.fail(o.line, "%s is not supported", k)
		}
	}
	r := &model.Region{
		Coords:  f.int("coords", 4),
		Classes: f.int("classes", 20),
		Num:     f.int("num", 1),
		Softmax: f.int("softmax", 0) != 0,
		Anchors: f.anchors(),
	}
	if r.Num >= 1 && r.Num <= model.MaxDim && len(r.Anchors) > 2*r.Num {
		r.Anchors = r.Anchors[:2*r.Num] // darknet reads num pairs
	}
	return r
}

func parseYolo(f *fields) *model.Yolo {
	f.ignore(headTrainingKeys...)
	f.neutral("new_coords", "0")
	if o, ok := f.lookup("map"); ok {
		f.fail(o.line, "map is not supported")
	}
	f.ignore("embedding_layer")
	y := &model.Yolo{
		Classes: f.int("classes", 20),
		Anchors: f.anchors(),
		ScaleXY: f.float("scale_x_y", 1),
	}
	if !(y.ScaleXY > 0) {
		f.fail(f.line("scale_x_y"), "scale_x_y = %v: want a number > 0 (it stretches the box centres' logistic)", y.ScaleXY)
	}
	total := f.int("num", 1)
	if total < 1 || total > model.MaxDim {
		f.fail(f.line("num"), "num = %d, want 1..%d", total, model.MaxDim)
		return y
	}
	if f.has("mask") {
		y.Mask = f.ints("mask")
	} else {
		for i := 0; i < total; i++ {
			y.Mask = append(y.Mask, i)
		}
	}
	if len(y.Anchors) > 2*total {
		y.Anchors = y.Anchors[:2*total] // darknet reads num pairs
	}
	if len(y.Anchors) != 2*total {
		f.fail(f.line("anchors"), "num = %d needs %d anchor values, got %d", total, 2*total, len(y.Anchors))
	}
	return y
}
