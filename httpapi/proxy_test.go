package httpapi_test

import (
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatepass/gatepass/httpapi"
)

// TestTrustedProxies signs in over loopback with an X-Forwarded-For header, as
// a reverse proxy on this machine would send it, and checks which address the
// session records and the access log names.
func TestTrustedProxies(t *testing.T) {
	// The client wrote the first entry itself; the proxy appended the second.
	const forwarded = "198.51.100.1, 203.0.113.9"
	tests := []struct {
		name    string
		trusted []string
		want    string
	}{
		{name: "peer-trusted", trusted: []string{"127.0.0.1"}, want: "203.0.113.9"},
		{name: "peer-in-trusted-prefix", trusted: []string{"10.0.0.0/8", "127.0.0.0/8"},
			want: "203.0.113.9"},
		{name: "none-trusted", want: "127.0.0.1"},
		{name: "peer-not-trusted", trusted: []string{"10.0.0.0/8"}, want: "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var prefixes []netip.Prefix
			for _, s := range tt.trusted {
				p, err := httpapi.ParseTrustedProxy(s)
				if err != nil {
					t.Fatal(err)
				}
				prefixes = append(prefixes, p)
			}
			e := MustOpenEnv(t, envOptions{trustedProxies: prefixes})
			u := e.MustCreateUser(t, testUser, testEmail)

			res := e.Do(t, http.MethodPost, "/oauth/token", formType,
				url.Values{"grant_type": {"password"}, "username": {testUser},
					"password": {testPassword}}.Encode(),
				http.Header{"X-Forwarded-For": {forwarded}})

			MustTokens(t, res)
			sessions := e.Sessions(t, u.ID)
			if len(sessions) != 1 || sessions[0].IPAddress != tt.want {
				t.Fatalf("sessions %+v, want one from %s", sessions, tt.want)
			}
			line := accessLine(t, e.logs.String(), "POST /oauth/token")
			if !slices.Contains(strings.Fields(line), "client_ip="+tt.want) {
				t.Errorf("access log line %q does not name client %s", line, tt.want)
			}
		})
	}
}

// accessLine returns the access log line of the latest request to route.
func accessLine(tb testing.TB, logs, route string) string {
	tb.Helper()
	lines := strings.Split(logs, "\n")
	for _, line := range slices.Backward(lines) {
		if strings.Contains(line, `msg=request `) && strings.Contains(line, `route="`+route+`"`) {
			return line
		}
	}
	tb.Fatalf("no access log line for %s in:\n%s", route, logs)
	return ""
}
