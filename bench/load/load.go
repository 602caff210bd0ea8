// Package load sends HTTP load to a gatepass server, or to the bench/compare
// harness, and measures what it gets back: requests per second, latency quantiles
// and errors by kind. Command bench/loadgen is its command line; tests drive it
// in-process against a server on loopback.
//
// A run has a fixed number of workers, each sending one request at a time over
// keep-alive connections, for a warm-up and then a fixed measured window. Only
// requests that complete inside the window count.
package load

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// requestTimeout gives up on one request. A benchmark whose requests take this
// long has failed anyway; the timeout keeps a hung server from hanging the run.
const requestTimeout = 30 * time.Second

// The HTTP clients a run can send its GET scenarios with.
const (
	// ClientRaw is a minimal HTTP/1.1 client: one keep-alive connection per
	// worker, the request's bytes built once, the answer parsed without
	// allocating. The load generator shares the server's CPUs, and net/http
	// costs about as much CPU per request as the server's own handling, so
	// the rates of the cheap GET scenarios say more about the server when the
	// client costs less. It speaks plain HTTP only.
	ClientRaw = "raw"

	// ClientNetHTTP is Go's net/http client, shared by the workers.
	ClientNetHTTP = "net/http"
)

// Config describes a run of one scenario.
type Config struct {
	// URL is the server's base URL, such as http://127.0.0.1:8080.
	URL string

	// Scenario names the requests to send; Scenarios lists them.
	Scenario string

	// Client is ClientRaw or ClientNetHTTP, the client of the GET scenarios;
	// empty means ClientRaw for an http:// URL and ClientNetHTTP for https://,
	// which the raw client does not speak. The POST scenarios (refresh,
	// signin) and every sign-in use net/http whatever it says.
	Client string

	// Concurrency is the number of workers, each with one request in flight.
	Concurrency int

	// Warmup is how long requests are sent before measuring starts, so that
	// connections are open and the server's pools and caches are warm.
	Warmup time.Duration

	// Duration is the measured window.
	Duration time.Duration

	// User and Password sign the workers in. When Users is more than 0, the
	// accounts are USER-1 to USER-N instead (USER-1 for workers 0, N, 2N...),
	// so that N accounts share the load.
	User     string
	Password string
	Users    int

	// ServerPID, when set, is the process id of the server on this machine.
	// Its CPU time during the window is measured, so that the rate can be
	// given per CPU-second the server used: when the load generator shares
	// the server's CPUs, that is the number that says what one core can do.
	ServerPID int

	// DatabaseProcess, when set with ServerPID, is the command name of a
	// database server on this machine, such as "postgres". The CPU time of
	// all its processes is measured too, so that the rate can also be given
	// per CPU-second the server and its database used between them.
	DatabaseProcess string
}

// Validate checks the configuration and names the first field that is wrong.
func (c *Config) Validate() error {
	switch {
	case !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://"):
		return fmt.Errorf("url: must be an http(s) URL, got %q", c.URL)
	case scenarios[c.Scenario].newWorker == nil:
		return fmt.Errorf("scenario: %q is not one of %s", c.Scenario,
			strings.Join(Scenarios(), ", "))
	case c.Client != "" && c.Client != ClientRaw && c.Client != ClientNetHTTP:
		return fmt.Errorf("client: %q is not %s or %s", c.Client, ClientRaw, ClientNetHTTP)
	case c.Client == ClientRaw && strings.HasPrefix(c.URL, "https://"):
		return fmt.Errorf("client: %s speaks plain HTTP only; use %s for %s", ClientRaw,
			ClientNetHTTP, c.URL)
	case c.Concurrency < 1:
		return fmt.Errorf("concurrency: must be at least 1, got %d", c.Concurrency)
	case c.Duration <= 0:
		return fmt.Errorf("duration: must be positive, got %s", c.Duration)
	case c.Warmup < 0:
		return fmt.Errorf("warmup: must not be negative, got %s", c.Warmup)
	case c.Users < 0:
		return fmt.Errorf("users: must not be negative, got %d", c.Users)
	}
	return nil
}

// ClientName returns the client a run of c sends its GET scenarios with:
// Client, or when it is empty the default for the URL's scheme.
func (c *Config) ClientName() string {
	if c.Client != "" {
		return c.Client
	} else if strings.HasPrefix(c.URL, "https://") {
		return ClientNetHTTP
	}
	return ClientRaw
}

// userName returns the account worker i signs in as.
func (c *Config) userName(i int) string {
	if c.Users == 0 {
		return c.User
	}
	return fmt.Sprintf("%s-%d", c.User, i%c.Users+1)
}

// Result is what a run measured. Requests, PerSecond and Latency count the
// successful requests only; failed ones are counted in Errors, by kind.
type Result struct {
	Scenario    string  `json:"scenario"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`

	// Round is the round, from 1, of a run that repeats its scenarios in
	// rounds; 0 when each scenario ran once.
	Round int `json:"round,omitempty"`

	Requests  uint64  `json:"requests"`
	PerSecond float64 `json:"requests_per_second"`
	Latency   Latency `json:"latency_ms"`

	// Errors counts failed requests; ErrorKinds splits them by HTTP status
	// (with the OAuth error code when there is one, as in "400 invalid_grant")
	// or by transport failure ("timeout", "connection refused", ...).
	Errors     int64            `json:"errors"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`

	// ServerCPUSeconds is the CPU time the server used in the window, and
	// PerServerCPUSecond the successful requests per such second; both are 0
	// unless Config.ServerPID was set.
	ServerCPUSeconds   float64 `json:"server_cpu_seconds,omitempty"`
	PerServerCPUSecond float64 `json:"requests_per_server_cpu_second,omitempty"`

	// DatabaseCPUSeconds is the CPU time the database's processes used in the
	// window, and PerCPUSecond the successful requests per CPU-second of the
	// server and the database together; both are 0 unless
	// Config.DatabaseProcess was set.
	DatabaseCPUSeconds float64 `json:"database_cpu_seconds,omitempty"`
	PerCPUSecond       float64 `json:"requests_per_cpu_second,omitempty"`
}

// Latency holds latency quantiles in milliseconds. Max is exact; the
// quantiles are within 0.8% (see Histogram).
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Run signs the workers in as the scenario needs, then sends load for
// cfg.Warmup plus cfg.Duration and returns what the measured window saw. It
// fails if a worker cannot be set up; errors during the run are counted, not
// returned.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")

	if cfg.ServerPID > 0 {
		if _, err := cpuSeconds(cfg.ServerPID); err != nil {
			return nil, err
		}
	}
	if cfg.DatabaseProcess != "" {
		if _, err := commandCPUSeconds(cfg.DatabaseProcess); err != nil {
			return nil, err
		}
	}

	c := newClient(cfg)
	defer c.http.CloseIdleConnections()
	workers, err := setUp(ctx, c, scenarios[cfg.Scenario], cfg.Concurrency)
	if err != nil {
		return nil, err
	}

	from := time.Now().Add(cfg.Warmup)
	until := from.Add(cfg.Duration)
	var serverCPU, dbCPU <-chan float64
	if cfg.ServerPID > 0 {
		serverCPU = watchCPU(from, until, func() (float64, error) {
			return cpuSeconds(cfg.ServerPID)
		})
	}
	if cfg.ServerPID > 0 && cfg.DatabaseProcess != "" {
		dbCPU = watchCPU(from, until, func() (float64, error) {
			return commandCPUSeconds(cfg.DatabaseProcess)
		})
	}
	tallies := measure(ctx, workers, from, until)
	closeWorkers(workers)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	r := summarize(cfg, tallies)
	if serverCPU == nil {
		return r, nil
	}
	if used, ok := <-serverCPU; ok && used > 0 {
		r.ServerCPUSeconds = used
		r.PerServerCPUSecond = float64(r.Requests) / used
	}
	if dbCPU == nil {
		return r, nil
	}
	if db, ok := <-dbCPU; ok && r.ServerCPUSeconds > 0 {
		r.DatabaseCPUSeconds = db
		r.PerCPUSecond = float64(r.Requests) / (r.ServerCPUSeconds + db)
	}
	return r, nil
}

// watchCPU reads a CPU time when the window opens and when it closes, and
// sends the difference. The channel is closed without a value when a reading
// fails.
func watchCPU(from, until time.Time, read func() (float64, error)) <-chan float64 {
	c := make(chan float64, 1)
	go func() {
		defer close(c)
		time.Sleep(time.Until(from))
		before, err := read()
		if err != nil {
			return
		}
		time.Sleep(time.Until(until))
		after, err := read()
		if err != nil {
			return
		}
		c <- after - before
	}()
	return c
}

// newClient returns a client whose connections all stay open: one transport
// with as many idle connections per host as there are workers, so no request
// pays for a TCP handshake once the warm-up is over.
func newClient(cfg Config) *client {
	tr := &http.Transport{
		DialContext: (&net.Dialer{Timeout: 5 * time.Second,
			KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.Concurrency,
		MaxIdleConnsPerHost: cfg.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &client{
		http: &http.Client{Transport: tr, Timeout: requestTimeout},
		raw:  cfg.ClientName() == ClientRaw,
		base: cfg.URL,
		cfg:  cfg,
	}
}

// setUp builds the workers at once, so that n sign-ins share the server's
// hashing slots instead of running one after another.
func setUp(ctx context.Context, c *client, sc scenario, n int) ([]worker, error) {
	workers := make([]worker, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { workers[i], errs[i] = sc.newWorker(ctx, c, i) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("set up workers: %w", err)
	}
	return workers, nil
}

// closeWorkers closes the connections the workers hold of their own.
func closeWorkers(workers []worker) {
	for _, w := range workers {
		if c, ok := w.(closer); ok {
			c.close()
		}
	}
}

// tally is what one worker saw inside the measured window. Each worker owns
// one, so recording needs no lock.
type tally struct {
	hist   Histogram
	errors map[string]int64
}

// measure runs every worker until the window [from, until) closes and returns
// their tallies.
func measure(ctx context.Context, workers []worker, from, until time.Time) []*tally {
	tallies := make([]*tally, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		t := &tally{errors: map[string]int64{}}
		tallies[i] = t
		wg.Go(func() { runWorker(ctx, w, t, from, until) })
	}
	wg.Wait()
	return tallies
}

// runWorker sends requests one after another until the window closes. A request
// counts when it completes inside [from, until). Only the workers that can
// abandon a request harmlessly give up on it when the window closes:
// cancelling a refresh in flight could leave the server with a rotation the
// worker never saw.
func runWorker(ctx context.Context, w worker, t *tally, from, until time.Time) {
	for ctx.Err() == nil {
		began := time.Now()
		if !began.Before(until) {
			return
		}
		kind := w.do(ctx, until)
		ended := time.Now()
		if ended.Before(from) || !ended.Before(until) {
			continue
		}

		if kind == "" {
			t.hist.Record(ended.Sub(began))
		} else {
			t.errors[kind]++
		}
	}
}

// summarize merges the workers' tallies into a Result.
func summarize(cfg Config, tallies []*tally) *Result {
	var h Histogram
	kinds := map[string]int64{}
	var errs int64
	for _, t := range tallies {
		h.Merge(&t.hist)
		for k, n := range t.errors {
			kinds[k] += n
			errs += n
		}
	}

	secs := cfg.Duration.Seconds()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	r := &Result{
		Scenario:    cfg.Scenario,
		Concurrency: cfg.Concurrency,
		Seconds:     secs,
		Requests:    h.Count(),
		PerSecond:   float64(h.Count()) / secs,
		Latency: Latency{P50: ms(h.Quantile(0.50)), P90: ms(h.Quantile(0.90)),
			P99: ms(h.Quantile(0.99)), Max: ms(h.Max())},
		Errors: errs,
	}
	if errs > 0 {
		r.ErrorKinds = kinds
	}
	return r
}

// ErrorSummary returns the error kinds of r as "kind: n" pairs, most frequent
// first, or "" when there were none.
func (r *Result) ErrorSummary() string {
	kinds := slices.SortedFunc(maps.Keys(r.ErrorKinds), func(a, b string) int {
		if c := cmp.Compare(r.ErrorKinds[b], r.ErrorKinds[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s: %d", k, r.ErrorKinds[k])
	}
	return strings.Join(parts, ", ")
}
