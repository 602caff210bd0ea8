package gatepass

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// Claims are the claims of an access token, per RFC 9068 section 2.2.
// Times are Unix seconds.
type Claims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  Audience `json:"aud"`
	ExpiresAt int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
	NotBefore int64    `json:"nbf"`
	ID        string   `json:"jti"`
	SessionID string   `json:"sid"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id"`

	// Username lets resource servers and forward-auth name the user without a
	// database call.
	Username string `json:"preferred_username,omitempty"`
}

// Scopes returns the space-separated scope claim as a list.
func (c *Claims) Scopes() []string {
	return strings.Fields(c.Scope)
}

// HasScope reports whether the token grants scope.
func (c *Claims) HasScope(scope string) bool {
	for _, s := range c.Scopes() {
		if s == scope {
			return true
		}
	}
	return false
}

// Audience is the "aud" claim. RFC 7519 allows a single string or an array;
// gatepass issues a single string and accepts both.
type Audience []string

// Contains reports whether aud is one of the audiences.
func (a Audience) Contains(aud string) bool {
	for _, s := range a {
		if s == aud {
			return true
		}
	}
	return false
}

// MarshalJSON writes a single audience as a string, several as an array.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON accepts a string or an array of strings. It looks at the first
// byte to decode only once: this runs on every token verification.
func (a *Audience) UnmarshalJSON(data []byte) error {
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) > 0 && data[0] == '"' {
		var one string
		if err := json.Unmarshal(data, &one); err != nil {
			return err
		}
		*a = Audience{one}
		return nil
	}

	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return errors.New("aud must be a string or an array of strings")
	}
	*a = many
	return nil
}
