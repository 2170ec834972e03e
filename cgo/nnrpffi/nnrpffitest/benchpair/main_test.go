package main

import (
	"strings"
	"testing"
)

func TestPairs(t *testing.T) {
	in := `goos: linux
BenchmarkOfficialClientProcess/server=ours/quic/1024KiB/w1-2         	     200	  10592963 ns/op	  98.99 MB/s	        100.0 frames/s	        10.26 p50-ms	        15.26 p99-ms	         8.200 server-cpu-ms	 1057437 B/op	      10 allocs/op
BenchmarkOfficialClientProcess/server=official/quic/1024KiB/w1-2     	     200	  12665084 ns/op	  82.79 MB/s	        50.0 frames/s	        11.03 p50-ms	        34.61 p99-ms	         8.900 server-cpu-ms	 1057435 B/op	      10 allocs/op
BenchmarkOfficialClientProcess/server=official/quic/1024KiB/w16-2     	--- SKIP
BenchmarkOfficialClientProcess/server=ours/quic/1024KiB/w1-2         	     200	  10592963 ns/op	  98.99 MB/s	        40.0 frames/s	        10.0 p50-ms	        15.0 p99-ms	         8.0 server-cpu-ms
BenchmarkOfficialClientProcess/server=official/quic/1024KiB/w1-2     	     200	  12665084 ns/op	  82.79 MB/s	        80.0 frames/s	        11.0 p50-ms	        34.0 p99-ms	         9.0 server-cpu-ms
BenchmarkOfficialClientProcess/server=ours/quic/1024KiB/w1-2         	     200	  10592963 ns/op	  98.99 MB/s	        60.0 frames/s	        10.0 p50-ms	        15.0 p99-ms	         8.0 server-cpu-ms
BenchmarkOfficialClientProcess/server=official/quic/1024KiB/w1-2     	     200	  12665084 ns/op	  82.79 MB/s	        40.0 frames/s	        11.0 p50-ms	        34.0 p99-ms	         9.0 server-cpu-ms
BenchmarkOfficialClientProcess/server=ours/quic/1024KiB/w16-2         	     200	  10592963 ns/op	  98.99 MB/s	        60.0 frames/s	        10.0 p50-ms	        15.0 p99-ms	         8.0 server-cpu-ms
`
	runs, order, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	write(&b, runs, order)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want header, rule and 2 cases:\n%s", len(lines), b.String())
	}
	// Ratios per run 2.0, 0.5, 1.5: median 1.5, not the ratio of the
	// medians (60/50 = 1.2).
	want := "| quic/1024KiB/w1 | 3 | 60 / 50 | 1.50 (0.50–2.00) | 10 / 11 | 0.91 (0.91–0.93) | 15 / 34 | 0.44 (0.44–0.44) | 8 / 9 |"
	if lines[2] != want {
		t.Errorf("got  %s\nwant %s", lines[2], want)
	}
	want = "| quic/1024KiB/w16 | 0 | 60 / — | — | 10 / — | — | 15 / — | — | 8 / — |"
	if lines[3] != want {
		t.Errorf("got  %s\nwant %s", lines[3], want)
	}
}
