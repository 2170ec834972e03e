// Command benchpair summarizes repeated runs of BenchmarkOfficialClient or
// BenchmarkOfficialClientProcess (go test -bench output on standard input)
// as a Markdown table comparing our server with the official one.
//
// Each run measures a case against our server and then against the
// official one, back to back, so the two results of one run share the
// machine's load of that moment; benchpair pairs them up run by run (the
// i-th result of server=ours with the i-th of server=official for the same
// case) and reports the median of the per-run ratios with its range, next
// to the medians of each server's own metrics. On a machine with noisy
// neighbours single runs swing by 2× while the paired ratio holds.
//
//	make bench-official ROUNDS=5
package main

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// result is one benchmark line: its metrics by unit.
type result map[string]float64

// A line looks like
//
//	BenchmarkOfficialClientProcess/server=ours/quic/1024KiB/w1-2  200  1.2e7 ns/op  88.1 MB/s  84.7 frames/s ...
var lineRE = regexp.MustCompile(`^Benchmark\S*?/server=(ours|official)/(\S+?)(-\d+)?\s+\d+\s+(.*)$`)

func main() {
	runs, order, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchpair:", err)
		os.Exit(1)
	}
	if len(order) == 0 {
		fmt.Fprintln(os.Stderr, "benchpair: no BenchmarkOfficialClient results on standard input")
		os.Exit(1)
	}
	write(os.Stdout, runs, order)
}

// parse reads go test -bench output and returns the results per case and
// server, in input order, and the cases in the order first seen.
func parse(r io.Reader) (map[string]map[string][]result, []string, error) {
	runs := map[string]map[string][]result{}
	var order []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := lineRE.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		srv, name := m[1], m[2]
		f := strings.Fields(m[4])
		res := result{}
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: metric %q: %w", name, f[i], err)
			}
			res[f[i+1]] = v
		}
		if runs[name] == nil {
			runs[name] = map[string][]result{}
			order = append(order, name)
		}
		runs[name][srv] = append(runs[name][srv], res)
	}
	return runs, order, sc.Err()
}

func write(w io.Writer, runs map[string]map[string][]result, order []string) {
	fmt.Fprintln(w, "| case | runs | frames/s ours / official | ours ÷ official frames/s | p50 ms ours / official | ours ÷ official p50 | p99 ms ours / official | ours ÷ official p99 | server CPU ms/frame ours / official |")
	fmt.Fprintln(w, "|---|---:|---|---|---|---|---|---|---|")
	for _, name := range order {
		ours, off := runs[name]["ours"], runs[name]["official"]
		fmt.Fprintf(w, "| %s | %d | %s / %s | %s | %s / %s | %s | %s / %s | %s | %s / %s |\n", name, min(len(ours), len(off)),
			med(ours, "frames/s", "%.0f"), med(off, "frames/s", "%.0f"), pairedRatio(ours, off, "frames/s"),
			med(ours, "p50-ms", "%.3g"), med(off, "p50-ms", "%.3g"), pairedRatio(ours, off, "p50-ms"),
			med(ours, "p99-ms", "%.3g"), med(off, "p99-ms", "%.3g"), pairedRatio(ours, off, "p99-ms"),
			med(ours, "server-cpu-ms", "%.3g"), med(off, "server-cpu-ms", "%.3g"))
	}
}

// pairedRatio formats the median and range of ours[i][unit] ÷
// off[i][unit] over the runs both have, or "—".
func pairedRatio(ours, off []result, unit string) string {
	var rs []float64
	for i := range min(len(ours), len(off)) {
		a, okA := ours[i][unit]
		b, okB := off[i][unit]
		if okA && okB && b != 0 {
			rs = append(rs, a/b)
		}
	}
	if len(rs) == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", median(rs), slices.Min(rs), slices.Max(rs))
}

// med formats the median of metric unit over rs, or "—" when absent.
func med(rs []result, unit, format string) string {
	var v []float64
	for _, r := range rs {
		if x, ok := r[unit]; ok {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return "—"
	}
	return fmt.Sprintf(format, median(v))
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.SortFunc(s, cmp.Compare[float64])
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
