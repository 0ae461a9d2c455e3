// Command statusload is the load generator of scripts/bench-crossborder
// (BENCHMARKS.md "Cross-border status"): it sends POST /v1/crossborder/status
// over N keep-alive mutual-TLS connections for a fixed time and prints
// requests/s, queries/s, p50 and p99 latency and the refusals by status code.
//
//	go run ./internal/cmd/statusload -url https://127.0.0.1:8443 -cacert HOME/pki/tls-ca.crt \
//		-cert HOME/pki/clients/border-post1.crt -key HOME/pki/clients/border-post1.key \
//		-conns 16 -batch 100 -warmup 1s -duration 5s -known docs.txt
//
// Each connection is its own http.Transport (HTTP/1.1, MaxConnsPerHost 1,
// one idle connection kept), driven by one goroutine that sends the next
// request when the answer to the last one is read: N connections, N
// requests in flight, no more. Every connection is opened and its TLS
// handshake made before the warm-up starts; an httptrace hook counts the
// connections dialled, and the output says how many were opened during the
// measurement (0 when keep-alive held: a non-zero count is a finding).
//
// Queries: with probability -known-fraction a query is the MRZ data of a
// document of the -known file (lines "NUMBER YYMMDD YYMMDD": number, date
// of birth, date of expiry), else a random 9-character number with random
// dates (an UNKNOWN answer, as most are in the real world). Request bodies
// are built before the run (a nonce is spliced into a ready body per
// request), so the generator's cost per request is TLS, HTTP and reading the
// body; an answer counts as ok only with status 200 and Content-Type
// application/jose. It does not verify the JWS: that is the asker's cost,
// not the responder's. Before the run one request asks about every known
// document and the payload (decoded, not verified) must answer each VALID.
//
// Throughput counts the answers completed inside the measuring window (a
// request started during the warm-up counts when answered inside it);
// latency is from sending to the last byte read. The generator does not
// honour Retry-After: a 429 is counted and the next request sent at once,
// the behaviour of a misconfigured station, the worst case for the server.
// -cpu-of reports the CPU of other processes (serve, the postmaster and its
// backends) per ok answer and as cores busy, from /proc; -timeline prints
// answers, p50 and maximum latency per 500 ms, which shows periodic stalls.
//
// Output: one line of key=value pairs on stdout.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type doc struct{ number, dob, exp string }

var timeline bool

func main() {
	url := flag.String("url", "https://127.0.0.1:8443", "base `URL` of borderid serve")
	cacert := flag.String("cacert", "", "server CA `FILE` (pki/tls-ca.crt)")
	certF := flag.String("cert", "", "client certificate `FILE` (a border station's or a partner's)")
	keyF := flag.String("key", "", "its key `FILE`")
	conns := flag.Int("conns", 1, "keep-alive connections (= requests in flight)")
	batch := flag.Int("batch", 1, "queries per request (1..1000)")
	warmup := flag.Duration("warmup", time.Second, "warm-up before measuring")
	duration := flag.Duration("duration", 5*time.Second, "measuring time")
	knownF := flag.String("known", "", "`FILE` of known documents: NUMBER DOB EXP per line")
	knownFrac := flag.Float64("known-fraction", 0.01, "share of queries about a known document")
	state := flag.String("state", "UTO", "issuing state of the queries")
	cpuOf := flag.String("cpu-of", "", "`name=pid,...`: report CPU ms per ok request of each process and its children")
	flag.BoolVar(&timeline, "timeline", false, "also print, per 500 ms of the run, answers, p50 and max latency (stderr)")
	flag.Parse()
	if err := run(*url, *cacert, *certF, *keyF, *conns, *batch, *warmup, *duration, *knownF, *knownFrac, *state, *cpuOf); err != nil {
		fmt.Fprintln(os.Stderr, "statusload:", err)
		os.Exit(1)
	}
}

func run(url, cacert, certF, keyF string, conns, batch int, warmup, duration time.Duration,
	knownF string, knownFrac float64, state, cpuOf string) error {
	if conns < 1 || batch < 1 || batch > 1000 || duration <= 0 {
		return errors.New("need -conns >= 1, 1 <= -batch <= 1000, -duration > 0")
	}
	caPEM, err := os.ReadFile(cacert)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("%s: no certificate", cacert)
	}
	kp, err := tls.LoadX509KeyPair(certF, keyF)
	if err != nil {
		return err
	}
	tlsCfg := &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS13}
	known, err := readKnown(knownF)
	if err != nil {
		return err
	}
	endpoint := strings.TrimRight(url, "/") + "/v1/crossborder/status"

	// Bodies: 64 ready query sets per run; a request is prefix + nonce + suffix.
	rng := rand.New(rand.NewPCG(1, uint64(batch)))
	const sets = 64
	suffixes := make([][]byte, sets)
	for i := range suffixes {
		qs := make([]map[string]string, batch)
		for j := range qs {
			d := randomDoc(rng)
			if len(known) > 0 && rng.Float64() < knownFrac {
				d = known[rng.IntN(len(known))]
			}
			qs[j] = map[string]string{"issuing_state": state, "document_number": d.number,
				"date_of_birth": d.dob, "date_of_expiry": d.exp, "document_type": "P"}
		}
		b, _ := json.Marshal(qs)
		suffixes[i] = append(append([]byte(`","queries":`), b...), '}')
	}

	workers := make([]*worker, conns)
	for i := range workers {
		workers[i] = newWorker(i, endpoint, tlsCfg)
	}
	// Preflight on connection 0: every known document answers VALID.
	if len(known) > 0 {
		if err := preflight(workers[0], known, state); err != nil {
			return err
		}
	}
	// Open every connection (TLS handshake included) before the clock starts.
	var wg sync.WaitGroup
	errs := make([]error, conns)
	for i, w := range workers {
		wg.Go(func() {
			_, _, _, errs[i] = w.do(context.Background(), []byte(`{"nonce":"open`+strconv.Itoa(i)+string(suffixes[0])))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("opening the connections: %w", err)
	}

	start := time.Now()
	measureFrom := start.Add(warmup)
	end := measureFrom.Add(duration)
	var dialsBefore int64
	var cpu0 map[string]float64
	var ru0 syscall.Rusage
	var once sync.Once
	snap := func() {
		once.Do(func() {
			for _, w := range workers {
				dialsBefore += w.dials.Load()
			}
			cpu0 = cpuTimes(cpuOf)
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		})
	}
	go func() { time.Sleep(time.Until(measureFrom)); snap() }()
	ctx, cancel := context.WithDeadline(context.Background(), end.Add(10*time.Second))
	defer cancel()
	for i, w := range workers {
		wg.Go(func() { w.loop(ctx, i, suffixes, measureFrom, end) })
	}
	wg.Wait()
	snap()
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu1 := cpuTimes(cpuOf)

	// Aggregate.
	var lat []time.Duration
	codes := map[string]int{}
	var dials int64
	for _, w := range workers {
		lat = append(lat, w.lat...)
		for k, v := range w.codes {
			codes[k] += v
		}
		dials += w.dials.Load()
	}
	if timeline {
		printTimeline(workers, measureFrom, duration)
	}
	slices.Sort(lat)
	ok := len(lat)
	secs := duration.Seconds()
	var b strings.Builder
	fmt.Fprintf(&b, "conns=%d batch=%d duration=%s ok=%d req/s=%.1f queries/s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f",
		conns, batch, duration, ok, float64(ok)/secs, float64(ok*batch)/secs,
		ms(pct(lat, 50)), ms(pct(lat, 99)), ms(pct(lat, 100)))
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	errList := "none"
	if len(keys) > 0 {
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s:%d", k, codes[k])
		}
		errList = strings.Join(parts, ",")
	}
	fmt.Fprintf(&b, " errors=%s tcp_conns=%d new_conns_during_run=%d", errList, dials, dials-dialsBefore)
	if ok > 0 {
		self := tv(ru1.Utime) + tv(ru1.Stime) - tv(ru0.Utime) - tv(ru0.Stime)
		fmt.Fprintf(&b, " cpu_ms_per_req[statusload]=%.3f", self*1000/float64(ok))
		names := make([]string, 0, len(cpu1))
		for n := range cpu1 {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, " cpu_ms_per_req[%s]=%.3f", n, (cpu1[n]-cpu0[n])*1000/float64(ok))
		}
		fmt.Fprintf(&b, " cores_busy[statusload]=%.2f", self/secs)
		for _, n := range names {
			fmt.Fprintf(&b, " cores_busy[%s]=%.2f", n, (cpu1[n]-cpu0[n])/secs)
		}
	}
	fmt.Println(b.String())
	return nil
}

// worker is one connection: its own Transport, one request in flight.
type worker struct {
	client *http.Client
	url    string
	dials  atomic.Int64
	trace  *httptrace.ClientTrace
	lat    []time.Duration
	done   []time.Time // completion time of each lat, for -timeline
	codes  map[string]int
}

func newWorker(i int, url string, tlsCfg *tls.Config) *worker {
	tr := &http.Transport{
		TLSClientConfig:     tlsCfg.Clone(),
		MaxConnsPerHost:     1,
		MaxIdleConns:        1,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	w := &worker{client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, url: url, codes: map[string]int{}}
	w.trace = &httptrace.ClientTrace{ConnectStart: func(string, string) { w.dials.Add(1) }}
	return w
}

// do sends one request and reads the whole answer.
func (w *worker) do(ctx context.Context, body []byte) (int, string, []byte, error) {
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, w.trace), http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Content-Type"), b, err
}

func (w *worker) loop(ctx context.Context, id int, suffixes [][]byte, from, end time.Time) {
	prefix := []byte(`{"nonce":"`)
	buf := make([]byte, 0, len(prefix)+32+len(suffixes[0])+64)
	for n := 0; ; n++ {
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		buf = append(buf[:0], prefix...)
		buf = strconv.AppendInt(buf, int64(id), 36)
		buf = append(buf, '-')
		buf = strconv.AppendInt(buf, int64(n), 36)
		buf = append(buf, suffixes[n%len(suffixes)]...)
		code, ct, _, err := w.do(ctx, buf)
		t1 := time.Now()
		// Count what completes inside [from, end]: completions per second
		// is the throughput whatever the latency (a request started in the
		// warm-up and answered after from counts, one answered after end
		// does not).
		if t1.Before(from) || t1.After(end) {
			if err != nil && ctx.Err() != nil {
				return
			}
			continue
		}
		switch {
		case err != nil:
			w.codes["transport"]++
		case code != http.StatusOK:
			w.codes[strconv.Itoa(code)]++
		case ct != "application/jose":
			w.codes["200-content-type:"+ct]++
		default:
			w.lat = append(w.lat, t1.Sub(t0))
			w.done = append(w.done, t1)
		}
	}
}

// preflight asks about every known document and checks (without verifying
// the signature) that each answers VALID.
func preflight(w *worker, known []doc, state string) error {
	qs := make([]map[string]string, len(known))
	for i, d := range known {
		qs[i] = map[string]string{"issuing_state": state, "document_number": d.number,
			"date_of_birth": d.dob, "date_of_expiry": d.exp, "document_type": "P"}
	}
	body, _ := json.Marshal(map[string]any{"nonce": "preflight", "queries": qs})
	code, ct, b, err := w.do(context.Background(), body)
	if err != nil {
		return fmt.Errorf("preflight: %w", err)
	}
	if code != http.StatusOK || ct != "application/jose" {
		return fmt.Errorf("preflight: %d %s: %.200s", code, ct, b)
	}
	parts := strings.Split(string(b), ".")
	if len(parts) != 3 {
		return errors.New("preflight: the answer is not a compact JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("preflight: payload: %w", err)
	}
	var p struct {
		Answers []struct{ Status string } `json:"answers"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("preflight: payload: %w", err)
	}
	if len(p.Answers) != len(known) {
		return fmt.Errorf("preflight: %d answers to %d queries", len(p.Answers), len(known))
	}
	for i, a := range p.Answers {
		if a.Status != "VALID" {
			return fmt.Errorf("preflight: known document %d answers %s, not VALID", i+1, a.Status)
		}
	}
	fmt.Fprintf(os.Stderr, "statusload: preflight: %d known documents answer VALID\n", len(known))
	return nil
}

func readKnown(path string) ([]doc, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []doc
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 {
			continue
		}
		if len(fs) != 3 {
			return nil, fmt.Errorf("%s: want NUMBER DOB EXP, got %q", path, sc.Text())
		}
		out = append(out, doc{fs[0], fs[1], fs[2]})
	}
	return out, sc.Err()
}

func randomDoc(r *rand.Rand) doc {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	n := make([]byte, 9)
	for i := range n {
		n[i] = alnum[r.IntN(len(alnum))]
	}
	date := func(y0, span int) string {
		return fmt.Sprintf("%02d%02d%02d", (y0+r.IntN(span))%100, 1+r.IntN(12), 1+r.IntN(28))
	}
	return doc{string(n), date(40, 60), date(27, 10)}
}

// printTimeline prints, per 500 ms slot of the measuring window, the
// answers completed in it, their p50 and their maximum latency: a stall
// shows as a slot with few answers and a high maximum.
func printTimeline(workers []*worker, from time.Time, d time.Duration) {
	const slot = 500 * time.Millisecond
	n := int((d + slot - 1) / slot)
	slots := make([][]time.Duration, n)
	for _, w := range workers {
		for i, t := range w.done {
			k := min(int(t.Sub(from)/slot), n-1)
			slots[k] = append(slots[k], w.lat[i])
		}
	}
	for k, s := range slots {
		slices.Sort(s)
		fmt.Fprintf(os.Stderr, "timeline %5.1fs answers=%d p50_ms=%.1f max_ms=%.1f\n",
			(time.Duration(k) * slot).Seconds(), len(s), ms(pct(s, 50)), ms(pct(s, 100)))
	}
}

func pct(s []time.Duration, p int) time.Duration {
	if len(s) == 0 {
		return 0
	}
	i := (len(s)*p+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// cpuTimes returns, per name=pid of spec, the user+system CPU seconds of
// that process and its live children (a postmaster's backends).
func cpuTimes(spec string) map[string]float64 {
	out := map[string]float64{}
	if spec == "" {
		return out
	}
	want := map[int]string{}
	for _, kv := range strings.Split(spec, ",") {
		name, pid, ok := strings.Cut(kv, "=")
		if p, err := strconv.Atoi(pid); ok && err == nil {
			want[p] = name
			out[name] = 0
		}
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15), comm may hold spaces.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		pid, _ := strconv.Atoi(string(bytes.Fields(b[:i])[0]))
		fs := strings.Fields(string(b[i+1:]))
		if len(fs) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(fs[1])
		name, ok := want[pid]
		if !ok {
			name, ok = want[ppid]
		}
		if !ok {
			continue
		}
		ut, _ := strconv.ParseFloat(fs[11], 64)
		st, _ := strconv.ParseFloat(fs[12], 64)
		out[name] += (ut + st) / 100 // USER_HZ is 100 on Linux
	}
	return out
}
