package main_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERM_finishesInFlightRequests starts a request, sends SIGTERM while its
// body is still arriving, and checks the request is answered before the process
// exits cleanly.
func TestSIGTERM_finishesInFlightRequests(t *testing.T) {
	bin := MustBuild(t)
	db := filepath.Join(t.TempDir(), "gatepass.db")
	mustAddUser(t, bin, db, "alice", "alice-password")
	p := StartProcess(t, bin, db)

	conn, err := net.Dial("tcp", strings.TrimPrefix(p.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Expect: 100-continue makes the server say when the handler starts reading
	// the body, so the test knows the request is in flight before it signals.
	body := "grant_type=password&username=alice&password=alice-password"
	head := "POST /oauth/token HTTP/1.1\r\nHost: gatepass\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	cont, err := http.ReadResponse(br, nil)
	if err != nil || cont.StatusCode != http.StatusContinue {
		t.Fatalf("want 100 Continue, got %v, %v", cont, err)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(p.Logs(), "shutting down") })
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}

	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("in-flight request got no answer: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), "access_token") {
		t.Errorf("in-flight request: %d %s", resp.StatusCode, got)
	}

	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, p.Logs())
		}
	case <-time.After(time.Minute):
		t.Fatal("process did not exit after SIGTERM")
	}
	if !strings.Contains(p.Logs(), "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", p.Logs())
	}
}

func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	for range 600 {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatal("condition not met within 30s")
}
