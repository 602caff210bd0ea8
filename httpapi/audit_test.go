package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/gatepass/gatepass"
)

// TestRevocationsNameTheCaller checks that a session ended over HTTP is recorded in
// the audit trail with the address and user agent of the request that ended it.
func TestRevocationsNameTheCaller(t *testing.T) {
	const agent = "audit-test/1.0"
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")

	tests := []struct {
		name   string
		revoke func(tok tokens) *response
	}{
		{
			name: "oauth-revoke",
			revoke: func(tok tokens) *response {
				body := url.Values{"token": {tok.RefreshToken}}.Encode()
				return e.Do(t, http.MethodPost, "/oauth/revoke",
					"application/x-www-form-urlencoded", body,
					http.Header{"User-Agent": {agent}})
			},
		},
		{
			name: "logout",
			revoke: func(tok tokens) *response {
				return e.Do(t, http.MethodPost, "/auth/logout", "", "", http.Header{
					"User-Agent":    {agent},
					"Authorization": {"Bearer " + tok.AccessToken}})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := e.MustLogin(t, testUser)
			if res := tt.revoke(tok); res.status != http.StatusOK {
				t.Fatalf("revoke: %d %s", res.status, res.body)
			}

			var events []*gatepass.AuditEvent
			err := e.db.View(context.Background(), func(tx gatepass.Tx) error {
				var err error
				events, err = tx.FindAuditEvents(context.Background(),
					gatepass.AuditFilter{Limit: 1})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].Kind != gatepass.AuditSessionRevoked {
				t.Fatalf("newest audit event = %+v, want a session revocation", events)
			}
			if got := events[0]; got.ClientIP != "127.0.0.1" || got.UserAgent != agent {
				t.Errorf("revocation recorded from %q, %q; want 127.0.0.1, %q",
					got.ClientIP, got.UserAgent, agent)
			}
		})
	}
}
