package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/httpapi"
	"github.com/gatepass/gatepass/metrics"
	"github.com/google/go-cmp/cmp"
)

// openAPIFile is the document as the repository keeps it, beside the code.
const openAPIFile = "openapi.json"

// TestOpenAPIDocument checks the document on its own: OpenAPI 3.1, formatted,
// every $ref resolving, every path parameter declared, operation ids unique,
// tags declared, and a success answer for every operation.
func TestOpenAPIDocument(t *testing.T) {
	raw, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	doc := mustParseJSON(t, raw)

	if got := doc["openapi"]; got != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", got)
	}
	if got := string(indentJSON(t, raw)); got != string(raw) {
		t.Errorf("%s is not indented as json.Indent does with two spaces", openAPIFile)
	}

	// Every reference resolves.
	for _, ref := range collectRefs(doc) {
		if _, ok := resolvePointer(doc, ref); !ok {
			t.Errorf("$ref %q does not resolve", ref)
		}
	}

	tags := map[string]bool{}
	for _, tag := range asSlice(doc["tags"]) {
		tags[asString(asMap(tag)["name"])] = true
	}
	ids := map[string]string{}
	for _, op := range operations(t, doc) {
		if id := asString(op.op["operationId"]); id == "" {
			t.Errorf("%s: no operationId", op.route)
		} else if other, dup := ids[id]; dup {
			t.Errorf("%s: operationId %q is also that of %s", op.route, id, other)
		} else {
			ids[id] = op.route
		}

		for _, tag := range asSlice(op.op["tags"]) {
			if !tags[asString(tag)] {
				t.Errorf("%s: tag %v is not declared", op.route, tag)
			}
		}

		if diff := cmp.Diff(declaredPathParams(doc, op), templateParams(op.path)); diff != "" {
			t.Errorf("%s: path parameters (-declared +in the path):\n%s", op.route, diff)
		}

		ok := false
		for status := range asMap(op.op["responses"]) {
			ok = ok || strings.HasPrefix(status, "2")
		}
		if !ok {
			t.Errorf("%s: no success response", op.route)
		}
	}
}

// TestOpenAPIRoute checks how a ServeMux pattern is turned into the method and
// path template the document lists it under.
func TestOpenAPIRoute(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    string
		wantErr bool
	}{
		{name: "plain", pattern: "POST /oauth/token", want: "POST /oauth/token"},
		{name: "wildcard", pattern: "DELETE /auth/sessions/{id}",
			want: "DELETE /auth/sessions/{id}"},
		{name: "remaining-segments",
			pattern: "GET /.well-known/oauth-authorization-server/{path...}",
			want:    "GET /.well-known/oauth-authorization-server/{path}"},
		{name: "exact-root", pattern: "GET /{$}", want: "GET /"},
		{name: "exact-directory", pattern: "GET /static/{$}", want: "GET /static/"},
		{name: "trailing-slash", pattern: "POST /api/token/", want: "POST /api/token/"},
		{name: "extra-spaces", pattern: "GET   /healthz", want: "GET /healthz"},
		{name: "no-method", pattern: "/healthz", wantErr: true},
		{name: "host", pattern: "GET example.test/healthz", wantErr: true},
		{name: "lowercase-method", pattern: "get /healthz", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := openAPIRoute(tt.pattern)
			if (err != nil) != tt.wantErr {
				t.Fatalf("openAPIRoute(%q) error = %v, want error %t", tt.pattern, err,
					tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("openAPIRoute(%q) = %q, want %q", tt.pattern, got, tt.want)
			}
		})
	}
}

// TestOpenAPIRoutes checks that the document lists exactly the routes the server
// registers.
func TestOpenAPIRoutes(t *testing.T) {
	e := MustStartEnv(t)
	doc := mustParseJSON(t, e.Get(t, "/openapi.json", "").body)

	registered := map[string]bool{}
	for _, pattern := range e.api.Patterns() {
		route, err := openAPIRoute(pattern)
		if err != nil {
			t.Fatalf("pattern %q: %v", pattern, err)
		}
		registered[route] = true
	}
	documented := map[string]bool{}
	for _, op := range operations(t, doc) {
		documented[op.route] = true
	}

	var missing, extra []string
	for route := range registered {
		if !documented[route] {
			missing = append(missing, route)
		}
	}
	for route := range documented {
		if !registered[route] {
			extra = append(extra, route)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("routes the server registers but %s does not document:\n\t%s",
			openAPIFile, strings.Join(missing, "\n\t"))
	}
	if len(extra) > 0 {
		t.Errorf("routes %s documents but the server does not register:\n\t%s",
			openAPIFile, strings.Join(extra, "\n\t"))
	}
	if len(registered) == 0 {
		t.Error("the server registers no routes")
	}
}

// TestOpenAPIServed fetches the document over HTTP and checks that it is the file
// with the version and the issuer filled in: paths relative to the issuer, and
// the metadata route of an issuer with a path relative to its origin.
func TestOpenAPIServed(t *testing.T) {
	raw, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name          string
		issuer        string
		wantServer    string
		wantMetadata  string
		metadataProbe string
	}{
		{name: "issuer-at-root", issuer: testIssuer, wantServer: testIssuer,
			wantMetadata: testIssuer, metadataProbe: "/.well-known/oauth-authorization-server"},
		{name: "issuer-with-trailing-slash", issuer: testIssuer + "/",
			wantServer: testIssuer, wantMetadata: testIssuer,
			metadataProbe: "/.well-known/oauth-authorization-server"},
		{name: "issuer-with-path", issuer: testIssuer + "/tenants/acme",
			wantServer: testIssuer + "/tenants/acme", wantMetadata: testIssuer,
			metadataProbe: "/.well-known/oauth-authorization-server/tenants/acme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustOpenEnv(t, envOptions{issuer: tt.issuer})
			res := e.Get(t, "/openapi.json", "")
			if res.status != http.StatusOK {
				t.Fatalf("status %d, body %s", res.status, res.body)
			}
			if got := res.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if got := res.header.Get("Cache-Control"); got != "public, max-age=3600" {
				t.Errorf("Cache-Control = %q", got)
			}
			got := mustParseJSON(t, res.body)

			// The filled-in members.
			if v := asMap(got["info"])["version"]; v != gatepass.Version {
				t.Errorf("info.version = %v, want %q", v, gatepass.Version)
			}
			if u := serverURL(got); u != tt.wantServer {
				t.Errorf("servers[0].url = %q, want %q", u, tt.wantServer)
			}
			suffix := asMap(asMap(got["paths"])[metadataSuffixPath])
			if u := serverURL(suffix); u != tt.wantMetadata {
				t.Errorf("%s servers[0].url = %q, want %q", metadataSuffixPath, u,
					tt.wantMetadata)
			}

			// Where the document says the metadata is, from the issuer's origin,
			// it is served.
			if m := e.Get(t, tt.metadataProbe, ""); m.String(t, "issuer") != tt.issuer {
				t.Errorf("GET %s: status %d, body %s", tt.metadataProbe, m.status, m.body)
			}

			// Everything else is the file as it is.
			want := mustParseJSON(t, raw)
			asMap(got["info"])["version"] = asMap(want["info"])["version"]
			got["servers"] = want["servers"]
			suffix["servers"] = asMap(asMap(want["paths"])[metadataSuffixPath])["servers"]
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("served document differs from %s (-got +want):\n%s",
					openAPIFile, diff)
			}
		})
	}
}

// TestOpenAPIStatuses calls every route the server registers, in a few ways,
// and checks that each answer is one the document describes for the operation
// (see checkDocumented). Every endpoint is enabled, sign-up, simplejwt and the
// metrics included.
func TestOpenAPIStatuses(t *testing.T) {
	e := MustStartEnv(t)
	api, srv := startFullServer(t, e)
	e.MustCreateUser(t, testUser, testEmail)
	doc := mustFetchOpenAPI(t, srv)

	// Every route with no credentials, with a bearer token, and with an empty
	// form; the routes' own checks decide what each gets. Each route gets a
	// session of its own, since some end it.
	for _, pattern := range api.Patterns() {
		route, err := openAPIRoute(pattern)
		if err != nil {
			t.Fatalf("pattern %q: %v", pattern, err)
		}
		method, path, _ := strings.Cut(route, " ")
		target := fillTemplate(path)
		own := e.MustLogin(t, testUser).AccessToken
		variants := []struct {
			name        string
			contentType string
			header      http.Header
		}{
			{name: "empty"},
			{name: "bearer", header: http.Header{"Authorization": {"Bearer " + own}}},
			{name: "empty-form", contentType: formType},
		}
		for _, v := range variants {
			t.Run(route+"/"+v.name, func(t *testing.T) {
				req := mustRequest(t, srv, method, target, v.contentType, "", v.header)
				checkDocumented(t, doc, route, send(t, srv.Client(), req))
			})
		}
	}

	// The metrics of a server without them are an unknown path.
	t.Run("metrics-off", func(t *testing.T) {
		res := e.Get(t, "/metrics", "")
		if res.status != http.StatusNotFound {
			t.Errorf("status %d, want 404, body %s", res.status, res.body)
		}
		checkDocumented(t, doc, "GET /metrics", res)
	})
}

// TestOpenAPIAnswers makes calls that succeed, or fail for a reason an empty
// request never has, and checks that each answer is as documented. The cases
// run in order: later ones use what earlier ones ended.
func TestOpenAPIAnswers(t *testing.T) {
	e := MustStartEnv(t)
	_, srv := startFullServer(t, e)
	e.MustCreateUser(t, testUser, testEmail)
	doc := mustFetchOpenAPI(t, srv)

	tok := e.MustLogin(t, testUser)
	simple := e.MustLogin(t, testUser)
	cookies := e.MustCookieLogin(t, testUser)
	other := e.MustCookieLogin(t, testUser)
	bearer := http.Header{"Authorization": {"Bearer " + tok.AccessToken}}
	introspect := http.Header{"Authorization": {basicAuth("resource-server", testSecret)}}
	credentials := `{"username":"` + testUser + `","password":"` + testPassword + `"}`

	tests := []struct {
		name        string
		route       string
		target      string // the route's path when empty
		contentType string
		body        string
		header      http.Header
		wantStatus  int
	}{
		{name: "token", route: "POST /oauth/token", contentType: formType,
			body: url.Values{"grant_type": {"password"}, "username": {testUser},
				"password": {testPassword}}.Encode(), wantStatus: http.StatusOK},
		{name: "introspect", route: "POST /oauth/introspect", contentType: formType,
			body: url.Values{"token": {tok.AccessToken}}.Encode(), header: introspect,
			wantStatus: http.StatusOK},
		{name: "login", route: "POST /auth/login", contentType: jsonType,
			body: credentials, wantStatus: http.StatusOK},
		{name: "signup", route: "POST /auth/signup", contentType: jsonType,
			body:       `{"username":"carol","password":"a long unusual password"}`,
			wantStatus: http.StatusCreated},
		{name: "signup-taken", route: "POST /auth/signup", contentType: jsonType,
			body:       `{"username":"carol","password":"a long unusual password"}`,
			wantStatus: http.StatusConflict},
		{name: "cookie-refresh", route: "POST /auth/refresh", header: cookies.Header(),
			wantStatus: http.StatusOK},
		{name: "me-by-cookie", route: "GET /auth/me",
			header:     http.Header{"Cookie": {cookies.Cookies()}},
			wantStatus: http.StatusOK},
		{name: "sessions", route: "GET /auth/sessions", header: bearer,
			wantStatus: http.StatusOK},
		{name: "delete-session", route: "DELETE /auth/sessions/{id}",
			target: "/auth/sessions/" + other.body.SessionID, header: bearer,
			wantStatus: http.StatusOK},
		{name: "cookie-logout", route: "POST /auth/logout", header: cookies.Header(),
			wantStatus: http.StatusOK},
		{name: "logout-unknown-scope", route: "POST /auth/logout",
			target: "/auth/logout?scope=everywhere", header: bearer,
			wantStatus: http.StatusBadRequest},
		{name: "verify", route: "GET /auth/verify", target: "/auth/verify?scope=profile",
			header: bearer, wantStatus: http.StatusOK},
		{name: "verify-scope-lacking", route: "GET /auth/verify",
			target: "/auth/verify?scope=admin", header: bearer,
			wantStatus: http.StatusForbidden},
		{name: "simplejwt-obtain", route: "POST /api/token/", contentType: jsonType,
			body: credentials, wantStatus: http.StatusOK},
		{name: "simplejwt-obtain-wrong-password", route: "POST /api/token/",
			contentType: jsonType, body: `{"username":"` + testUser + `","password":"x"}`,
			wantStatus: http.StatusUnauthorized},
		{name: "simplejwt-verify", route: "POST /api/token/verify/", contentType: jsonType,
			body: `{"token":"` + tok.AccessToken + `"}`, wantStatus: http.StatusOK},
		{name: "simplejwt-refresh", route: "POST /api/token/refresh/",
			contentType: jsonType, body: `{"refresh":"` + simple.RefreshToken + `"}`,
			wantStatus: http.StatusOK},
		{name: "simplejwt-refresh-access-token", route: "POST /api/token/refresh/",
			contentType: jsonType, body: `{"refresh":"` + tok.AccessToken + `"}`,
			wantStatus: http.StatusUnauthorized},
		{name: "simplejwt-unsupported-media-type", route: "POST /api/token/verify/",
			contentType: "text/plain", body: "token",
			wantStatus: http.StatusUnsupportedMediaType},
		{name: "revoke", route: "POST /oauth/revoke", contentType: formType,
			body:       url.Values{"token": {tok.RefreshToken}}.Encode(),
			wantStatus: http.StatusOK},
		{name: "simplejwt-blacklist-dead", route: "POST /api/token/blacklist/",
			contentType: jsonType, body: `{"refresh":"` + tok.RefreshToken + `"}`,
			wantStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, path, _ := strings.Cut(tt.route, " ")
			target := tt.target
			if target == "" {
				target = path
			}
			res := send(t, srv.Client(), mustRequest(t, srv, method, target,
				tt.contentType, tt.body, tt.header))
			if res.status != tt.wantStatus {
				t.Errorf("status %d, want %d, body %s", res.status, tt.wantStatus, res.body)
			}
			checkDocumented(t, doc, tt.route, res)
		})
	}
}

// mustFetchOpenAPI returns the document srv serves.
func mustFetchOpenAPI(tb testing.TB, srv *httptest.Server) map[string]any {
	tb.Helper()
	req := mustRequest(tb, srv, http.MethodGet, "/openapi.json", "", "", nil)
	return mustParseJSON(tb, send(tb, srv.Client(), req).body)
}

// startFullServer serves e's service with every optional endpoint enabled,
// metrics included. The
// settings are made before the server starts, so no request can race them.
func startFullServer(tb testing.TB, e *testEnv) (*httpapi.Server, *httptest.Server) {
	tb.Helper()
	api := httpapi.NewServer(e.svc)
	api.Logger = e.api.Logger
	api.IntrospectionSecret = testSecret
	api.AllowSignUp = true
	api.SimpleJWTCompat = true
	api.Metrics = metrics.New(nil).Handler()
	if err := api.Validate(); err != nil {
		tb.Fatalf("validate server: %v", err)
	}
	srv := httptest.NewServer(api.Handler())
	tb.Cleanup(srv.Close)
	return api, srv
}

// mustRequest builds a request to srv.
func mustRequest(tb testing.TB, srv *httptest.Server, method, target, contentType,
	body string, header http.Header) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(method, srv.URL+target, strings.NewReader(body))
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// metadataSuffixPath is the document's path of the metadata route with the
// issuer's path after it.
const metadataSuffixPath = "/.well-known/oauth-authorization-server/{path}"

// muxPattern splits a ServeMux pattern into its method and path. Every API route
// names its method and no host.
var muxPattern = regexp.MustCompile(`^([A-Z]+)[ \t]+(/\S*)$`)

// openAPIRoute turns a ServeMux pattern into "METHOD /path" as the document lists
// it. OpenAPI has no wildcard that spans segments, so {name...} becomes {name};
// the end-of-path marker {$} is dropped, since an OpenAPI path matches exactly
// anyway. A pattern ending in a slash also matches every path below it; only the
// path itself is a route.
func openAPIRoute(pattern string) (string, error) {
	m := muxPattern.FindStringSubmatch(pattern)
	if m == nil {
		return "", fmt.Errorf("want \"METHOD /path\", got %q", pattern)
	}
	path := strings.ReplaceAll(m[2], "...}", "}")
	path = strings.TrimSuffix(path, "{$}")
	return m[1] + " " + path, nil
}

// fillTemplate puts a value in each parameter of a path template, one that names
// nothing that exists.
func fillTemplate(path string) string {
	return templateParam.ReplaceAllString(path, "no-such-$1")
}

// templateParam matches a parameter of an OpenAPI path template.
var templateParam = regexp.MustCompile(`\{([^{}]+)\}`)

// templateParams lists the parameters of a path template, sorted.
func templateParams(path string) []string {
	names := []string{}
	for _, m := range templateParam.FindAllStringSubmatch(path, -1) {
		names = append(names, m[1])
	}
	slices.Sort(names)
	return names
}

// operation is one operation of the document.
type operation struct {
	route  string // "METHOD /path"
	path   string
	method string // lower case, as the document has it
	item   map[string]any
	op     map[string]any
}

// httpMethods are the members of a Path Item that are operations.
var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch",
	"trace"}

// operations lists the operations of doc, sorted by route.
func operations(tb testing.TB, doc map[string]any) []operation {
	tb.Helper()
	var ops []operation
	for path, item := range asMap(doc["paths"]) {
		for _, method := range httpMethods {
			op, ok := asMap(item)[method].(map[string]any)
			if !ok {
				continue
			}
			ops = append(ops, operation{route: strings.ToUpper(method) + " " + path,
				path: path, method: method, item: asMap(item), op: op})
		}
	}
	if len(ops) == 0 {
		tb.Fatal("the document has no operations")
	}
	slices.SortFunc(ops, func(a, b operation) int { return strings.Compare(a.route, b.route) })
	return ops
}

// declaredPathParams lists the path parameters an operation declares, its path
// item's included, sorted.
func declaredPathParams(doc map[string]any, op operation) []string {
	names := []string{}
	params := append(asSlice(op.item["parameters"]), asSlice(op.op["parameters"])...)
	for _, p := range params {
		p := asMap(deref(doc, p))
		if p["in"] == "path" {
			names = append(names, asString(p["name"]))
		}
	}
	slices.Sort(names)
	return names
}

// checkDocumented reports whatever in an answer to route the document does not
// describe: a status it does not list, a media type it does not name, a member
// the body's schema requires and the body lacks, or a header whose documented
// value is fixed and which is missing or different.
func checkDocumented(tb testing.TB, doc map[string]any, route string, res *response) {
	tb.Helper()
	method, path, _ := strings.Cut(route, " ")
	op := asMap(asMap(asMap(doc["paths"])[path])[strings.ToLower(method)])
	if op == nil {
		tb.Fatalf("%s is not documented", route)
	}
	status := fmt.Sprint(res.status)
	documented, ok := asMap(op["responses"])[status]
	if !ok {
		tb.Fatalf("%s answered %s, which the document does not list; body %s", route,
			status, res.body)
	}
	resp := asMap(deref(doc, documented))

	// Headers with a fixed value must be sent, with that value.
	for name, h := range asMap(resp["headers"]) {
		want, fixed := asMap(asMap(deref(doc, h))["schema"])["const"].(string)
		if got := res.header.Get(name); fixed && got != want {
			tb.Errorf("%s %s: %s = %q, want %q", route, status, name, got, want)
		}
	}

	// The body has a documented media type, or there is none.
	content := asMap(resp["content"])
	if len(content) == 0 {
		if len(res.body) != 0 {
			tb.Errorf("%s %s: body %q, want none", route, status, res.body)
		}
		return
	}
	got, _, _ := mime.ParseMediaType(res.header.Get("Content-Type"))
	var media map[string]any
	for key, m := range content {
		if mt, _, _ := mime.ParseMediaType(key); mt == got {
			media = asMap(m)
		}
	}
	if media == nil {
		tb.Errorf("%s %s: Content-Type %q is not documented", route, status,
			res.header.Get("Content-Type"))
		return
	}
	if got != "application/json" {
		return
	}

	// A JSON body has the members its schema requires.
	body := mustParseJSON(tb, res.body)
	if missing := missingMembers(doc, media["schema"], body); len(missing) > 0 {
		tb.Errorf("%s %s: body %s lacks %v", route, status, res.body, missing)
	}
}

// missingMembers returns the members schema requires that body lacks. Of the
// alternatives of a oneOf or anyOf, the one that lacks fewest counts.
func missingMembers(doc map[string]any, schema any, body map[string]any) []string {
	s := asMap(deref(doc, schema))
	alternatives := append(asSlice(s["oneOf"]), asSlice(s["anyOf"])...)
	if len(alternatives) > 0 {
		var best []string
		for i, alt := range alternatives {
			missing := missingMembers(doc, alt, body)
			if i == 0 || len(missing) < len(best) {
				best = missing
			}
		}
		return best
	}

	var missing []string
	for _, name := range asSlice(s["required"]) {
		if _, ok := body[asString(name)]; !ok {
			missing = append(missing, asString(name))
		}
	}
	return missing
}

// collectRefs returns every $ref in v.
func collectRefs(v any) []string {
	var refs []string
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			refs = append(refs, ref)
		}
		for _, child := range v {
			refs = append(refs, collectRefs(child)...)
		}
	case []any:
		for _, child := range v {
			refs = append(refs, collectRefs(child)...)
		}
	}
	return refs
}

// resolvePointer follows a reference within doc, "#/a/b", a JSON pointer
// (RFC 6901) in a URI fragment.
func resolvePointer(doc map[string]any, ref string) (any, bool) {
	pointer, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var v any = doc
	for _, token := range strings.Split(pointer, "/") {
		token = strings.NewReplacer("~1", "/", "~0", "~").Replace(token)
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[token]; !ok {
			return nil, false
		}
	}
	return v, true
}

// deref follows $ref until v is no reference; an unresolved one gives nil.
func deref(doc map[string]any, v any) any {
	for range 10 {
		ref, ok := asMap(v)["$ref"].(string)
		if !ok {
			return v
		}
		v, _ = resolvePointer(doc, ref)
	}
	return nil
}

// serverURL returns the url of the first server of an object with servers.
func serverURL(v map[string]any) string {
	servers := asSlice(v["servers"])
	if len(servers) == 0 {
		return ""
	}
	return asString(asMap(servers[0])["url"])
}

// mustParseJSON decodes a JSON object, numbers kept as written.
func mustParseJSON(tb testing.TB, b []byte) map[string]any {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		tb.Fatalf("%.200s is not a JSON object: %v", b, err)
	}
	return m
}

// indentJSON returns b indented with two spaces as json.Indent does, with a final
// newline.
func indentJSON(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var compact, out bytes.Buffer
	if err := json.Compact(&compact, b); err != nil {
		tb.Fatal(err)
	}
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		tb.Fatal(err)
	}
	return append(out.Bytes(), '\n')
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}
