package httpapi_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/google/go-cmp/cmp"
)

// nginxExample is the shipped configuration the nginx test runs.
const nginxExample = "../examples/nginx/gatepass.conf"

// TestNginx runs the shipped nginx example in front of gatepass and an app that
// echoes what it receives, and checks what a user of the app sees: who the app
// is told the caller is, and which requests never reach it.
func TestNginx(t *testing.T) {
	bin := os.Getenv("GATEPASS_TEST_NGINX")
	if bin == "" {
		t.Skip("GATEPASS_TEST_NGINX is unset; set it to an nginx binary built with " +
			"the auth_request module, such as /usr/sbin/nginx, to run this test")
	}

	// nginx serves the one origin the browser sees, so it is gatepass's issuer,
	// and gatepass trusts it to name the client.
	port := freePort(t)
	origin := "https://127.0.0.1:" + port
	e := MustOpenEnv(t, envOptions{issuer: origin,
		trustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	u := e.MustCreateUser(t, testUser, testEmail)
	app := startEchoApp(t)
	n := startNginx(t, bin, port, e.srv.Listener.Addr().String(),
		app.srv.Listener.Addr().String())

	// Get a real token through nginx.
	anon := n.NewClient(t)
	res := anon.Do(t, http.MethodPost, "/oauth/token", http.Header{"Content-Type": {formType}},
		url.Values{"grant_type": {"password"}, "username": {testUser},
			"password": {testPassword}}.Encode())
	tok := MustTokens(t, res)
	claims, err := e.svc.VerifyAccessToken(tok.AccessToken)
	if err != nil {
		t.Fatalf("verify the token nginx passed on: %v", err)
	}
	sub := strconv.FormatInt(u.ID, 10)
	want := echoed{Method: http.MethodGet, Path: "/hello", Identity: map[string]string{
		"X-Auth-Subject":  sub,
		"X-Auth-Username": testUser,
		"X-Auth-Scope":    "profile email",
		"X-Auth-Session":  claims.SessionID,
		"X-Auth-Expires":  "2031-05-17T09:45:00Z",
	}}

	t.Run("bearer", func(t *testing.T) {
		res := anon.Do(t, http.MethodGet, "/hello", bearerHeader(tok.AccessToken), "")
		if diff := cmp.Diff(app.Echo(t, res), want); diff != "" {
			t.Errorf("the app saw (-got +want):\n%s", diff)
		}
	})

	t.Run("forged-identity-overwritten", func(t *testing.T) {
		h := forgedIdentity()
		h.Set("Authorization", "Bearer "+tok.AccessToken)
		res := anon.Do(t, http.MethodGet, "/hello", h, "")
		if diff := cmp.Diff(app.Echo(t, res), want); diff != "" {
			t.Errorf("the app saw (-got +want):\n%s", diff)
		}
	})

	refused := []struct {
		name          string
		path          string
		header        http.Header
		wantStatus    int
		wantChallenge string
	}{{
		name:          "no-token",
		path:          "/hello",
		wantStatus:    http.StatusUnauthorized,
		wantChallenge: challengeMissing,
	}, {
		name:          "forged-identity-without-token",
		path:          "/hello",
		header:        forgedIdentity(),
		wantStatus:    http.StatusUnauthorized,
		wantChallenge: challengeMissing,
	}, {
		name:          "garbage-token",
		path:          "/hello",
		header:        bearerHeader("garbage"),
		wantStatus:    http.StatusUnauthorized,
		wantChallenge: challengeInvalid + `"token is malformed"`,
	}, {
		name: "expired-token",
		path: "/hello",
		header: bearerHeader(e.MustSignToken(t, func(c *gatepass.Claims) {
			c.IssuedAt -= 3600
			c.NotBefore -= 3600
			c.ExpiresAt -= 3600
		})),
		wantStatus:    http.StatusUnauthorized,
		wantChallenge: challengeInvalid + `"token has expired"`,
	}, {
		name:       "admin-without-scope",
		path:       "/admin/users",
		header:     bearerHeader(tok.AccessToken),
		wantStatus: http.StatusForbidden,
	}}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before := app.Count()
			res := anon.Do(t, http.MethodGet, tt.path, tt.header, "")
			if res.status != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", res.status, tt.wantStatus, res.body)
			}
			if got := res.header.Get("WWW-Authenticate"); got != tt.wantChallenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wantChallenge)
			}
			if got := app.Count(); got != before {
				t.Errorf("the app received the refused request")
			}
		})
	}

	t.Run("admin-with-scope", func(t *testing.T) {
		admin := e.MustSignToken(t, func(c *gatepass.Claims) { c.Scope = "profile admin" })
		res := anon.Do(t, http.MethodGet, "/admin/users", bearerHeader(admin), "")
		got := app.Echo(t, res)
		if got.Path != "/admin/users" || got.Identity["X-Auth-Scope"] != "profile admin" {
			t.Errorf("the app saw %+v", got)
		}
	})

	// A client on another address, 127.0.0.2, is named by that address
	// whatever X-Forwarded-For it sends, on gatepass's own endpoints and in
	// forward-auth's subrequests alike.
	t.Run("client-address", func(t *testing.T) {
		c := n.NewClientFrom(t, net.IPv4(127, 0, 0, 2))
		forged := http.Header{"X-Forwarded-For": {"198.51.100.7"}}

		h := forged.Clone()
		h.Set("Content-Type", formType)
		res := c.Do(t, http.MethodPost, "/oauth/token", h, url.Values{
			"grant_type": {"password"}, "username": {testUser},
			"password": {testPassword}}.Encode())
		tok := MustTokens(t, res)
		claims, err := e.svc.VerifyAccessToken(tok.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.SessionByID(t, claims.SessionID).IPAddress; got != "127.0.0.2" {
			t.Errorf("session address = %q, want 127.0.0.2", got)
		}

		h = forged.Clone()
		h.Set("Content-Type", formType)
		res = c.Do(t, http.MethodPost, "/auth/login", h,
			url.Values{"username": {testUser}, "password": {testPassword}}.Encode())
		cs := e.MustCookieSession(t, res, http.StatusOK)
		if got := e.SessionByID(t, cs.body.SessionID).IPAddress; got != "127.0.0.2" {
			t.Errorf("cookie session address = %q, want 127.0.0.2", got)
		}

		// Both of the example's subrequest locations.
		for _, path := range []string{"/hello", "/admin/users"} {
			h = forged.Clone()
			h.Set("Authorization", "Bearer garbage")
			c.Do(t, http.MethodGet, path, h, "")
			line := accessLine(t, e.logs.String(), "GET /auth/verify")
			if !slices.Contains(strings.Fields(line), "client_ip=127.0.0.2") {
				t.Errorf("%s: forward-auth access log line %q does not name 127.0.0.2",
					path, line)
			}
		}
	})

	t.Run("cookies", func(t *testing.T) {
		b := n.NewClient(t)
		res := b.Do(t, http.MethodPost, "/auth/login", http.Header{"Content-Type": {formType}},
			url.Values{"username": {testUser}, "password": {testPassword}}.Encode())
		cs := e.MustCookieSession(t, res, http.StatusOK)
		wantCookie := want
		wantCookie.Identity = map[string]string{}
		for k, v := range want.Identity {
			wantCookie.Identity[k] = v
		}
		wantCookie.Identity["X-Auth-Session"] = cs.body.SessionID

		// A page load carries the access cookie.
		res = b.Do(t, http.MethodGet, "/hello", nil, "")
		if diff := cmp.Diff(app.Echo(t, res), wantCookie); diff != "" {
			t.Errorf("GET: the app saw (-got +want):\n%s", diff)
		}

		// A state change from the app's own page carries the CSRF token too.
		csrf := b.Cookie(t, "__Host-gatepass_csrf")
		wantCookie.Method = http.MethodPost
		res = b.Do(t, http.MethodPost, "/hello", http.Header{"Origin": {origin},
			"X-Csrf-Token": {csrf}}, "{}")
		if diff := cmp.Diff(app.Echo(t, res), wantCookie); diff != "" {
			t.Errorf("POST: the app saw (-got +want):\n%s", diff)
		}

		// Another site's form or fetch cannot set the header, or is named by
		// the browser as foreign.
		for _, h := range []http.Header{
			{"Origin": {"https://evil.example"}},
			{"Origin": {"https://evil.example"}, "X-Csrf-Token": {csrf}},
			{"Sec-Fetch-Site": {"cross-site"}, "X-Csrf-Token": {csrf}},
			{},
		} {
			before := app.Count()
			res = b.Do(t, http.MethodPost, "/hello", h, "{}")
			if res.status != http.StatusForbidden || app.Count() != before {
				t.Errorf("cross-site POST with %v: status %d, the app saw %d requests",
					h, res.status, app.Count()-before)
			}
		}

		// Refresh works on the same origin, and the new cookie is admitted.
		res = b.Do(t, http.MethodPost, "/auth/refresh", http.Header{"X-Csrf-Token": {csrf}},
			"")
		next := e.MustCookieSession(t, res, http.StatusOK)
		if next.access == cs.access {
			t.Errorf("refresh kept the access cookie")
		}
		res = b.Do(t, http.MethodGet, "/hello", nil, "")
		wantCookie.Method = http.MethodGet
		if diff := cmp.Diff(app.Echo(t, res), wantCookie); diff != "" {
			t.Errorf("GET after refresh: the app saw (-got +want):\n%s", diff)
		}
	})
}

// forgedIdentity returns the identity headers a client might send to pose as
// someone else.
func forgedIdentity() http.Header {
	return http.Header{
		"X-Auth-Subject":  {"999"},
		"X-Auth-Username": {"admin"},
		"X-Auth-Scope":    {"admin"},
		"X-Auth-Session":  {"forged"},
		"X-Auth-Expires":  {"2099-01-01T00:00:00Z"},
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// echoed is what the echo app received and answers with.
type echoed struct {
	Method   string            `json:"method"`
	Path     string            `json:"path"`
	Identity map[string]string `json:"identity"`
}

// echoApp is an app behind nginx that answers each request with its method,
// path and X-Auth-* headers, and counts the requests.
type echoApp struct {
	srv *httptest.Server

	mu sync.Mutex
	n  int
}

// startEchoApp starts an echo app on loopback.
func startEchoApp(tb testing.TB) *echoApp {
	tb.Helper()
	a := &echoApp{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.n++
		a.mu.Unlock()

		got := echoed{Method: r.Method, Path: r.URL.Path, Identity: map[string]string{}}
		for k, v := range r.Header {
			if strings.HasPrefix(k, "X-Auth-") {
				got.Identity[k] = strings.Join(v, ", ")
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(got)
	}))
	tb.Cleanup(a.srv.Close)
	return a
}

// Count returns how many requests the app has received.
func (a *echoApp) Count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

// Echo decodes the app's answer, failing the test unless it is a 200.
func (a *echoApp) Echo(tb testing.TB, r *response) echoed {
	tb.Helper()
	var got echoed
	if r.status != http.StatusOK {
		tb.Fatalf("status %d, want 200 from the app (body %s)", r.status, r.body)
	} else if err := json.Unmarshal(r.body, &got); err != nil {
		tb.Fatalf("app answer %s: %v", r.body, err)
	}
	return got
}

// nginx is a running nginx with its own prefix directory.
type nginx struct {
	url   string
	roots *x509.CertPool
}

// startNginx runs the shipped example on port, in front of gatepass and the
// app, as the current user with every file it writes in a temporary directory.
// It stops nginx at the end of the test, and shows its log if the test failed.
func startNginx(tb testing.TB, bin, port, gatepassAddr, appAddr string) *nginx {
	tb.Helper()
	dir := tb.TempDir()
	roots := writeCertificate(tb, dir)
	writeNginxConfig(tb, dir, port, gatepassAddr, appAddr)

	// Run it in the foreground: the test owns the process.
	var stderr syncBuffer
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e",
		"stderr")
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start nginx: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tb.Cleanup(func() {
		stopNginx(tb, cmd, exited)
		if tb.Failed() {
			tb.Logf("nginx log:\n%s", stderr.String())
		}
	})

	// Wait until it listens, or has given up.
	addr := net.JoinHostPort("127.0.0.1", port)
	giveUp := time.After(time.Minute)
	for {
		select {
		case err := <-exited:
			exited <- err
			tb.Fatalf("nginx exited (%v):\n%s", err, stderr.String())
		case <-giveUp:
			tb.Fatalf("nginx is not listening on %s:\n%s", addr, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
	}
	return &nginx{url: "https://" + addr, roots: roots}
}

// stopNginx asks nginx to finish its requests and quit, and kills it if it has
// not quit after a while.
func stopNginx(tb testing.TB, cmd *exec.Cmd, exited chan error) {
	tb.Helper()
	if err := cmd.Process.Signal(syscall.SIGQUIT); err != nil &&
		!errors.Is(err, os.ErrProcessDone) {
		tb.Errorf("stop nginx: %v", err)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
}

// writeNginxConfig writes nginx.conf, which sets what a packaged nginx sets in
// its main configuration, pointed at dir, and includes the example with its
// addresses and certificate replaced. Each replaced line must occur in the
// example exactly once, so the test notices when the example changes.
func writeNginxConfig(tb testing.TB, dir, port, gatepassAddr, appAddr string) {
	tb.Helper()
	example, err := os.ReadFile(nginxExample)
	if err != nil {
		tb.Fatalf("read the example: %v", err)
	}
	conf := string(example)
	for _, r := range []struct{ old, new string }{
		{"server 127.0.0.1:8080;", "server " + gatepassAddr + ";"},
		{"server 127.0.0.1:3000;", "server " + appAddr + ";"},
		{"listen 443 ssl;", "listen 127.0.0.1:" + port + " ssl;"},
		{"/etc/ssl/certs/example.com.pem", filepath.Join(dir, "cert.pem")},
		{"/etc/ssl/private/example.com.key", filepath.Join(dir, "key.pem")},
	} {
		if n := strings.Count(conf, r.old); n != 1 {
			tb.Fatalf("%s holds %q %d times, want once", nginxExample, r.old, n)
		}
		conf = strings.Replace(conf, r.old, r.new, 1)
	}
	mustWriteFile(tb, filepath.Join(dir, "gatepass.conf"), []byte(conf))

	var main bytes.Buffer
	main.WriteString("daemon off;\nworker_processes 1;\n")
	main.WriteString("pid " + filepath.Join(dir, "nginx.pid") + ";\n")
	main.WriteString("error_log stderr warn;\n")
	// Run as root, nginx would hand its workers to "nobody", who cannot enter
	// dir; they keep the test's user instead.
	if os.Geteuid() == 0 {
		main.WriteString("user " + currentUserAndGroup(tb) + ";\n")
	}
	main.WriteString("events { worker_connections 64; }\nhttp {\n    access_log off;\n")
	for _, temp := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		main.WriteString("    " + temp + "_temp_path " + filepath.Join(dir, temp) + ";\n")
	}
	main.WriteString("    include " + filepath.Join(dir, "gatepass.conf") + ";\n}\n")
	mustWriteFile(tb, filepath.Join(dir, "nginx.conf"), main.Bytes())
}

// currentUserAndGroup returns the names of the test's user and primary group.
func currentUserAndGroup(tb testing.TB) string {
	tb.Helper()
	u, err := user.Current()
	if err != nil {
		tb.Fatalf("current user: %v", err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		tb.Fatalf("group %s: %v", u.Gid, err)
	}
	return u.Username + " " + g.Name
}

// writeCertificate writes a self-signed certificate for 127.0.0.1 and its key
// to dir, as cert.pem and key.pem, and returns a pool that trusts it.
func writeCertificate(tb testing.TB, dir string) *x509.CertPool {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("generate key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatalf("create certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("parse certificate: %v", err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatalf("marshal key: %v", err)
	}

	mustWriteFile(tb, filepath.Join(dir, "cert.pem"),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	mustWriteFile(tb, filepath.Join(dir, "key.pem"),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}))
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return roots
}

func mustWriteFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// nginxClient is an HTTPS client of nginx with a cookie jar.
type nginxClient struct {
	base   string
	jar    *cookiejar.Jar
	client *http.Client
}

// NewClient returns a client that trusts nginx's certificate and keeps cookies
// as a browser would.
func (n *nginx) NewClient(tb testing.TB) *nginxClient {
	tb.Helper()
	return n.NewClientFrom(tb, nil)
}

// NewClientFrom returns a client like NewClient's that connects from the local
// address ip, such as another loopback address; nil lets the system choose.
func (n *nginx) NewClientFrom(tb testing.TB, ip net.IP) *nginxClient {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: n.roots}
	if ip != nil {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}
		tr.DialContext = d.DialContext
	}
	tb.Cleanup(tr.CloseIdleConnections)
	return &nginxClient{base: n.url, jar: jar,
		client: &http.Client{Transport: tr, Jar: jar}}
}

// Do sends a request through nginx and reads the answer.
func (c *nginxClient) Do(tb testing.TB, method, path string, header http.Header,
	body string) *response {
	tb.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return send(tb, c.client, req)
}

// Cookie returns the value of the named cookie the jar would send to the root
// path, or "".
func (c *nginxClient) Cookie(tb testing.TB, name string) string {
	tb.Helper()
	u, err := url.Parse(c.base + "/")
	if err != nil {
		tb.Fatal(err)
	}
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}
