package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// chart draws the rising-concurrency rows: requests per second (left) and
// p99 latency (right) against connections, both axes logarithmic, one line
// per request kind and its baseline.
func chart(path, title string, rows []*row) (err error) {
	// gonum panics on an axis a log scale cannot draw: a chart is not
	// worth the run's report.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("chart: %v", r)
		}
	}()
	series := map[string]plotter.XYs{}
	p99 := map[string]plotter.XYs{}
	var names []string
	levels := map[int]bool{}
	for _, r := range rows {
		for _, side := range []struct {
			name     string
			rps, p99 float64
		}{{r.Name, r.RPS, r.P99}, {r.Base, r.BaseRPS, baseP99(r)}} {
			if side.name == "" || side.rps <= 0 {
				continue
			}
			if _, ok := series[side.name]; !ok {
				names = append(names, side.name)
			}
			series[side.name] = append(series[side.name], plotter.XY{X: float64(r.Conns), Y: side.rps})
			if side.p99 > 0 {
				p99[side.name] = append(p99[side.name], plotter.XY{X: float64(r.Conns), Y: side.p99})
			}
			levels[r.Conns] = true
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("no rising-concurrency rows to draw")
	}
	var ticks plot.ConstantTicks
	var ls []int
	for l := range levels {
		ls = append(ls, l)
	}
	sort.Ints(ls)
	for _, l := range ls {
		ticks = append(ticks, plot.Tick{Value: float64(l), Label: strconv.Itoa(l)})
	}
	mk := func(ttl, ylabel string, data map[string]plotter.XYs) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = ttl
		p.X.Label.Text = "connections"
		p.Y.Label.Text = ylabel
		p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
		p.X.Tick.Marker, p.Y.Tick.Marker = ticks, plot.LogTicks{Prec: -1}
		p.Legend.Top = true
		// Explicit ranges: a single level or value would give the log
		// scale an axis reaching 0.
		p.X.Min, p.X.Max = float64(ls[0])/1.5, float64(ls[len(ls)-1])*1.5
		lo, hi := 0.0, 0.0
		var args []any
		for _, n := range names {
			xy := data[n]
			if len(xy) == 0 {
				continue
			}
			for _, v := range xy {
				if lo == 0 || v.Y < lo {
					lo = v.Y
				}
				hi = max(hi, v.Y)
			}
			sort.Slice(xy, func(i, j int) bool { return xy[i].X < xy[j].X })
			args = append(args, n, xy)
		}
		if err := plotutil.AddLinePoints(p, args...); err != nil {
			return nil, err
		}
		// Headroom above the highest line (a decade on the log axis), so
		// the legend covers none of them.
		p.Y.Min, p.Y.Max = lo/2, hi*12
		return p, nil
	}
	left, err := mk(title+": throughput", "requests per second", series)
	if err != nil {
		return err
	}
	right, err := mk(title+": p99 latency", "p99 (ms)", p99)
	if err != nil {
		return err
	}
	img := vgimg.New(vg.Points(1200), vg.Points(520))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 4,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2}
	plots := [][]*plot.Plot{{left, right}}
	canvases := plot.Align(plots, tiles, dc)
	left.Draw(canvases[0][0])
	right.Draw(canvases[0][1])
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// baseP99 is the median p99 of the row's baseline rounds.
func baseP99(r *row) float64 {
	var v []float64
	for _, b := range r.BaseRuns {
		v = append(v, b.P99)
	}
	return median(v)
}
