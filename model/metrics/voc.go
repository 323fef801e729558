package metrics

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ReadVOC reads the PASCAL VOC XML annotation file at path; see ParseVOC.
func ReadVOC(path string, classIndex map[string]int) (image string, objs []Object, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	return ParseVOC(f, path, classIndex)
}

// vocAnnotation is the part of a VOC annotation that ParseVOC reads.
type vocAnnotation struct {
	XMLName  xml.Name `xml:"annotation"`
	Filename string   `xml:"filename"`
	Objects  []struct {
		Name      string `xml:"name"`
		Difficult string `xml:"difficult"`
		Box       *struct {
			Xmin string `xml:"xmin"`
			Ymin string `xml:"ymin"`
			Xmax string `xml:"xmax"`
			Ymax string `xml:"ymax"`
		} `xml:"bndbox"`
	} `xml:"object"`
}

// ParseVOC parses a PASCAL VOC XML annotation read from r; name, usually the
// file name, is used in error messages. The document must have an
// <annotation> root with a non-empty <filename> and, for each object, an
// <object> with <name>, an optional <difficult> (0 or 1; absent means 0) and
// <bndbox> with <xmin>, <ymin>, <xmax> and <ymax>. Other elements, <size>
// included, are not read.
//
// image is the image key: the base name of <filename> without its extension
// ("000005.jpg" gives "000005"), the key ReadYOLO derives from a label file.
// Every returned object has that Image and the class classIndex[<name>];
// a name missing from classIndex is an error.
//
// VOC boxes are 1-based inclusive pixel indices: xmin = 1, xmax = W covers a
// whole image of width W. They are converted to continuous coordinates with
// Left = xmin-1, Top = ymin-1, Right = xmax, Bottom = ymax, so that the width
// is xmax-xmin+1 pixels. Coordinates may be fractional; they must be finite,
// with xmin <= xmax and ymin <= ymax.
func ParseVOC(r io.Reader, name string, classIndex map[string]int) (image string, objs []Object, err error) {
	var a vocAnnotation
	if err := xml.NewDecoder(r).Decode(&a); err != nil {
		return "", nil, fmt.Errorf("%s: expected a PASCAL VOC XML <annotation>: %w", name, err)
	}
	file := strings.TrimSpace(a.Filename)
	if file == "" {
		return "", nil, fmt.Errorf("%s: expected a non-empty <filename>", name)
	}
	image = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	for i, o := range a.Objects {
		where := fmt.Sprintf("%s: <object> %d", name, i+1)
		className := strings.TrimSpace(o.Name)
		class, ok := classIndex[className]
		if !ok {
			return "", nil, fmt.Errorf("%s: unknown class name %q", where, className)
		}
		difficult := false
		switch d := strings.TrimSpace(o.Difficult); d {
		case "", "0":
		case "1":
			difficult = true
		default:
			return "", nil, fmt.Errorf("%s: <difficult>: expected 0 or 1, got %q", where, d)
		}
		if o.Box == nil {
			return "", nil, fmt.Errorf("%s: expected a <bndbox>", where)
		}
		var c [4]float64
		for j, s := range []string{o.Box.Xmin, o.Box.Ymin, o.Box.Xmax, o.Box.Ymax} {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
				tag := [4]string{"xmin", "ymin", "xmax", "ymax"}[j]
				return "", nil, fmt.Errorf("%s: <%s>: expected a finite number, got %q", where, tag, s)
			}
			c[j] = v
		}
		if c[0] > c[2] || c[1] > c[3] {
			return "", nil, fmt.Errorf("%s: expected xmin <= xmax and ymin <= ymax, got xmin=%g ymin=%g xmax=%g ymax=%g", where, c[0], c[1], c[2], c[3])
		}
		objs = append(objs, Object{
			Image:     image,
			Class:     class,
			Box:       Box{Left: c[0] - 1, Top: c[1] - 1, Right: c[2], Bottom: c[3]},
			Difficult: difficult,
		})
	}
	return image, objs, nil
}
