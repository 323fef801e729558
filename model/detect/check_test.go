package detect_test

import (
	"strings"
	"testing"

	"spikeyolo/model"
	"spikeyolo/model/darknet"
	"spikeyolo/model/detect"
)

// TestCheck: a network without a head parses (it can be inspected), but detection rejects
// it, naming the cfg; so does a head built in code with degenerate anchors or scale (issue
// 14, item 9).
func TestCheck(t *testing.T) {
	parse := func(cfg string) *model.Network {
		t.Helper()
		net, err := darknet.ParseConfig(strings.NewReader(cfg), "x.cfg")
		if err != nil {
			t.Fatal(err)
		}
		return net
	}
	const hdr = "[net]\nwidth=4\nheight=4\nchannels=1\n[convolutional]\nfilters=6\n"
	headless := parse(hdr)
	if err := detect.Check(headless, "x.cfg"); err == nil || !strings.Contains(err.Error(), "x.cfg: no [region] or [yolo] head") {
		t.Errorf("a network without a head: %v", err)
	}
	good := parse(hdr + "[yolo]\nclasses=1\nnum=1\nanchors=1,2\n")
	if err := detect.Check(good, "x.cfg"); err != nil {
		t.Errorf("a detector: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(y *model.Yolo)
		want string
	}{
		{"zero anchor", func(y *model.Yolo) { y.Anchors[0] = 0 }, "x.cfg:7: [yolo]: anchor value 1 is 0"},
		{"negative scale", func(y *model.Yolo) { y.ScaleXY = -1 }, "x.cfg:7: [yolo]: scale_x_y = -1"},
	} {
		net := parse(hdr + "[yolo]\nclasses=1\nnum=1\nanchors=1,2\n")
		c.edit(net.Layers[1].Op.(*model.Yolo))
		if err := detect.Check(net, "x.cfg"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
