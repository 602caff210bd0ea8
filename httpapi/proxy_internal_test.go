package httpapi

import (
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
	}
	for _, tt := range tests {
		got, err := ParseTrustedProxy(tt.in)

		if err != nil || got.String() != tt.want {
			t.Errorf("ParseTrustedProxy(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}

	for _, in := range []string{"", "10.0.0.0/33", "proxy.example", "fe80::1%eth0",
		"10.0.0.1/8/9", "10.0.0.1:80"} {
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
