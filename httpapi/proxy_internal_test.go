package httpapi

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestParseTrustedProxy(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{in: "10.1.2.3/8", want: "10.0.0.0/8"},
		{in: "192.0.2.7", want: "192.0.2.7/32"},
		{in: "::ffff:192.0.2.7", want: "192.0.2.7/32"},
		{in: "2001:db8::/32", want: "2001:db8::/32"},
		{in: "2001:db8::7", want: "2001:db8::7/128"},
		{in: "::ffff:10.0.0.0/104", want: "10.0.0.0/8"},
		{in: "::ffff:127.0.0.1/128", want: "127.0.0.1/32"},
		{in: "127.0.0.1/8", want: "127.0.0.0/8"},
	}
	for _, tt := range tests {
		got, err := ParseTrustedProxy(tt.in)

		if err != nil || got.String() != tt.want {
			t.Errorf("ParseTrustedProxy(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}

	for _, in := range []string{"", "10.0.0.0/33", "proxy.example", "fe80::1%eth0",
		"10.0.0.1/8/9", "10.0.0.1:80", "0.0.0.0/0", "::/0", "::ffff:0.0.0.0/96",
		"::ffff:0.0.0.0/64"} {
		if got, err := ParseTrustedProxy(in); err == nil {
			t.Errorf("ParseTrustedProxy(%q) = %v, want an error", in, got)
		}
	}
}

func TestClientBehind(t *testing.T) {
	s := &Server{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("fd00::/8")}}
	peer := netip.MustParseAddr("10.0.0.1")
	tests := []struct {
		name   string
		values []string
		want   string
	}{
		{name: "no-header", values: nil, want: "10.0.0.1"},
		{name: "one-client", values: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "forged-entries-left-of-the-client",
			values: []string{"198.51.100.1, 10.0.0.5, 203.0.113.9"}, want: "203.0.113.9"},
		{name: "through-two-proxies", values: []string{"203.0.113.9, 10.0.0.2"},
			want: "203.0.113.9"},
		{name: "only-proxies", values: []string{"10.0.0.3, 10.0.0.2"}, want: "10.0.0.3"},
		{name: "headers-in-order", values: []string{"198.51.100.1", "203.0.113.9, 10.0.0.2"},
			want: "203.0.113.9"},
		{name: "empty-elements-and-spaces", values: []string{" 203.0.113.9 ,, ", ""},
			want: "203.0.113.9"},
		{name: "with-port", values: []string{"203.0.113.9:4711"}, want: "203.0.113.9"},
		{name: "ipv6", values: []string{"2001:db8::9, fd00::2"}, want: "2001:db8::9"},
		{name: "ipv6-with-port", values: []string{"[2001:db8::9]:4711"},
			want: "2001:db8::9"},
		{name: "mapped-proxy", values: []string{"203.0.113.9, ::ffff:10.0.0.2"},
			want: "203.0.113.9"},
		{name: "mapped-client", values: []string{"::ffff:203.0.113.9"}, want: "203.0.113.9"},
		{name: "not-an-address", values: []string{"203.0.113.9, unknown"}, want: "10.0.0.1"},
		{name: "not-an-address-behind-a-proxy",
			values: []string{"203.0.113.9, junk, 10.0.0.2"}, want: "10.0.0.2"},
		{name: "zone", values: []string{"fe80::1%eth0"}, want: "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.clientBehind(peer, tt.values)

			if got.String() != tt.want {
				t.Errorf("clientBehind(%v) = %v, want %s", tt.values, got, tt.want)
			}
		})
	}
}

// TestForwardedClient checks the address the handlers behind the middleware
// see, and that they see the request's own peer when it is not trusted.
func TestForwardedClient(t *testing.T) {
	s := &Server{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("fd00::/8")}}
	tests := []struct {
		name      string
		peer      string
		forwarded string
		want      string
	}{
		{name: "ipv4-proxy", peer: "10.0.0.1:5000", forwarded: "203.0.113.9",
			want: "203.0.113.9:0"},
		{name: "ipv6-proxy-ipv6-client", peer: "[fd00::1]:5000", forwarded: "2001:db8::9",
			want: "[2001:db8::9]:0"},
		{name: "mapped-proxy", peer: "[::ffff:10.0.0.1]:5000", forwarded: "203.0.113.9",
			want: "203.0.113.9:0"},
		{name: "untrusted-peer", peer: "192.0.2.1:5000", forwarded: "203.0.113.9",
			want: "192.0.2.1:5000"},
		{name: "zoned-peer", peer: "[fd00::1%eth0]:5000", forwarded: "203.0.113.9",
			want: "[fd00::1%eth0]:5000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got, gotIP string
			h := s.forwardedClient(http.HandlerFunc(func(w http.ResponseWriter,
				r *http.Request) {
				got, gotIP = r.RemoteAddr, clientIP(r)
			}))
			r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
			r.RemoteAddr = tt.peer
			r.Header.Set("X-Forwarded-For", tt.forwarded)

			h.ServeHTTP(httptest.NewRecorder(), r)

			if got != tt.want {
				t.Errorf("RemoteAddr = %q, want %q", got, tt.want)
			}
			if r.RemoteAddr != tt.peer {
				t.Errorf("the middleware changed the caller's request to %q", r.RemoteAddr)
			}
			if want, _, _ := net.SplitHostPort(tt.want); gotIP != want {
				t.Errorf("clientIP = %q, want %q", gotIP, want)
			}
		})
	}
}

func TestClientIP_unmapsIPv4(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	r.RemoteAddr = "[::ffff:192.0.2.7]:5000"

	if got := clientIP(r); got != "192.0.2.7" {
		t.Errorf("clientIP = %q, want 192.0.2.7", got)
	}
}
