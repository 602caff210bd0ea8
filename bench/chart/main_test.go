package main

// The chart is a main package, so its test sits inside it.

import (
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testResults is a results.json in the shape bench/run.sh writes, cut down.
const testResults = `{
  "machine": {"cpus": 2, "cpu": "Test CPU <8 cores>"},
  "settings": {"concurrency": 32},
  "engines": [
    {"engine": "sqlite",
     "server": {"results": [
       {"scenario": "trivial", "requests_per_second": 25000.4, "latency_ms": {"p99": 3.1}},
       {"scenario": "signin", "requests_per_second": 41.6, "latency_ms": {"p99": 900}}]},
     "compare": {"results": [
       {"scenario": "password", "requests_per_second": 40.2, "latency_ms": {"p99": 950}}]}},
    {"engine": "postgres",
     "server": {"results": [
       {"scenario": "trivial", "requests_per_second": 24000, "latency_ms": {"p99": 3.3}}]}}
  ]
}`

// svgText collects the text of every element of one name in an SVG document,
// failing the test if the document is not well-formed XML.
func svgText(tb testing.TB, svg, element string) []string {
	tb.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	var texts []string
	inside := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return texts
		} else if err != nil {
			tb.Fatalf("SVG is not well-formed: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			inside = t.Name.Local == element
		case xml.CharData:
			if inside {
				texts = append(texts, string(t))
			}
		case xml.EndElement:
			inside = false
		}
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "results.json"), filepath.Join(dir, "chart.svg")
	if err := os.WriteFile(in, []byte(testResults), 0o644); err != nil {
		t.Fatal(err)
	}

	if err := run([]string{"-in", in, "-out", out}, io.Discard); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	svg := string(data)
	wantTitles := []string{
		"sqlite trivial: 25000 req/s, p99 3.10 ms",
		"postgres trivial: 24000 req/s, p99 3.30 ms",
		"sqlite signin: 42 req/s, p99 900.00 ms",
		"sqlite compare password: 40 req/s, p99 950.00 ms",
	}
	if diff := cmp.Diff(svgText(t, svg, "title"), wantTitles); diff != "" {
		t.Errorf("bar tooltips (-got +want):\n%s", diff)
	}
	texts := strings.Join(svgText(t, svg, "text"), "|")
	for _, want := range []string{"Test CPU <8 cores>", "25k", "24k", "42", "sqlite",
		"postgres", "compare", "100k"} {
		if !strings.Contains(texts, want) {
			t.Errorf("chart text %q lacks %q", texts, want)
		}
	}
}

func TestRun_noResults(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "results.json")
	if err := os.WriteFile(in, []byte(`{"engines": []}`), 0o644); err != nil {
		t.Fatal(err)
	}

	err := run([]string{"-in", in, "-out", filepath.Join(dir, "chart.svg")}, io.Discard)

	if err == nil || !strings.HasSuffix(err.Error(), "no results") {
		t.Errorf("run = %v, want a no results error", err)
	}
}
