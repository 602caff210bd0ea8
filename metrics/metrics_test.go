package metrics_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/metrics"
	"github.com/gatepass/gatepass/password"
	"github.com/gatepass/gatepass/sqlite"
)

// Metrics is the service's Observer in production.
var _ auth.Observer = (*metrics.Metrics)(nil)

// Clock is a fake clock tests move by hand.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// series returns every series of the named family, as its labels written
// name="value" and joined by commas, mapped to its value (for a histogram, its
// count of observations).
func series(tb testing.TB, m *metrics.Metrics, name string) map[string]float64 {
	tb.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		tb.Fatalf("gather: %v", err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() == name {
			for _, s := range f.GetMetric() {
				got[labels(s)] = value(s)
			}
		}
	}
	return got
}

func labels(s *dto.Metric) string {
	var parts []string
	for _, l := range s.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}

func value(s *dto.Metric) float64 {
	switch {
	case s.Counter != nil:
		return s.GetCounter().GetValue()
	case s.Gauge != nil:
		return s.GetGauge().GetValue()
	case s.Histogram != nil:
		return float64(s.GetHistogram().GetSampleCount())
	}
	return 0
}

// zeros returns a series map with every value of label at 0.
func zeros(label string, values ...string) map[string]float64 {
	m := map[string]float64{}
	for _, v := range values {
		m[label+"="+v] = 0
	}
	return m
}

var (
	signInOutcomes = []string{"success", "invalid_credentials", "invalid", "rate_limited",
		"unavailable", "canceled", "error"}
	refreshOutcomes = []string{"success", "replay", "reuse", "invalid", "rate_limited",
		"unavailable", "canceled", "error"}
	reasons      = []string{"logout", "reuse", "user_disabled", "password_changed", "admin"}
	pollOutcomes = []string{"success", "unavailable", "canceled", "error"}
	limits       = []string{"login_account", "login_address", "refresh", "lockout_account",
		"lockout_address"}
)

// TestObserver checks that each event moves its own counter by the right amount,
// that every known label value is there from the start, and that a value outside
// the known ones is counted as "other" rather than making a series of its own.
func TestObserver(t *testing.T) {
	tests := []struct {
		name   string
		call   func(m *metrics.Metrics)
		metric string
		want   map[string]float64 // changes to the zero series
	}{
		{
			name:   "sign-in-success",
			call:   func(m *metrics.Metrics) { m.SignIn(auth.OutcomeSuccess) },
			metric: "gatepass_sign_ins_total",
			want:   map[string]float64{"outcome=success": 1},
		},
		{
			name: "sign-in-failures",
			call: func(m *metrics.Metrics) {
				m.SignIn(auth.OutcomeInvalidCredentials)
				m.SignIn(auth.OutcomeInvalidCredentials)
				m.SignIn(auth.OutcomeRateLimited)
			},
			metric: "gatepass_sign_ins_total",
			want: map[string]float64{"outcome=invalid_credentials": 2,
				"outcome=rate_limited": 1},
		},
		{
			name:   "sign-in-unknown-outcome",
			call:   func(m *metrics.Metrics) { m.SignIn("alice@example.com") },
			metric: "gatepass_sign_ins_total",
			want:   map[string]float64{"outcome=other": 1},
		},
		{
			name: "refresh-outcomes",
			call: func(m *metrics.Metrics) {
				m.Refresh(auth.OutcomeSuccess)
				m.Refresh(auth.OutcomeReplay)
				m.Refresh(auth.OutcomeReuse)
				m.Refresh(auth.OutcomeInvalid)
			},
			metric: "gatepass_refreshes_total",
			want: map[string]float64{"outcome=success": 1, "outcome=replay": 1,
				"outcome=reuse": 1, "outcome=invalid": 1},
		},
		{
			name:   "refresh-unknown-outcome",
			call:   func(m *metrics.Metrics) { m.Refresh("invalid_credentials") },
			metric: "gatepass_refreshes_total",
			want:   map[string]float64{"outcome=other": 1},
		},
		{
			name: "reuse",
			call: func(m *metrics.Metrics) {
				m.ReuseDetected()
				m.ReuseDetected()
			},
			metric: "gatepass_refresh_token_reuse_total",
			want:   map[string]float64{"": 2},
		},
		{
			name: "sessions-revoked",
			call: func(m *metrics.Metrics) {
				m.SessionsRevoked(gatepass.RevokePassword, 3)
				m.SessionsRevoked(gatepass.RevokeReuse, 1)
				m.SessionsRevoked(gatepass.RevokeAdmin, 0)
			},
			metric: "gatepass_sessions_revoked_total",
			want:   map[string]float64{"reason=password_changed": 3, "reason=reuse": 1},
		},
		{
			name:   "sessions-revoked-unknown-reason",
			call:   func(m *metrics.Metrics) { m.SessionsRevoked("because I said so", 2) },
			metric: "gatepass_sessions_revoked_total",
			want:   map[string]float64{"reason=other": 2},
		},
		{
			name: "rate-limited",
			call: func(m *metrics.Metrics) {
				m.RateLimited(auth.LimitLoginAccount)
				m.RateLimited(auth.LimitRefresh)
				m.RateLimited("login:ip:192.0.2.1")
			},
			metric: "gatepass_rate_limited_total",
			want: map[string]float64{"limit=login_account": 1, "limit=refresh": 1,
				"limit=other": 1},
		},
		{
			name: "access-tokens-revoked",
			call: func(m *metrics.Metrics) {
				m.AccessTokenRevoked()
				m.AccessTokenRevoked()
			},
			metric: "gatepass_access_tokens_revoked_total",
			want:   map[string]float64{"": 2},
		},
		{
			name: "revocation-check",
			call: func(m *metrics.Metrics) {
				m.RevocationPoll(auth.OutcomeSuccess)
				m.RevocationPoll(auth.OutcomeSuccess)
				m.RevocationPoll(auth.OutcomeUnavailable)
				m.RevocationPoll("connection refused by 10.0.0.7")
			},
			metric: "gatepass_revocation_polls_total",
			want: map[string]float64{"outcome=success": 2, "outcome=unavailable": 1,
				"outcome=other": 1},
		},
	}
	initial := map[string]map[string]float64{
		"gatepass_sign_ins_total":              zeros("outcome", signInOutcomes...),
		"gatepass_refreshes_total":             zeros("outcome", refreshOutcomes...),
		"gatepass_refresh_token_reuse_total":   {"": 0},
		"gatepass_sessions_revoked_total":      zeros("reason", reasons...),
		"gatepass_rate_limited_total":          zeros("limit", limits...),
		"gatepass_revocation_polls_total":      zeros("outcome", pollOutcomes...),
		"gatepass_access_tokens_revoked_total": {"": 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := metrics.New(nil)
			tt.call(m)

			for name, zero := range initial {
				want := zero
				if name == tt.metric {
					want = map[string]float64{}
					for k, v := range zero {
						want[k] = v
					}
					for k, v := range tt.want {
						want[k] = v
					}
				}
				if diff := cmp.Diff(series(t, m, name), want); diff != "" {
					t.Errorf("%s (-got +want):\n%s", name, diff)
				}
			}
		})
	}
}

// TestObserveRequest checks the request histogram's labels, including the bounded
// values standing in for a missing route, an odd method and an odd status.
func TestObserveRequest(t *testing.T) {
	m := metrics.New(nil)
	m.ObserveRequest("POST /oauth/token", http.MethodPost, 200, 30*time.Millisecond)
	m.ObserveRequest("POST /oauth/token", http.MethodPost, 200, 2*time.Second)
	m.ObserveRequest("POST /oauth/token", http.MethodPost, 429, time.Millisecond)
	m.ObserveRequest("GET /healthz", http.MethodHead, 200, time.Millisecond)
	m.ObserveRequest("", "BREW", 405, time.Millisecond)
	m.ObserveRequest("/", "GET", 999, time.Millisecond)

	want := map[string]float64{
		"code=200,method=POST,route=POST /oauth/token": 2,
		"code=429,method=POST,route=POST /oauth/token": 1,
		"code=200,method=HEAD,route=GET /healthz":      1,
		"code=405,method=other,route=unmatched":        1,
		"code=other,method=GET,route=/":                1,
	}
	got := series(t, m, "gatepass_http_request_duration_seconds")
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("series (-got +want):\n%s", diff)
	}

	// The 30ms and 2s requests fall in different buckets; the sum is in seconds.
	h := histogram(t, m, "code=200,method=POST,route=POST /oauth/token")
	gotBuckets := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		gotBuckets[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	wantBuckets := map[float64]uint64{
		.0005: 0, .001: 0, .0025: 0, .005: 0, .01: 0, .025: 0, .05: 1, .1: 1, .25: 1,
		.5: 1, 1: 1, 2.5: 2, 5: 2, 10: 2, 30: 2,
	}
	if diff := cmp.Diff(gotBuckets, wantBuckets); diff != "" {
		t.Errorf("buckets (-got +want):\n%s", diff)
	}
	if got, want := h.GetSampleSum(), 2.03; math.Abs(got-want) > 1e-9 {
		t.Errorf("sum = %v, want %v", got, want)
	}
}

// histogram returns the request histogram series with the given labels.
func histogram(tb testing.TB, m *metrics.Metrics, want string) *dto.Histogram {
	tb.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		tb.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		for _, s := range f.GetMetric() {
			if f.GetName() == "gatepass_http_request_duration_seconds" && labels(s) == want {
				return s.GetHistogram()
			}
		}
	}
	tb.Fatalf("no request histogram {%s}", want)
	return nil
}

// TestExposition checks the names, help and types as a scraper reads them.
func TestExposition(t *testing.T) {
	m := metrics.New(nil)
	m.RateLimited(auth.LimitLoginAddress)
	m.ReuseDetected()

	const want = `
# HELP gatepass_rate_limited_total Sign-ins and refreshes refused by a rate limit, by limit.
# TYPE gatepass_rate_limited_total counter
gatepass_rate_limited_total{limit="lockout_account"} 0
gatepass_rate_limited_total{limit="lockout_address"} 0
gatepass_rate_limited_total{limit="login_account"} 0
gatepass_rate_limited_total{limit="login_address"} 1
gatepass_rate_limited_total{limit="refresh"} 0
# HELP gatepass_refresh_token_reuse_total Rotated refresh tokens presented after the reuse interval; each revoked its session.
# TYPE gatepass_refresh_token_reuse_total counter
gatepass_refresh_token_reuse_total 1
`
	err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"gatepass_rate_limited_total", "gatepass_refresh_token_reuse_total")
	if err != nil {
		t.Error(err)
	}
	n, err := testutil.GatherAndCount(m.Registry(), "gatepass_sessions_revoked_total")
	if err != nil || n != len(reasons) {
		t.Errorf("gatepass_sessions_revoked_total has %d series (%v), want one per reason",
			n, err)
	}
}

// TestObserveRequest_noAllocations checks that recording a request on an existing
// series costs no allocation, since it runs on every request.
func TestObserveRequest_noAllocations(t *testing.T) {
	m := metrics.New(nil)
	m.ObserveRequest("POST /oauth/token", http.MethodPost, 200, time.Millisecond)
	got := testing.AllocsPerRun(100, func() {
		m.ObserveRequest("POST /oauth/token", http.MethodPost, 200, time.Millisecond)
	})
	if got != 0 {
		t.Errorf("ObserveRequest allocates %v times per call, want 0", got)
	}
}

// TestHandler scrapes the handler over HTTP and checks the standard collectors,
// the build information and the content type.
func TestHandler(t *testing.T) {
	m := metrics.New(nil)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()

	families := scrape(t, srv.URL)
	want := []string{"gatepass_build_info", "go_goroutines", "go_memstats_alloc_bytes",
		"gatepass_sign_ins_total", "gatepass_refreshes_total",
		"gatepass_refresh_token_reuse_total", "gatepass_sessions_revoked_total",
		"gatepass_rate_limited_total"}
	if runtime.GOOS == "linux" {
		want = append(want, "process_cpu_seconds_total", "process_resident_memory_bytes")
	}
	for _, name := range want {
		if _, ok := families[name]; !ok {
			t.Errorf("%s is missing", name)
		}
	}

	info := families["gatepass_build_info"]
	if info == nil || len(info.GetMetric()) != 1 {
		t.Fatalf("gatepass_build_info = %v, want one series", info)
	}
	gotInfo := labels(info.GetMetric()[0])
	wantInfo := "go_version=" + runtime.Version() + ",version=" + gatepass.Version
	if gotInfo != wantInfo || info.GetMetric()[0].GetGauge().GetValue() != 1 {
		t.Errorf("gatepass_build_info{%s} %v, want {%s} 1", gotInfo,
			info.GetMetric()[0].GetGauge().GetValue(), wantInfo)
	}
	if _, ok := families["gatepass_active_sessions"]; ok {
		t.Error("gatepass_active_sessions is served without a session counter")
	}
}

// scrape fetches url in the Prometheus text format and parses it.
func scrape(tb testing.TB, url string) map[string]*dto.MetricFamily {
	tb.Helper()
	res, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: status %d", url, res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		tb.Errorf("Content-Type = %q, want the text format", ct)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("parse %s: %v", url, err)
	}
	return families
}

// TestActiveSessions checks that the gauge reads the store at most once per
// interval, whatever the number of scrapes, and that a failing count leaves the
// metric out and is logged.
func TestActiveSessions(t *testing.T) {
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "gatepass.db"))
	db.Logger = slog.New(slog.DiscardHandler)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hasher := password.NewHasher(0)
	hasher.Time, hasher.Memory = 1, 64
	svc := auth.NewService(db, hasher, auth.DefaultConfig())
	svc.Logger = slog.New(slog.DiscardHandler)
	if err := svc.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, auth.NewUser{Name: "alice",
		Password: "alice-password"}); err != nil {
		t.Fatal(err)
	}
	login := func() {
		t.Helper()
		_, err := svc.Login(ctx, auth.LoginRequest{Username: "alice",
			Password: "alice-password"})
		if err != nil {
			t.Fatal(err)
		}
	}

	var logs bytes.Buffer
	clock := &Clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	m := metrics.New(svc)
	m.Now = clock.Now
	m.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	active := func() map[string]float64 {
		t.Helper()
		return series(t, m, "gatepass_active_sessions")
	}

	login()
	if diff := cmp.Diff(active(), map[string]float64{"": 1}); diff != "" {
		t.Errorf("first scrape (-got +want):\n%s", diff)
	}

	// Inside the interval the count is reused, however many scrapes come.
	login()
	clock.Advance(14 * time.Second)
	for range 3 {
		if diff := cmp.Diff(active(), map[string]float64{"": 1}); diff != "" {
			t.Errorf("scrape inside the interval (-got +want):\n%s", diff)
		}
	}
	clock.Advance(time.Second)
	if diff := cmp.Diff(active(), map[string]float64{"": 2}); diff != "" {
		t.Errorf("scrape after the interval (-got +want):\n%s", diff)
	}

	// A store that cannot count leaves the metric out, not at a stale value.
	db.Close()
	clock.Advance(15 * time.Second)
	if diff := cmp.Diff(active(), map[string]float64{}); diff != "" {
		t.Errorf("scrape with the store closed (-got +want):\n%s", diff)
	}
	if !strings.Contains(logs.String(), `level=ERROR msg="counting active sessions failed"`) {
		t.Errorf("the failed count was not logged:\n%s", logs.String())
	}
}
