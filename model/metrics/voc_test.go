package metrics_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"spikeyolo/model/metrics"
)

var vocClasses = map[string]int{"chair": 8, "person": 14}

const vocDoc = `<annotation>
	<folder>VOC2007</folder>
	<filename>000005.jpg</filename>
	<size><width>500</width><height>375</height><depth>3</depth></size>
	<object>
		<name>chair</name><pose>Rear</pose><truncated>0</truncated>
		<difficult>0</difficult>
		<bndbox><xmin>263</xmin><ymin>211</ymin><xmax>324</xmax><ymax>339</ymax></bndbox>
	</object>
	<object>
		<name> chair </name>
		<difficult>1</difficult>
		<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>500</xmax><ymax>375</ymax></bndbox>
	</object>
	<object>
		<name>person</name>
		<bndbox><xmin>10.5</xmin><ymin>20</ymin><xmax>10.5</xmax><ymax>20</ymax></bndbox>
		<part><name>head</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></part>
	</object>
</annotation>`

func TestParseVOC(t *testing.T) {
	image, objs, err := metrics.ParseVOC(strings.NewReader(vocDoc), "000005.xml", vocClasses)
	if err != nil {
		t.Fatal(err)
	}
	// Left = xmin-1, Top = ymin-1, Right = xmax, Bottom = ymax:
	// 263-1 = 262, 211-1 = 210; 1-1 = 0; 10.5-1 = 9.5, 20-1 = 19.
	// The <part> of the person is not an object.
	want := []metrics.Object{
		{Image: "000005", Class: 8, Box: metrics.Box{Left: 262, Top: 210, Right: 324, Bottom: 339}},
		{Image: "000005", Class: 8, Box: metrics.Box{Left: 0, Top: 0, Right: 500, Bottom: 375}, Difficult: true},
		{Image: "000005", Class: 14, Box: metrics.Box{Left: 9.5, Top: 19, Right: 10.5, Bottom: 20}},
	}
	if image != "000005" || !slices.Equal(objs, want) {
		t.Errorf("ParseVOC = %q, %v; want %q, %v", image, objs, "000005", want)
	}

	image, objs, err = metrics.ParseVOC(strings.NewReader(`<annotation><filename>dir/empty.png</filename></annotation>`), "empty.xml", vocClasses)
	if err != nil || image != "empty" || len(objs) != 0 {
		t.Errorf("ParseVOC(no objects) = %q, %v, %v; want \"empty\", [], nil", image, objs, err)
	}
}

func TestParseVOCErrors(t *testing.T) {
	obj := func(inner string) string {
		return `<annotation><filename>x.jpg</filename><object>` + inner + `</object></annotation>`
	}
	box := `<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox>`
	tests := []struct {
		name, doc, want string
	}{
		{"empty", ``, "expected a PASCAL VOC XML <annotation>"},
		{"unterminated", `<annotation><filename>x.jpg</filename>`, "expected a PASCAL VOC XML <annotation>"},
		{"wrong root", `<voc><filename>x.jpg</filename></voc>`, "annotation"},
		{"no filename", `<annotation><object><name>chair</name>` + box + `</object></annotation>`, "<filename>"},
		{"unknown class", obj(`<name>dog</name>` + box), `unknown class name "dog"`},
		{"bad difficult", obj(`<name>chair</name><difficult>yes</difficult>` + box), `<difficult>: expected 0 or 1, got "yes"`},
		{"no bndbox", obj(`<name>chair</name>`), "expected a <bndbox>"},
		{"missing ymax", obj(`<name>chair</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax></bndbox>`), `<ymax>: expected a finite number, got ""`},
		{"non-number", obj(`<name>chair</name><bndbox><xmin>a</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox>`), `<xmin>: expected a finite number, got "a"`},
		{"infinite", obj(`<name>chair</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>Inf</xmax><ymax>5</ymax></bndbox>`), `<xmax>: expected a finite number`},
		{"xmin > xmax", obj(`<name>chair</name><bndbox><xmin>6</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox>`), "expected xmin <= xmax"},
		{"second object", `<annotation><filename>x.jpg</filename><object><name>chair</name>` + box + `</object><object><name>cat</name>` + box + `</object></annotation>`, `<object> 2: unknown class name "cat"`},
	}
	for _, tc := range tests {
		_, _, err := metrics.ParseVOC(strings.NewReader(tc.doc), "ann/bad.xml", vocClasses)
		if err == nil || !strings.HasPrefix(err.Error(), "ann/bad.xml: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want one starting with \"ann/bad.xml: \" and containing %q", tc.name, err, tc.want)
		}
	}
}

func TestReadVOC(t *testing.T) {
	path := filepath.Join(t.TempDir(), "000005.xml")
	if err := os.WriteFile(path, []byte(vocDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	image, objs, err := metrics.ReadVOC(path, vocClasses)
	if err != nil || image != "000005" || len(objs) != 3 {
		t.Errorf("ReadVOC = %q, %d objects, %v; want \"000005\", 3, nil", image, len(objs), err)
	}
	_, _, err = metrics.ReadVOC(path, map[string]int{"person": 0})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `"chair"`) {
		t.Errorf("ReadVOC with unknown class: error %v; want one naming %s and \"chair\"", err, path)
	}
	missing := filepath.Join(t.TempDir(), "missing.xml")
	if _, _, err := metrics.ReadVOC(missing, vocClasses); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("ReadVOC(missing file): error %v; want one naming %s", err, missing)
	}
}

func FuzzParseVOC(f *testing.F) {
	f.Add(vocDoc)
	f.Add(`<annotation><filename>x.jpg</filename><object><name>person</name><difficult>1</difficult><bndbox><xmin>1e308</xmin><ymin>-1e308</ymin><xmax>1e308</xmax><ymax>1e308</ymax></bndbox></object></annotation>`)
	f.Add(`<annotation><filename>x.jpg</filename>`)
	f.Fuzz(func(t *testing.T, doc string) {
		image, objs, err := metrics.ParseVOC(strings.NewReader(doc), "fuzz.xml", vocClasses)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.xml: ") {
				t.Errorf("error %q does not start with the name", err)
			}
			return
		}
		for _, o := range objs {
			checkBox(t, o.Box)
			if o.Image != image {
				t.Errorf("object image %q, want %q", o.Image, image)
			}
		}
	})
}

// checkBox fails t unless b is finite and well formed.
func checkBox(t *testing.T, b metrics.Box) {
	t.Helper()
	ok := b.Left <= b.Right && b.Top <= b.Bottom
	for _, v := range []float64{b.Left, b.Top, b.Right, b.Bottom} {
		ok = ok && v-v == 0 // false for ±Inf and NaN
	}
	if !ok {
		t.Errorf("malformed box %+v", b)
	}
}
