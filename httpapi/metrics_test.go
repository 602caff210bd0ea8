package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/httpapi"
	"github.com/gatepass/gatepass/metrics"
	"github.com/gatepass/gatepass/ratelimit"
)

// Metrics is the server's RequestObserver in production.
var _ httpapi.RequestObserver = (*metrics.Metrics)(nil)

// MustObserve wires metrics into the environment as gatepass serve does, and
// returns them.
func (e *testEnv) MustObserve(tb testing.TB) *metrics.Metrics {
	tb.Helper()
	m := metrics.New(e.svc)
	e.svc.Observer = m
	e.api.Metrics = m.Handler()
	e.api.Requests = m
	return m
}

// Scrape fetches /metrics over HTTP and parses the text exposition.
func (e *testEnv) Scrape(tb testing.TB) map[string]*dto.MetricFamily {
	tb.Helper()
	res := e.Get(tb, "/metrics", "")
	if res.status != http.StatusOK {
		tb.Fatalf("GET /metrics: status %d, body %s", res.status, res.body)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		tb.Errorf("GET /metrics: Content-Type %q, want the text format", ct)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(res.body))
	if err != nil {
		tb.Fatalf("parse /metrics: %v\n%s", err, res.body)
	}
	return families
}

// seriesOf returns the series of family name as their labels (name=value, comma
// separated) mapped to their value, or to the count of a histogram.
func seriesOf(families map[string]*dto.MetricFamily, name string) map[string]float64 {
	got := map[string]float64{}
	for _, s := range families[name].GetMetric() {
		var labels []string
		for _, l := range s.GetLabel() {
			labels = append(labels, l.GetName()+"="+l.GetValue())
		}
		v := s.GetCounter().GetValue() + s.GetGauge().GetValue() +
			float64(s.GetHistogram().GetSampleCount())
		got[strings.Join(labels, ",")] = v
	}
	return got
}

// TestMetrics drives a server through every counted event, then scrapes
// /metrics over HTTP and checks each counter, the latency histogram, the active
// sessions against the store, and that no label carries a path, a user name or an
// address.
func TestMetrics(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")
	limiter := ratelimit.NewLimiter(4, time.Hour)
	limiter.Now = e.clock.Now
	e.svc.Limiter = limiter
	e.MustObserve(t)

	// A sign-in, a wrong password, a rotation and a replay inside the interval.
	first := e.MustLogin(t, testUser)
	wantError(t, e.Login(t, testUser, "wrong password"), http.StatusBadRequest,
		"invalid_grant")
	second := MustTokens(t, e.Refresh(t, first.RefreshToken))
	if replay := MustTokens(t, e.Refresh(t, first.RefreshToken)); replay.RefreshToken !=
		second.RefreshToken {
		t.Error("the replay did not return the current refresh token")
	}

	// The same token after the interval: theft, and the family is revoked.
	e.clock.Advance(11 * time.Second)
	wantError(t, e.Refresh(t, first.RefreshToken), http.StatusBadRequest, "invalid_grant")
	wantError(t, e.Refresh(t, second.RefreshToken), http.StatusBadRequest, "invalid_grant")

	// A sign-out, a session kept alive, and a sign-in over the limit.
	third := e.MustLogin(t, testUser)
	h := http.Header{"Authorization": {"Bearer " + third.AccessToken}}
	if res := e.Do(t, http.MethodPost, "/auth/logout", "", "", h); res.status != http.StatusOK {
		t.Fatalf("logout: status %d, body %s", res.status, res.body)
	}
	e.MustLogin(t, testUser)
	wantError(t, e.Login(t, testUser, testPassword), http.StatusTooManyRequests,
		"too_many_requests")

	// Paths no route serves, one of them full of identifiers.
	for _, path := range []string{"/no/such/path", "/users/alice/192.0.2.77"} {
		if res := e.Get(t, path, ""); res.status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, res.status)
		}
	}

	families := e.Scrape(t)
	tests := []struct {
		name string
		want map[string]float64
	}{
		{
			name: "gatepass_sign_ins_total",
			want: map[string]float64{
				"outcome=success": 3, "outcome=invalid_credentials": 1,
				"outcome=rate_limited": 1, "outcome=invalid": 0, "outcome=unavailable": 0,
				"outcome=canceled": 0, "outcome=error": 0,
			},
		},
		{
			name: "gatepass_refreshes_total",
			want: map[string]float64{
				"outcome=success": 1, "outcome=replay": 1, "outcome=reuse": 1,
				"outcome=invalid": 1, "outcome=rate_limited": 0, "outcome=unavailable": 0,
				"outcome=canceled": 0, "outcome=error": 0,
			},
		},
		{
			name: "gatepass_refresh_token_reuse_total",
			want: map[string]float64{"": 1},
		},
		{
			name: "gatepass_sessions_revoked_total",
			want: map[string]float64{
				"reason=reuse": 1, "reason=logout": 1, "reason=user_disabled": 0,
				"reason=password_changed": 0, "reason=admin": 0,
			},
		},
		{
			name: "gatepass_rate_limited_total",
			want: map[string]float64{
				"limit=login_account": 1, "limit=login_address": 0, "limit=refresh": 0,
				"limit=lockout_account": 0, "limit=lockout_address": 0,
			},
		},
		{
			name: "gatepass_http_request_duration_seconds",
			want: map[string]float64{
				"code=200,method=POST,route=POST /oauth/token": 5,
				"code=400,method=POST,route=POST /oauth/token": 3,
				"code=429,method=POST,route=POST /oauth/token": 1,
				"code=200,method=POST,route=POST /auth/logout": 1,
				"code=404,method=GET,route=/":                  2,
			},
		},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(seriesOf(families, tt.name), tt.want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", tt.name, diff)
		}
	}

	// The gauge agrees with the store: only the session kept alive is left.
	now := e.clock.Now()
	var live []*gatepass.Session
	err := e.db.View(context.Background(), func(tx gatepass.Tx) error {
		var err error
		live, err = tx.FindSessions(context.Background(),
			gatepass.SessionFilter{ActiveAt: &now})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := seriesOf(families, "gatepass_active_sessions")
	if diff := cmp.Diff(got, map[string]float64{"": float64(len(live))}); diff != "" ||
		len(live) != 1 {
		t.Errorf("gatepass_active_sessions (-got +want):\n%s(%d live sessions)",
			diff, len(live))
	}

	// No label value names a path, a user or an address.
	for name, f := range families {
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				for _, bad := range []string{testUser, "192.0.2", "127.0.0.1", "/no/",
					"/users/"} {
					if strings.Contains(l.GetValue(), bad) {
						t.Errorf("%s has label %s=%q", name, l.GetName(), l.GetValue())
					}
				}
			}
		}
	}

	// The scrape itself is counted once it has been answered.
	got = seriesOf(e.Scrape(t), "gatepass_http_request_duration_seconds")
	if n := got["code=200,method=GET,route=GET /metrics"]; n != 1 {
		t.Errorf("GET /metrics was counted %v times, want 1", n)
	}
}

// TestMetrics_off checks that without metrics /metrics is answered as a path no
// route serves.
func TestMetrics_off(t *testing.T) {
	e := MustStartEnv(t)
	got := e.Get(t, "/metrics", "")
	want := e.Get(t, "/no/such/path", "")
	if got.status != http.StatusNotFound || !bytes.Equal(got.body, want.body) {
		t.Errorf("GET /metrics: %d %s, want 404 %s", got.status, got.body, want.body)
	}
}
