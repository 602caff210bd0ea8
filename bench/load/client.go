package load

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
)

// Kinds of failure that are not an HTTP status.
const (
	kindBadAnswer = "bad answer" // a 200 without what the scenario needs
	kindTimeout   = "timeout"
	kindRefused   = "connection refused"
	kindReset     = "connection reset"
	kindClosed    = "connection closed"
	kindNoPort    = "no free local port"
	kindCanceled  = "canceled"
	kindTransport = "transport error"
)

// client sends the workers' requests. It is shared by every worker. The POST
// requests always go through http; the GET scenarios' workers each open a
// rawConn of their own instead when raw is set.
type client struct {
	http *http.Client
	raw  bool
	base string
	cfg  Config
}

// answer is a response read in full into a worker's buffers, which the next
// request of that worker overwrites. Of the headers, it keeps only the value
// of the one a check asks for (check.header), so that both clients can fill
// it at the same cost.
type answer struct {
	status int
	header []byte
	body   []byte
}

// send sends req and reads the whole answer into buf, so that the connection
// goes back to the pool; want names the header to keep, or is "". It returns
// the kind of a transport failure, or "".
func (c *client) send(req *http.Request, want string, buf *bytes.Buffer) (answer, string) {
	res, err := c.http.Do(req)
	if err != nil {
		return answer{}, transportKind(err)
	}
	defer res.Body.Close()

	buf.Reset()
	if _, err := buf.ReadFrom(res.Body); err != nil {
		return answer{}, transportKind(err)
	}
	a := answer{status: res.StatusCode, body: buf.Bytes()}
	if want != "" {
		a.header = []byte(res.Header.Get(want))
	}
	return a, ""
}

// get sends a GET for path with the given header through net/http.
func (c *client) get(ctx context.Context, path string, h http.Header, want string,
	buf *bytes.Buffer) (answer, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return answer{}, kindTransport
	}
	for k, v := range h {
		req.Header[k] = v
	}
	return c.send(req, want, buf)
}

// tokens is the part of a token response the workers use.
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// postToken sends a form to POST /oauth/token and decodes the token response.
// It returns the kind of failure, or "".
func (c *client) postToken(ctx context.Context, form string, buf *bytes.Buffer) (tokens,
	string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/oauth/token",
		strings.NewReader(form))
	if err != nil {
		return tokens{}, kindTransport
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	a, kind := c.send(req, "", buf)
	if kind != "" {
		return tokens{}, kind
	} else if a.status != http.StatusOK {
		return tokens{}, statusKind(a)
	}
	var t tokens
	if err := json.Unmarshal(a.body, &t); err != nil || t.AccessToken == "" ||
		t.RefreshToken == "" {
		return tokens{}, kindBadAnswer
	}
	return t, ""
}

// signInForm returns the password grant of worker i's account.
func (c *client) signInForm(i int) string {
	form := url.Values{"grant_type": {"password"}, "username": {c.cfg.userName(i)},
		"password": {c.cfg.Password}}
	return form.Encode()
}

// signIn uses the password grant as worker i's account.
func (c *client) signIn(ctx context.Context, i int, buf *bytes.Buffer) (tokens, string) {
	return c.postToken(ctx, c.signInForm(i), buf)
}

// mustSignIn signs worker i in during set-up, when a failure ends the run.
func (c *client) mustSignIn(ctx context.Context, i int) (tokens, error) {
	var buf bytes.Buffer
	t, kind := c.signIn(ctx, i, &buf)
	if kind != "" {
		return tokens{}, fmt.Errorf("worker %d: sign in as %q: %s", i, c.cfg.userName(i),
			kind)
	}
	return t, nil
}

// statusKind names a failed answer by its status and, for the OAuth and
// gatepass JSON errors, its error code: "400 invalid_grant".
func statusKind(a answer) string {
	kind := strconv.Itoa(a.status)
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(a.body, &e) == nil && e.Error != "" && len(e.Error) <= 40 {
		kind += " " + e.Error
	}
	return kind
}

// transportKind names a request that got no answer.
func transportKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return kindCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return kindTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return kindRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return kindReset
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return kindNoPort
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return kindClosed
	}
	return kindTransport
}

// sessionID reads the "sid" claim of an access token. The client decodes its
// own token without verifying it: it only needs the session id to play a
// browser that holds a classic session cookie.
func sessionID(access string) (string, error) {
	parts := strings.Split(access, ".")
	if len(parts) != 3 {
		return "", errors.New("access token is not a JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("access token payload: %w", err)
	}
	var claims struct {
		SessionID string `json:"sid"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.SessionID == "" {
		return "", errors.New("access token has no sid claim")
	}
	return claims.SessionID, nil
}
