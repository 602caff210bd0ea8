package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatepass/gatepass"
)

// The log scan: every test server's log, whichever test started it, is also
// written to runLog, and every secret the servers handed out or were given is
// recorded in runSecrets. Once every test has run, TestMain looks for each
// secret in the whole log and fails the run if it finds one, naming the kind of
// secret and the line, never the secret.

// Kinds of secret, as the scan names them.
const (
	secretAccessToken   = "access token"
	secretAccessSig     = "access token signature"
	secretRefreshToken  = "refresh token"
	secretCSRFToken     = "csrf token"
	secretPassword      = "password"
	secretClientSecret  = "client secret"
	secretPrivateKey    = "private signing key"
	secretHMACKey       = "hs256 signing secret"
	secretRefreshSecret = "refresh-token secret"
	secretIntrospection = "introspection secret"
)

// Sizes of the scan. Secrets shorter than minSecretLen are not recorded: they
// cannot be told apart from ordinary words. Longer ones are looked for by
// chunks of scanChunk bytes.
const (
	minSecretLen         = 8
	scanChunk            = 16
	maxRecordedBodyBytes = 1 << 20
)

// refreshSecretName is the name under which auth.Service stores the secret that
// derives successor refresh tokens.
const refreshSecretName = "refresh_successor_v1"

// Thresholds of a whole run, below which the scan proves nothing.
const (
	minRunRecords = 2000
	minRunSecrets = 500
)

var (
	runLog     = &logSink{}
	runSecrets = &secretRegistry{byValue: map[string]string{}}
)

func TestMain(m *testing.M) {
	flag.Parse()

	// Fuzzing runs the targets for as long as it is told to: keep no log then.
	fuzzing := flagValue("test.fuzz") != "" || flagValue("test.fuzzworker") == "true"
	runLog.enabled.Store(!fuzzing)
	slog.SetDefault(slog.New(slog.NewTextHandler(runLog,
		&slog.HandlerOptions{Level: slog.LevelDebug})))

	code := m.Run()
	if !fuzzing {
		whole := code == 0 && flagValue("test.run") == "" && flagValue("test.skip") == "" &&
			!testing.Short()
		if err := scanRunLog(runLog.String(), runSecrets.snapshot(), whole); err != nil {
			fmt.Fprintf(os.Stderr, "log scan: %v\nFAIL\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// flagValue returns the value of a testing flag, "" if it is not defined.
func flagValue(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// logSink collects the log of the whole run.
type logSink struct {
	enabled atomic.Bool
	mu      sync.Mutex
	buf     bytes.Buffer
}

// Write appends p, unless the sink is off.
func (s *logSink) Write(p []byte) (int, error) {
	if !s.enabled.Load() {
		return len(p), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// secretRegistry records secrets by value, each with its kind.
type secretRegistry struct {
	mu      sync.Mutex
	byValue map[string]string
}

// add records value as a secret of the given kind, unless it is too short.
func (r *secretRegistry) add(kind, value string) {
	if len(value) < minSecretLen {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byValue[value]; !ok {
		r.byValue[value] = kind
	}
}

// addKey records key material in the forms a log line could hold it in.
func (r *secretRegistry) addKey(kind string, b []byte) {
	r.add(kind, base64.StdEncoding.EncodeToString(b))
	r.add(kind, base64.RawURLEncoding.EncodeToString(b))
	r.add(kind, hex.EncodeToString(b))
}

// snapshot returns a copy of the secrets, value to kind.
func (r *secretRegistry) snapshot() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[string]string, len(r.byValue))
	for v, k := range r.byValue {
		m[v] = k
	}
	return m
}

// addToken records an access token and, apart, its signature, which alone is
// enough to tell a leaked token.
func (r *secretRegistry) addToken(tok string) {
	if strings.Count(tok, ".") != 2 {
		r.add(secretRefreshToken, tok)
		return
	}
	r.add(secretAccessToken, tok)
	r.add(secretAccessSig, tok[strings.LastIndexByte(tok, '.')+1:])
}

// registerEnvSecrets records the secrets of e's server that never appear in an
// answer: its signing keys, its refresh-token secret and its introspection
// secret. It does so now and again when the test ends, for keys rotated since.
func registerEnvSecrets(tb testing.TB, e *testEnv) {
	tb.Helper()
	record := func() {
		runSecrets.add(secretIntrospection, e.api.IntrospectionSecret)
		ctx := context.Background()
		e.db.View(ctx, func(tx gatepass.Tx) error {
			keys, _ := tx.FindKeys(ctx)
			for _, k := range keys {
				kind := secretPrivateKey
				if k.Algorithm == "HS256" {
					kind = secretHMACKey
				}
				runSecrets.addKey(kind, k.Private)
			}
			if s, err := tx.FindSecret(ctx, refreshSecretName); err == nil {
				runSecrets.addKey(secretRefreshSecret, s)
			}
			return nil
		})
	}
	record()
	tb.Cleanup(record)
}

// recordSecrets records the secrets of every request and answer that passes
// through h: passwords and client secrets the tests send, and the tokens and
// CSRF tokens the server hands out in bodies and cookies.
func recordSecrets(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		recordRequest(r)
		rec := &bodyRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		recordAnswer(w.Header(), rec.body.Bytes())
	})
}

// bodyRecorder keeps a copy of the start of an answer's body.
type bodyRecorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (rec *bodyRecorder) Write(b []byte) (int, error) {
	if room := maxRecordedBodyBytes - rec.body.Len(); room > 0 {
		rec.body.Write(b[:min(room, len(b))])
	}
	return rec.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's own writer.
func (rec *bodyRecorder) Unwrap() http.ResponseWriter {
	return rec.ResponseWriter
}

// recordRequest records the password of a form or JSON body, and the password
// of HTTP Basic credentials. Only bodies of a known, modest length are read,
// and the handler gets them back unchanged.
func recordRequest(r *http.Request) {
	if _, pw, ok := r.BasicAuth(); ok {
		runSecrets.add(secretClientSecret, pw)
		if unescaped, err := url.QueryUnescape(pw); err == nil {
			runSecrets.add(secretClientSecret, unescaped)
		}
	}
	if r.ContentLength <= 0 || r.ContentLength > maxRecordedBodyBytes {
		return
	}

	body := make([]byte, r.ContentLength)
	n, _ := io.ReadFull(r.Body, body)
	body = body[:n]
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}

	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "application/x-www-form-urlencoded":
		values, _ := url.ParseQuery(string(body))
		for _, pw := range values["password"] {
			runSecrets.add(secretPassword, pw)
		}
	case "application/json":
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			if pw, ok := m["password"].(string); ok {
				runSecrets.add(secretPassword, pw)
			}
		}
	}
}

// recordAnswer records the tokens of a JSON body (OAuth and simplejwt names)
// and of the session cookies an answer sets.
func recordAnswer(h http.Header, body []byte) {
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		for _, name := range []string{"access_token", "refresh_token", "access", "refresh"} {
			if tok, ok := m[name].(string); ok {
				runSecrets.addToken(tok)
			}
		}
		if csrf, ok := m["csrf_token"].(string); ok {
			runSecrets.add(secretCSRFToken, csrf)
		}
	}

	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil || c.Value == "" {
			continue
		}
		switch {
		case strings.HasSuffix(c.Name, "gatepass_csrf"):
			runSecrets.add(secretCSRFToken, c.Value)
		case strings.HasPrefix(c.Name, "gatepass_") || strings.Contains(c.Name, "-gatepass_"):
			runSecrets.addToken(c.Value)
		}
	}
}

// scanRunLog looks for every secret in the log and returns an error naming the
// kind and line of each one found. With whole set, the run must also have
// logged and recorded enough for the scan to mean something.
func scanRunLog(log string, secrets map[string]string, whole bool) error {
	var found []string
	report := func(kind string, at int) {
		line := strings.Count(log[:at], "\n") + 1
		found = append(found, fmt.Sprintf("line %d holds: %s", line, kind))
	}

	// Long secrets are found by their chunks at the start, middle and end, all
	// at once; short ones one by one.
	chunks := map[string]string{}
	for v, kind := range secrets {
		if len(v) < scanChunk {
			if at := strings.Index(log, v); at >= 0 {
				report(kind, at)
			}
			continue
		}
		for _, off := range []int{0, (len(v) - scanChunk) / 2, len(v) - scanChunk} {
			chunks[v[off:off+scanChunk]] = kind
		}
	}
	for i := 0; i+scanChunk <= len(log) && len(found) < 20; i++ {
		if kind, ok := chunks[log[i:i+scanChunk]]; ok {
			report(kind, i)
			i += scanChunk - 1
		}
	}
	if len(found) > 0 {
		return fmt.Errorf("secrets in the log of the run:\n\t%s",
			strings.Join(found, "\n\t"))
	}
	if !whole {
		return nil
	}

	// A scan of an empty log, or for no secrets, passes whatever the code does.
	records := strings.Count(log, "\n")
	kinds := map[string]int{}
	for _, kind := range secrets {
		kinds[kind]++
	}
	switch {
	case records < minRunRecords:
		return fmt.Errorf("the run logged %d records, want at least %d", records,
			minRunRecords)
	case len(secrets) < minRunSecrets:
		return fmt.Errorf("the run recorded %d secrets, want at least %d", len(secrets),
			minRunSecrets)
	}
	for _, kind := range []string{secretAccessToken, secretRefreshToken, secretCSRFToken,
		secretPassword, secretClientSecret, secretPrivateKey, secretHMACKey,
		secretRefreshSecret, secretIntrospection} {
		if kinds[kind] == 0 {
			return fmt.Errorf("the run recorded no %s", kind)
		}
	}
	return nil
}
