package main

import (
	"context"
	"fmt"
	"net"
	"net/url"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

// The demo account. Its password is printed and documented on purpose: the demo
// exists so a newcomer can try gatepass at once.
const (
	demoUser     = "demo"
	demoPassword = "demo-password"
)

// createDemoUser creates the demo account unless it exists, and prints how to use
// it: the demo pages first, for a browser, then the same steps with curl.
func (m *Main) createDemoUser(ctx context.Context, svc *auth.Service, c *config) error {
	_, err := svc.CreateUser(ctx, auth.NewUser{Name: demoUser, Email: "demo@example.com",
		Password: demoPassword})
	if err != nil && gatepass.ErrorCode(err) != gatepass.ECONFLICT {
		return fmt.Errorf("create demo user: %w", err)
	}

	base := c.auth.Issuer
	fmt.Fprintf(m.Stdout, `
gatepass demo: open %[1]s/ in a browser
and sign in as %[2]q with password %[3]q.

From a terminal:

  curl -s %[1]s/oauth/token -d grant_type=password -d username=%[2]s -d password=%[3]s
  curl -s %[1]s/auth/me -H "Authorization: Bearer ACCESS_TOKEN"
  curl -s %[1]s/oauth/token -d grant_type=refresh_token -d refresh_token=REFRESH_TOKEN
  curl -s %[1]s/oauth/revoke -d token=REFRESH_TOKEN

`, base, demoUser, demoPassword)
	return nil
}

// loopbackURL reports whether u names this machine, so that what it serves is
// reachable from here only.
func loopbackURL(u string) bool {
	parsed, err := url.Parse(u)
	if err != nil {
		return false
	}
	host := parsed.Hostname()
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}
