// Command chart draws the requests per second of a benchmark run as an SVG bar
// chart: one group of bars per scenario, one bar per database engine.
//
//	chart -in bench/results/results.json -out bench/results/chart.svg
//
// The input is the results.json bench/run.sh writes. The scale is logarithmic,
// since sign-ins are hundreds of times slower than forward-auth; every bar is
// labelled with its value, and its tooltip gives the p99 latency too.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "chart:", err)
		}
		os.Exit(1)
	}
}

// results is the part of results.json the chart reads.
type results struct {
	Machine struct {
		CPUs int    `json:"cpus"`
		CPU  string `json:"cpu"`
	} `json:"machine"`
	Settings struct {
		Concurrency int `json:"concurrency"`
	} `json:"settings"`
	Engines []engine `json:"engines"`
}

// engine is one database engine's runs: gatepass serve, and the compare harness.
type engine struct {
	Engine  string `json:"engine"`
	Server  report `json:"server"`
	Compare report `json:"compare"`
}

// report is loadgen's -json output, as much of it as the chart needs.
type report struct {
	Results []struct {
		Scenario  string  `json:"scenario"`
		PerSecond float64 `json:"requests_per_second"`
		Latency   struct {
			P99 float64 `json:"p99"`
		} `json:"latency_ms"`
	} `json:"results"`
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("chart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "bench/results/results.json", "results written by bench/run.sh")
	out := fs.String("out", "bench/results/chart.svg", "SVG file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}

	data, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	var r results
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	c := newChart(&r)
	if len(c.groups) == 0 {
		return fmt.Errorf("%s: no results", *in)
	}
	return os.WriteFile(*out, []byte(c.svg()), 0o644)
}

// bar is one measured rate.
type bar struct {
	engine    string
	perSecond float64
	p99       float64
}

// group is the bars of one scenario, one per engine that ran it. source is ""
// for gatepass serve and "compare" for the compare harness.
type group struct {
	scenario string
	source   string
	bars     []bar
}

// label names the group in tooltips.
func (g *group) label() string {
	return strings.TrimSpace(g.source + " " + g.scenario)
}

// chart is what gets drawn.
type chart struct {
	title   string
	engines []string
	groups  []*group
}

// newChart gathers the bars by scenario, in the order the scenarios ran:
// gatepass's own endpoints first, then the compare harness's.
func newChart(r *results) *chart {
	c := &chart{title: fmt.Sprintf("gatepass requests/s by scenario (log scale); "+
		"%d CPUs, %s, %d workers", r.Machine.CPUs, r.Machine.CPU, r.Settings.Concurrency)}
	byLabel := map[string]*group{}
	add := func(source string, rep report, engine string) {
		for _, res := range rep.Results {
			g := byLabel[source+" "+res.Scenario]
			if g == nil {
				g = &group{scenario: res.Scenario, source: source}
				byLabel[source+" "+res.Scenario] = g
				c.groups = append(c.groups, g)
			}
			g.bars = append(g.bars, bar{engine, res.PerSecond, res.Latency.P99})
		}
	}

	for _, e := range r.Engines {
		c.engines = append(c.engines, e.Engine)
		add("", e.Server, e.Engine)
		add("compare", e.Compare, e.Engine)
	}
	return c
}

// Layout, in SVG user units.
const (
	width      = 960.0
	height     = 440.0
	marginL    = 64.0
	marginR    = 16.0
	marginT    = 64.0
	marginB    = 72.0
	plotWidth  = width - marginL - marginR
	plotHeight = height - marginT - marginB
)

// palette colours the engines in order.
var palette = []string{"#4c78a8", "#f58518", "#54a24b", "#b279a2"}

// svg draws the chart.
func (c *chart) svg() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" `+
		`viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%.0f" height="%.0f" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%.0f" y="24" font-size="15" font-weight="bold">%s</text>`+"\n",
		marginL, html.EscapeString(c.title))

	top := c.scaleTop()
	c.drawAxis(&b, top)
	c.drawBars(&b, top)
	c.drawLegend(&b)
	b.WriteString("</svg>\n")
	return b.String()
}

// scaleTop returns the power of ten above the highest rate.
func (c *chart) scaleTop() float64 {
	highest := 10.0
	for _, g := range c.groups {
		for _, br := range g.bars {
			highest = max(highest, br.perSecond)
		}
	}
	return math.Pow(10, math.Ceil(math.Log10(highest)))
}

// y maps a rate to its height on the log scale, from 1/s at the bottom.
func y(v, top float64) float64 {
	if v < 1 {
		v = 1
	}
	return marginT + plotHeight*(1-math.Log10(v)/math.Log10(top))
}

// drawAxis draws a grid line and label at every power of ten.
func (c *chart) drawAxis(b *strings.Builder, top float64) {
	for v := 1.0; v <= top; v *= 10 {
		yy := y(v, top)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n",
			marginL, yy, width-marginR, yy)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n",
			marginL-6, yy+4, short(v))
	}
	fmt.Fprintf(b, `<text transform="translate(16 %.1f) rotate(-90)" `+
		`text-anchor="middle">requests per second</text>`+"\n", marginT+plotHeight/2)
}

// drawBars draws each group's bars with their values above them and the
// scenario below.
func (c *chart) drawBars(b *strings.Builder, top float64) {
	groupWidth := plotWidth / float64(len(c.groups))
	barWidth := groupWidth * 0.8 / float64(max(len(c.engines), 1))
	for i, g := range c.groups {
		x0 := marginL + float64(i)*groupWidth + groupWidth*0.1
		for _, br := range g.bars {
			x := x0 + float64(c.engineIndex(br.engine))*barWidth
			yy := y(br.perSecond, top)
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">`+
				`<title>%s %s: %.0f req/s, p99 %.2f ms</title></rect>`+"\n",
				x, yy, barWidth-2, marginT+plotHeight-yy, c.colour(br.engine),
				html.EscapeString(br.engine), html.EscapeString(g.label()), br.perSecond,
				br.p99)
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10">`+
				`%s</text>`+"\n", x+barWidth/2-1, yy-3, short(br.perSecond))
		}
		cx := x0 + groupWidth*0.4
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n",
			cx, marginT+plotHeight+18, html.EscapeString(g.scenario))
		if g.source != "" {
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#666">`+
				`%s</text>`+"\n", cx, marginT+plotHeight+34, html.EscapeString(g.source))
		}
	}
}

// drawLegend names the engines' colours.
func (c *chart) drawLegend(b *strings.Builder) {
	for i, e := range c.engines {
		x := marginL + float64(i)*120
		fmt.Fprintf(b, `<rect x="%.1f" y="38" width="12" height="12" fill="%s"/>`+"\n", x,
			c.colour(e))
		fmt.Fprintf(b, `<text x="%.1f" y="48">%s</text>`+"\n", x+16, html.EscapeString(e))
	}
}

func (c *chart) engineIndex(name string) int {
	for i, e := range c.engines {
		if e == name {
			return i
		}
	}
	return 0
}

func (c *chart) colour(engine string) string {
	return palette[c.engineIndex(engine)%len(palette)]
}

// short prints a rate compactly: 950, 9.5k, 95k.
func short(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.0fk", v/1000)
	case v >= 1000:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v/1000), ".0") + "k"
	}
	return fmt.Sprintf("%.0f", v)
}
