package httpapi_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/gatepass/gatepass/httpapi"
)

// TestNewHTTPServer checks that no limit a slow client could exploit is left unset.
func TestNewHTTPServer(t *testing.T) {
	h := http.NotFoundHandler()
	srv := httpapi.NewHTTPServer("127.0.0.1:0", h)

	if srv.Addr != "127.0.0.1:0" || srv.Handler == nil {
		t.Errorf("Addr = %q, Handler = %v", srv.Addr, srv.Handler)
	}
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 ||
		srv.IdleTimeout <= 0 {
		t.Errorf("timeouts: read header %v, read %v, write %v, idle %v",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	if srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 64<<10 {
		t.Errorf("MaxHeaderBytes = %d", srv.MaxHeaderBytes)
	}
}

// TestSwitchedOffRoutes checks that the paths of features left off answer every
// method as an unknown path does, so nothing tells that they exist.
func TestSwitchedOffRoutes(t *testing.T) {
	e := MustStartEnv(t)
	unknown := e.Do(t, http.MethodPost, "/no-such-path", "", "", nil)

	paths := []string{"/auth/signup", "/api/token/", "/api/token/refresh/",
		"/api/token/verify/", "/api/token/blacklist/", "/metrics"}
	for _, path := range paths {
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut} {
			res := e.Do(t, method, path, "application/json", "{}", nil)
			if res.status != http.StatusNotFound || !bytes.Equal(res.body, unknown.body) {
				t.Errorf("%s %s: %d %s; want 404 %s", method, path, res.status,
					res.body, unknown.body)
			}
			if allow := res.header.Get("Allow"); allow != "" {
				t.Errorf("%s %s: Allow: %s; want none", method, path, allow)
			}
		}
	}
}
