// Command scale measures how gatepass serve holds up as its store grows:
// refresh throughput with a small store and with a large one, and refresh
// latency while "gatepass prune" deletes the large store's expired rows in a
// separate process.
//
// It seeds each database in large transactions, after package sqlite or
// package postgres has made the schema with the real migrations, then serves
// it with a freshly built gatepass (--rate-limit off) and sends load with
// package bench/load: one chain of refresh tokens per worker, each starting
// from a fresh sign-in.
//
// SQLite is the default. With -postgres, each store is instead the database
// that URL names, dropped and created again through the server's "postgres"
// maintenance database; the last store is left in place.
//
//	go run ./bench/scale -sessions 1000000 -expired 0.5
//	go run ./bench/scale -postgres 'postgres://postgres@127.0.0.1/gatepass_scale'
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gatepass/gatepass/bench/load"
	"github.com/gatepass/gatepass/password"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "scale:", err)
		}
		stop()
		os.Exit(1)
	}
}

// accountPassword is the password of the accounts load.Run signs in as. It is
// published on purpose: the accounts live only in the throwaway databases.
const accountPassword = "bench-password-not-secret"

// config holds the flags.
type config struct {
	small, large int
	expired      float64
	concurrency  int
	accounts     int
	warmup       time.Duration
	duration     time.Duration
	pruneWindow  time.Duration
	dir          string
	gatepass     string

	// pg is the PostgreSQL database to measure instead of SQLite files; its
	// name is empty unless -postgres is set.
	pg pgTarget
}

// run parses the flags and runs the three measurements, printing a table.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.small, "small", 1000, "sessions in the small store")
	fs.IntVar(&c.large, "sessions", 1_000_000, "sessions in the large store")
	fs.Float64Var(&c.expired, "expired", 0.5,
		"fraction of each store's sessions (and their refresh tokens) already expired")
	fs.IntVar(&c.concurrency, "c", 32, "load workers")
	fs.IntVar(&c.accounts, "users", 32, "accounts the workers sign in as")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "warm-up before each window")
	fs.DurationVar(&c.duration, "d", 10*time.Second, "measured window of each throughput run")
	fs.DurationVar(&c.pruneWindow, "prune-window", 30*time.Second,
		"measured window of the runs with and without the prune")
	fs.StringVar(&c.dir, "dir", "", "directory for the databases and logs "+
		"(default: a new temporary one, removed afterwards)")
	fs.StringVar(&c.gatepass, "gatepass", "", "gatepass binary (default: build one)")
	pgURL := fs.String("postgres", "", "URL of a PostgreSQL database to measure "+
		"instead of SQLite; it is DROPPED and created again for each store")
	if err := fs.Parse(args); err != nil {
		return err
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	} else if c.small < 1 || c.large < 1 || c.expired < 0 || c.expired > 1 {
		return errors.New("sessions: need -small and -sessions >= 1, 0 <= -expired <= 1")
	}
	if *pgURL != "" {
		pg, err := parsePGTarget(*pgURL)
		if err != nil {
			return err
		}
		c.pg = pg
	}

	if c.dir == "" {
		dir, err := os.MkdirTemp("", "gatepass-scale-")
		if err != nil {
			return fmt.Errorf("temporary directory: %w", err)
		}
		defer os.RemoveAll(dir)
		c.dir = dir
	}
	if c.gatepass == "" {
		c.gatepass = filepath.Join(c.dir, "gatepass")
		if err := buildGatepass(ctx, c.gatepass); err != nil {
			return err
		}
	}
	return measureAll(ctx, &c, stdout)
}

// row is one line of the output table.
type row struct {
	label    string
	sessions int
	result   *load.Result
	note     string
}

// measureAll seeds both stores and measures them, then prints the table.
func measureAll(ctx context.Context, c *config, w io.Writer) error {
	hash, err := password.NewHasher(1).Hash(ctx, accountPassword)
	if err != nil {
		return fmt.Errorf("hash account password: %w", err)
	}
	var accounts []string
	for i := range c.accounts {
		accounts = append(accounts, fmt.Sprintf("bench-%d", i+1))
	}

	var rows []row
	for _, n := range []int{c.small, c.large} {
		plan := seedPlan{Sessions: n, Expired: int(float64(n) * c.expired),
			Accounts: accounts, PasswordHash: hash}
		start := time.Now()
		st, err := c.seed(ctx, n, plan)
		if err != nil {
			return fmt.Errorf("seed %d sessions: %w", n, err)
		}
		fmt.Fprintf(w, "seeded %d sessions (%d expired) in %.1fs\n", n, plan.Expired,
			time.Since(start).Seconds())

		got, err := measureStore(ctx, c, st, n, n == c.large)
		if err != nil {
			return err
		}
		rows = append(rows, got...)
	}

	writeTable(w, rows)
	return nil
}

// store is a seeded database.
type store struct {
	db  string // the value of gatepass's --db: a file or a postgres:// URL
	log string // the file the server logs to
}

// seed makes a new store of n sessions as the plan says: a SQLite file in
// c.dir, or the -postgres database.
func (c *config) seed(ctx context.Context, n int, p seedPlan) (store, error) {
	if c.pg.name != "" {
		log := filepath.Join(c.dir, fmt.Sprintf("scale-postgres-%d.log", n))
		return store{db: c.pg.dsn, log: log}, seedPostgres(ctx, c.pg, p)
	}
	path := filepath.Join(c.dir, fmt.Sprintf("scale-%d.db", n))
	return store{db: path, log: path + ".log"}, seedSQLite(ctx, path, p)
}

// measureStore serves the store and measures refresh throughput; with prune,
// it also measures refresh latency without and then during a "gatepass prune"
// of the same database.
func measureStore(ctx context.Context, c *config, st store, n int,
	prune bool) ([]row, error) {
	srv, err := startServer(ctx, c, st)
	if err != nil {
		return nil, err
	}
	defer srv.stop()

	cfg := load.Config{URL: srv.url, Scenario: "refresh", Concurrency: c.concurrency,
		Warmup: c.warmup, Duration: c.duration, User: "bench", Users: c.accounts,
		Password: accountPassword, ServerPID: srv.cmd.Process.Pid}
	r, err := load.Run(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("refresh at %d sessions: %w", n, err)
	}
	rows := []row{{label: "throughput", sessions: n, result: r}}
	if !prune {
		return rows, nil
	}

	cfg.Duration = c.pruneWindow
	if r, err = load.Run(ctx, cfg); err != nil {
		return nil, fmt.Errorf("refresh without prune: %w", err)
	}
	rows = append(rows, row{label: "no prune", sessions: n, result: r})

	r, note, err := duringPrune(ctx, c, cfg, st.db)
	if err != nil {
		return nil, err
	}
	return append(rows, row{label: "during prune", sessions: n, result: r, note: note}), nil
}

// duringPrune runs the load and, once its warm-up is over, "gatepass prune" on
// the database db. The note says what the prune deleted and how long it took.
func duringPrune(ctx context.Context, c *config, cfg load.Config,
	db string) (*load.Result, string, error) {
	type outcome struct {
		r   *load.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		r, err := load.Run(ctx, cfg)
		done <- outcome{r, err}
	}()

	// Setting up the workers signs them in first; a second covers that.
	time.Sleep(c.warmup + time.Second)
	start := time.Now()
	cmd := exec.CommandContext(ctx, c.gatepass, "prune", "--db", db, "--log-level", "warn")
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	o := <-done
	if err != nil {
		return nil, "", fmt.Errorf("gatepass prune: %w: %s", err, strings.TrimSpace(string(out)))
	} else if o.err != nil {
		return nil, "", fmt.Errorf("refresh during prune: %w", o.err)
	}

	note := fmt.Sprintf("%s in %.1fs", strings.TrimSpace(string(out)), took.Seconds())
	if took > c.pruneWindow-time.Second {
		note += "; the prune outlasted the window"
	}
	return o.r, note, nil
}

// writeTable prints the rows as a Markdown table and the large store's rate
// against the small one's.
func writeTable(w io.Writer, rows []row) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| run | sessions | req/s | req/server CPU-s | p50 ms | p99 ms "+
		"| max ms | errors | note |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	var rates []float64
	for _, r := range rows {
		l := r.result.Latency
		fmt.Fprintf(w, "| %s | %d | %.0f | %.0f | %s | %s | %s | %d | %s |\n",
			r.label, r.sessions, r.result.PerSecond, r.result.PerServerCPUSecond,
			ms(l.P50), ms(l.P99), ms(l.Max), r.result.Errors, r.note)
		if r.label == "throughput" {
			rates = append(rates, r.result.PerSecond)
		}
	}
	if len(rates) == 2 && rates[1] > 0 {
		fmt.Fprintf(w, "\nsmall store / large store refresh rate: %.2fx\n", rates[0]/rates[1])
	}
}

// ms formats milliseconds to three significant digits, without an exponent.
func ms(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// server is a running "gatepass serve".
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan error
}

// buildGatepass builds the gatepass command into path.
func buildGatepass(ctx context.Context, path string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", path,
		"github.com/gatepass/gatepass/cmd/gatepass")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build gatepass: %w: %s", err, out)
	}
	return nil
}

// startServer starts "gatepass serve" on the store on a free loopback port,
// with no rate limits and no pruning of its own, and waits until it answers
// /healthz.
func startServer(ctx context.Context, c *config, st store) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(st.log)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	defer logFile.Close()

	cmd := exec.Command(c.gatepass, "serve", "--db", st.db, "--addr", addr,
		"--rate-limit", "off", "--refresh-rate-limit", "off", "--prune-interval", "1000h")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start gatepass serve: %w", err)
	}
	s := &server{cmd: cmd, url: "http://" + addr, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()

	if err := s.waitReady(ctx); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w (log: %s)", err, lastLine(st.log))
	}
	return s, nil
}

// waitReady polls /healthz for up to 30 seconds.
func (s *server) waitReady(ctx context.Context) error {
	for range 300 {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("gatepass serve exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("gatepass serve did not become healthy")
}

// stop ends the server with SIGTERM, as an operator would, and waits for it.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// lastLine returns the last line of the file at path, for error messages.
func lastLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var last string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		last = sc.Text()
	}
	return last
}
