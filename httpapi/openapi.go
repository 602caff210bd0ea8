package httpapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

// openAPISpec is the OpenAPI 3.1 description of every route, written by hand.
// Its info.version and its servers are placeholders that renderOpenAPI fills in.
//
//go:embed openapi.json
var openAPISpec []byte

// metadataSuffixPath is the OpenAPI path of the metadata route with the issuer's
// path appended. OpenAPI has no multi-segment wildcard, so the route's {path...}
// is documented as one path parameter.
const metadataSuffixPath = metadataPath + "/{path}"

// openAPIDocs caches rendered documents by issuer and version. The document
// depends on nothing else, so each is rendered once per process rather than on
// every request to an endpoint anyone may call.
var openAPIDocs sync.Map

// handleOpenAPI serves the OpenAPI document of the HTTP interface as
// application/json: the media type every browser shows, every OpenAPI tool
// accepts and a .json name promises, where application/vnd.oai.openapi+json
// would be downloaded rather than shown.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc, err := s.openAPIDocument()
	if err != nil {
		s.writeError(w, r, err)
		return
	}

	// The document changes only with an upgrade, like the metadata.
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(doc)
}

// openAPIDocument returns the document for this server's issuer, rendering it
// the first time.
func (s *Server) openAPIDocument() ([]byte, error) {
	cfg := s.svc.Config()
	key := gatepass.Version + " " + cfg.Issuer
	if doc, ok := openAPIDocs.Load(key); ok {
		return doc.([]byte), nil
	}

	doc, err := renderOpenAPI(openAPISpec, gatepass.Version, cfg)
	if err != nil {
		return nil, err
	}
	openAPIDocs.Store(key, doc)
	return doc, nil
}

// renderOpenAPI fills in the document's version and servers. Paths are relative
// to the issuer, path included, since that is where clients reach gatepass; but
// RFC 8414 section 3.1 puts the metadata of an issuer with a path at the
// issuer's origin, so that one route gets the origin as its server.
func renderOpenAPI(spec []byte, version string, cfg auth.Config) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(spec))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode openapi document: %w", err)
	}

	info, ok := doc["info"].(map[string]any)
	if !ok {
		return nil, errors.New("openapi document has no info")
	}
	info["version"] = version

	paths, _ := doc["paths"].(map[string]any)
	suffix, ok := paths[metadataSuffixPath].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("openapi document has no path %s", metadataSuffixPath)
	}
	if base := strings.TrimSuffix(cfg.Issuer, "/"); base != "" {
		doc["servers"] = []any{serverObject(base, "The issuer.")}
	}
	if origin := issuerOrigin(cfg); origin != "" {
		suffix["servers"] = []any{serverObject(origin, "The issuer's origin, without "+
			"its path (RFC 8414 section 3.1).")}
	}

	// Indented like the file, though with the keys of each object sorted, and
	// without HTML escaping, which would turn the descriptions' < and > into
	// \u003c and \u003e for no reader's benefit.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode openapi document: %w", err)
	}
	return buf.Bytes(), nil
}

// serverObject is an OpenAPI Server Object.
func serverObject(url, description string) map[string]any {
	return map[string]any{"url": url, "description": description}
}
