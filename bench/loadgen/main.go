// Command loadgen sends load to a running gatepass server, or to the
// bench/compare harness, and reports requests per second, latency quantiles and
// errors by kind for each scenario:
//
//	loadgen -url http://127.0.0.1:8080 -scenario trivial,verify,refresh -c 32 -d 10s
//
// Scenarios run one after another, each with its own warm-up. With -rounds N
// they run N times over, and each scenario's rate is also summed up as the
// median of its ratios to the trivial endpoint's rate in the same round. The
// tables are Markdown, so they can be pasted as they are; -json writes the same
// numbers for scripts. See BENCHMARKS.md for how bench/run.sh uses it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gatepass/gatepass/bench/load"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
		}
		stop()
		os.Exit(1)
	}
}

// report is the -json output: the settings shared by every scenario and one
// result per scenario.
type report struct {
	URL           string         `json:"url"`
	Client        string         `json:"client"`
	Started       time.Time      `json:"started"`
	Concurrency   int            `json:"concurrency"`
	WarmupSeconds float64        `json:"warmup_seconds"`
	Results       []*load.Result `json:"results"`

	// Rounds and Ratios are set by -rounds; Results then holds every round's.
	Rounds int            `json:"rounds,omitempty"`
	Ratios []*ratioSeries `json:"ratios_to_trivial,omitempty"`
}

// run parses the flags, runs every scenario asked for and writes the report.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg load.Config
	var scenarioList, jsonPath string
	var rounds int
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "base URL of the server")
	fs.StringVar(&scenarioList, "scenario", "trivial",
		"comma-separated scenarios to run in turn: "+scenarioHelp())
	fs.StringVar(&cfg.Client, "client", "", "HTTP client of the GET scenarios: "+
		load.ClientRaw+" (the default for http://) is a minimal keep-alive HTTP/1.1 "+
		"client that leaves more of a shared machine's CPU to the server; "+
		load.ClientNetHTTP+" is Go's standard client (the default for https://). "+
		"The POST scenarios always use net/http")
	fs.IntVar(&cfg.Concurrency, "c", 32, "workers, each with one request in flight")
	fs.DurationVar(&cfg.Duration, "d", 10*time.Second, "measured time per scenario")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second,
		"time per scenario before measuring starts")
	fs.IntVar(&rounds, "rounds", 1, "run the scenarios this many times, in reverse order "+
		"every other round, and report the median of each one's ratios to trivial, "+
		"measured in the same round: a steadier ratio than one window's on a busy machine")
	fs.StringVar(&cfg.User, "user", "demo", "account to sign in as; the name prefix with -users")
	fs.StringVar(&cfg.Password, "password", "demo-password", "password of the accounts")
	fs.IntVar(&cfg.Users, "users", 0,
		"use N accounts, USER-1 to USER-N, which must exist (0: just -user)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "process id of the server, when it runs "+
		"on this machine (Linux): also report requests per CPU-second it used")
	fs.StringVar(&cfg.DatabaseProcess, "db-process", "", "with -server-pid, the command "+
		"name of the database's processes on this machine, such as postgres: also report "+
		"requests per CPU-second the server and the database used together")
	fs.StringVar(&jsonPath, "json", "", "also write the results as JSON to this file "+
		"(- for standard output, instead of the table)")
	if err := fs.Parse(args); err != nil {
		return err
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	} else if rounds < 1 {
		return fmt.Errorf("rounds: %d is not a positive number", rounds)
	}

	names := strings.Split(scenarioList, ",")
	for i, name := range names {
		c := cfg
		c.Scenario = name
		if err := c.Validate(); err != nil {
			return err
		} else if slices.Contains(names[:i], name) {
			return fmt.Errorf("scenario: %q is listed twice", name)
		}
	}

	started := time.Now().UTC().Truncate(time.Second)
	rep := &report{URL: cfg.URL, Client: cfg.ClientName(), Started: started,
		Concurrency: cfg.Concurrency, WarmupSeconds: cfg.Warmup.Seconds()}
	err := runScenarios(rep, cfg, names, rounds, stderr, func(c load.Config) (*load.Result,
		error) {
		return load.Run(ctx, c)
	})
	if err != nil {
		return err
	}
	return write(rep, jsonPath, stdout)
}

// runScenarios runs the scenarios names with cfg through runOne, rounds times
// over in the order roundOrder gives, writes a line of progress for each, and
// puts the results in rep; with more than one round, also the ratios.
func runScenarios(rep *report, cfg load.Config, names []string, rounds int,
	progress io.Writer, runOne func(load.Config) (*load.Result, error)) error {
	for round := 1; round <= rounds; round++ {
		for _, name := range roundOrder(names, round) {
			c := cfg
			c.Scenario = name
			r, err := runOne(c)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}

			if rounds > 1 {
				r.Round = round
				fmt.Fprintf(progress, "round %d: ", round)
			}
			fmt.Fprintf(progress, "%-8s %9.0f req/s  p99 %s ms  errors %d\n", name,
				r.PerSecond, formatMs(r.Latency.P99), r.Errors)
			rep.Results = append(rep.Results, r)
		}
	}

	if rounds > 1 {
		rep.Rounds = rounds
		rep.Ratios = ratiosToTrivial(names, rep.Results)
	}
	return nil
}

// roundOrder returns the order of the scenarios in round (from 1): as given in
// odd rounds, reversed in even ones, so that a machine slowly getting busier or
// quieter favours neither of two scenarios compared.
func roundOrder(names []string, round int) []string {
	if round%2 == 1 {
		return names
	}
	reversed := slices.Clone(names)
	slices.Reverse(reversed)
	return reversed
}

// scenarioHelp lists the scenarios for the -scenario flag's help.
func scenarioHelp() string {
	var b strings.Builder
	for _, name := range load.Scenarios() {
		fmt.Fprintf(&b, "\n\t%s: %s", name, load.Describe(name))
	}
	return b.String()
}

// write prints the table to stdout and the JSON where jsonPath says.
func write(rep *report, jsonPath string, stdout io.Writer) error {
	if jsonPath == "-" {
		return writeJSON(stdout, rep)
	}
	if err := writeTable(stdout, rep.Results); err != nil {
		return err
	}
	if len(rep.Ratios) > 0 {
		if err := writeRatios(stdout, rep.Ratios); err != nil {
			return err
		}
	}
	if jsonPath == "" {
		return nil
	}

	f, err := os.Create(jsonPath)
	if err != nil {
		return err
	}
	if err := writeJSON(f, rep); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeJSON(w io.Writer, rep *report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// writeTable prints one Markdown row per scenario and round. When the trivial
// scenario ran too, every rate is also given as a multiple of its rate,
// measured in the same round against the same server; with -server-pid, also
// per CPU-second the server used.
func writeTable(w io.Writer, results []*load.Result) error {
	base := make(map[int]float64)
	withDB, withRounds := false, false
	for _, r := range results {
		if r.Scenario == trivialScenario {
			base[r.Round] = r.PerSecond
		}
		withDB = withDB || r.PerCPUSecond > 0
		withRounds = withRounds || r.Round > 0
	}

	var b strings.Builder
	if withRounds {
		b.WriteString("| round ")
	}
	b.WriteString("| scenario | req/s | vs trivial | req/server CPU-s |")
	if withDB {
		b.WriteString(" req/server+db CPU-s |")
	}
	b.WriteString(" p50 ms | p90 ms | p99 ms | max ms | errors |\n")
	if withRounds {
		b.WriteString("| ---: ")
	}
	b.WriteString("| --- | ---: | ---: | ---: |")
	if withDB {
		b.WriteString(" ---: |")
	}
	b.WriteString(" ---: | ---: | ---: | ---: | --- |\n")
	for _, r := range results {
		ratio := "-"
		if base[r.Round] > 0 {
			ratio = fmt.Sprintf("%.2fx", r.PerSecond/base[r.Round])
		}
		if withRounds {
			fmt.Fprintf(&b, "| %d ", r.Round)
		}
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s |", r.Scenario, r.PerSecond, ratio,
			formatRate(r.PerServerCPUSecond))
		if withDB {
			fmt.Fprintf(&b, " %s |", formatRate(r.PerCPUSecond))
		}
		errs := "0"
		if r.Errors > 0 {
			errs = fmt.Sprintf("%d (%s)", r.Errors, r.ErrorSummary())
		}
		fmt.Fprintf(&b, " %s | %s | %s | %s | %s |\n", formatMs(r.Latency.P50),
			formatMs(r.Latency.P90), formatMs(r.Latency.P99), formatMs(r.Latency.Max), errs)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// formatRate prints a rate per CPU-second, or "-" when it was not measured.
func formatRate(v float64) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}

// formatMs prints milliseconds with three significant digits or so.
func formatMs(ms float64) string {
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2f", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f", ms)
	}
	return fmt.Sprintf("%.0f", ms)
}
