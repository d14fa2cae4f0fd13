package console

import (
	"encoding/xml"
	"strconv"
	"strings"
	"testing"

	"zwfw/platform/workdays"
	"zwfw/supervision"
)

// svgNode is an SVG element as encoding/xml reads it.
type svgNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []svgNode  `xml:",any"`
}

func (n svgNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n svgNode) num(t *testing.T, name string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(n.attr(name), 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, n.attr(name), err)
	}
	return f
}

// find lists the descendants named name with class class ("" = any).
func (n svgNode) find(name, class string) []svgNode {
	var out []svgNode
	for _, c := range n.Nodes {
		if c.XMLName.Local == name && (class == "" || c.attr("class") == class) {
			out = append(out, c)
		}
		out = append(out, c.find(name, class)...)
	}
	return out
}

func parseSVG(t *testing.T, s string) svgNode {
	t.Helper()
	var root svgNode
	if err := xml.Unmarshal([]byte(s), &root); err != nil {
		t.Fatalf("not well-formed SVG: %v\n%s", err, s)
	}
	if root.XMLName.Local != "svg" || root.XMLName.Space != "http://www.w3.org/2000/svg" {
		t.Fatalf("root %v", root.XMLName)
	}
	return root
}

// The stacked bars: one group per day with data (none for a missing day),
// segments bottom-up in series order with heights proportional to their
// values on a round scale, zero values drawn as nothing, and text escaped.
func TestStackedBarsSVG(t *testing.T) {
	series := []chartSeries{{"正常", "#2e7d32"}, {"黄牌", "#f2b705"}, {"红<牌>&\"", "#c62828"}}
	points := []chartPoint{
		{Label: "12-01", Title: "第一天 <b>", Values: []int{1, 2, 3}},
		{Label: "12-02", Missing: true},
		{Label: "", Title: "第三天", Values: []int{0, 0, 8}},
	}
	svg := string(stackedBarsSVG("趋势 & 状态", series, points))
	root := parseSVG(t, svg)
	if got := root.attr("aria-label"); got != "趋势 & 状态" {
		t.Fatalf("aria-label %q", got)
	}
	bars := root.find("g", "bar")
	if len(bars) != 2 {
		t.Fatalf("%d bars, want 2 (a missing day has none)", len(bars))
	}
	if title := bars[0].find("title", ""); len(title) != 1 || title[0].Text != "第一天 <b>" {
		t.Fatalf("first bar's title %+v", title)
	}
	plotH := float64(chartH - chartTop - chartBottom)
	bottom := float64(chartH - chartBottom)
	// The maximum stack is 8: the scale is 0..8, so a unit is plotH/8.
	segs := bars[0].find("rect", "seg")
	if len(segs) != 3 {
		t.Fatalf("%d segments in the first bar", len(segs))
	}
	y := bottom
	for i, want := range []int{1, 2, 3} {
		h := segs[i].num(t, "height")
		if d := h - plotH*float64(want)/8; d > 0.06 || d < -0.06 {
			t.Fatalf("segment %d height %.2f, want %.2f", i, h, plotH*float64(want)/8)
		}
		if d := segs[i].num(t, "y") + h - y; d > 0.11 || d < -0.11 {
			t.Fatalf("segment %d is not stacked on the one below: y %.2f h %.2f base %.2f", i, segs[i].num(t, "y"), h, y)
		}
		y -= h
		if segs[i].attr("fill") != series[i].Color || segs[i].attr("data-series") != series[i].Name {
			t.Fatalf("segment %d: %v", i, segs[i].Attrs)
		}
	}
	third := bars[1].find("rect", "seg")
	if len(third) != 1 || third[0].num(t, "height") < plotH-0.06 || third[0].attr("data-value") != "8" {
		t.Fatalf("the tallest bar fills the plot: %+v", third)
	}
	var labels []string
	for _, l := range root.find("text", "xlabel") {
		labels = append(labels, l.Text)
	}
	if strings.Join(labels, ",") != "12-01,12-02" {
		t.Fatalf("x labels %v", labels)
	}
	var ys []string
	for _, l := range root.find("text", "ylabel") {
		ys = append(ys, l.Text)
	}
	if strings.Join(ys, ",") != "0,2,4,6,8" {
		t.Fatalf("y labels %v", ys)
	}
	if strings.Contains(svg, "<b>") || strings.Contains(svg, "红<牌>") {
		t.Fatal("text is not escaped")
	}

	// No data at all: an empty chart with its axis, no bars, no division by zero.
	empty := parseSVG(t, string(stackedBarsSVG("空", series, []chartPoint{{Missing: true}})))
	if len(empty.find("g", "bar")) != 0 || len(empty.find("line", "axis")) != 1 {
		t.Fatal("an empty chart")
	}
}

func TestNiceCeil(t *testing.T) {
	for n, want := range map[int]int{0: 4, 1: 4, 4: 4, 5: 8, 8: 8, 9: 20, 20: 20, 21: 40, 41: 80, 81: 200, 10_000: 20_000, 10_001: 20_000, 20_001: 40_000} {
		if got := niceCeil(n); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", n, got, want)
		}
	}
}

// The supervision chart: the last 30 days, today last, a bar for each
// day with stored counts, labels every fifth day ending today.
func TestHistoryChart(t *testing.T) {
	today := workdays.MustParseDate("2026-12-07")
	hist := []supervision.Day{
		{Day: "2026-11-01", Counts: supervision.Counts{Red: 99}}, // older than 30 days: not drawn
		{Day: "2026-11-08", Counts: supervision.Counts{Normal: 5, Yellow: 1, Red: 1}},
		{Day: "2026-12-07", Counts: supervision.Counts{Normal: 4, Yellow: 2, Red: 3}},
	}
	root := parseSVG(t, string(historyChart(today, hist)))
	bars := root.find("g", "bar")
	if len(bars) != 2 || !strings.HasPrefix(bars[0].find("title", "")[0].Text, "2026-11-08") || bars[1].attr("data-label") != "12-07" {
		t.Fatalf("bars %+v", bars)
	}
	if segs := bars[1].find("rect", "seg"); len(segs) != 3 || segs[2].attr("data-value") != "3" || segs[2].attr("data-series") != "红牌超期" {
		t.Fatalf("today's bar %+v", segs)
	}
	var labels []string
	for _, l := range root.find("text", "xlabel") {
		labels = append(labels, l.Text)
	}
	if strings.Join(labels, ",") != "11-12,11-17,11-22,11-27,12-02,12-07" {
		t.Fatalf("x labels %v", labels)
	}
}
