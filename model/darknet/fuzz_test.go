package darknet_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"spikeyolo/model"
	"spikeyolo/model/darknet"
	"spikeyolo/model/darknetref"
)

// fuzzSeeds are small cfgs that use every section, for FuzzParseConfig to start from.
var fuzzSeeds = []string{
	tinyCfg,
	netHdr(3, 8, 8) + "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\npad=1\nactivation=leaky\n" +
		"[maxpool]\nsize=2\nstride=2\n[maxpool]\nsize=2\nstride=1\n[convolutional]\nsize=1\nstride=1\npad=1\nfilters=12\nactivation=linear\n" +
		"[region]\nanchors = 1.08,1.19,  3.42,4.41\nclasses=1\ncoords=4\nnum=2\nsoftmax=1\njitter=.2\n",
	netHdr(2, 6, 4) + "[convolutional]\nfilters=4\nsize=3\nstride=2\npad=1\nactivation=relu\n[convolutional]\nfilters=4\ngroups=4\nsize=3\npad=1\n" +
		"[convolutional]\nfilters=4\nsize=1\n[dropout]\nprobability=.15\n[shortcut]\nfrom=-3\nactivation=linear\n" +
		"[maxpool]\nstride=1\nsize=3\n[route]\nlayers=-1,-2\n[route]\nlayers=-1\ngroups=2\ngroup_id=1\n" +
		"[convolutional]\nfilters=12\nsize=1\nactivation=linear\n[yolo]\nmask=0,1\nanchors=1,2,3,4,5,6\nclasses=1\nnum=3\nscale_x_y=1.05\n" +
		"[route]\nlayers=-3\n[upsample]\nstride=2\n[route]\nlayers=-2,0\n[convolutional]\nfilters=6\nsize=1\n[yolo]\nmask=2\nanchors=1,2,3,4,5,6\nclasses=1\nnum=3\n",
	"# comment\n; comment\n[network]\n width = 5\nheight=3\nchannels=1\n[conv]\nfilters = 2\n[max]\nsize=2\nstride=2\n",
	netHdr(1, 1, 1) + "[upsample]\nstride=3\n[convolutional]\nfilters=6\nsize=3\npadding=2\n[yolo]\nclasses=1\nanchors=1,2\n",
}

// TestFuzzSeeds: the inline seeds are valid networks that run, so that fuzzing starts from
// inputs that reach every check.
func TestFuzzSeeds(t *testing.T) {
	for i, s := range fuzzSeeds {
		net := mustParse(t, s)
		outs := model.NewRunner(net).Run(make([]float32, net.Input.Size()))
		if len(outs) != len(net.Layers) {
			t.Errorf("seed %d: %d outputs for %d layers", i, len(outs), len(net.Layers))
		}
	}
}

// fuzzLimits bound the numbers of the keys that size what ParseConfig allocates: every
// convolution's filters·channels·size² parameters, and the default yolo mask of num entries.
// ParseConfig refuses a layer beyond model.MaxValues values (1 GB of float32), but a few such
// layers, or one just under the bound, make the fuzzing workers slow and thrash; these
// tighter limits keep each input cheap. Within them a convolution reads at most
// 256·2^maxRouteRefs channels (each comma of a route can double them), so it holds at most
// 256·4096·8² float32 parameters, 268 MB. Keys without a limit (classes, mask, padding,
// stride, ...) allocate nothing in ParseConfig and stay free for the fuzzer.
var fuzzLimits = map[string]int{"channels": 256, "filters": 256, "size": 8, "num": 4096}

// maxRouteRefs bounds the commas in all [route] layers= values (yolo-fastest has 4).
const maxRouteRefs = 4

// tooBig reports whether cfg has a number beyond fuzzLimits or more than maxRouteRefs
// commas in route references. Lines are read as ParseConfig reads them: white space removed.
func tooBig(cfg []byte) bool {
	refs := 0
	for _, line := range strings.Split(string(cfg), "\n") {
		key, value, _ := strings.Cut(strings.Join(strings.Fields(line), ""), "=")
		if key == "layers" {
			refs += strings.Count(value, ",")
		}
		limit, ok := fuzzLimits[key]
		if !ok {
			continue
		}
		digits := 0
		for _, r := range value + " " {
			if r >= '0' && r <= '9' {
				digits++
				continue
			}
			if digits > len(strconv.Itoa(limit)) {
				return true
			}
			digits = 0
		}
		if n, err := strconv.Atoi(value); err == nil && n > limit {
			return true
		}
	}
	return refs > maxRouteRefs
}

// FuzzParseConfig: ParseConfig never panics; its errors name the file; a network it returns
// has layers of positive shapes whose sizes do not overflow, and can be run (on small
// networks) without panicking.
func FuzzParseConfig(f *testing.F) {
	if dir, ok := darknetref.Find(); ok {
		paths := []string{}
		for _, m := range darknetref.Models(dir) {
			paths = append(paths, m.Cfg)
		}
		for _, name := range []string{"yolov2-tiny-voc.cfg", "yolov2-tiny.cfg", "yolov3-tiny.cfg"} {
			paths = append(paths, filepath.Join(dir, "models", "darknet-cfg", name))
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, cfg []byte) {
		if tooBig(cfg) {
			t.Skip("numbers too large: ParseConfig would allocate without bound (TestParseConfigHugeAllocation)")
		}
		var net *model.Network
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("ParseConfig panicked: %v\n%s", r, debug.Stack())
				}
			}()
			net, err = darknet.ParseConfig(bytes.NewReader(cfg), "fuzz.cfg")
		}()
		if err != nil {
			if net != nil {
				t.Errorf("a network with the error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "fuzz.cfg") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if len(net.Layers) == 0 {
			t.Fatal("no error and no layers")
		}
		inSize, ok := exactSize(net.Input)
		if net.Input.C <= 0 || net.Input.H <= 0 || net.Input.W <= 0 || !ok || int64(net.Input.Size()) != inSize {
			t.Fatalf("input %v: not positive, or its size overflows (Size() = %d)", net.Input, net.Input.Size())
		}
		var outs, work float64 // elements of all outputs, and operations to compute them
		var macs int64
		for i, l := range net.Layers {
			if l.Out.C <= 0 || l.Out.H <= 0 || l.Out.W <= 0 {
				t.Fatalf("layer %d (%s): output %v is not positive", i, l.Op.Kind(), l.Out)
			}
			n, ok := exactSize(l.Out)
			if !ok || int64(l.Out.Size()) != n {
				t.Fatalf("layer %d (%s): output %v (CxHxW %d %d %d): its size overflows an int (Size() = %d)",
					i, l.Op.Kind(), l.Out, l.Out.C, l.Out.H, l.Out.W, l.Out.Size())
			}
			for _, in := range l.Inputs {
				if in < -1 || in >= i {
					t.Fatalf("layer %d reads layer %d", i, in)
				}
			}
			if !strings.HasPrefix(l.Source, "fuzz.cfg:") {
				t.Errorf("layer %d: source %q", i, l.Source)
			}
			outs += float64(n)
			work += float64(n)
			switch o := l.Op.(type) {
			case *model.Conv:
				inC := net.InShape(i).C
				if len(o.Weights) != o.WeightCount(inC) || len(o.Biases) != o.Filters {
					t.Fatalf("layer %d: %d weights, %d biases for %d filters of %d channels", i, len(o.Weights), len(o.Biases), o.Filters, inC)
				}
				m := net.MACs(i)
				if m < 0 {
					return // the count itself overflows: far too big to run
				}
				macs += m
				work += float64(n) * float64(inC/o.Groups) * float64(o.Size) * float64(o.Size)
			case *model.MaxPool:
				work += float64(n) * float64(o.Size) * float64(o.Size)
			}
		}
		if inSize > 1<<16 || macs > 1e7 || outs > 1<<22 || work > 1e7 {
			return
		}
		var got [][]float32
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Run panicked on a network ParseConfig accepted: %v\n%s\n%s", r, net.Describe(), debug.Stack())
				}
			}()
			got = model.NewRunner(net).Run(make([]float32, inSize))
		}()
		if len(got) != len(net.Layers) {
			t.Fatalf("%d outputs for %d layers", len(got), len(net.Layers))
		}
		for i, o := range got {
			if len(o) != net.Layers[i].Out.Size() {
				t.Errorf("layer %d: %d values, want %d", i, len(o), net.Layers[i].Out.Size())
			}
		}
	})
}

// FuzzLoadWeights: LoadWeights never panics on any bytes; it accepts exactly the files of the
// right size whose values are all finite (variances not negative), puts every value where
// the format says, and on error leaves the network as it was.
func FuzzLoadWeights(f *testing.F) {
	good := tinyValues(0)
	nan := append([]float32(nil), good...)
	nan[30] = float32(math.NaN())
	negVar := append([]float32(nil), good...)
	negVar[6] = -1
	f.Add(weightsFile(0, 2, true, good))
	f.Add(weightsFile(0, 1, false, good))
	f.Add(weightsFile(1, 0, true, good))
	f.Add(weightsFile(0, 2, true, good)[:100])
	f.Add(append(weightsFile(0, 2, true, good), 1))
	f.Add(weightsFile(0, 2, true, nan))
	f.Add(weightsFile(0, 2, true, negVar))
	f.Add(weightsFile(1000, 2, false, good))
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		net := mustParse(t, tinyCfg)
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("LoadWeights panicked: %v\n%s", r, debug.Stack())
				}
			}()
			err = darknet.LoadWeights(net, data, "fuzz.weights")
		}()
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.weights") {
				t.Errorf("error %q does not name the file", err)
			}
			checkTiny(t, net, make([]float32, tinyParams)) // still the zeros ParseConfig gave
			return
		}
		// The header is 20 bytes from version 0.2 on, 16 before; versions of 1000 and more
		// (darknet's old transposed files) are not checked.
		major := binary.LittleEndian.Uint32(data[0:])
		minor := binary.LittleEndian.Uint32(data[4:])
		header := len(data) - 4*tinyParams
		if major < 1000 && minor < 1000 {
			want := 16
			if major*10+minor >= 2 {
				want = 20
			}
			if header != want {
				t.Fatalf("accepted %d bytes for version %d.%d: want %d", len(data), major, minor, want+4*tinyParams)
			}
		} else if header != 16 && header != 20 {
			t.Fatalf("accepted %d bytes", len(data))
		}
		v := make([]float32, tinyParams)
		for k := range v {
			v[k] = math.Float32frombits(binary.LittleEndian.Uint32(data[header+4*k:]))
			if math.IsNaN(float64(v[k])) || math.IsInf(float64(v[k]), 0) {
				t.Fatalf("accepted the non-finite value %v (parameter %d)", v[k], k)
			}
		}
		for _, k := range []int{6, 7} { // layer 0's variances
			if v[k] < 0 {
				t.Fatalf("accepted the negative variance %v", v[k])
			}
		}
		checkTiny(t, net, v)
	})
}
