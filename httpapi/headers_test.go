package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHeaderValuesNotShared checks that a handler adding to the headers the
// middleware sets changes its own answer only, never the next one's.
func TestHeaderValuesNotShared(t *testing.T) {
	fallback := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Accept-Encoding")
		h.Add("X-Frame-Options", "SAMEORIGIN")
		h.Add("X-Content-Type-Options", "extra")
		w.WriteHeader(http.StatusTeapot)
	})
	e := MustOpenEnv(t, envOptions{corsOrigins: []string{"https://app.example.test"},
		fallback: fallback})

	for i := range 3 {
		got := e.Get(t, "/page", "")
		if got.status != http.StatusTeapot {
			t.Fatalf("fallback: status %d, want %d", got.status, http.StatusTeapot)
		}
		want := http.Header{
			"Vary":                   {"Origin", "Accept-Encoding"},
			"X-Frame-Options":        {"DENY", "SAMEORIGIN"},
			"X-Content-Type-Options": {"nosniff", "extra"},
		}
		for name, values := range want {
			if diff := cmp.Diff(got.header.Values(name), values); diff != "" {
				t.Errorf("fallback %d: %s (-got +want):\n%s", i, name, diff)
			}
		}

		got = e.Get(t, "/healthz", "")
		want = http.Header{
			"Vary":                   {"Origin"},
			"X-Frame-Options":        {"DENY"},
			"X-Content-Type-Options": {"nosniff"},
			"Cache-Control":          {"no-store"},
			"Content-Type":           {"application/json"},
		}
		for name, values := range want {
			if diff := cmp.Diff(got.header.Values(name), values); diff != "" {
				t.Errorf("healthz %d: %s (-got +want):\n%s", i, name, diff)
			}
		}
	}
}
