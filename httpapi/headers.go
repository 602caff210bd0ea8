package httpapi

import "net/http"

// Header values that never change, each made once as a one-element slice. Put
// into a header map as they are, they save the slice that Header.Set makes on
// every request. Their length equals their capacity, so Header.Add on the same
// name copies instead of writing into them; nothing writes into a header value
// in place.
var (
	valueNoSniff    = []string{"nosniff"}
	valueNoReferrer = []string{"no-referrer"}
	valueDeny       = []string{"DENY"}
	valueNoStore    = []string{"no-store"}
	valueNoCache    = []string{"no-cache"}
	valueJSON       = []string{"application/json"}
	valueOrigin     = []string{"Origin"}
)

// setValue sets header name, which must be in canonical form, to the shared
// value v, as Header.Set does with a fresh slice.
func setValue(h http.Header, name string, v []string) {
	h[name] = v
}

// setNoStore forbids caching the answer.
func setNoStore(h http.Header) {
	setValue(h, "Cache-Control", valueNoStore)
}

// addValue adds the shared value v to header name, in canonical form, as
// Header.Add does.
func addValue(h http.Header, name string, v []string) {
	if old := h[name]; len(old) > 0 {
		h[name] = append(old, v...)
		return
	}
	h[name] = v
}

// headerValue returns the first value of header name, or "". The name must be
// in canonical form: it is Header.Get without canonicalising the name again.
func headerValue(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}
