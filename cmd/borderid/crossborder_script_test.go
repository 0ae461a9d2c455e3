package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"borderid/enrol/biometric"
	"borderid/reader/mrz"
)

// TestCrossborderScripts runs the cross-border scenarios in
// testdata/crossborder (issue 6): two states made by `borderid init` in
// $WORK/uto and $WORK/atl, two `serve` instances on loopback, each state
// asking the other. Every home's database cluster is stopped (and removed
// when it lives outside the home, as root) when the script ends.
func TestCrossborderScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("two states, two clusters: not in -short")
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/crossborder",
		Setup: func(env *testscript.Env) error {
			for _, h := range []string{"uto", "atl", "lem"} {
				home := filepath.Join(env.WorkDir, h)
				env.Defer(func() { scriptStopCluster(env.T(), home) })
			}
			env.Setenv("BORDERID_HOME", filepath.Join(env.WorkDir, "nohome"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"xbports":   xbPorts,
			"xbwait":    xbWait,
			"xbhttps":   xbHTTPS,
			"xbissue":   xbIssue,
			"xbmrz":     xbMRZ,
			"elapsed":   xbElapsed,
			"lease":     scriptLease,
			"waitempty": scriptWaitEmpty,
		},
	})
}

// xbports: set $UPORT and $APORT to two TCP ports of 127.0.0.1 that were
// free a moment ago.
func xbPorts(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: xbports")
	}
	var ls []net.Listener
	for _, name := range []string{"UPORT", "APORT"} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			ts.Fatalf("xbports: %v", err)
		}
		ls = append(ls, l)
		ts.Setenv(name, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	for _, l := range ls {
		l.Close()
	}
}

// xbClient trusts HOME's TLS CA and presents HOME's demo client
// certificate pki/clients/NAME ("none": no certificate).
func xbClient(ts *testscript.TestScript, home, name string) *http.Client {
	ca, err := os.ReadFile(filepath.Join(home, "pki", "tls-ca.crt"))
	if err != nil {
		ts.Fatalf("%v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		ts.Fatalf("%s: pki/tls-ca.crt holds no certificate", home)
	}
	cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if name != "none" {
		base := filepath.Join(home, "pki", "clients", name)
		kp, err := tls.LoadX509KeyPair(base+".crt", base+".key")
		if err != nil {
			ts.Fatalf("client %s: %v", name, err)
		}
		cfg.Certificates = []tls.Certificate{kp}
	}
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
}

// xbwait HOME PORT: wait (at most 30 s) until https://127.0.0.1:PORT/healthz
// answers 200, verified with HOME's TLS CA.
func xbWait(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: xbwait HOME PORT")
	}
	c := xbClient(ts, ts.MkAbs(args[0]), "none")
	c.Timeout = 2 * time.Second
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		resp, err := c.Get("https://127.0.0.1:" + args[1] + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	ts.Fatalf("xbwait %s: no answer within 30s: %v", args[1], last)
}

// xbRequest sends one request and returns the status and body.
func xbRequest(ts *testscript.TestScript, home, port, client, method, path string, body []byte, ctype string) (int, http.Header, []byte) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, "https://127.0.0.1:"+port+path, r)
	if err != nil {
		ts.Fatalf("%v", err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := xbClient(ts, home, client).Do(req)
	if err != nil {
		ts.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, b
}

// xbhttps HOME PORT CLIENT METHOD PATH [BODYFILE [CONTENT-TYPE]]: one request
// to https://127.0.0.1:PORT/PATH as HOME's demo client CLIENT; stdout gets
// "status N", "content-type: T", an empty line and the body.
func xbHTTPS(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 5 || len(args) > 7 {
		ts.Fatalf("usage: xbhttps HOME PORT CLIENT METHOD PATH [BODYFILE [CONTENT-TYPE]]")
	}
	var body []byte
	ctype := ""
	if len(args) >= 6 {
		body = []byte(ts.ReadFile(args[5]))
		ctype = "application/json"
		if len(args) == 7 {
			ctype = args[6]
		}
	}
	code, h, b := xbRequest(ts, ts.MkAbs(args[0]), args[1], args[2], args[3], args[4], body, ctype)
	fmt.Fprintf(ts.Stdout(), "status %d\ncontent-type: %s\n\n%s\n", code, h.Get("Content-Type"), b)
}

// xbissue HOME PORT PREFIX: one passport issued by HOME's service through
// its API as its staff would (clerk-office1 creates and finalizes with a
// synthetic face, approver-office1 approves, issuer issues); sets
// $PREFIX_DOC (the document number) and $PREFIX_CHIP (the chip id).
func xbIssue(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: xbissue HOME PORT PREFIX")
	}
	home, port, prefix := ts.MkAbs(args[0]), args[1], args[2]
	nat := "UTO"
	if state, err := homeState(home); err == nil {
		nat = state
	}
	want := func(step string, code, status int, b []byte) {
		if code != status {
			ts.Fatalf("xbissue: %s: status %d, want %d: %s", step, code, status, b)
		}
	}
	app := fmt.Sprintf(`{"surname": "ERIKSSON", "given_names": "ANNA MARIA", "sex": "F", "date_of_birth": "1974-08-12", "nationality": %q, "document_type": "P"}`, nat)
	code, _, b := xbRequest(ts, home, port, "clerk-office1", http.MethodPost, "/v1/enrollments", []byte(app), "application/json")
	want("create", code, http.StatusCreated, b)
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &created); err != nil || created.ID == "" {
		ts.Fatalf("xbissue: create answered %s", b)
	}
	id := created.ID
	code, _, b = xbRequest(ts, home, port, "clerk-office1", http.MethodPut, "/v1/enrollments/"+id+"/biometrics/face", biometric.SyntheticJPEG(300, 400), "image/jpeg")
	want("face", code, http.StatusNoContent, b)
	code, _, b = xbRequest(ts, home, port, "clerk-office1", http.MethodPut, "/v1/enrollments/"+id+"/finalize", nil, "")
	want("finalize", code, http.StatusNoContent, b)
	code, _, b = xbRequest(ts, home, port, "approver-office1", http.MethodPost, "/v1/enrollments/"+id+"/approve", nil, "")
	want("approve", code, http.StatusNoContent, b)
	code, _, b = xbRequest(ts, home, port, "issuer", http.MethodPost, "/v1/enrollments/"+id+"/issue", nil, "")
	want("issue", code, http.StatusOK, b)
	var issued struct {
		DocumentNumber string `json:"document_number"`
		ChipID         string `json:"chip_id"`
	}
	if err := json.Unmarshal(b, &issued); err != nil || issued.DocumentNumber == "" || issued.ChipID == "" {
		ts.Fatalf("xbissue: issue answered %s", b)
	}
	ts.Setenv(prefix+"_DOC", issued.DocumentNumber)
	ts.Setenv(prefix+"_CHIP", issued.ChipID)
	fmt.Fprintf(ts.Stdout(), "issued %s\n", issued.DocumentNumber)
}

// xbmrz FILE PREFIX: read the MRZ lines in FILE and set $PREFIX_STATE,
// $PREFIX_NUM, $PREFIX_DOB and $PREFIX_EXP (YYMMDD).
func xbMRZ(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: xbmrz FILE PREFIX")
	}
	m, err := mrz.Parse(strings.TrimSpace(ts.ReadFile(args[0])))
	if err != nil {
		ts.Fatalf("xbmrz: %v", err)
	}
	p := args[1]
	ts.Setenv(p+"_STATE", m.IssuingState)
	ts.Setenv(p+"_NUM", strings.ReplaceAll(m.DocumentNumber, "<", ""))
	ts.Setenv(p+"_DOB", m.DateOfBirth)
	ts.Setenv(p+"_EXP", m.DateOfExpiry)
}

// elapsed start | elapsed below DURATION: the time since `elapsed start`
// must be below DURATION (the 1 s bound of an unreachable partner, with
// the process start-up around it).
func xbElapsed(ts *testscript.TestScript, neg bool, args []string) {
	switch {
	case len(args) == 1 && args[0] == "start":
		ts.Setenv("ELAPSED_START", strconv.FormatInt(time.Now().UnixNano(), 10))
	case len(args) == 2 && args[0] == "below":
		d, err := time.ParseDuration(args[1])
		if err != nil {
			ts.Fatalf("elapsed: %v", err)
		}
		ns, err := strconv.ParseInt(ts.Getenv("ELAPSED_START"), 10, 64)
		if err != nil {
			ts.Fatalf("elapsed: not started")
		}
		took := time.Since(time.Unix(0, ns))
		fmt.Fprintf(ts.Stdout(), "took %v\n", took.Round(time.Millisecond))
		if (took < d) == neg {
			ts.Fatalf("took %v, want below %v", took, d)
		}
	default:
		ts.Fatalf("usage: elapsed start | elapsed below DURATION")
	}
}
