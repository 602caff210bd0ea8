package load

// The client's own cost is measured against a server in another process, a
// copy of this test binary, so that the CPU time and allocations of this
// process are the client's alone.

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// helperEnv, when set, makes TestHelperServer serve instead of skipping.
const helperEnv = "GATEPASS_LOAD_HELPER_SERVER"

// TestHelperServer is not a test: it is the server process of the tests and
// benchmarks below. It serves /healthz as gatepass does, prints its URL and
// runs until its standard input closes.
func TestHelperServer(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("helper process only")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`)
	}))
	defer srv.Close()

	os.Stdout.WriteString(srv.URL + "\n")
	io.Copy(io.Discard, os.Stdin)
}

// startHelperServer starts TestHelperServer in a process of its own and
// returns its URL and process id.
func startHelperServer(tb testing.TB) (string, int) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServer$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start helper server: %v", err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})

	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("helper server: %v", err)
	}
	return url[:len(url)-1], cmd.Process.Pid
}

// newTestGetter returns a trivial-scenario worker using the named client.
func newTestGetter(tb testing.TB, url, clientName string) worker {
	tb.Helper()
	c := newClient(Config{URL: url, Client: clientName, Concurrency: 1})
	tb.Cleanup(c.http.CloseIdleConnections)
	w, err := newTrivial(context.Background(), c, 0)
	if err != nil {
		tb.Fatal(err)
	}
	if cl, ok := w.(closer); ok {
		tb.Cleanup(cl.close)
	}
	return w
}

// TestRawConn_allocs checks that the raw client allocates nothing per request
// once its connection is open and its buffers have grown.
func TestRawConn_allocs(t *testing.T) {
	url, _ := startHelperServer(t)
	w := newTestGetter(t, url, ClientRaw)
	ctx := context.Background()
	if kind := w.do(ctx, time.Time{}); kind != "" {
		t.Fatalf("first request: %s", kind)
	}

	kinds := map[string]int{}
	allocs := testing.AllocsPerRun(200, func() {
		if kind := w.do(ctx, time.Time{}); kind != "" {
			kinds[kind]++
		}
	})

	if len(kinds) > 0 {
		t.Errorf("failed requests: %v", kinds)
	}
	if allocs != 0 {
		t.Errorf("%v allocations per request, want 0", allocs)
	}
}

// BenchmarkClient sends GET /healthz with each client to a server in another
// process and reports the CPU time per request of this process, the client,
// and of the server.
func BenchmarkClient(b *testing.B) {
	url, pid := startHelperServer(b)
	for _, name := range []string{ClientRaw, ClientNetHTTP} {
		b.Run(name, func(b *testing.B) {
			w := newTestGetter(b, url, name)
			ctx := context.Background()
			w.do(ctx, time.Time{})
			b.ReportAllocs()
			clientBefore, serverBefore := selfCPUSeconds(b), mustCPUSeconds(b, pid)
			b.ResetTimer()

			for range b.N {
				if kind := w.do(ctx, time.Time{}); kind != "" {
					b.Fatalf("request: %s", kind)
				}
			}

			b.StopTimer()
			client := selfCPUSeconds(b) - clientBefore
			server := mustCPUSeconds(b, pid) - serverBefore
			b.ReportMetric(client*1e6/float64(b.N), "client-CPU-µs/op")
			b.ReportMetric(server*1e6/float64(b.N), "server-CPU-µs/op")
		})
	}
}

// selfCPUSeconds returns the CPU time, user and system, this process has used.
func selfCPUSeconds(tb testing.TB) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func mustCPUSeconds(tb testing.TB, pid int) float64 {
	s, err := cpuSeconds(pid)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
