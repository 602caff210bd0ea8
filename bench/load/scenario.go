package load

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// The routes of the bench/compare harness: one protected endpoint served three
// ways. Each answers 200 with {"user_id":"ID"} for a good credential.
const (
	// PathJWT takes an access token as a Bearer token and verifies it locally.
	PathJWT = "/protected/jwt"
	// PathSession takes the session id in the SessionCookie cookie and reads the
	// session from the database.
	PathSession = "/protected/session"
	// PathPassword takes HTTP Basic credentials and verifies the password.
	PathPassword = "/protected/password"

	// SessionCookie carries the session id to PathSession.
	SessionCookie = "bench_session"
)

// worker sends one kind of request, one at a time. do returns "" for a success
// and the kind of failure otherwise. A worker may give up waiting for an answer
// at until, when the measured window closes and the answer could no longer
// count, if abandoning its request leaves no state behind on the server.
type worker interface {
	do(ctx context.Context, until time.Time) string
}

// closer is a worker that holds connections of its own.
type closer interface {
	close()
}

// scenario describes one kind of load and builds its workers.
type scenario struct {
	about     string
	newWorker func(ctx context.Context, c *client, i int) (worker, error)
}

// scenarios are the loads Run knows, by name.
var scenarios = map[string]scenario{
	"trivial": {about: "GET /healthz: no credential, no database; the baseline",
		newWorker: newTrivial},
	"verify": {about: "GET /auth/verify with a Bearer token: forward-auth",
		newWorker: bearerGetter("/auth/verify", wantSubjectHeader)},
	"me": {about: "GET /auth/me with a Bearer token: verify, then read the user",
		newWorker: bearerGetter("/auth/me", wantBody(`"username"`))},
	"refresh": {about: "POST /oauth/token grant_type=refresh_token, one chain per worker",
		newWorker: newRefresher},
	"signin": {about: "POST /oauth/token grant_type=password: argon2id per request",
		newWorker: newSignIn},

	"jwt": {about: "compare harness: " + PathJWT + ", access token verified locally",
		newWorker: bearerGetter(PathJWT, wantBody(`"user_id"`))},
	"session": {about: "compare harness: " + PathSession + ", session row read per request",
		newWorker: newSessionGetter},
	"password": {about: "compare harness: " + PathPassword + ", argon2id per request",
		newWorker: newPasswordGetter},
}

// Scenarios returns the names of the scenarios Run knows, sorted.
func Scenarios() []string {
	names := make([]string, 0, len(scenarios))
	for name := range scenarios {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Describe returns a one-line description of the named scenario, or "".
func Describe(name string) string {
	return scenarios[name].about
}

// check judges a 200 answer. header names the one response header ok reads,
// whose value the clients put in answer.header, or is "" when ok reads only
// the body.
type check struct {
	header string
	ok     func(a answer) bool
}

// wantSubjectHeader accepts a forward-auth answer that names the token's holder.
var wantSubjectHeader = check{header: "X-Auth-Subject",
	ok: func(a answer) bool { return len(a.header) > 0 }}

// wantBody accepts an answer whose body holds s.
func wantBody(s string) check {
	b := []byte(s)
	return check{ok: func(a answer) bool { return bytes.Contains(a.body, b) }}
}

// getter sends the same GET over and over, through its own rawConn or, when
// the run uses net/http, through the shared client.
type getter struct {
	c      *client
	path   string
	header http.Header
	check  check
	buf    bytes.Buffer
	raw    *rawConn
}

// newGetter returns a worker that sends GET path with header h and judges the
// 200 answers with ck.
func newGetter(c *client, path string, h http.Header, ck check) (worker, error) {
	g := &getter{c: c, path: path, header: h, check: ck}
	if !c.raw {
		return g, nil
	}

	raw, err := newRawConn(c.base, path, h, ck.header)
	if err != nil {
		return nil, err
	}
	g.raw = raw
	return g, nil
}

// do sends the GET. Only the raw client gives up at until: a GET changes
// nothing on the server, so it can be abandoned at any point.
func (g *getter) do(ctx context.Context, until time.Time) string {
	var a answer
	var kind string
	if g.raw != nil {
		a, kind = g.raw.get(ctx, until)
	} else {
		a, kind = g.c.get(ctx, g.path, g.header, g.check.header, &g.buf)
	}

	if kind != "" {
		return kind
	} else if a.status != http.StatusOK {
		return statusKind(a)
	} else if !g.check.ok(a) {
		return kindBadAnswer
	}
	return ""
}

func (g *getter) close() {
	if g.raw != nil {
		g.raw.close()
	}
}

func newTrivial(_ context.Context, c *client, _ int) (worker, error) {
	return newGetter(c, "/healthz", nil, wantBody(`"ok"`))
}

// bearerGetter returns a worker builder that signs in once and sends the access
// token with every GET of path.
func bearerGetter(path string, ok check) func(context.Context, *client, int) (worker,
	error) {
	return func(ctx context.Context, c *client, i int) (worker, error) {
		t, err := c.mustSignIn(ctx, i)
		if err != nil {
			return nil, err
		}
		h := http.Header{"Authorization": {"Bearer " + t.AccessToken}}
		return newGetter(c, path, h, ok)
	}
}

// newSessionGetter signs in once and sends the session id in a cookie, as a
// browser of a classic session-cookie site would.
func newSessionGetter(ctx context.Context, c *client, i int) (worker, error) {
	t, err := c.mustSignIn(ctx, i)
	if err != nil {
		return nil, err
	}
	sid, err := sessionID(t.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("worker %d: %w", i, err)
	}
	h := http.Header{"Cookie": {SessionCookie + "=" + sid}}
	return newGetter(c, PathSession, h, wantBody(`"user_id"`))
}

// newPasswordGetter sends the worker's user name and password with every GET.
func newPasswordGetter(_ context.Context, c *client, i int) (worker, error) {
	cred := c.cfg.userName(i) + ":" + c.cfg.Password
	h := http.Header{"Authorization": {"Basic " +
		base64.StdEncoding.EncodeToString([]byte(cred))}}
	return newGetter(c, PathPassword, h, wantBody(`"user_id"`))
}

// refresher holds one session's refresh token and trades it for the next, so
// that every refresh it sends is valid: a token is never sent twice, and the
// server's reuse detection never fires. When the chain breaks, the failure is
// counted and the worker signs in again to start a new one.
type refresher struct {
	c       *client
	i       int
	refresh string
	buf     bytes.Buffer
}

func newRefresher(ctx context.Context, c *client, i int) (worker, error) {
	t, err := c.mustSignIn(ctx, i)
	if err != nil {
		return nil, err
	}
	return &refresher{c: c, i: i, refresh: t.RefreshToken}, nil
}

// do sends the next refresh. It never gives up at until: the server may have
// rotated the token already, and the worker would lose its chain.
func (r *refresher) do(ctx context.Context, _ time.Time) string {
	form := "grant_type=refresh_token&refresh_token=" + url.QueryEscape(r.refresh)
	t, kind := r.c.postToken(ctx, form, &r.buf)
	if kind == "" {
		r.refresh = t.RefreshToken
		return ""
	}

	// The chain is broken, or its state is unknown after a transport error:
	// start a new session rather than risk sending a used token.
	if t, k := r.c.signIn(ctx, r.i, &r.buf); k == "" {
		r.refresh = t.RefreshToken
	}
	return kind
}

// signInWorker signs in with the password grant on every request.
type signInWorker struct {
	c    *client
	form string
	buf  bytes.Buffer
}

func newSignIn(_ context.Context, c *client, i int) (worker, error) {
	return &signInWorker{c: c, form: c.signInForm(i)}, nil
}

// do signs in. Like refresh, it runs to the end: a sign-in cut short could
// still create a session.
func (s *signInWorker) do(ctx context.Context, _ time.Time) string {
	_, kind := s.c.postToken(ctx, s.form, &s.buf)
	return kind
}
