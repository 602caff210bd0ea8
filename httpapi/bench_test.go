package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/gatepass/gatepass/httpapi"
	"github.com/gatepass/gatepass/metrics"
)

// benchWriter is a ResponseWriter that keeps only the status and the headers,
// and reuses its header map, so a benchmark measures the handlers alone.
type benchWriter struct {
	header http.Header
	status int
}

func (w *benchWriter) Header() http.Header { return w.header }

func (w *benchWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *benchWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(b), nil
}

// reset readies w for the next request.
func (w *benchWriter) reset() {
	clear(w.header)
	w.status = 0
}

// benchHandler returns the handler of a server set up as gatepass serve sets it
// up by default: logging at Info, request metrics on, one CORS origin. The
// second value is a valid access token for alice, the third her cookies.
func benchHandler(b *testing.B) (http.Handler, string, string) {
	b.Helper()
	return benchHandlerWith(b, nil)
}

// benchHandlerWith is benchHandler with the server's settings changed by
// configure, when it is not nil, before the handler is built.
func benchHandlerWith(b *testing.B, configure func(*httpapi.Server)) (http.Handler, string,
	string) {
	b.Helper()
	e := MustOpenEnv(b, envOptions{corsOrigins: []string{"https://app.example.test"}})
	e.MustCreateUser(b, testUser, testEmail)
	cs := e.MustCookieLogin(b, testUser)

	e.api.Logger = slog.New(slog.NewTextHandler(io.Discard,
		&slog.HandlerOptions{Level: slog.LevelInfo}))
	m := metrics.New(e.svc)
	m.Logger = e.api.Logger
	e.api.Requests = m
	if configure != nil {
		configure(e.api)
	}
	cookie := cs.names.access + "=" + cs.access + "; " + cs.names.csrf + "=" + cs.csrf
	return e.api.Handler(), cs.access, cookie
}

// runBench serves r through h b.N times and checks every answer's status.
func runBench(b *testing.B, h http.Handler, r *http.Request, want int) {
	b.Helper()
	w := &benchWriter{header: http.Header{}}
	h.ServeHTTP(w, r)
	if w.status != want {
		b.Fatalf("status = %d, want %d", w.status, want)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
	}
	b.StopTimer()
	if w.status != want {
		b.Fatalf("status = %d, want %d", w.status, want)
	}
}

// newBenchRequest returns a request as the server receives it from a client on
// loopback, with the headers a reverse proxy's subrequest carries.
func newBenchRequest(target string, header http.Header) *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.RemoteAddr = "192.0.2.7:41234"
	r.Header.Set("User-Agent", "bench/1.0")
	r.Header.Set("Accept", "*/*")
	for k, v := range header {
		r.Header[k] = v
	}
	return r
}

func BenchmarkHealthz(b *testing.B) {
	h, _, _ := benchHandler(b)
	runBench(b, h, newBenchRequest("/healthz", nil), http.StatusOK)
}

func BenchmarkForwardAuthBearer(b *testing.B) {
	h, access, _ := benchHandler(b)
	r := newBenchRequest("/auth/verify", http.Header{
		"Authorization":      {"Bearer " + access},
		"X-Forwarded-Method": {http.MethodGet},
		"X-Forwarded-Uri":    {"/app/dashboard"},
	})
	runBench(b, h, r, http.StatusOK)
}

// BenchmarkForwardAuthBehindProxy is BenchmarkForwardAuthBearer from a trusted
// proxy that names the client in X-Forwarded-For.
func BenchmarkForwardAuthBehindProxy(b *testing.B) {
	h, access, _ := benchHandlerWith(b, func(s *httpapi.Server) {
		s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	})
	r := newBenchRequest("/auth/verify", http.Header{
		"Authorization":      {"Bearer " + access},
		"X-Forwarded-Method": {http.MethodGet},
		"X-Forwarded-Uri":    {"/app/dashboard"},
		"X-Forwarded-For":    {"198.51.100.4, 203.0.113.9"},
	})
	runBench(b, h, r, http.StatusOK)
}

func BenchmarkForwardAuthCookie(b *testing.B) {
	h, _, cookie := benchHandler(b)
	r := newBenchRequest("/auth/verify", http.Header{
		"Cookie":             {cookie},
		"X-Forwarded-Method": {http.MethodGet},
		"X-Forwarded-Uri":    {"/app/dashboard"},
	})
	runBench(b, h, r, http.StatusOK)
}

func BenchmarkMeBearer(b *testing.B) {
	h, access, _ := benchHandler(b)
	r := newBenchRequest("/auth/me", http.Header{"Authorization": {"Bearer " + access}})
	runBench(b, h, r, http.StatusOK)
}
