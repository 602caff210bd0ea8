package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

// params are the parameters of an OAuth request, decoded from its body.
type params map[string]string

// decodeParams reads the parameters of a POST to one of the OAuth endpoints, from a
// form-encoded body (RFC 6749 appendix B) or a JSON object of strings. The query
// string is ignored: credentials in a URL end up in logs and histories. RFC 6749
// section 3.2 forbids repeated parameters, so a repeat is refused, not resolved.
func (s *Server) decodeParams(w http.ResponseWriter, r *http.Request) (params, error) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mediaType = ""
	}
	if mediaType != "application/x-www-form-urlencoded" && mediaType != "application/json" {
		return nil, gatepass.Errorf(codeUnsupportedMediaType,
			"content type must be application/x-www-form-urlencoded or application/json")
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBodyBytes()))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, gatepass.Errorf(codeBodyTooLarge, "request body is too large")
	} else if err != nil {
		return nil, gatepass.Errorf(gatepass.EINVALID, "request body could not be read")
	}

	if mediaType == "application/json" {
		return decodeJSONParams(body)
	}
	return decodeFormParams(body)
}

// discardBody reads and drops the body of a POST to an endpoint that takes no
// parameters, so that the body limit holds there too: the request is refused
// if the body is over it, as on every other endpoint.
func (s *Server) discardBody(w http.ResponseWriter, r *http.Request) error {
	_, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, s.maxBodyBytes()))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return gatepass.Errorf(codeBodyTooLarge, "request body is too large")
	} else if err != nil {
		return gatepass.Errorf(gatepass.EINVALID, "request body could not be read")
	}
	return nil
}

// decodeFormParams parses a form-encoded body.
func decodeFormParams(body []byte) (params, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, gatepass.Errorf(gatepass.EINVALID, "request body is not a valid form")
	}

	p := make(params, len(values))
	for k, v := range values {
		if len(v) > 1 {
			return nil, repeated(k)
		}
		p[k] = v[0]
	}
	return p, nil
}

// decodeJSONParams parses a JSON object whose values are all strings. It walks the
// tokens rather than unmarshalling into a map, because a map would silently keep
// the last of two equal keys.
func decodeJSONParams(body []byte) (params, error) {
	malformed := gatepass.Errorf(gatepass.EINVALID, "request body is not a JSON object")
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, malformed
	}

	p := params{}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, malformed
		}
		k, _ := key.(string)
		value, err := dec.Token()
		if err != nil {
			return nil, malformed
		}

		v, ok := value.(string)
		if !ok {
			return nil, gatepass.Errorf(gatepass.EINVALID, "%s must be a string",
				paramName(k))
		} else if _, dup := p[k]; dup {
			return nil, repeated(k)
		}
		p[k] = v
	}

	// The closing brace, then nothing but white space.
	if _, err := dec.Token(); err != nil {
		return nil, malformed
	} else if _, err := dec.Token(); err != io.EOF {
		return nil, malformed
	}
	return p, nil
}

// require returns the named parameter, or EINVALID when it is missing. RFC 6749
// section 3.1 treats a parameter without a value as omitted.
func (p params) require(name string) (string, error) {
	v := p[name]
	if v == "" {
		return "", gatepass.Errorf(gatepass.EINVALID, "missing parameter %s", name)
	}
	return v, nil
}

// knownParams are the parameters the endpoints read. Error messages name only
// these, so an arbitrary key from the request is never echoed back.
var knownParams = map[string]bool{
	"grant_type": true, "username": true, "password": true, "scope": true,
	"refresh_token": true, "client_id": true, "client_secret": true,
	"token": true, "token_type_hint": true, "email": true,
}

// paramName names a parameter for an error message.
func paramName(k string) string {
	if knownParams[k] {
		return "parameter " + k
	}
	return "a parameter"
}

// repeated is the error for a parameter given twice.
func repeated(k string) error {
	return gatepass.Errorf(gatepass.EINVALID, "%s is repeated", paramName(k))
}

// basicCredentials returns the HTTP Basic credentials of r, decoded as RFC 6749
// section 2.3.1 asks: both halves are form-urlencoded before base64.
func basicCredentials(r *http.Request) (user, password string, ok bool) {
	user, password, ok = r.BasicAuth()
	if !ok {
		return "", "", false
	}
	user, errUser := url.QueryUnescape(user)
	password, errPassword := url.QueryUnescape(password)
	return user, password, errUser == nil && errPassword == nil
}

// clientContext returns r's context carrying the caller's address and user agent,
// for the service calls that take no auth.Client, such as a revocation, but still
// name the caller in the audit trail.
func clientContext(r *http.Request) context.Context {
	c := auth.Client{IPAddress: clientIP(r), UserAgent: r.UserAgent()}
	return auth.NewContextWithClient(r.Context(), c)
}

// clientIP is the address of the client, without its port: the peer's, or,
// behind trusted proxies, the one they forwarded (see Server.TrustedProxies).
// An IPv4 address mapped into IPv6 is given as IPv4, as forwarded ones are, so
// that one client has one rate-limit key however it arrives.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	if strings.HasPrefix(host, "::ffff:") {
		if a, err := netip.ParseAddr(host); err == nil && a.Is4In6() {
			return a.Unmap().String()
		}
	}
	return host
}

// bearerToken returns the token of an "Authorization: Bearer" header. The scheme
// is case-insensitive (RFC 7235 section 2.1).
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, _ := strings.Cut(headerValue(r.Header, "Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}
