package main

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"spikeyolo/chip"
)

// writeSweepCharts draws the summary of a sweep (its means over images, per configuration)
// into dir, each chart as PNG and SVG: energy and latency per frame against core count, one
// line per routing, multicast and placement; the energy of each configuration stacked by
// category; and the Pareto front of energy against latency, its points labelled.
func writeSweepCharts(dir string, sum []sweepMean) error {
	charts := []struct {
		name string
		draw func([]sweepMean) (*plot.Plot, error)
	}{
		{"energy_vs_cores", func(m []sweepMean) (*plot.Plot, error) {
			return byCores(m, "Energy per frame", "energy per frame (J)", func(x sweepMean) float64 { return x.energy })
		}},
		{"latency_vs_cores", func(m []sweepMean) (*plot.Plot, error) {
			return byCores(m, "Latency per frame", "latency per frame (s)", func(x sweepMean) float64 { return x.frame })
		}},
		{"energy_breakdown", energyBreakdown},
		{"pareto", pareto},
	}
	for _, c := range charts {
		p, err := c.draw(sum)
		if err != nil {
			return fmt.Errorf("chart %s: %w", c.name, err)
		}
		for _, format := range []string{"png", "svg"} {
			w, err := p.WriterTo(8*vg.Inch, 5*vg.Inch, format)
			if err != nil {
				return fmt.Errorf("chart %s: %w", c.name, err)
			}
			path := filepath.Join(dir, c.name+"."+format)
			if err := writeAtomic(path, func(out io.Writer) error { _, err := w.WriteTo(out); return err }); err != nil {
				return err
			}
		}
	}
	return nil
}

// sweepMean is one configuration's means over the images of a sweep.
type sweepMean struct {
	cores, chips, images, timesteps                int
	arch, placement, routing, multicast            string
	spikes, synops, macs, packets, hops, crossings float64
	energy, tick, frame                            float64
	energies                                       [chip.NumCategories]float64
}

func (m sweepMean) label() string {
	return fmt.Sprintf("%s T=%d %d %s %s %s", m.arch, m.timesteps, m.cores, m.placement, m.routing, m.multicast)
}

// line is the configuration but its core count.
func (m sweepMean) line() string {
	return fmt.Sprintf("%s T=%d %s %s %s", m.arch, m.timesteps, m.placement, m.routing, m.multicast)
}

// summarize averages the rows over images per configuration, in the rows' order.
func summarize(rows []sweepRow) []sweepMean {
	var out []sweepMean
	at := map[string]int{}
	for _, r := range rows {
		m := sweepMean{cores: r.Cores, chips: r.Chips, timesteps: r.Timesteps, arch: r.Arch, placement: r.Placement, routing: r.Routing, multicast: r.Multicast}
		i, ok := at[m.label()]
		if !ok {
			i = len(out)
			at[m.label()] = i
			out = append(out, m)
		}
		o := &out[i]
		o.images++
		o.spikes += float64(r.Spikes)
		o.synops += float64(r.Synops)
		o.macs += float64(r.MACs)
		o.packets += float64(r.Packets)
		o.hops += float64(r.Hops)
		o.crossings += float64(r.Crossings)
		o.energy += r.Energy
		o.tick += r.TickTime
		o.frame += r.FrameTime
		for c := range chip.NumCategories {
			o.energies[c] += r.ByCategory[c.String()]
		}
	}
	for i := range out {
		o := &out[i]
		n := float64(o.images)
		for _, v := range []*float64{&o.spikes, &o.synops, &o.macs, &o.packets, &o.hops, &o.crossings, &o.energy, &o.tick, &o.frame} {
			*v /= n
		}
		for c := range o.energies {
			o.energies[c] /= n
		}
	}
	return out
}

// newPlot is a chart with a title, labelled axes (with their units) and its legend at the top.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	p.Legend.Top = true
	return p
}

// byCores plots y against the core count, one line per placement, routing and multicast.
func byCores(means []sweepMean, title, ylabel string, y func(sweepMean) float64) (*plot.Plot, error) {
	p := newPlot(title, "cores", ylabel)
	var keys []string
	lines := map[string]plotter.XYs{}
	for _, m := range means {
		k := m.line()
		if _, ok := lines[k]; !ok {
			keys = append(keys, k)
		}
		lines[k] = append(lines[k], plotter.XY{X: float64(m.cores), Y: y(m)})
	}
	for i, k := range keys {
		xys := lines[k]
		slices.SortFunc(xys, func(a, b plotter.XY) int { return int(a.X - b.X) })
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		l.Color, pts.Color = plotutil.Color(i), plotutil.Color(i)
		pts.Shape = plotutil.Shape(i)
		p.Add(l, pts)
		p.Legend.Add(k, l, pts)
	}
	return p, nil
}

// energyBreakdown stacks each configuration's energy by category.
func energyBreakdown(means []sweepMean) (*plot.Plot, error) {
	p := newPlot("Energy per frame by category", "configuration (architecture, ticks, cores, placement, routing, multicast)", "energy per frame (J)")
	var names []string
	for _, m := range means {
		names = append(names, m.label())
	}
	var below *plotter.BarChart
	for c := range chip.NumCategories {
		vals := make(plotter.Values, len(means))
		for i, m := range means {
			vals[i] = m.energies[c]
		}
		bar, err := plotter.NewBarChart(vals, vg.Points(14))
		if err != nil {
			return nil, err
		}
		bar.LineStyle.Width = 0
		bar.Color = plotutil.Color(int(c))
		if below != nil {
			bar.StackOn(below)
		}
		below = bar
		p.Add(bar)
		p.Legend.Add(c.String(), bar)
	}
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = 0.6
	p.X.Tick.Label.XAlign = -1
	return p, nil
}

// pareto plots energy against latency per configuration, with the configurations no other
// beats on both joined and labelled.
func pareto(means []sweepMean) (*plot.Plot, error) {
	p := newPlot("Energy against latency per frame", "latency per frame (s)", "energy per frame (J)")
	all := make(plotter.XYs, len(means))
	for i, m := range means {
		all[i] = plotter.XY{X: m.frame, Y: m.energy}
	}
	sc, err := plotter.NewScatter(all)
	if err != nil {
		return nil, err
	}
	sc.Color = plotutil.Color(1)
	p.Add(sc)
	p.Legend.Add("configuration", sc)
	front := paretoFront(means)
	var xys plotter.XYs
	var labels []string
	for _, i := range front {
		xys = append(xys, all[i])
		labels = append(labels, means[i].label())
	}
	line, err := plotter.NewLine(xys)
	if err != nil {
		return nil, err
	}
	line.Color = plotutil.Color(0)
	p.Add(line)
	p.Legend.Add("Pareto front", line)
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, err
	}
	p.Add(l)
	return p, nil
}

// paretoFront returns the configurations that no other is at least as good as on both
// latency and energy and better on one, by latency.
func paretoFront(means []sweepMean) []int {
	var front []int
	for i, a := range means {
		dominated := false
		for j, b := range means {
			if j != i && b.frame <= a.frame && b.energy <= a.energy && (b.frame < a.frame || b.energy < a.energy) {
				dominated = true
				break
			}
		}
		if !dominated {
			front = append(front, i)
		}
	}
	slices.SortStableFunc(front, func(i, j int) int {
		switch {
		case means[i].frame < means[j].frame:
			return -1
		case means[i].frame > means[j].frame:
			return 1
		}
		return 0
	})
	return front
}
