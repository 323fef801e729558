package darknet_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime/debug"
	"strings"
	"testing"

	"spikeyolo/model"
	"spikeyolo/model/darknet"
)

// netHdr is a [net] section of four lines (so the first layer's header is on line 5).
func netHdr(c, h, w int) string {
	return fmt.Sprintf("[net]\nwidth=%d\nheight=%d\nchannels=%d\n", w, h, c)
}

// hdr is the [net] section most tests use: 3 channels of 6 rows of 10 columns. The input is
// not square so that a height/width mix-up shows.
var hdr = netHdr(3, 6, 10)

// errPanic marks the error parse returns when ParseConfig panicked.
var errPanic = errors.New("ParseConfig panicked")

// parse runs ParseConfig on cfg; a panic becomes a test error (and errPanic), so that one
// bad input does not hide the results of the others.
func parse(t testing.TB, name, cfg string) (net *model.Network, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("ParseConfig panicked (it must return an error): %v\ncfg:\n%s\n%s", r, cfg, debug.Stack())
			net, err = nil, fmt.Errorf("%w: %v", errPanic, r)
		}
	}()
	return darknet.ParseConfig(strings.NewReader(cfg), name)
}

// mustParse parses cfg and fails the test on error.
func mustParse(t testing.TB, cfg string) *model.Network {
	t.Helper()
	net, err := parse(t, "t.cfg", cfg)
	if err != nil {
		t.Fatalf("ParseConfig: %v\ncfg:\n%s", err, cfg)
	}
	return net
}

func sh(c, h, w int) model.Shape { return model.Shape{C: c, H: h, W: w} }

// op returns layer i's operation as a T, failing the test if it is something else.
func op[T model.Op](t testing.TB, net *model.Network, i int) T {
	t.Helper()
	if i >= len(net.Layers) {
		t.Fatalf("layer %d: the network has %d layers", i, len(net.Layers))
	}
	o, ok := net.Layers[i].Op.(T)
	if !ok {
		var zero T
		t.Fatalf("layer %d is %T, want %T", i, net.Layers[i].Op, zero)
	}
	return o
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// wantErr fails unless err is non-nil and its text contains every one of subs.
func wantErr(t testing.TB, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("no error, want one containing %q", subs)
		return
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

// exactSize is s.C·s.H·s.W computed without overflow; ok is false if it exceeds an int64.
func exactSize(s model.Shape) (int64, bool) {
	if s.C < 0 || s.H < 0 || s.W < 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(s.C), uint64(s.H))
	if hi != 0 {
		return 0, false
	}
	hi, lo = bits.Mul64(lo, uint64(s.W))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}

// weightsFile builds a darknet weights file: int32 major, minor, revision; then seen, as an
// int64 if seen64 else as an int32; then the parameters as float32 little-endian.
func weightsFile(major, minor int32, seen64 bool, params []float32) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, uint32(major))
	b = binary.LittleEndian.AppendUint32(b, uint32(minor))
	b = binary.LittleEndian.AppendUint32(b, 0) // revision
	if seen64 {
		b = binary.LittleEndian.AppendUint64(b, 0x0102030405060708)
	} else {
		b = binary.LittleEndian.AppendUint32(b, 0x01020304)
	}
	for _, p := range params {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(p))
	}
	return b
}

// convs are the convolutions of net, by layer index.
func convs(net *model.Network) map[int]*model.Conv {
	m := map[int]*model.Conv{}
	for i, l := range net.Layers {
		if c, ok := l.Op.(*model.Conv); ok {
			m[i] = c
		}
	}
	return m
}
