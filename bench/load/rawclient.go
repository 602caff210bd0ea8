package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
)

// userAgent names the raw client to the server.
const userAgent = "gatepass-loadgen"

// maxBody bounds an answer's body: the checks need a few bytes, and a
// runaway answer must not take the generator's memory.
const maxBody = 1 << 20

var (
	errMalformed = errors.New("malformed HTTP response")
	errTooLarge  = errors.New("response body too large")

	// errStale marks a request that failed on a kept-alive connection the
	// server had closed while it was idle, before any byte of an answer came.
	errStale = errors.New("kept-alive connection closed by the server")

	// aLongTimeAgo is a deadline in the past: setting it wakes a blocked read.
	aLongTimeAgo = time.Unix(1, 0)
)

// Header names the raw client reads, compared case-insensitively.
var (
	hdrContentLength    = []byte("Content-Length")
	hdrTransferEncoding = []byte("Transfer-Encoding")
	hdrConnection       = []byte("Connection")
)

// rawConn is one GET worker's HTTP/1.1 keep-alive connection: a client that
// does only what the GET scenarios need (see ClientRaw). It sends the same
// request, built once, with one write, and reads an answer with a
// Content-Length with no allocation in the steady state (a chunked one costs
// a reader). It is dialled on first use and again after any error or a
// "Connection: close".
type rawConn struct {
	addr    string // host:port to dial
	request []byte
	want    []byte // the header a check reads, or nil

	conn   net.Conn
	br     *bufio.Reader
	stop   func() bool // stops watching the run's context for conn
	reused bool        // conn has carried a whole answer already

	header []byte // the last answer's value of want
	body   []byte // the last answer's body
}

// newRawConn returns a connection that will send GET path, under the base URL,
// with the headers in h; want names the header whose value answers keep.
func newRawConn(base, path string, h http.Header, want string) (*rawConn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("raw client: %w", err)
	} else if u.Scheme != "http" {
		return nil, fmt.Errorf("raw client: %q is not an http:// URL", base)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n",
		u.EscapedPath(), path, u.Host, userAgent)
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			if strings.ContainsAny(k+v, "\r\n") {
				return nil, fmt.Errorf("raw client: header %s holds a line break", k)
			}
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")

	r := &rawConn{addr: addr, request: b.Bytes()}
	if want != "" {
		r.want = []byte(want)
	}
	return r, nil
}

// get sends the request and reads the answer, giving up at until (unless it
// is zero) or after requestTimeout. A request that found its kept-alive
// connection closed by the server is sent again once on a new one, as
// net/http does for requests that change nothing. It returns the kind of a
// transport failure, or "".
func (r *rawConn) get(ctx context.Context, until time.Time) (answer, string) {
	a, err := r.roundTrip(ctx, until)
	if errors.Is(err, errStale) {
		a, err = r.roundTrip(ctx, until)
	}
	if err == nil {
		return a, ""
	}

	r.close()
	if ctx.Err() != nil {
		return answer{}, kindCanceled
	}
	return answer{}, transportKind(err)
}

// roundTrip sends the request once, dialling first when the worker has no
// connection, and reads the answer.
func (r *rawConn) roundTrip(ctx context.Context, until time.Time) (answer, error) {
	deadline := time.Now().Add(requestTimeout)
	if !until.IsZero() && until.Before(deadline) {
		deadline = until
	}
	if r.conn == nil {
		if err := r.dial(ctx, deadline); err != nil {
			return answer{}, err
		}
	}

	// The context's watch may have fired before this deadline replaced its
	// own; the context says so.
	if err := r.conn.SetDeadline(deadline); err != nil {
		return answer{}, err
	} else if err := ctx.Err(); err != nil {
		return answer{}, err
	}

	reused := r.reused
	if _, err := r.conn.Write(r.request); err != nil {
		return answer{}, r.stale(reused, err)
	}
	if _, err := r.br.Peek(1); err != nil {
		return answer{}, r.stale(reused, err)
	}
	return r.read()
}

// stale closes the connection after err and marks err for a retry when the
// connection was kept alive and the server closed or reset it.
func (r *rawConn) stale(reused bool, err error) error {
	r.close()
	var ne net.Error
	if !reused || errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) {
		return fmt.Errorf("%w: %w", errStale, err)
	}
	return err
}

// dial opens the worker's connection. Until the connection is closed, the
// end of ctx sets its deadline in the past, so a blocked read or write
// returns at once.
func (r *rawConn) dial(ctx context.Context, deadline time.Time) error {
	d := net.Dialer{Timeout: 5 * time.Second, Deadline: deadline, KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		return err
	}

	r.conn, r.reused = conn, false
	if r.br == nil {
		r.br = bufio.NewReaderSize(conn, 16<<10)
	} else {
		r.br.Reset(conn)
	}
	r.stop = context.AfterFunc(ctx, func() { conn.SetDeadline(aLongTimeAgo) })
	return nil
}

// close closes the connection, if there is one.
func (r *rawConn) close() {
	if r.conn == nil {
		return
	}
	r.stop()
	r.conn.Close()
	r.conn = nil
}

// head is what the raw client keeps of a status line and header.
type head struct {
	status  int
	length  int64 // -1 when there is no Content-Length
	chunked bool
	close   bool
}

// read reads an answer: any interim 1xx answers, then the final one, whose
// body goes into r.body. It closes the connection when the server asked to, or
// when the body ran to the end of the connection.
func (r *rawConn) read() (answer, error) {
	h, err := r.readHead()
	for err == nil && h.status < 200 {
		h, err = r.readHead()
	}
	if err != nil {
		return answer{}, err
	}

	if err := r.readBody(&h); err != nil {
		return answer{}, err
	}
	if h.close {
		r.close()
	} else {
		r.reused = true
	}
	return answer{status: h.status, header: r.header, body: r.body}, nil
}

// readHead reads a status line and the header lines after it, keeping the
// value of r.want in r.header.
func (r *rawConn) readHead() (head, error) {
	line, err := r.readLine()
	if err != nil {
		return head{}, err
	}
	h, ok := parseStatusLine(line)
	if !ok {
		return head{}, errMalformed
	}

	r.header = r.header[:0]
	for {
		line, err := r.readLine()
		if err != nil {
			return head{}, err
		} else if len(line) == 0 {
			return h, nil
		}

		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return head{}, errMalformed
		}
		if err := r.readHeader(&h, line[:colon], bytes.TrimSpace(line[colon+1:])); err != nil {
			return head{}, err
		}
	}
}

// readHeader records one header line in h, or in r.header.
func (r *rawConn) readHeader(h *head, name, value []byte) error {
	switch {
	case bytes.EqualFold(name, hdrContentLength):
		n, ok := parseLength(value)
		if !ok {
			return errMalformed
		}
		h.length = n
	case bytes.EqualFold(name, hdrTransferEncoding):
		h.chunked = hasToken(value, "chunked")
	case bytes.EqualFold(name, hdrConnection):
		if hasToken(value, "close") {
			h.close = true
		} else if hasToken(value, "keep-alive") {
			h.close = false // an HTTP/1.0 server asking to keep the connection
		}
	case r.want != nil && bytes.EqualFold(name, r.want):
		r.header = append(r.header[:0], value...)
	}
	return nil
}

// readBody reads the body h announces into r.body.
func (r *rawConn) readBody(h *head) error {
	var err error
	r.body = r.body[:0]
	switch {
	case h.status == http.StatusNoContent || h.status == http.StatusNotModified:
		return nil
	case h.chunked:
		r.body, err = readAll(httputil.NewChunkedReader(r.br), r.body)
		if err != nil {
			return err
		}
		return r.skipTrailer()
	case h.length >= 0:
		if h.length > maxBody {
			return errTooLarge
		}
		r.body = slices.Grow(r.body, int(h.length))[:h.length]
		_, err = io.ReadFull(r.br, r.body)
		return err
	}

	// Neither length nor chunks: the body ends with the connection.
	h.close = true
	r.body, err = readAll(r.br, r.body)
	return err
}

// skipTrailer reads the trailer section that ends a chunked body.
func (r *rawConn) skipTrailer() error {
	for {
		line, err := r.readLine()
		if err != nil || len(line) == 0 {
			return err
		}
	}
}

// readLine returns the next line without its line break. The line is valid
// until the next read.
func (r *rawConn) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, errMalformed
	} else if errors.Is(err, io.EOF) && len(line) > 0 {
		return nil, io.ErrUnexpectedEOF
	} else if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readAll appends what rd holds, to its end, to buf.
func readAll(rd io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 512)
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		} else if err != nil {
			return buf, err
		} else if len(buf) > maxBody {
			return buf, errTooLarge
		}
	}
}

// parseStatusLine reads "HTTP/1.x NNN reason". An HTTP/1.0 server closes the
// connection after the answer unless it says otherwise.
func parseStatusLine(line []byte) (head, bool) {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' ||
		len(line) > 12 && line[12] != ' ' {
		return head{}, false
	}
	status := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return head{}, false
		}
		status = status*10 + int(c-'0')
	}
	return head{status: status, length: -1, close: line[7] == '0'}, true
}

// parseLength reads a Content-Length value.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// hasToken reports whether the comma-separated list v holds token, in any case.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		item := v
		if i := bytes.IndexByte(v, ','); i >= 0 {
			item, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		if bytes.EqualFold(bytes.TrimSpace(item), []byte(token)) {
			return true
		}
	}
	return false
}
