package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"borderid/db"
	"borderid/enrol/biometric"
	"borderid/internal/pki"
)

// TestEnrolScripts runs the enrolment scenarios in testdata/enrol: a state
// made by `borderid init`, its HTTPS service driven as its staff would with
// their client certificates, and the issued chip read back over a virtual
// reader. Each script gets its own home ($WORK/home); its database cluster
// is stopped (and removed when it lives outside the home, as root) when the
// script ends.
func TestEnrolScripts(t *testing.T) {
	var loads sync.Map // *testscript.TestScript -> *scriptLoad
	testscript.Run(t, testscript.Params{
		Dir: "testdata/enrol",
		Setup: func(env *testscript.Env) error {
			home := env.WorkDir + "/home"
			env.Setenv("BORDERID_HOME", home)
			env.Defer(func() { scriptStopCluster(env.T(), home) })
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"freeport":     scriptFreeport,
			"waithttps":    scriptWaitHTTPS,
			"https":        scriptHTTPS,
			"mkface":       scriptMkface,
			"mkfinger":     scriptMkfinger,
			"nobytes":      scriptNobytes,
			"dbdir":        scriptDBDir,
			"pgcheckpoint": scriptPGCheckpoint,
			"pgdump":       scriptPGDump,
			"pgsql":        scriptPGSQL,
			"envfile":      scriptEnvfile,
			"mkclient":     scriptMkclient,
			"mkzeros":      scriptMkzeros,
			"sodcms":       scriptSODCMS,
			"x509split":    scriptX509Split,
			"load": func(ts *testscript.TestScript, neg bool, args []string) {
				scriptLoadCmd(ts, neg, args, &loads)
			},
			"lease":     scriptLease,
			"waitempty": scriptWaitEmpty,
		},
	})
}

// scriptStopCluster stops the cluster of home if it runs, and removes it
// when it lives outside home (the work folder, which holds the rest, is
// removed by testscript).
func scriptStopCluster(t testscript.T, home string) {
	c, err := db.Locate(home, db.Options{})
	if errors.Is(err, db.ErrNotInitialised) {
		return
	}
	if err != nil {
		t.Log("locate the test cluster: ", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if st, err := c.Status(ctx); err == nil && st.Running {
		if err := c.Stop(ctx); err != nil {
			t.Log("stop the test cluster: ", err)
		}
	}
	if c.Outside {
		if err := os.RemoveAll(c.DataDir); err != nil {
			t.Log("remove the test cluster: ", err)
		}
	}
}

// freeport: set $PORT to a TCP port on 127.0.0.1 that was free a moment ago.
func scriptFreeport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: freeport")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ts.Fatalf("freeport: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ts.Setenv("PORT", strconv.Itoa(port))
}

// scriptHTTPSClient is a client that trusts only the home's TLS CA and presents
// the demo client certificate pki/clients/NAME.{crt,key} ("none": no
// certificate; a NAME with a slash is DIR/NAME.{crt,key} of the work folder,
// made by mkclient).
func scriptHTTPSClient(ts *testscript.TestScript, name string) *http.Client {
	home := ts.Getenv("BORDERID_HOME")
	ca, err := os.ReadFile(filepath.Join(home, "pki", "tls-ca.crt"))
	if err != nil {
		ts.Fatalf("https: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		ts.Fatalf("https: pki/tls-ca.crt holds no certificate")
	}
	cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if name != "none" {
		base := filepath.Join(home, "pki", "clients", name)
		if strings.Contains(name, "/") {
			base = ts.MkAbs(name)
		}
		kp, err := tls.LoadX509KeyPair(base+".crt", base+".key")
		if err != nil {
			ts.Fatalf("https: client %s: %v", name, err)
		}
		cfg.Certificates = []tls.Certificate{kp}
	}
	return &http.Client{
		Timeout: 60 * time.Second,
		// HTTP/2 when the server offers it, as Go clients do by default;
		// each command makes its own client, so no connection is shared.
		Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true, ExpectContinueTimeout: 5 * time.Second},
	}
}

// waithttps URL: wait (at most 20 s) until URL answers 200 over TLS
// verified with the home's TLS CA.
func scriptWaitHTTPS(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waithttps URL")
	}
	c := scriptHTTPSClient(ts, "none")
	c.Timeout = 2 * time.Second
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		resp, err := c.Get(args[0])
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
	ts.Fatalf("waithttps %s: no answer within 20s: %v", args[0], last)
}

// https [-o FILE] [-chunked] CLIENT METHOD PATH [BODYFILE [CONTENT-TYPE]]:
// one request to https://127.0.0.1:$PORT/PATH as the demo client CLIENT
// ("none": no certificate). Standard output gets "status N",
// "content-type: T", "proto: P", an empty line and the body (with -o the
// body goes to FILE instead). -chunked sends the body without a
// Content-Length; a body over 1 MiB is sent with Expect: 100-continue, as
// curl does. $STATUS is set; $ID, $DOC and $CHIP are set from a JSON
// answer's id, document_number and chip_id, and emptied when the answer
// has none (so a failed step leaves no stale value behind). The content
// type of BODYFILE defaults to application/json. Only a transport failure
// (no HTTP answer) fails the command; with ! it must fail so.
func scriptHTTPS(ts *testscript.TestScript, neg bool, args []string) {
	out, chunked := "", false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch {
		case args[0] == "-o" && len(args) >= 2:
			out, args = args[1], args[2:]
		case args[0] == "-chunked":
			chunked, args = true, args[1:]
		default:
			ts.Fatalf("https: unknown option %s", args[0])
		}
	}
	if len(args) < 3 || len(args) > 5 {
		ts.Fatalf("usage: https [-o FILE] [-chunked] CLIENT METHOD PATH [BODYFILE [CONTENT-TYPE]]")
	}
	client, method, path := args[0], args[1], args[2]
	var body io.Reader
	ctype, size := "", 0
	if len(args) >= 4 {
		b := []byte(ts.ReadFile(args[3]))
		size, body = len(b), bytes.NewReader(b)
		if chunked {
			body = io.MultiReader(body) // hides the length: no Content-Length
		}
		ctype = "application/json"
		if len(args) == 5 {
			ctype = args[4]
		}
	}
	req, err := http.NewRequest(method, "https://127.0.0.1:"+ts.Getenv("PORT")+path, body)
	if err != nil {
		ts.Fatalf("https: %v", err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if size > 1<<20 {
		// As curl does for large bodies: the server may refuse it on its
		// headers (413) without the client sending, and losing, the rest.
		req.Header.Set("Expect", "100-continue")
	}
	c := scriptHTTPSClient(ts, client)
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		if neg {
			fmt.Fprintf(ts.Stdout(), "no answer: %v\n", err)
			return
		}
		ts.Fatalf("https %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.Fatalf("https %s %s: reading the answer: %v", method, path, err)
	}
	if neg {
		ts.Fatalf("https %s %s: answered %s, want no answer", method, path, resp.Status)
	}
	ts.Setenv("STATUS", strconv.Itoa(resp.StatusCode))
	w := ts.Stdout()
	fmt.Fprintf(w, "status %d\ncontent-type: %s\nproto: %s\n\n", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Proto)
	if out != "" {
		if err := os.WriteFile(ts.MkAbs(out), b, 0o600); err != nil {
			ts.Fatalf("https: %v", err)
		}
	} else {
		w.Write(b)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			fmt.Fprintln(w)
		}
	}
	var m map[string]any
	json.Unmarshal(b, &m) // m stays nil unless the answer is a JSON object
	for key, v := range map[string]string{"id": "ID", "document_number": "DOC", "chip_id": "CHIP"} {
		s, _ := m[key].(string)
		ts.Setenv(v, s)
	}
}

// mkface FILE W H: a real W x H JPEG (enrol/biometric.SyntheticJPEG, about
// 20 KB at 300x400); its size goes to stdout and to $SIZE.
func scriptMkface(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: mkface FILE W H")
	}
	w, err1 := strconv.Atoi(args[1])
	h, err2 := strconv.Atoi(args[2])
	if err1 != nil || err2 != nil || w <= 0 || h <= 0 {
		ts.Fatalf("mkface: bad size %sx%s", args[1], args[2])
	}
	b := biometric.SyntheticJPEG(w, h)
	if err := os.WriteFile(ts.MkAbs(args[0]), b, 0o600); err != nil {
		ts.Fatalf("mkface: %v", err)
	}
	ts.Setenv("SIZE", strconv.Itoa(len(b)))
	fmt.Fprintf(ts.Stdout(), "%s: JPEG %dx%d, %d bytes\n", args[0], w, h, len(b))
}

// mkclient [-foreign] DIR/NAME OFFICE ROLES: a client certificate and key
// DIR/NAME.{crt,key} in the work folder, CN=NAME, OU=OFFICE ("-": none),
// roles comma-separated ("-": none), issued with -foreign by a fresh CA
// that looks the same as the home's (same names) but is not it. (The
// home's own CA key is in its HSM: `borderid staff issue` uses it.)
func scriptMkclient(ts *testscript.TestScript, neg bool, args []string) {
	foreign := len(args) > 0 && args[0] == "-foreign"
	if foreign {
		args = args[1:]
	}
	if neg || len(args) != 3 || !strings.Contains(args[0], "/") {
		ts.Fatalf("usage: mkclient [-foreign] DIR/NAME OFFICE ROLES")
	}
	if !foreign {
		ts.Fatalf("mkclient: only -foreign (the home's CA key is in its HSM: exec borderid staff issue)")
	}
	ca, err := pki.NewTLSCA("UT", "UTO")
	if err != nil {
		ts.Fatalf("mkclient: %v", err)
	}
	spec := pki.ClientSpec{CommonName: filepath.Base(args[0]), Country: "UT"}
	if args[1] != "-" {
		spec.Office = args[1]
	}
	if args[2] != "-" {
		spec.Roles = strings.Split(args[2], ",")
	}
	crt, key, err := ca.IssueClient(spec)
	if err != nil {
		ts.Fatalf("mkclient: %v", err)
	}
	base := ts.MkAbs(args[0])
	if err := os.MkdirAll(filepath.Dir(base), 0o700); err != nil {
		ts.Fatalf("mkclient: %v", err)
	}
	if err := os.WriteFile(base+".crt", crt, 0o644); err != nil {
		ts.Fatalf("mkclient: %v", err)
	}
	if err := os.WriteFile(base+".key", key, 0o600); err != nil {
		ts.Fatalf("mkclient: %v", err)
	}
}

// mkzeros FILE MB: FILE of MB mebibytes of zeros (a body too large).
func scriptMkzeros(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mkzeros FILE MB")
	}
	mb, err := strconv.Atoi(args[1])
	if err != nil || mb <= 0 || mb > 100 {
		ts.Fatalf("mkzeros: %q mebibytes", args[1])
	}
	if err := os.WriteFile(ts.MkAbs(args[0]), make([]byte, mb<<20), 0o600); err != nil {
		ts.Fatalf("mkzeros: %v", err)
	}
}

// scriptLoad is a stream of requests running beside the script.
type scriptLoad struct {
	stop chan struct{}
	done chan struct{}
	n    int      // requests answered
	bad  []string // answers other than 200, transport errors
}

// load start CLIENT PATH | load stop: start GETs of PATH as CLIENT one after
// the other in the background; stop them and fail unless every one of them
// (at least one) answered 200. It shows that the service keeps serving
// while something else (keys rotate) runs.
func scriptLoadCmd(ts *testscript.TestScript, neg bool, args []string, loads *sync.Map) {
	switch {
	case !neg && len(args) == 3 && args[0] == "start":
		c := scriptHTTPSClient(ts, args[1])
		url := "https://127.0.0.1:" + ts.Getenv("PORT") + args[2]
		l := &scriptLoad{stop: make(chan struct{}), done: make(chan struct{})}
		if _, dup := loads.LoadOrStore(ts, l); dup {
			ts.Fatalf("load: already started")
		}
		go func() {
			defer close(l.done)
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				resp, err := c.Get(url)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %s", resp.Status)
					}
				}
				l.n++
				if err != nil && len(l.bad) < 10 {
					l.bad = append(l.bad, fmt.Sprintf("request %d: %v", l.n, err))
				}
				time.Sleep(5 * time.Millisecond) // a steady stream, not a flood: the machine is shared
			}
		}()
		ts.Defer(func() {
			if v, ok := loads.LoadAndDelete(ts); ok {
				close(v.(*scriptLoad).stop)
				<-v.(*scriptLoad).done
			}
		})
	case !neg && len(args) == 1 && args[0] == "stop":
		v, ok := loads.LoadAndDelete(ts)
		if !ok {
			ts.Fatalf("load: not started")
		}
		l := v.(*scriptLoad)
		close(l.stop)
		<-l.done
		fmt.Fprintf(ts.Stdout(), "%d requests, %d failed\n", l.n, len(l.bad))
		if l.n == 0 || len(l.bad) > 0 {
			ts.Fatalf("load: %d requests:\n%s", l.n, strings.Join(l.bad, "\n"))
		}
	default:
		ts.Fatalf("usage: load start CLIENT PATH | load stop")
	}
}

// sodcms SOD OUT: the CMS ContentInfo inside EF.SOD's application tag 23
// (ICAO 9303-10 §4.7.14), as DER for `openssl cms -inform DER`.
func scriptSODCMS(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sodcms SOD OUT")
	}
	in := cryptobyte.String(ts.ReadFile(args[0]))
	var ci cryptobyte.String
	if !in.ReadASN1(&ci, cbasn1.Tag(0x77)) || !in.Empty() {
		ts.Fatalf("sodcms: %s is not one EF.SOD (tag 77)", args[0])
	}
	if err := os.WriteFile(ts.MkAbs(args[1]), ci, 0o644); err != nil {
		ts.Fatalf("sodcms: %v", err)
	}
}

// x509split CERT TBS SIG: the DER tbsCertificate and the signature value
// (the BIT STRING's content: an ECDSA-Sig-Value) of the PEM certificate
// CERT, so that openssl can check the signature with a key of its choice
// (openssl refuses explicit EC parameters in a chain: ICAO certificates
// carry them).
func scriptX509Split(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: x509split CERT TBS SIG")
	}
	blk, _ := pem.Decode([]byte(ts.ReadFile(args[0])))
	if blk == nil || blk.Type != "CERTIFICATE" {
		ts.Fatalf("x509split: %s holds no PEM certificate", args[0])
	}
	in := cryptobyte.String(blk.Bytes)
	var c, tbs cryptobyte.String
	var sig asn1.BitString
	if !in.ReadASN1(&c, cbasn1.SEQUENCE) || !c.ReadASN1Element(&tbs, cbasn1.SEQUENCE) ||
		!c.SkipASN1(cbasn1.SEQUENCE) || !c.ReadASN1BitString(&sig) || !c.Empty() {
		ts.Fatalf("x509split: %s is not an X.509 certificate", args[0])
	}
	if err := os.WriteFile(ts.MkAbs(args[1]), tbs, 0o644); err != nil {
		ts.Fatalf("x509split: %v", err)
	}
	if err := os.WriteFile(ts.MkAbs(args[2]), sig.RightAlign(), 0o644); err != nil {
		ts.Fatalf("x509split: %v", err)
	}
}

// mkfinger FILE POSITION: an ISO/IEC 19794-4:2005 finger image record of
// one 200x250 PNG view at POSITION (enrol/biometric.FingerRecord).
func scriptMkfinger(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mkfinger FILE POSITION")
	}
	pos, err := strconv.Atoi(args[1])
	if err != nil {
		ts.Fatalf("mkfinger: position %q: %v", args[1], err)
	}
	rec := biometric.FingerRecord(pos, 200, 250, biometric.CompressionPNG, biometric.SyntheticPNG(200, 250))
	if err := os.WriteFile(ts.MkAbs(args[0]), rec, 0o600); err != nil {
		ts.Fatalf("mkfinger: %v", err)
	}
}

// nobytesWindow is the length of the byte strings nobytes looks for: long
// enough that a match is no coincidence, short enough that a record split
// into pages or chunks is still found.
const nobytesWindow = 32

// nobytesNeedle is an encoding of the source file whose windows nobytes
// looks for.
type nobytesNeedle struct {
	name   string // "raw", "hex", "base64+k"
	b      []byte
	length int // the window's length in this encoding
	stride int // windows start at multiples of stride
}

// nobytes SRCFILE DIR...: no regular file under the DIRs (or DIR itself,
// a file) holds any 32-byte window of SRCFILE, in the raw, in lowercase hex
// (bytea as text, as pg_dump writes it) or in base64 (JSON). With ! at
// least one must (to show that the check sees).
func scriptNobytes(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: nobytes SRCFILE DIR...")
	}
	src := []byte(ts.ReadFile(args[0]))
	if len(src) < nobytesWindow {
		ts.Fatalf("nobytes: %s is shorter than %d bytes", args[0], nobytesWindow)
	}
	needles := []nobytesNeedle{
		{"raw", src, nobytesWindow, 1},
		{"hex", []byte(hex.EncodeToString(src)), 2 * nobytesWindow, 2},
	}
	for k := 0; k < 3; k++ {
		// base64 of src[k:] holds 44 characters (33 bytes) from every 4th.
		needles = append(needles, nobytesNeedle{"base64+" + strconv.Itoa(k), []byte(base64.StdEncoding.EncodeToString(src[k:])), 44, 4})
	}
	type ref struct{ n, off int }
	index := map[uint64][]ref{}
	for ni, nd := range needles {
		for off := 0; off+nd.length <= len(nd.b); off += nd.stride {
			key := binary.LittleEndian.Uint64(nd.b[off:])
			index[key] = append(index[key], ref{ni, off})
		}
	}
	var found []string
	scanned, files := int64(0), 0
	for _, dir := range args[1:] {
		dir = ts.MkAbs(dir)
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && path != dir {
					return nil // removed while we walk (PostgreSQL's temp files)
				}
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			b, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			} else if err != nil {
				return err
			}
			files++
			scanned += int64(len(b))
			for j := 0; j+8 <= len(b); j++ {
				refs, ok := index[binary.LittleEndian.Uint64(b[j:])]
				if !ok {
					continue
				}
				for _, r := range refs {
					nd := needles[r.n]
					if j+nd.length <= len(b) && bytes.Equal(b[j:j+nd.length], nd.b[r.off:r.off+nd.length]) {
						found = append(found, fmt.Sprintf("%s offset %d holds %s bytes of %s (window at %d)", path, j, nd.name, args[0], r.off))
						return nil // one finding per file is enough
					}
				}
			}
			return nil
		})
		if err != nil {
			ts.Fatalf("nobytes: %v", err)
		}
	}
	fmt.Fprintf(ts.Stdout(), "scanned %d files, %d bytes\n", files, scanned)
	switch {
	case neg && len(found) == 0:
		ts.Fatalf("nobytes: no file under %v holds bytes of %s", args[1:], args[0])
	case !neg && len(found) > 0:
		ts.Fatalf("nobytes: %s found in clear:\n%s", args[0], strings.Join(found, "\n"))
	}
}

// scriptCluster is the cluster of $BORDERID_HOME.
func scriptCluster(ts *testscript.TestScript) *db.Cluster {
	c, err := db.Locate(ts.Getenv("BORDERID_HOME"), db.Options{})
	if err != nil {
		ts.Fatalf("locate the cluster: %v", err)
	}
	return c
}

// dbdir: set $DBDIR to the data folder of $BORDERID_HOME's cluster (outside
// the home when running as root).
func scriptDBDir(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: dbdir")
	}
	c := scriptCluster(ts)
	ts.Setenv("DBDIR", c.DataDir)
	fmt.Fprintf(ts.Stdout(), "%s (outside the home: %t)\n", c.DataDir, c.Outside)
}

// pgcheckpoint: CHECKPOINT as the owner role, so that the data files (not
// only the WAL) hold what was committed.
func scriptPGCheckpoint(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: pgcheckpoint")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := db.Open(ctx, scriptCluster(ts), db.Owner)
	if err != nil {
		ts.Fatalf("pgcheckpoint: %v", err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "CHECKPOINT"); err != nil {
		ts.Fatalf("pgcheckpoint: %v", err)
	}
}

// pgsql FILE: run the SQL statements of FILE (simple protocol, one
// implicit transaction) on one connection as the owner role, the
// cluster's superuser: what an insider with <home>/secrets/pg-owner can do.
// Rows that statements return go to stdout, one a line, columns separated
// by " | ". With ! the statements must fail.
func scriptPGSQL(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: pgsql FILE")
	}
	sql := ts.ReadFile(args[0])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := db.Open(ctx, scriptCluster(ts), db.Owner)
	if err != nil {
		ts.Fatalf("pgsql: %v", err)
	}
	defer pool.Close()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		ts.Fatalf("pgsql: %v", err)
	}
	defer conn.Release()
	results, err := conn.Conn().PgConn().Exec(ctx, sql).ReadAll()
	w := ts.Stdout()
	for _, r := range results {
		for _, row := range r.Rows {
			cols := make([]string, len(row))
			for i, c := range row {
				cols[i] = string(c)
			}
			fmt.Fprintln(w, strings.Join(cols, " | "))
		}
	}
	switch {
	case err != nil && !neg:
		ts.Fatalf("pgsql %s: %v", args[0], err)
	case err == nil && neg:
		ts.Fatalf("pgsql %s: succeeded, want an error", args[0])
	case err != nil:
		fmt.Fprintf(w, "%v\n", err)
	}
}

// envfile VAR FILE: set $VAR to the content of FILE, trailing white space
// removed (a PIN from <home>/secrets, which no script should print).
func scriptEnvfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: envfile VAR FILE")
	}
	ts.Setenv(args[0], strings.TrimRight(ts.ReadFile(args[1]), " \t\r\n"))
}

// pgdump FILE: a plain-text pg_dump of the service's database as the owner
// role (password from <home>/secrets/pg-owner).
func scriptPGDump(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: pgdump FILE")
	}
	c := scriptCluster(ts)
	pw, err := os.ReadFile(filepath.Join(ts.Getenv("BORDERID_HOME"), "secrets", "pg-owner"))
	if err != nil {
		ts.Fatalf("pgdump: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(db.DefaultBinDir, "pg_dump"),
		"--host=127.0.0.1", "--port="+strconv.Itoa(c.Port), "--username="+db.Owner.String(),
		"--dbname="+c.Database, "--no-password", "--file="+ts.MkAbs(args[0]))
	cmd.Env = append(os.Environ(), "PGPASSWORD="+strings.TrimSpace(string(pw)))
	if out, err := cmd.CombinedOutput(); err != nil {
		ts.Fatalf("pgdump: %v\n%s", err, out)
	}
}
