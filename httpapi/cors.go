package httpapi

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

// CORS preflight answers. The lists are fixed: they name everything the API
// accepts, so they need not echo what the browser asked for.
const (
	corsAllowMethods  = "GET, POST, DELETE"
	corsAllowHeaders  = "Authorization, Content-Type, X-CSRF-Token"
	corsExposeHeaders = "Retry-After, WWW-Authenticate, Date"
	corsMaxAge        = "600"
)

// errOriginNotAllowed answers a preflight from an origin that is not configured.
var errOriginNotAllowed = gatepass.Errorf(codeCrossSite, "origin is not allowed")

// ParseOrigin checks that s is an origin, scheme://host[:port] with an http or
// https scheme and nothing after the host, and returns it in the form browsers
// send in the Origin header: lower case, without the scheme's default port.
// The wildcard "*" is refused: with credentials, CORS needs every origin named.
func ParseOrigin(s string) (string, error) {
	if s == "*" {
		return "", errors.New(`"*" is not allowed: credentialed requests need ` +
			"every origin named")
	}

	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return "", fmt.Errorf("%q is not an origin: want scheme://host[:port]", s)
	case u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery ||
		u.Fragment != "" || strings.ContainsAny(s, "#?"):
		return "", fmt.Errorf("%q is not an origin: want scheme://host[:port] "+
			"and no path, query or fragment", s)
	case !validHost(u.Hostname()):
		return "", fmt.Errorf("%q is not an origin: bad host", s)
	}
	return originOf(u), nil
}

// validHost accepts an IP address or a DNS name of letters, digits, dots and
// hyphens, which is what Origin headers hold (IDNs arrive in punycode).
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	for _, c := range strings.ToLower(h) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '-' {
			return false
		}
	}
	return h != ""
}

// originOf serialises the origin of u as browsers do (RFC 6454 section 6.1).
func originOf(u *url.URL) string {
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

// issuerOrigin is the origin of the configured issuer, "" if it has none.
func issuerOrigin(cfg auth.Config) string {
	u, err := url.Parse(cfg.Issuer)
	if err != nil || u.Host == "" {
		return ""
	}
	return originOf(u)
}

// cors answers preflight requests and marks answers to the configured origins as
// readable with credentials (the Fetch standard's CORS protocol). Other origins
// get no CORS headers at all, so the browser keeps the answer from their pages,
// and their preflights get 403. Wildcards are never sent: with credentials the
// browser would refuse them, and they would be wrong anyway.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := headerValue(r.Header, "Origin")
		preflight := r.Method == http.MethodOptions && origin != "" &&
			headerValue(r.Header, "Access-Control-Request-Method") != ""

		// Answers differ by Origin once any is allowed; caches must know that.
		h := w.Header()
		if len(s.corsOrigins) > 0 {
			addValue(h, "Vary", valueOrigin)
		}
		allowed := origin != "" && s.corsOrigins[origin]
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			// Clients need these to back off after 429 and to tell an expired
			// token from another 401.
			h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		}

		switch {
		case !preflight:
			next.ServeHTTP(w, r)
		case !allowed:
			s.Logger.Warn("cors preflight refused", attrOrigin, logSafe(origin),
				attrClientIP, clientIP(r), attrUserAgent, r.UserAgent())
			s.writeError(w, r, errOriginNotAllowed)
		default:
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
		}
	})
}

// logSafe shortens a client-supplied value for a log attribute, so a huge header
// cannot flood the log.
func logSafe(v string) string {
	const limit = 128
	if len(v) <= limit {
		return v
	}
	return strings.ToValidUTF8(v[:limit], "") + "..."
}
