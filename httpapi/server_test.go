package httpapi_test

import (
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
