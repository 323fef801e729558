package darknet_test

import (
	"errors"
	"testing"
)

// TestParseConfigErrors: every malformed or unsupported cfg is an error (never a panic) that
// names the file and the line ("x.cfg:7:") and the offending key, value or section. hdr is
// lines 1-4, so the first layer's section header is on line 5.
func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		want []string // substrings of the error
	}{
		// Syntax.
		{"empty file", "", []string{"x.cfg"}},
		{"comments only", "# nothing\n; here\n", []string{"x.cfg"}},
		{"key before the first section", "width=10\n[net]\nheight=6\nchannels=3\n[maxpool]\n", []string{"x.cfg:1:", "width"}},
		{"malformed header [net", "[net\nwidth=10\nheight=6\nchannels=3\n[maxpool]\n", []string{"x.cfg:1:", "[net"}},
		{"malformed header net]", "net]\nwidth=10\n", []string{"x.cfg:1:", "net]"}},
		{"empty header []", "[]\n", []string{"x.cfg:1:", "[]"}},
		{"malformed layer header", hdr + "[convolutional\nfilters=2\n", []string{"x.cfg:5:", "[convolutional"}},
		{"line without =", hdr + "[convolutional]\nfilters\n", []string{"x.cfg:6:", "filters"}},
		{"line without key", hdr + "[convolutional]\n=16\n", []string{"x.cfg:6:", "=16"}},
		{"duplicate key", hdr + "[convolutional]\nfilters=16\nsize=3\nfilters=8\n", []string{"x.cfg:8:", "filters", "line 6"}},
		{"duplicate key in [net]", "[net]\nwidth=10\nwidth=10\nheight=6\nchannels=3\n[maxpool]\n", []string{"x.cfg:3:", "width", "line 2"}},

		// [net].
		{"first section is not [net]", "[convolutional]\nfilters=1\n", []string{"x.cfg:1:", "[convolutional]", "[net]"}},
		{"only [net]", hdr, []string{"x.cfg", "no layers"}},
		{"missing width", "[net]\nheight=6\nchannels=3\n[maxpool]\n", []string{"x.cfg:1:", "width"}},
		{"missing height", "[net]\nwidth=10\nchannels=3\n[maxpool]\n", []string{"x.cfg:1:", "height"}},
		{"missing channels", "[net]\nwidth=10\nheight=6\n[maxpool]\n", []string{"x.cfg:1:", "channels"}},
		{"zero width", "[net]\nwidth=0\nheight=6\nchannels=3\n[maxpool]\n", []string{"x.cfg:1:", "width"}},
		{"negative height", "[net]\nwidth=10\nheight=-6\nchannels=3\n[maxpool]\n", []string{"x.cfg:1:", "height"}},
		{"width not a number", "[net]\nwidth=ten\nheight=6\nchannels=3\n[maxpool]\n", []string{"x.cfg:2:", "width", "ten"}},
		{"typo'd key in [net]", "[net]\nwidht=10\nheight=6\nchannels=3\n[maxpool]\n", []string{"x.cfg:2:", "widht"}},

		// Sections and keys.
		{"unknown section", hdr + "[convolutinal]\nfilters=16\n", []string{"x.cfg:5:", "convolutinal"}},
		{"unknown section [avgpool]", hdr + "[avgpool]\n", []string{"x.cfg:5:", "avgpool"}},
		{"typo'd key", hdr + "[convolutional]\nfiltres=16\n", []string{"x.cfg:6:", "filtres"}},
		{"typo'd key after a good one", hdr + "[convolutional]\nfilters=16\nsize=3\nstrde=1\n", []string{"x.cfg:8:", "strde"}},
		{"a key of another section", hdr + "[maxpool]\nfilters=2\n", []string{"x.cfg:6:", "filters"}},
		{"size=three", hdr + "[convolutional]\nfilters=16\nsize=three\n", []string{"x.cfg:7:", "size", "three"}},
		{"filters=1.5", hdr + "[convolutional]\nfilters=1.5\n", []string{"x.cfg:6:", "filters", "1.5"}},
		{"empty value", hdr + "[convolutional]\nfilters=\n", []string{"x.cfg:6:", "filters"}},
		{"anchors=1,x", hdr + "[convolutional]\nfilters=6\n[yolo]\nclasses=1\nanchors=1,x\n", []string{"x.cfg:9:", "anchors", `"x"`}},
		{"region anchors=1,,2", hdr + "[convolutional]\nfilters=6\n[region]\nclasses=1\nanchors=1,,2\n", []string{"x.cfg:9:", "anchors"}},
		{"mask=0,a", hdr + "[convolutional]\nfilters=6\n[yolo]\nclasses=1\nanchors=1,2\nmask=0,a\n", []string{"x.cfg:10:", "mask", `"a"`}},
		{"scale_x_y=big", hdr + "[convolutional]\nfilters=6\n[yolo]\nclasses=1\nanchors=1,2\nscale_x_y=big\n", []string{"x.cfg:10:", "scale_x_y"}},

		// [convolutional].
		{"filters=0", hdr + "[convolutional]\nfilters=0\n", []string{"x.cfg:5:", "filters"}},
		{"size=0", hdr + "[convolutional]\nsize=0\n", []string{"x.cfg:5:", "size"}},
		{"stride=0", hdr + "[convolutional]\nstride=0\n", []string{"x.cfg:5:", "stride"}},
		{"padding=-1", hdr + "[convolutional]\npadding=-1\n", []string{"x.cfg:5:", "padding"}},
		{"groups do not divide the channels", hdr + "[convolutional]\nfilters=4\ngroups=2\n", []string{"x.cfg:5:", "groups"}},
		{"groups do not divide the filters", netHdr(4, 6, 10) + "[convolutional]\nfilters=3\ngroups=2\n", []string{"x.cfg:5:", "groups"}},
		{"kernel larger than the input", hdr + "[convolutional]\nsize=11\n", []string{"x.cfg:5:", "convolutional"}},
		{"dilation=2", hdr + "[convolutional]\ndilation=2\n", []string{"x.cfg:6:", "dilation"}},
		{"stride_x different from stride", hdr + "[convolutional]\nstride=1\nstride_x=2\n", []string{"x.cfg:7:", "stride_x"}},
		{"stride_y different from stride", hdr + "[convolutional]\nstride_y=2\n", []string{"x.cfg:6:", "stride_y"}},
		{"batch_normalize=2", hdr + "[convolutional]\nbatch_normalize=2\n", []string{"x.cfg:6:", "batch_normalize"}},
		{"antialiasing=1", hdr + "[convolutional]\nantialiasing=1\n", []string{"x.cfg:6:", "antialiasing"}},
		{"binary=1", hdr + "[convolutional]\nfilters=2\nbinary=1\n", []string{"x.cfg:7:", "binary"}},
		{"activation=mish", hdr + "[convolutional]\nactivation=mish\n", []string{"x.cfg:6:", "mish"}},
		{"activation=Leaky (case)", hdr + "[convolutional]\nactivation=Leaky\n", []string{"x.cfg:6:", "Leaky"}},

		// [maxpool], [upsample].
		{"maxpool stride=0", hdr + "[maxpool]\nstride=0\nsize=2\n", []string{"x.cfg:5:", "maxpool"}},
		{"maxpool padding=-1", hdr + "[maxpool]\nsize=2\nstride=2\npadding=-1\n", []string{"x.cfg:5:", "maxpool"}},
		{"maxpool stride_x different", hdr + "[maxpool]\nsize=2\nstride=2\nstride_x=1\n", []string{"x.cfg:8:", "stride_x"}},
		{"maxpool_depth=1", hdr + "[maxpool]\nmaxpool_depth=1\n", []string{"x.cfg:6:", "maxpool_depth"}},
		{"upsample stride=0", hdr + "[upsample]\nstride=0\n", []string{"x.cfg:5:", "upsample"}},
		{"upsample stride=-2 (darknet's downsampling)", hdr + "[upsample]\nstride=-2\n", []string{"x.cfg:5:", "upsample"}},
		{"upsample scale=2", hdr + "[upsample]\nscale=2\n", []string{"x.cfg:6:", "scale"}},

		// [route].
		{"route without layers", hdr + "[convolutional]\n[route]\n", []string{"x.cfg:6:", "layers"}},
		{"route to a later layer", hdr + "[convolutional]\n[route]\nlayers=5\n", []string{"x.cfg:7:", "layers"}},
		{"route to itself", hdr + "[convolutional]\n[route]\nlayers=1\n", []string{"x.cfg:7:", "layers"}},
		{"route before the first layer", hdr + "[convolutional]\n[route]\nlayers=-2\n", []string{"x.cfg:7:", "layers"}},
		{"route as the first layer", hdr + "[route]\nlayers=-1\n", []string{"x.cfg:6:", "layers"}},
		{"route of different sizes", hdr + "[convolutional]\n[maxpool]\nsize=2\nstride=2\n[route]\nlayers=-1,-2\n", []string{"x.cfg:9:", "route"}},
		{"route groups do not divide", hdr + "[convolutional]\nfilters=3\n[route]\nlayers=-1\ngroups=2\n", []string{"x.cfg:7:", "route"}},
		{"route group_id >= groups", hdr + "[convolutional]\nfilters=4\n[route]\nlayers=-1\ngroups=2\ngroup_id=2\n", []string{"x.cfg:7:", "route"}},

		// [shortcut].
		{"shortcut without from", hdr + "[convolutional]\n[shortcut]\n", []string{"x.cfg:6:", "from"}},
		{"shortcut from a later layer", hdr + "[convolutional]\n[shortcut]\nfrom=3\n", []string{"x.cfg:7:", "from"}},
		{"shortcut from the input", hdr + "[convolutional]\n[shortcut]\nfrom=-2\n", []string{"x.cfg:7:", "from"}},
		{"shortcut from two layers", hdr + "[convolutional]\n[convolutional]\n[shortcut]\nfrom=-1,-2\n", []string{"x.cfg:8:", "from"}},
		{"shortcut of different channels", hdr + "[convolutional]\nfilters=4\n[convolutional]\nfilters=8\n[shortcut]\nfrom=-2\n", []string{"x.cfg:9:", "shortcut"}},
		{"shortcut of different sizes", hdr + "[convolutional]\nfilters=4\n[maxpool]\nsize=2\nstride=2\n[shortcut]\nfrom=-2\n", []string{"x.cfg:10:", "shortcut"}},
		{"shortcut activation=swish", hdr + "[convolutional]\n[shortcut]\nfrom=-1\nactivation=swish\n", []string{"x.cfg:8:", "swish"}},
		{"shortcut weights_type=per_feature", hdr + "[convolutional]\n[shortcut]\nfrom=-1\nweights_type=per_feature\n", []string{"x.cfg:8:", "weights_type"}},

		// [yolo].
		{"yolo channels do not match mask·(classes+5)", hdr + "[convolutional]\nfilters=20\n[yolo]\nmask=0,1\nanchors=1,2,3,4\nnum=2\nclasses=80\n", []string{"x.cfg:7:", "yolo", "170"}},
		{"yolo mask names no anchor", hdr + "[convolutional]\nfilters=6\n[yolo]\nmask=3\nanchors=1,2,3,4\nnum=2\nclasses=1\n", []string{"x.cfg:7:", "mask"}},
		{"yolo negative mask", hdr + "[convolutional]\nfilters=6\n[yolo]\nmask=-1\nanchors=1,2,3,4\nnum=2\nclasses=1\n", []string{"x.cfg:7:", "mask"}},
		{"yolo too few anchors", hdr + "[convolutional]\nfilters=6\n[yolo]\nmask=0\nanchors=1,2,3,4\nnum=3\nclasses=1\n", []string{"x.cfg:9:", "anchor", "6"}},
		{"yolo classes=0", hdr + "[convolutional]\nfilters=5\n[yolo]\nanchors=1,2\nclasses=0\n", []string{"x.cfg:7:", "yolo"}},
		{"yolo map", hdr + "[convolutional]\nfilters=6\n[yolo]\nanchors=1,2\nclasses=1\nmap=x.map\n", []string{"x.cfg:10:", "map"}},
		{"yolo new_coords=1", hdr + "[convolutional]\nfilters=6\n[yolo]\nanchors=1,2\nclasses=1\nnew_coords=1\n", []string{"x.cfg:10:", "new_coords"}},
		// The error should point at the [yolo] section (line 7), not at a line 0 that does not exist.
		{"yolo without anchors", hdr + "[convolutional]\nfilters=6\n[yolo]\nclasses=1\n", []string{"x.cfg:7:", "anchor"}},

		// [region].
		{"region channels do not match num·(coords+1+classes)", hdr + "[convolutional]\nfilters=20\n[region]\nanchors=1,1\nclasses=20\n", []string{"x.cfg:7:", "region", "25"}},
		{"region too few anchors", hdr + "[convolutional]\nfilters=12\n[region]\nanchors=1,1\nnum=2\nclasses=1\n", []string{"x.cfg:7:", "region"}},
		{"region without anchors", hdr + "[convolutional]\nfilters=6\n[region]\nclasses=1\n", []string{"x.cfg:7:", "region"}},
		{"region coords=5", hdr + "[convolutional]\nfilters=7\n[region]\nanchors=1,1\nclasses=1\ncoords=5\n", []string{"x.cfg:7:", "coords"}},
		{"region tree", hdr + "[convolutional]\nfilters=6\n[region]\nanchors=1,1\nclasses=1\ntree=x.tree\n", []string{"x.cfg:10:", "tree"}},
		{"region softmax_tree=1", hdr + "[convolutional]\nfilters=6\n[region]\nanchors=1,1\nclasses=1\nsoftmax_tree=1\n", []string{"x.cfg:10:", "softmax_tree"}},

		// Hostile numbers: each must be an error, never a panic, and never a network whose
		// sizes overflow an int (the model package promises that a network built without
		// error can always be run).
		{"region num=-1", hdr + "[convolutional]\nfilters=6\n[region]\nnum=-1\nanchors=1,1\nclasses=1\n", []string{"x.cfg:"}},
		{"region num=-1 without anchors", hdr + "[convolutional]\nfilters=6\n[region]\nnum=-1\nclasses=1\n", []string{"x.cfg:"}},
		{"yolo num=-1", hdr + "[convolutional]\nfilters=6\n[yolo]\nnum=-1\nanchors=1,2\nclasses=1\n", []string{"x.cfg:"}},
		{"yolo num=-1 with a mask", hdr + "[convolutional]\nfilters=6\n[yolo]\nnum=-1\nmask=0\nclasses=1\n", []string{"x.cfg:"}},
		{"region num=2^62", hdr + "[convolutional]\nfilters=6\n[region]\nnum=4611686018427387904\nanchors=1,1\nclasses=1\n", []string{"x.cfg:"}},
		{"filters=2^62", netHdr(1, 1, 1) + "[convolutional]\nfilters=4611686018427387904\n", []string{"x.cfg:"}},
		{"yolo mask=2^62 (2·mask+1 overflows)", hdr + "[convolutional]\nfilters=6\n[yolo]\nmask=4611686018427387904\nanchors=1,2\nnum=1\nclasses=1\n", []string{"x.cfg:"}},
		// 2·((2^63-1)+5) wraps to 8, the number of input channels.
		{"yolo classes=2^63-1", netHdr(1, 1, 1) + "[convolutional]\nfilters=8\n[yolo]\nmask=0,1\nanchors=1,2,3,4\nnum=2\nclasses=9223372036854775807\n", []string{"x.cfg:"}},
		// 2·(4+1+(2^63-2)) wraps to 6, the number of input channels.
		{"region classes=2^63-2", netHdr(1, 1, 1) + "[convolutional]\nfilters=6\n[region]\nnum=2\nanchors=1,1,1,1\nclasses=9223372036854775806\n", []string{"x.cfg:"}},
		// The output is 1x2^32x2^32, whose size wraps to 0.
		{"maxpool padding=2^32-1", netHdr(1, 1, 1) + "[maxpool]\npadding=4294967295\n", []string{"x.cfg:"}},
		{"upsample stride=2^32", netHdr(1, 1, 1) + "[upsample]\nstride=4294967296\n", []string{"x.cfg:"}},
		// The output is 1x(2^32-1)x(2^32-1), whose size wraps to a negative number.
		{"conv padding=2^31-1", netHdr(1, 1, 1) + "[convolutional]\npadding=2147483647\n", []string{"x.cfg:"}},
		{"net size overflows", "[net]\nwidth=4294967296\nheight=4294967296\nchannels=1\n[maxpool]\n", []string{"x.cfg:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net, err := parse(t, "x.cfg", tt.cfg)
			if errors.Is(err, errPanic) {
				return // reported by parse
			}
			if err == nil {
				t.Errorf("no error; the network:\n%s", net.Describe())
				return
			}
			wantErr(t, err, tt.want...)
			if net != nil {
				t.Errorf("a network with the error")
			}
		})
	}
}
