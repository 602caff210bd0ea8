// Package metrics exposes the gatepass token service to Prometheus: sign-ins,
// refreshes, reuse detections, revocations and rate-limit refusals as counters,
// request latency per route, the number of active sessions, the Go runtime and
// process metrics, and the build. It is the one package that imports the
// Prometheus client; auth and httpapi only see the small interfaces they define.
//
// Every label takes its values from a short fixed list: a value outside the list
// is counted as "other", so no request can create a series.
package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

// Log attribute keys, fixed so that log queries keep working.
const (
	attrError = "error"
)

// Label values that stand for anything outside a label's list.
const (
	labelOther     = "other"
	labelUnmatched = "unmatched"
)

// Bounded label values, one list per label.
var (
	signInOutcomes = []string{
		auth.OutcomeSuccess, auth.OutcomeInvalidCredentials, auth.OutcomeInvalid,
		auth.OutcomeRateLimited, auth.OutcomeUnavailable, auth.OutcomeCanceled,
		auth.OutcomeError,
	}
	refreshOutcomes = []string{
		auth.OutcomeSuccess, auth.OutcomeReplay, auth.OutcomeReuse, auth.OutcomeInvalid,
		auth.OutcomeRateLimited, auth.OutcomeUnavailable, auth.OutcomeCanceled,
		auth.OutcomeError,
	}
	reasons = []string{
		gatepass.RevokeLogout, gatepass.RevokeReuse, gatepass.RevokeDisabled,
		gatepass.RevokePassword, gatepass.RevokeAdmin,
	}
	pollOutcomes = []string{
		auth.OutcomeSuccess, auth.OutcomeUnavailable, auth.OutcomeCanceled,
		auth.OutcomeError,
	}
	limits = []string{auth.LimitLoginAccount, auth.LimitLoginAddress, auth.LimitRefresh,
		auth.LimitLockoutAccount, auth.LimitLockoutAddress}
)

// latencyBuckets are the upper bounds, in seconds, of the request latency
// histogram: from sub-millisecond answers (JWKS, health, forward auth) to sign-ins
// that wait for a password-hashing slot.
var latencyBuckets = []float64{
	.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30,
}

// defaultSessionsInterval is how long a count of active sessions is reused.
const defaultSessionsInterval = 15 * time.Second

// SessionCounter counts the sessions that can still refresh;
// *auth.Service implements it.
type SessionCounter interface {
	CountActiveSessions(ctx context.Context) (int64, error)
}

// Metrics holds the gatepass metrics in a registry of their own, never the
// global default one, so that nothing else a program links in ends up on
// /metrics. It implements auth.Observer and httpapi.RequestObserver. Set the
// exported fields before the first scrape.
type Metrics struct {
	// Logger receives failures to count sessions or to gather metrics.
	Logger *slog.Logger

	// Now is the clock of the active-sessions cache; tests replace it.
	Now func() time.Time

	// SessionsInterval is how long a count of active sessions is reused, so that
	// however often /metrics is scraped, the database counts at most once per
	// interval. Zero means 15s.
	SessionsInterval time.Duration

	reg         *prometheus.Registry
	signIns     *prometheus.CounterVec
	refreshes   *prometheus.CounterVec
	reuse       prometheus.Counter
	revocations *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	requests    *prometheus.HistogramVec

	// requestSeries caches the series of requests by requestKey: looking one
	// up by its label values hashes them and takes a lock on every request.
	requestSeries sync.Map

	// Kept only with --revocation-check.
	revokedTokens   prometheus.Counter
	revocationPolls *prometheus.CounterVec
}

// The interfaces Metrics implements.
var (
	_ auth.Observer           = (*Metrics)(nil)
	_ auth.RevocationObserver = (*Metrics)(nil)
)

// New returns the gatepass metrics in a registry of their own, with the Go
// runtime and process collectors and gatepass_build_info. sessions provides
// gatepass_active_sessions; nil leaves that metric out.
func New(sessions SessionCounter) *Metrics {
	m := &Metrics{
		Logger: slog.Default().With("component", "metrics"),
		Now:    time.Now,
		reg:    prometheus.NewRegistry(),
	}

	m.signIns = m.counterVec("gatepass_sign_ins_total",
		"Password sign-ins, by outcome.", "outcome", signInOutcomes)
	m.refreshes = m.counterVec("gatepass_refreshes_total",
		"Refresh-token exchanges, by outcome.", "outcome", refreshOutcomes)
	m.revocations = m.counterVec("gatepass_sessions_revoked_total",
		"Sessions revoked, by reason.", "reason", reasons)
	m.rateLimited = m.counterVec("gatepass_rate_limited_total",
		"Sign-ins and refreshes refused by a rate limit, by limit.", "limit", limits)
	m.reuse = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "gatepass_refresh_token_reuse_total",
		Help: "Rotated refresh tokens presented after the reuse interval; " +
			"each revoked its session.",
	})
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "gatepass_http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by route pattern, method and " +
			"status code.",
		Buckets: latencyBuckets,
	}, []string{"route", "method", "code"})
	m.revokedTokens = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "gatepass_access_tokens_revoked_total",
		Help: "Access tokens refused because their session was revoked " +
			"(only with --revocation-check).",
	})
	m.revocationPolls = m.counterVec("gatepass_revocation_polls_total",
		"Polls of the store for revoked sessions, by outcome "+
			"(only with --revocation-check).", "outcome", pollOutcomes)
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "gatepass_build_info",
		Help: "Always 1; the labels name the gatepass release and the Go version.",
		ConstLabels: prometheus.Labels{
			"version": gatepass.Version, "go_version": runtime.Version()},
	})
	buildInfo.Set(1)

	m.reg.MustRegister(m.signIns, m.refreshes, m.revocations, m.rateLimited, m.reuse,
		m.requests, m.revokedTokens, m.revocationPolls, buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if sessions != nil {
		m.reg.MustRegister(newSessionsCollector(m, sessions))
	}
	return m
}

// counterVec returns a counter with one label, with a zero series for every
// value in values, so that rates and ratios are defined from the first scrape.
func (m *Metrics) counterVec(name, help, label string,
	values []string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help},
		[]string{label})
	for _, v := range values {
		c.WithLabelValues(v)
	}
	return c
}

// Registry returns the registry behind Handler, for a program that wants to add
// collectors of its own.
func (m *Metrics) Registry() *prometheus.Registry {
	return m.reg
}

// Handler returns the handler of GET /metrics, in the Prometheus text or
// OpenMetrics format the scraper asks for. A collector that fails is logged and
// left out; the other metrics are still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:          errorLog{m},
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          m.reg,
		EnableOpenMetrics: true,
	})
}

// errorLog passes promhttp's errors to the Logger.
type errorLog struct{ m *Metrics }

// Println implements promhttp.Logger.
func (l errorLog) Println(v ...any) {
	l.m.Logger.Error("gathering metrics failed", attrError, fmt.Sprint(v...))
}

// SignIn counts a password sign-in. It implements auth.Observer.
func (m *Metrics) SignIn(outcome string) {
	m.signIns.WithLabelValues(bounded(outcome, signInOutcomes)).Inc()
}

// Refresh counts a refresh-token exchange. It implements auth.Observer.
func (m *Metrics) Refresh(outcome string) {
	m.refreshes.WithLabelValues(bounded(outcome, refreshOutcomes)).Inc()
}

// ReuseDetected counts a reused refresh token. It implements auth.Observer.
func (m *Metrics) ReuseDetected() {
	m.reuse.Inc()
}

// SessionsRevoked counts n revoked sessions. It implements auth.Observer.
func (m *Metrics) SessionsRevoked(reason string, n int) {
	if n > 0 {
		m.revocations.WithLabelValues(bounded(reason, reasons)).Add(float64(n))
	}
}

// RateLimited counts an attempt refused by a rate limit. It implements
// auth.Observer.
func (m *Metrics) RateLimited(limit string) {
	m.rateLimited.WithLabelValues(bounded(limit, limits)).Inc()
}

// AccessTokenRevoked counts an access token refused because its session was
// revoked. It implements auth.RevocationObserver.
func (m *Metrics) AccessTokenRevoked() {
	m.revokedTokens.Inc()
}

// RevocationPoll counts a poll of the store for revoked sessions. It implements
// auth.RevocationObserver.
func (m *Metrics) RevocationPoll(outcome string) {
	m.revocationPolls.WithLabelValues(bounded(outcome, pollOutcomes)).Inc()
}

// ObserveRequest records how long a request took. route is the pattern of the
// ServeMux route that answered it, such as "POST /oauth/token", never the path;
// "" (no route, as for a 405) is recorded as "unmatched". It implements
// httpapi.RequestObserver and allocates nothing once a series exists.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	if route == "" {
		route = labelUnmatched
	}
	key := requestKey{route: route, method: methodLabel(method), code: codeLabel(status)}
	series, ok := m.requestSeries.Load(key)
	if !ok {
		series, _ = m.requestSeries.LoadOrStore(key,
			m.requests.WithLabelValues(key.route, key.method, key.code))
	}
	series.(prometheus.Observer).Observe(d.Seconds())
}

// requestKey names one series of the request histogram. Every field takes a
// bounded set of values: routes are the server's patterns, and methods and
// codes outside the standard ones are "other".
type requestKey struct {
	route, method, code string
}

// bounded returns v if it is in values and "other" if it is not.
func bounded(v string, values []string) string {
	for _, w := range values {
		if v == w {
			return w
		}
	}
	return labelOther
}

// methodLabel returns an HTTP method as a label value. The method is whatever
// the client sent, so only the standard ones are kept.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return method
	}
	return labelOther
}

// codeLabels holds the label value of every valid status code, made once so
// that a request costs no allocation.
var codeLabels = func() []string {
	labels := make([]string, 600)
	for code := 100; code < len(labels); code++ {
		labels[code] = strconv.Itoa(code)
	}
	return labels
}()

// codeLabel returns a status code as a label value.
func codeLabel(status int) string {
	if status < 100 || status >= len(codeLabels) {
		return labelOther
	}
	return codeLabels[status]
}
