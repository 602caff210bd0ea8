package gatepass

// AccessCookieName is the name of the cookie that carries the access token in
// cookie mode. Served over https the server sets it as "__Host-gatepass_access":
// the prefix makes the browser refuse it unless it is Secure, host-only and on
// Path=/ (RFC 6265bis section 4.1.3.2). With insecure cookies, for plain http on a
// loopback host, it is set under this name alone.
const AccessCookieName = "gatepass_access"

// CSRFCookieName is the name of the cookie that carries the double-submit CSRF
// token in cookie mode, "__Host-gatepass_csrf" over https. Unlike the access
// cookie, page scripts may read it: they send its value in the X-CSRF-Token
// header of every state-changing request the access cookie authenticates.
const CSRFCookieName = "gatepass_csrf"
