package console

import (
	"encoding/xml"
	"fmt"
	"html/template"
	"strings"
)

// A stacked bar chart drawn on the server as SVG: no script, no library,
// nothing for the Content-Security-Policy to allow (colours are SVG
// presentation attributes, not inline styles). Each bar carries a <title>,
// which browsers show on hover and screen readers read.

// chartSeries is one layer of the stacks, bottom first.
type chartSeries struct {
	Name, Color string
}

// chartPoint is one bar: its label under the axis (may be empty), its
// hover title, and one value per series. Missing draws no bar (no data
// that day), which is not the same as a bar of zero.
type chartPoint struct {
	Label, Title string
	Values       []int
	Missing      bool
}

// Chart geometry, in SVG user units (the SVG scales to its box).
const (
	chartW, chartH        = 960, 260
	chartLeft, chartRight = 48, 12
	chartTop, chartBottom = 30, 28
)

// stackedBarsSVG draws points as stacked bars of series with a y axis
// from 0 to a round maximum, gridlines, and a legend.
func stackedBarsSVG(label string, series []chartSeries, points []chartPoint) template.HTML {
	top := 0
	for _, p := range points {
		sum := 0
		for _, v := range p.Values {
			sum += max(v, 0)
		}
		top = max(top, sum)
	}
	yMax := niceCeil(top)
	plotW, plotH := float64(chartW-chartLeft-chartRight), float64(chartH-chartTop-chartBottom)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`, chartW, chartH, esc(label))
	fmt.Fprintf(&b, `<title>%s</title>`, esc(label))
	// Gridlines and y labels at quarters of the maximum.
	for i := 0; i <= 4; i++ {
		v := yMax * i / 4
		y := float64(chartTop) + plotH - plotH*float64(v)/float64(yMax)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#d9dde3" stroke-width="1"/>`, chartLeft, y, chartW-chartRight, y)
		fmt.Fprintf(&b, `<text class="ylabel" x="%d" y="%.1f" text-anchor="end" font-size="12" fill="#555">%d</text>`, chartLeft-6, y+4, v)
	}
	if n := len(points); n > 0 {
		slot := plotW / float64(n)
		barW := slot * 0.7
		for i, p := range points {
			x := float64(chartLeft) + slot*float64(i) + (slot-barW)/2
			if p.Label != "" {
				fmt.Fprintf(&b, `<text class="xlabel" x="%.1f" y="%d" text-anchor="middle" font-size="12" fill="#555">%s</text>`,
					x+barW/2, chartH-chartBottom+18, esc(p.Label))
			}
			if p.Missing {
				continue
			}
			base := float64(chartTop) + plotH
			fmt.Fprintf(&b, `<g class="bar" data-label="%s"><title>%s</title>`, esc(p.Label), esc(p.Title))
			for s, v := range p.Values {
				if v <= 0 || s >= len(series) {
					continue
				}
				h := plotH * float64(v) / float64(yMax)
				base -= h
				fmt.Fprintf(&b, `<rect class="seg" data-series="%s" data-value="%d" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`,
					esc(series[s].Name), v, x, base, barW, h, esc(series[s].Color))
			}
			b.WriteString(`</g>`)
		}
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888" stroke-width="1"/>`, chartLeft, chartH-chartBottom, chartW-chartRight, chartH-chartBottom)
	// Legend, top right, in series order.
	x := chartW - chartRight - 110*len(series)
	for _, s := range series {
		fmt.Fprintf(&b, `<rect class="key" x="%d" y="8" width="14" height="14" fill="%s"/><text x="%d" y="20" font-size="13" fill="#333">%s</text>`,
			x, esc(s.Color), x+20, esc(s.Name))
		x += 110
	}
	b.WriteString(`</svg>`)
	// The markup is built here from escaped text and numbers only.
	return template.HTML(b.String()) //nolint:gosec
}

// niceCeil is the smallest of 4, 8, 20, 40, 80, 200, ... (a multiple of 4
// so the quarter gridlines fall on integers) not below n, and 4 for none.
func niceCeil(n int) int {
	for step := 1; ; step *= 10 {
		for _, m := range []int{4, 8, 20} {
			if m*step >= n {
				return m * step
			}
		}
	}
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // quotes too, so it is safe in attributes
	return b.String()
}
