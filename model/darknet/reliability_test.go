package darknet_test

import (
	"strings"
	"testing"
	"time"
)

// TestParseConfigLongLine: a line over 1 MiB names the file, the line and the limit (issue
// 14, item 10 a).
func TestParseConfigLongLine(t *testing.T) {
	cfg := hdr + "[convolutional]\nfilters=6\n[yolo]\nclasses=1\nanchors=" + strings.Repeat("1,", 600000) + "1\n"
	_, err := parse(t, "x.cfg", cfg)
	for _, w := range []string{"x.cfg:9:", "1048576"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v, want it to contain %q", err, w)
		}
	}
}

// TestParseConfigByteOrderMark: a UTF-8 byte-order mark before [net] is skipped (issue 14,
// item 10 f).
func TestParseConfigByteOrderMark(t *testing.T) {
	net := mustParse(t, "\uFEFF"+hdr+"[maxpool]\n")
	if net.Input != sh(3, 6, 10) || len(net.Layers) != 1 {
		t.Errorf("input %v, %d layers", net.Input, len(net.Layers))
	}
}

// TestParseConfigHeadErrors: heads that would decode degenerate boxes, or decode twice, are
// rejected at parse time with the file and line (issue 14, item 9). hdr is lines 1-4, the
// convolution lines 5-6, the head's header line 7.
func TestParseConfigHeadErrors(t *testing.T) {
	yolo := hdr + "[convolutional]\nfilters=6\n[yolo]\nclasses=1\nnum=1\n"
	region := hdr + "[convolutional]\nfilters=6\n[region]\nclasses=1\nnum=1\n"
	for _, c := range []struct {
		name, cfg string
		want      []string
	}{
		{"yolo zero anchor", yolo + "anchors=0,2\n", []string{"x.cfg:10:", "anchors", "item 1", "> 0"}},
		{"yolo negative anchor", yolo + "anchors=1,-2\n", []string{"x.cfg:10:", "anchors", "item 2", "-2"}},
		{"region negative anchor", region + "anchors=-1,1\n", []string{"x.cfg:10:", "anchors", "-1"}},
		{"region zero anchor", region + "anchors=1,0\n", []string{"x.cfg:10:", "anchors"}},
		{"scale_x_y negative", yolo + "anchors=1,2\nscale_x_y=-1.05\n", []string{"x.cfg:11:", "scale_x_y", "-1.05"}},
		{"scale_x_y zero", yolo + "anchors=1,2\nscale_x_y=0\n", []string{"x.cfg:11:", "scale_x_y"}},
		{"stacked yolo heads", yolo + "anchors=1,2\n[yolo]\nclasses=1\nnum=1\nanchors=1,2\n", []string{"x.cfg:11:", "[yolo]", "layer 1", "head"}},
		{"region on yolo", yolo + "anchors=1,2\n[region]\nclasses=1\nnum=1\nanchors=1,1\n", []string{"x.cfg:11:", "[region]", "head"}},
		{"yolo mask out of range", yolo + "anchors=1,2\nmask=1\n", []string{"x.cfg:7:", "mask"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := parse(t, "x.cfg", c.cfg)
			if time.Since(start) > 5*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q, want it to contain %q", err, w)
				}
			}
		})
	}
	// A head after a convolution after a head is fine (two heads of a YOLOv3).
	mustParse(t, yolo+"anchors=1,2\n[route]\nlayers=-2\n[convolutional]\nfilters=6\n[yolo]\nclasses=1\nnum=1\nanchors=1,2\nscale_x_y=1.05\n")
}
