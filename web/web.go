// Package web serves the demo pages of gatepass: a sign-in page and an account
// page that use the browser client (clients/js) in cookie mode. The files are
// embedded, so the binary serves them with no other file around.
//
// static/gatepass.js is a copy of the client's build, refreshed by go generate
// and checked against a fresh build in CI.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"slices"
	"time"
)

//go:generate bash build-client.sh

//go:embed static
var static embed.FS

// ContentSecurityPolicy is sent with every file. Scripts, styles and requests
// may come from the page's own origin only, never inline, so an injected
// <script> or style attribute does nothing; no page may frame these ones.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; " +
	"style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// pages maps the URL of each page to its file. Every other file of static/ is
// served under /static/, except HTML files, which only exist as pages.
var pages = map[string]string{
	"/":        "index.html",
	"/account": "account.html",
}

// notFoundPage answers any other path, with status 404.
const notFoundPage = "notfound.html"

// contentTypes lists the types of the files static/ may hold. A file of any
// other kind makes Handler panic, which the tests catch.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

// file is one embedded file, read once.
type file struct {
	name        string
	contentType string
	body        []byte
	etag        string
}

// handler serves the files of static/ at their URLs.
type handler struct {
	byPath   map[string]*file
	notFound *file
}

// Handler returns the handler of the demo pages. It answers GET and HEAD, 404
// for unknown paths and 405 for other methods.
func Handler() http.Handler {
	h := &handler{byPath: map[string]*file{}}
	files, err := readFiles()
	if err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	for name, f := range files {
		if path.Ext(name) != ".html" {
			h.byPath["/static/"+name] = f
		}
	}
	for urlPath, name := range pages {
		h.byPath[urlPath] = files[name]
	}
	h.notFound = files[notFoundPage]
	return h
}

// readFiles reads every embedded file and checks that each page exists.
func readFiles() (map[string]*file, error) {
	entries, err := fs.ReadDir(static, "static")
	if err != nil {
		return nil, err
	}
	files := map[string]*file{}
	for _, e := range entries {
		name := e.Name()
		ct, ok := contentTypes[path.Ext(name)]
		if e.IsDir() || !ok {
			return nil, fmt.Errorf("static/%s: no content type for this kind of file", name)
		}
		body, err := static.ReadFile("static/" + name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		files[name] = &file{name: name, contentType: ct, body: body,
			etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
	}
	for _, name := range append(slices.Collect(maps.Values(pages)), notFoundPage) {
		if files[name] == nil {
			return nil, fmt.Errorf("static/%s is missing", name)
		}
	}
	return files, nil
}

// ServeHTTP answers with the file at r's path. Files are revalidated on every
// use (no-cache with an ETag), so a new binary's pages are picked up at once.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	hdr := w.Header()
	hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	f, ok := h.byPath[r.URL.Path]
	if !ok {
		hdr.Set("Content-Type", h.notFound.contentType)
		hdr.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNotFound)
		if r.Method != http.MethodHead {
			w.Write(h.notFound.body)
		}
		return
	}

	hdr.Set("Content-Type", f.contentType)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("ETag", f.etag)
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}

// Paths lists the URL paths Handler serves, sorted.
func Paths() []string {
	return slices.Sorted(maps.Keys(Handler().(*handler).byPath))
}
