package auth

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/gatepass/gatepass/token"
)

// Config holds the token policy. Every field has a default in DefaultConfig.
type Config struct {
	// Issuer is the "iss" claim: the public URL of this service.
	Issuer string
	// Audience is the "aud" claim resource servers expect.
	Audience string

	AccessTTL  time.Duration // lifetime of an access token
	RefreshTTL time.Duration // lifetime of a refresh token, renewed on each rotation
	SessionTTL time.Duration // absolute lifetime of a session; rotation never extends it

	// ReuseInterval is how long a rotated refresh token still yields the session's
	// current token instead of counting as theft, so racing tabs and lost responses
	// never sign anyone out.
	ReuseInterval time.Duration

	// Leeway tolerates clock differences between instances when checking exp, nbf
	// and iat.
	Leeway time.Duration

	// Algorithm signs new access tokens: ES256, HS256, RS256 or EdDSA.
	Algorithm string

	// Scopes lists the scopes a client may request. A request without a scope is
	// granted all of them.
	Scopes []string

	// ClientID is the "client_id" claim of tokens requested without one.
	ClientID string

	// KeyReloadInterval is how often a running server re-reads the signing keys.
	// A key retired elsewhere may keep signing here for that long, so it is
	// published for that much longer too.
	KeyReloadInterval time.Duration

	// RevokedRetention is how long revoked sessions are kept before pruning, so
	// recent sign-outs and reuse events can still be inspected.
	RevokedRetention time.Duration

	// AuditRetention is how long audit events are kept before pruning deletes
	// them; 0 keeps them forever.
	AuditRetention time.Duration

	// RevocationCheck makes VerifyAccessToken refuse the access tokens of revoked
	// sessions, on every instance sharing the store, within about one
	// RevocationPollInterval, instead of letting them live until they expire.
	// Each instance keeps the recently revoked sessions in memory, so a check
	// costs one map lookup and no database call.
	RevocationCheck bool

	// RevocationPollInterval is how often an instance reads the sessions revoked
	// elsewhere, when RevocationCheck is on.
	RevocationPollInterval time.Duration

	// TokenCache is how many verified access tokens VerifyAccessToken remembers,
	// so that checking one again skips the signature check (see token.Cache);
	// 0 turns the cache off. The revocation check runs on every call all the same.
	TokenCache int
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Issuer:            "http://127.0.0.1:8080",
		Audience:          "http://127.0.0.1:8080",
		AccessTTL:         15 * time.Minute,
		RefreshTTL:        7 * 24 * time.Hour,
		SessionTTL:        30 * 24 * time.Hour,
		ReuseInterval:     10 * time.Second,
		Leeway:            30 * time.Second,
		Algorithm:         token.ES256,
		Scopes:            []string{"profile", "email"},
		ClientID:          "gatepass",
		KeyReloadInterval: time.Minute,
		RevokedRetention:  24 * time.Hour,
		AuditRetention:    90 * 24 * time.Hour,

		RevocationPollInterval: 500 * time.Millisecond,
		TokenCache:             token.DefaultCacheSize,
	}
}

// scopeToken matches one scope per RFC 6749 section 3.3 (printable ASCII except
// space, double quote and backslash).
var scopeToken = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)

// clientIDPattern keeps client ids short and free of anything that could confuse a
// log line or a header.
var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// Validate checks the configuration and names the first field that is wrong.
func (c Config) Validate() error {
	u, err := url.Parse(c.Issuer)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return fmt.Errorf("issuer: must be an absolute http(s) URL, got %q", c.Issuer)
	case u.RawQuery != "" || u.Fragment != "":
		return errors.New("issuer: must not have a query or fragment")
	case c.Audience == "":
		return errors.New("audience: must not be empty")
	case c.AccessTTL < time.Second:
		return fmt.Errorf("access-ttl: must be at least 1s, got %s", c.AccessTTL)
	case c.RefreshTTL <= c.AccessTTL:
		return fmt.Errorf("refresh-ttl: must be longer than access-ttl (%s)", c.AccessTTL)
	case c.SessionTTL < c.RefreshTTL:
		return fmt.Errorf("session-ttl: must be at least refresh-ttl (%s)", c.RefreshTTL)
	case c.ReuseInterval < 0 || c.ReuseInterval > 5*time.Minute:
		return fmt.Errorf("reuse-interval: must be between 0 and 5m, got %s", c.ReuseInterval)
	case c.Leeway < 0 || c.Leeway > 5*time.Minute:
		return fmt.Errorf("leeway: must be between 0 and 5m, got %s", c.Leeway)
	case !slices.Contains(token.Algorithms, c.Algorithm):
		return fmt.Errorf("alg: must be one of %v, got %q", token.Algorithms, c.Algorithm)
	case !clientIDPattern.MatchString(c.ClientID):
		return errors.New("client-id: must be 1-64 characters of A-Z a-z 0-9 . _ : -")
	case c.TokenCache < 0:
		return fmt.Errorf("token-cache: must be at least 0, got %d", c.TokenCache)
	case c.AuditRetention < 0:
		return fmt.Errorf("audit-retention: must be at least 0, got %s", c.AuditRetention)
	case c.KeyReloadInterval < time.Second:
		return fmt.Errorf("key-reload-interval: must be at least 1s, got %s",
			c.KeyReloadInterval)
	case c.RevocationCheck && c.RevocationPollInterval < 10*time.Millisecond:
		return fmt.Errorf("revocation-poll-interval: must be at least 10ms, got %s",
			c.RevocationPollInterval)
	case c.RevocationCheck && c.RevokedRetention < c.revocationWindow():
		// A revocation pruned before its tokens expire would be unknown to an
		// instance that starts afterwards.
		return fmt.Errorf("revoked-retention: must be at least %s with revocation-check,"+
			" got %s", c.revocationWindow(), c.RevokedRetention)
	}

	for _, s := range c.Scopes {
		if !scopeToken.MatchString(s) {
			return fmt.Errorf("scopes: %q is not a valid scope", s)
		}
	}
	return nil
}
