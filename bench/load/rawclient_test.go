package load_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatepass/gatepass/bench/load"
	"github.com/google/go-cmp/cmp"
)

var clients = []string{load.ClientRaw, load.ClientNetHTTP}

// TestRun_clients checks that both clients get the same from a real server:
// every GET of trivial and verify answered and accepted, one session per
// worker for verify.
func TestRun_clients(t *testing.T) {
	for _, client := range clients {
		for _, scenario := range []string{"trivial", "verify"} {
			t.Run(client+"/"+scenario, func(t *testing.T) {
				srv := MustStartServer(t)
				cfg := testConfig(srv.url, scenario)
				cfg.Client = client

				MustRun(t, cfg)

				want := map[string]int{"trivial": 0, "verify": testConcurrency}[scenario]
				if n := len(srv.Sessions(t)); n != want {
					t.Errorf("%d sessions, want %d", n, want)
				}
			})
		}
	}
}

// fakeServer answers sign-ins with a made-up token pair and every other
// request with h.
func fakeServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"a.b.c","refresh_token":"r"}`)
	})
	mux.Handle("/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// mustRunErrors runs cfg and returns its error kinds, checking that no
// request counted as a success.
func mustRunErrors(t *testing.T, cfg load.Config) map[string]int64 {
	t.Helper()
	got, err := load.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if got.Requests != 0 {
		t.Errorf("%d requests succeeded, want none", got.Requests)
	}
	var sum int64
	for _, n := range got.ErrorKinds {
		sum += n
	}
	if sum != got.Errors || sum == 0 {
		t.Errorf("error kinds %v, %d errors; want some, adding up", got.ErrorKinds, got.Errors)
	}
	return got.ErrorKinds
}

// TestRun_verifyCheck checks that both clients apply verify's check: an
// answer without X-Auth-Subject is a bad answer, one with it a success.
func TestRun_verifyCheck(t *testing.T) {
	var subject atomic.Value
	srv := fakeServer(t, func(w http.ResponseWriter, r *http.Request) {
		if s := subject.Load().(string); s != "" {
			w.Header().Set("X-Auth-Subject", s)
		}
		w.WriteHeader(http.StatusOK)
	})

	for _, client := range clients {
		t.Run(client, func(t *testing.T) {
			cfg := testConfig(srv.URL, "verify")
			cfg.Client = client

			subject.Store("")
			kinds := mustRunErrors(t, cfg)
			if diff := cmp.Diff(mapKeys(kinds), []string{"bad answer"}); diff != "" {
				t.Errorf("without X-Auth-Subject: error kinds (-got +want):\n%s", diff)
			}

			subject.Store("42")
			MustRun(t, cfg)
		})
	}
}

func mapKeys(m map[string]int64) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// TestRun_rawAnswers checks that the raw client reads every way a server may
// end an answer, and keeps its connection through every way a server may
// close it.
func TestRun_rawAnswers(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		close   func(c net.Conn, s http.ConnState)
	}{
		{name: "content-length", handler: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"status":"ok"}`)
		}},
		// The body is sent in two chunks that the check must see joined.
		{name: "chunked", handler: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"status":"o`)
			w.(http.Flusher).Flush()
			io.WriteString(w, `k"}`)
		}},
		{name: "connection-close", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			io.WriteString(w, `{"status":"ok"}`)
		}},
		{name: "until-close", handler: func(w http.ResponseWriter, r *http.Request) {
			conn, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			defer conn.Close()
			rw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
			rw.WriteString(`{"status":"ok"}`)
			rw.Flush()
		}},
		// The server closes each connection as soon as it is idle, between
		// two requests: the next request on it must be sent again.
		{name: "idle-close", handler: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"status":"ok"}`)
		}, close: func(c net.Conn, s http.ConnState) {
			if s == http.StateIdle {
				c.Close()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var conns atomic.Int64
			srv := httptest.NewUnstartedServer(tt.handler)
			srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
				if tt.close != nil {
					tt.close(c, s)
				}
			}
			srv.Start()
			defer srv.Close()
			cfg := testConfig(srv.URL, "trivial")
			cfg.Client = load.ClientRaw

			got := MustRun(t, cfg)

			if tt.close == nil && tt.name != "connection-close" && tt.name != "until-close" {
				if n := conns.Load(); n != testConcurrency {
					t.Errorf("%d connections, want one per worker", n)
				}
			} else if n := conns.Load(); n < int64(got.Requests) {
				t.Errorf("%d connections for %d requests, want one per request", n,
					got.Requests)
			}
		})
	}
}

// TestRun_rawErrorBody checks that the raw client names a failed answer by
// the error code of its JSON body, as net/http's does.
func TestRun_rawErrorBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_token","error_description":"expired"}`)
	}))
	defer srv.Close()
	cfg := testConfig(srv.URL, "trivial")
	cfg.Client = load.ClientRaw

	kinds := mustRunErrors(t, cfg)

	if diff := cmp.Diff(mapKeys(kinds), []string{"401 invalid_token"}); diff != "" {
		t.Errorf("error kinds (-got +want):\n%s", diff)
	}
}

// silentServer accepts requests and never answers them. Its arrived channel
// gets a value for each request.
func silentServer(t *testing.T) (*httptest.Server, <-chan struct{}) {
	arrived := make(chan struct{}, 64)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() {
		close(release)
		srv.Close()
	})
	return srv, arrived
}

// TestRun_rawSilentServer checks that a run against a server that never
// answers ends with the window, counting nothing: no answer could have come
// inside it.
func TestRun_rawSilentServer(t *testing.T) {
	srv, _ := silentServer(t)
	cfg := testConfig(srv.URL, "trivial")
	cfg.Client = load.ClientRaw

	got, err := load.Run(context.Background(), cfg)

	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if got.Requests != 0 || got.Errors != 0 {
		t.Errorf("%d requests, %d errors (%v); want none", got.Requests, got.Errors,
			got.ErrorKinds)
	}
}

// TestRun_rawCanceled checks that ending the run's context stops workers
// waiting for an answer at once, long before the window or a request would
// time out.
func TestRun_rawCanceled(t *testing.T) {
	srv, arrived := silentServer(t)
	cfg := testConfig(srv.URL, "trivial")
	cfg.Client = load.ClientRaw
	cfg.Duration = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-arrived
		cancel()
	}()

	_, err := load.Run(ctx, cfg)

	if !errors.Is(err, context.Canceled) {
		t.Errorf("run: %v, want %v", err, context.Canceled)
	}
}

// TestRun_rawHTTPS checks that the raw client is refused for https:// and
// that net/http serves it by default.
func TestRun_rawHTTPS(t *testing.T) {
	cfg := testConfig("https://127.0.0.1:8443", "trivial")
	if name := cfg.ClientName(); name != load.ClientNetHTTP {
		t.Errorf("client for https:// is %s, want %s", name, load.ClientNetHTTP)
	}

	cfg.Client = load.ClientRaw
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "plain HTTP") {
		t.Errorf("Validate() = %v, want the raw client refused for https://", err)
	}
}
