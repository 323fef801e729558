package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"spikeyolo/core"
	"spikeyolo/mapper"
	"spikeyolo/model/preprocess"
)

func runConvert(args []string, stdout, stderr io.Writer) error {
	var mf modelFlags
	var cf convFlags
	var saveCalib, resize string
	fs := newFlags("convert", "[flags]", "Converts a detector into a spiking network and prints, per layer, its neurons, normalization\nfactors and thresholds.", stdout)
	mf.register(fs)
	cf.register(fs)
	fs.StringVar(&resize, "resize", "plain", "fit calibration images to the network input: plain or letterbox")
	fs.StringVar(&saveCalib, "save-calib", "", "write the calibration to `FILE` (JSON) for --calib")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	mode, err := preprocess.ParseMode(resize)
	if err != nil {
		return usagef("--resize: %v", err)
	}
	m, err := mf.load()
	if err != nil {
		return err
	}
	cv, cal, err := convertModel(m, &cf, mode)
	if err != nil {
		return err
	}
	if saveCalib != "" {
		if err := writeAtomic(saveCalib, func(w io.Writer) error { return mapper.WriteCalibration(w, cal) }); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "model %s, calibration: %d images at percentile %v; options %+v\n", m.name, cal.Images, cal.Percentile, cv.Options)
	fmt.Fprintf(stdout, "%5s  %-26s %-11s %9s %5s %23s %15s\n", "chip", "model layer", "kind", "neurons", "onset", "lambda min/median/max", "theta min/max")
	for i, l := range cv.Net.Layers {
		src := cv.Source[i]
		lam := slices.Clone(cv.Lambda[src])
		slices.Sort(lam)
		th := "-"
		kind := l.Kind.String()
		if len(l.Threshold) > 0 {
			pos := make([]int64, len(l.Threshold))
			for c, t := range l.Threshold {
				pos[c] = t.Pos
			}
			th = fmt.Sprintf("%d/%d", slices.Min(pos), slices.Max(pos))
			if l.Kind == core.Signed && l.Threshold[0].Neg != l.Threshold[0].Pos {
				kind = "ibt"
			}
		}
		fmt.Fprintf(stdout, "%5d  %-26s %-11s %9d %5d %7.3g %7.3g %7.3g %15s\n", i, l.Name, kind, l.Shape.Size(), l.Onset,
			lam[0], lam[len(lam)/2], lam[len(lam)-1], th)
	}
	fmt.Fprintf(stdout, "%d chip layers, %d neurons, %d analog MACs per image, %d weights clipped to %d bits\n",
		len(cv.Net.Layers), cv.Net.Neurons(), cv.AnalogMACs(), cv.Clipped, cv.Options.WeightBits)
	return nil
}

// convertModel calibrates (or loads the calibration of) m and converts it.
func convertModel(m *loadedModel, cf *convFlags, mode preprocess.Mode) (*mapper.Converted, *mapper.Calibration, error) {
	opt, err := cf.options()
	if err != nil {
		return nil, nil, err
	}
	cal, err := cf.calibration(m, mode)
	if err != nil {
		return nil, nil, err
	}
	cv, err := mapper.Convert(m.net, cal, opt)
	return cv, cal, err
}

// writeAtomic writes a file whole or not at all: into a temporary file beside it, renamed
// over it once complete.
func writeAtomic(path string, write func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
