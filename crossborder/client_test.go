package crossborder

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"borderid/internal/pki"
)

// statusSigner is a status-signing key with its self-signed certificate,
// made as `borderid init` makes pki/status-signer.crt.
type statusSigner struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
}

func newStatusSigner(t testing.TB, country string, kind pki.Kind) statusSigner {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	der, err := pki.Issue(pki.Template{Kind: kind, Country: country, Organization: "borderid test",
		CommonName: country + " Document Status Signer", NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0)},
		key.Public(), nil, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return statusSigner{key: key, cert: c}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// es256 signs the JWS signing input with raw r||s (RFC 7518 §3.4).
func es256(t testing.TB, key *ecdsa.PrivateKey, input string) []byte {
	t.Helper()
	h := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out
}

// compactJWS builds a compact JWS by hand, so that tests can write what
// no well-behaved library would (alg none, HS256, no x5c).
func compactJWS(t testing.TB, header map[string]any, payload []byte, sign func(input string) []byte) string {
	t.Helper()
	hb, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	input := b64(hb) + "." + b64(payload)
	return input + "." + b64(sign(input))
}

// fakeResponder answers POST /v1/crossborder/status from a table, signed by
// signer; the hooks let a test break one thing of the answer.
type fakeResponder struct {
	t       testing.TB
	state   string
	signer  statusSigner
	root    *x509.Certificate   // the registered root; nil: signer.cert
	x5c     []*x509.Certificate // nil: signer.cert
	docs    map[string]Answer   // by number+dob+exp
	payload func(p *Payload)    // change the payload before signing
	raw     func(p []byte) []byte
	header  func(h map[string]any)
	sign    func(input string) []byte
	after   func(compact string) string
	ctype   string
	status  int
	delay   time.Duration

	mu      sync.Mutex
	last    string // the last answer sent
	replay  bool   // send the previous answer again
	lastReq Request
}

func (f *fakeResponder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
			return
		}
	}
	if r.URL.Path != StatusPath || r.Method != http.MethodPost {
		http.Error(w, `{"code":"not_found"}`, http.StatusNotFound)
		return
	}
	if f.status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.status)
		w.Write([]byte(`{"code":"rate_limited","message":"slow down"}`))
		return
	}
	var req Request
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastReq = req
	if f.replay && f.last != "" {
		w.Header().Set("Content-Type", ContentTypeJOSE)
		w.Write([]byte(f.last))
		return
	}
	p := Payload{Responder: f.state, Nonce: req.Nonce, Time: time.Now().UTC().Format(time.RFC3339)}
	for _, q := range req.Queries {
		a, ok := f.docs[q.DocumentNumber+q.DateOfBirth+q.DateOfExpiry]
		if !ok || q.IssuingState != f.state {
			a = Answer{DocumentNumber: q.DocumentNumber, Status: StatusUnknown}
		}
		p.Answers = append(p.Answers, a)
	}
	if f.payload != nil {
		f.payload(&p)
	}
	pb, err := json.Marshal(p)
	if err != nil {
		f.t.Error(err)
	}
	if f.raw != nil {
		pb = f.raw(pb)
	}
	x5c := f.x5c
	if x5c == nil {
		x5c = []*x509.Certificate{f.signer.cert}
	}
	var chain []string
	for _, c := range x5c {
		chain = append(chain, base64.StdEncoding.EncodeToString(c.Raw))
	}
	h := map[string]any{"alg": "ES256", "x5c": chain, "typ": JWSType}
	if f.header != nil {
		f.header(h)
	}
	sign := f.sign
	if sign == nil {
		sign = func(in string) []byte { return es256(f.t, f.signer.key, in) }
	}
	out := compactJWS(f.t, h, pb, sign)
	if f.after != nil {
		out = f.after(out)
	}
	f.last = out
	ct := f.ctype
	if ct == "" {
		ct = ContentTypeJOSE
	}
	w.Header().Set("Content-Type", ct)
	w.Write([]byte(out))
}

// start serves f over TLS and returns the endpoint a client would know:
// the registered root is f's own status signer.
func (f *fakeResponder) start(t *testing.T) Endpoint {
	t.Helper()
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	root := f.root
	if root == nil {
		root = f.signer.cert
	}
	return Endpoint{State: f.state, URL: srv.URL, Root: root, TLS: cfg}
}

func newFake(t *testing.T) *fakeResponder {
	return &fakeResponder{t: t, state: "UTO", signer: newStatusSigner(t, "UT", pki.StatusSigner), docs: map[string]Answer{
		"L898902C3" + "740812" + "340811": {DocumentNumber: "L898902C3", Status: StatusValid, Since: "2024-08-12"},
		"X00000001" + "800131" + "300131": {DocumentNumber: "X00000001", Status: StatusLost, Since: "2026-01-02"},
		"X00000002" + "800131" + "300131": {DocumentNumber: "X00000002", Status: StatusStolen, Since: "2026-01-03"},
		"X00000003" + "800131" + "300131": {DocumentNumber: "X00000003", Status: StatusRevoked, Since: "2026-01-04"},
		"X00000004" + "800131" + "200131": {DocumentNumber: "X00000004", Status: StatusExpired, Since: "2020-02-01"},
	}}
}

var anna = Query{IssuingState: "UTO", DocumentNumber: "L898902C3", DateOfBirth: "740812", DateOfExpiry: "340811", DocumentType: "P"}

func TestAskEveryStatus(t *testing.T) {
	f := newFake(t)
	ep := f.start(t)
	qs := []Query{
		anna,
		{IssuingState: "UTO", DocumentNumber: "x00000001", DateOfBirth: "800131", DateOfExpiry: "300131", DocumentType: "P"},
		{IssuingState: "UTO", DocumentNumber: "X0000<0002", DateOfBirth: "800131", DateOfExpiry: "300131", DocumentType: "P<"},
		{IssuingState: "UTO", DocumentNumber: "X00000003", DateOfBirth: "800131", DateOfExpiry: "300131", DocumentType: "P"},
		{IssuingState: "UTO", DocumentNumber: "X00000004", DateOfBirth: "800131", DateOfExpiry: "200131", DocumentType: "P"},
		// One wrong date: UNKNOWN, never the document's status.
		{IssuingState: "UTO", DocumentNumber: "L898902C3", DateOfBirth: "740813", DateOfExpiry: "340811", DocumentType: "P"},
	}
	p, err := Ask(context.Background(), ep, qs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := []Answer{
		{"L898902C3", StatusValid, "2024-08-12"},
		{"X00000001", StatusLost, "2026-01-02"},
		{"X00000002", StatusStolen, "2026-01-03"},
		{"X00000003", StatusRevoked, "2026-01-04"},
		{"X00000004", StatusExpired, "2020-02-01"},
		{"L898902C3", StatusUnknown, ""},
	}
	if p.Responder != "UTO" || len(p.Answers) != len(want) {
		t.Fatalf("payload %+v", p)
	}
	for i := range want {
		if p.Answers[i] != want[i] {
			t.Errorf("answer %d = %+v, want %+v", i, p.Answers[i], want[i])
		}
	}
	// What went over the wire: normalised numbers and types, a 128-bit
	// base64url nonce.
	if got := f.lastReq.Queries[2]; got.DocumentNumber != "X00000002" || got.DocumentType != "P" {
		t.Errorf("query sent %+v", got)
	}
	if n, err := base64.RawURLEncoding.DecodeString(f.lastReq.Nonce); err != nil || len(n) != 16 {
		t.Errorf("nonce %q", f.lastReq.Nonce)
	}
	// A query about another state's document is never sent to this one:
	// its answer would be taken for that state's word.
	other := anna
	other.IssuingState = "ATL"
	if _, err := Ask(context.Background(), ep, []Query{anna, other}, time.Now()); !errors.Is(err, ErrBadQuery) {
		t.Errorf("an ATL document asked of UTO: %v", err)
	}
}

func TestAskNoncesDiffer(t *testing.T) {
	f := newFake(t)
	ep := f.start(t)
	c := NewClient(ep)
	defer c.Close()
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		if _, err := c.Ask(context.Background(), []Query{anna}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if seen[f.lastReq.Nonce] {
			t.Fatalf("nonce %q sent twice", f.lastReq.Nonce)
		}
		seen[f.lastReq.Nonce] = true
	}
}

// TestAskRefusesBadAnswers: every way an answer can be wrong ends in
// ErrBadAnswer, never in a status.
func TestAskRefusesBadAnswers(t *testing.T) {
	other := newStatusSigner(t, "XA", pki.StatusSigner)
	audit := newStatusSigner(t, "UT", pki.AuditSigner)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(seg int) func(string) string {
		return func(s string) string {
			parts := strings.Split(s, ".")
			b, _ := base64.RawURLEncoding.DecodeString(parts[seg])
			if len(b) == 0 {
				b = []byte{0}
			}
			b[len(b)/2] ^= 0x01
			parts[seg] = b64(b)
			return strings.Join(parts, ".")
		}
	}
	tests := []struct {
		name string
		set  func(f *fakeResponder)
		ep   func(ep *Endpoint)
		msg  string
	}{
		{name: "tampered payload", set: func(f *fakeResponder) { f.after = flip(1) }, msg: ""},
		{name: "payload swapped after signing", set: func(f *fakeResponder) {
			f.after = func(s string) string {
				parts := strings.Split(s, ".")
				b, _ := base64.RawURLEncoding.DecodeString(parts[1])
				parts[1] = b64([]byte(strings.Replace(string(b), StatusValid, StatusStolen, 1)))
				return strings.Join(parts, ".")
			}
		}, msg: "signature"},
		{name: "tampered signature", set: func(f *fakeResponder) { f.after = flip(2) }, msg: "signature"},
		{name: "signature cut", set: func(f *fakeResponder) {
			f.after = func(s string) string { return s[:strings.LastIndex(s, ".")+1] }
		}},
		{name: "alg none", set: func(f *fakeResponder) {
			f.header = func(h map[string]any) { h["alg"] = "none" }
			f.sign = func(string) []byte { return nil }
		}, msg: "ES256"},
		{name: "alg HS256 keyed with the root", set: func(f *fakeResponder) {
			f.header = func(h map[string]any) { h["alg"] = "HS256" }
			f.sign = func(in string) []byte {
				m := hmac.New(sha256.New, f.signer.cert.Raw)
				m.Write([]byte(in))
				return m.Sum(nil)
			}
		}, msg: "ES256"},
		{name: "alg RS256", set: func(f *fakeResponder) {
			f.header = func(h map[string]any) { h["alg"] = "RS256" }
			f.sign = func(in string) []byte {
				h := sha256.Sum256([]byte(in))
				s, _ := rsa.SignPKCS1v15(rand.Reader, rsaKey, crypto.SHA256, h[:])
				return s
			}
		}, msg: "ES256"},
		{name: "alg ES384", set: func(f *fakeResponder) { f.header = func(h map[string]any) { h["alg"] = "ES384" } }, msg: "ES256"},
		{name: "another state's key and certificate", set: func(f *fakeResponder) { f.root, f.signer = f.signer.cert, other }, msg: "chain"},
		{name: "another state's key under our certificate", set: func(f *fakeResponder) {
			f.x5c = []*x509.Certificate{f.signer.cert}
			f.signer = statusSigner{key: other.key, cert: f.signer.cert}
		}, msg: "signature"},
		{name: "typ missing", set: func(f *fakeResponder) { f.header = func(h map[string]any) { delete(h, "typ") } }, msg: "typ"},
		{name: "typ of another kind of token", set: func(f *fakeResponder) { f.header = func(h map[string]any) { h["typ"] = "JWT" } }, msg: "typ"},
		{name: "x5c missing", set: func(f *fakeResponder) { f.header = func(h map[string]any) { delete(h, "x5c") } }, msg: "x5c"},
		{name: "x5c garbage", set: func(f *fakeResponder) { f.header = func(h map[string]any) { h["x5c"] = []string{"AAAA"} } }},
		{name: "jwk instead of x5c", set: func(f *fakeResponder) {
			f.header = func(h map[string]any) {
				delete(h, "x5c")
				h["jwk"] = map[string]string{"kty": "EC", "crv": "P-256",
					"x": b64(f.signer.key.X.FillBytes(make([]byte, 32))), "y": b64(f.signer.key.Y.FillBytes(make([]byte, 32)))}
			}
		}},
		{name: "certificate without OCSP signing", set: func(f *fakeResponder) { f.signer = audit }, ep: func(ep *Endpoint) { ep.Root = audit.cert }, msg: "OCSPSigning"},
		{name: "no registered root", ep: func(ep *Endpoint) { ep.Root = nil }, msg: "root"},
		{name: "stale time", set: func(f *fakeResponder) {
			f.payload = func(p *Payload) { p.Time = time.Now().Add(-3 * time.Minute).UTC().Format(time.RFC3339) }
		}, msg: "time"},
		{name: "future time", set: func(f *fakeResponder) {
			f.payload = func(p *Payload) { p.Time = time.Now().Add(3 * time.Minute).UTC().Format(time.RFC3339) }
		}, msg: "time"},
		{name: "time not UTC", set: func(f *fakeResponder) {
			f.payload = func(p *Payload) { p.Time = time.Now().In(time.FixedZone("X", 3600)).Format(time.RFC3339) }
		}, msg: "UTC"},
		{name: "wrong responder", set: func(f *fakeResponder) { f.payload = func(p *Payload) { p.Responder = "ATL" } }, msg: "answered by"},
		{name: "wrong nonce", set: func(f *fakeResponder) { f.payload = func(p *Payload) { p.Nonce = "AAAAAAAAAAAAAAAAAAAAAA" } }, msg: "nonce"},
		{name: "one answer missing", set: func(f *fakeResponder) { f.payload = func(p *Payload) { p.Answers = p.Answers[:1] } }, msg: "answers to"},
		{name: "one answer too many", set: func(f *fakeResponder) {
			f.payload = func(p *Payload) { p.Answers = append(p.Answers, p.Answers[0]) }
		}, msg: "answers to"},
		{name: "answers out of order", set: func(f *fakeResponder) {
			f.payload = func(p *Payload) { p.Answers[0], p.Answers[1] = p.Answers[1], p.Answers[0] }
		}, msg: "another document"},
		{name: "status not in the set", set: func(f *fakeResponder) { f.payload = func(p *Payload) { p.Answers[0].Status = "valid" } }, msg: "status"},
		{name: "since missing", set: func(f *fakeResponder) { f.payload = func(p *Payload) { p.Answers[0].Since = "" } }, msg: "since"},
		{name: "since with UNKNOWN", set: func(f *fakeResponder) { f.payload = func(p *Payload) { p.Answers[1].Since = "2020-01-01" } }, msg: "since"},
		{name: "since not a date", set: func(f *fakeResponder) { f.payload = func(p *Payload) { p.Answers[0].Since = "2020-13-01" } }, msg: "since"},
		{name: "extra key", set: func(f *fakeResponder) {
			f.raw = func(b []byte) []byte {
				return []byte(strings.Replace(string(b), `{"responder"`, `{"holder":"ANNA","responder"`, 1))
			}
		}, msg: "unexpected key"},
		{name: "extra key in an answer", set: func(f *fakeResponder) {
			f.raw = func(b []byte) []byte {
				return []byte(strings.Replace(string(b), `{"document_number"`, `{"surname":"ERIKSSON","document_number"`, 1))
			}
		}, msg: "unexpected key"},
		{name: "key in another case", set: func(f *fakeResponder) {
			f.raw = func(b []byte) []byte { return []byte(strings.Replace(string(b), `"responder"`, `"Responder"`, 1)) }
		}, msg: "unexpected key"},
		{name: "key twice", set: func(f *fakeResponder) {
			f.raw = func(b []byte) []byte {
				return []byte(strings.Replace(string(b), `{"responder":"UTO"`, `{"responder":"UTO","responder":"UTO"`, 1))
			}
		}, msg: "twice"},
		{name: "data after the payload", set: func(f *fakeResponder) { f.raw = func(b []byte) []byte { return append(b, "{}"...) } }, msg: "after"},
		{name: "payload not JSON", set: func(f *fakeResponder) { f.raw = func([]byte) []byte { return []byte("VALID") } }, msg: "payload"},
		{name: "content type", set: func(f *fakeResponder) { f.ctype = "application/json" }, msg: "content type"},
		{name: "answer over the size cap", set: func(f *fakeResponder) {
			f.after = func(s string) string { return s + strings.Repeat("A", maxAnswerBytes) }
		}, msg: "larger than"},
		{name: "answer without a status", set: func(f *fakeResponder) {
			f.raw = func(b []byte) []byte {
				return []byte(strings.Replace(string(b), `"status":"VALID",`, ``, 1))
			}
		}},
		{name: "JSON serialization", set: func(f *fakeResponder) {
			f.after = func(s string) string {
				p := strings.Split(s, ".")
				return `{"protected":"` + p[0] + `","payload":"` + p[1] + `","signature":"` + p[2] + `"}`
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			if tt.set != nil {
				tt.set(f)
			}
			ep := f.start(t)
			if tt.ep != nil {
				tt.ep(&ep)
			}
			qs := []Query{anna, {IssuingState: "UTO", DocumentNumber: "Z1", DateOfBirth: "800101", DateOfExpiry: "300101"}}
			p, err := Ask(context.Background(), ep, qs, time.Now())
			if !errors.Is(err, ErrBadAnswer) {
				t.Fatalf("Ask = %+v, %v; want ErrBadAnswer", p, err)
			}
			if p != nil {
				t.Errorf("a payload came back with the error: %+v", p)
			}
			if tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestAskRefusesReplayedAnswer(t *testing.T) {
	f := newFake(t)
	ep := f.start(t)
	if _, err := Ask(context.Background(), ep, []Query{anna}, time.Now()); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.replay = true
	f.mu.Unlock()
	// The same signed answer, fresh and valid in every other way, to a new
	// request: its nonce gives it away.
	_, err := Ask(context.Background(), ep, []Query{anna}, time.Now())
	if !errors.Is(err, ErrBadAnswer) || !strings.Contains(err.Error(), "nonce") {
		t.Fatalf("replayed answer: %v", err)
	}
}

func TestAskHTTPErrors(t *testing.T) {
	for _, tt := range []struct {
		status int
		want   error
	}{
		{http.StatusTooManyRequests, ErrRefused},
		{http.StatusUnauthorized, ErrRefused},
		{http.StatusRequestEntityTooLarge, ErrRefused},
		{http.StatusInternalServerError, ErrUnreachable},
		{http.StatusServiceUnavailable, ErrUnreachable},
		{http.StatusNoContent, ErrBadAnswer},
	} {
		f := newFake(t)
		f.status = tt.status
		_, err := Ask(context.Background(), f.start(t), []Query{anna}, time.Now())
		if !errors.Is(err, tt.want) {
			t.Errorf("HTTP %d: %v, want %v", tt.status, err, tt.want)
		}
		if tt.status == http.StatusTooManyRequests && !strings.Contains(err.Error(), "rate_limited") {
			t.Errorf("HTTP 429: %v does not carry the code", err)
		}
	}
}

func TestAskBadQueries(t *testing.T) {
	ep := Endpoint{State: "UTO", URL: "https://127.0.0.1:9"}
	many := make([]Query, MaxQueries+1)
	for i := range many {
		many[i] = anna
	}
	for name, qs := range map[string][]Query{
		"none":        nil,
		"1001":        many,
		"bad dob":     {{IssuingState: "UTO", DocumentNumber: "L898902C3", DateOfBirth: "741312", DateOfExpiry: "340811"}},
		"short exp":   {{IssuingState: "UTO", DocumentNumber: "L898902C3", DateOfBirth: "740812", DateOfExpiry: "3408"}},
		"no number":   {{IssuingState: "UTO", DocumentNumber: "<<<", DateOfBirth: "740812", DateOfExpiry: "340811"}},
		"state":       {{IssuingState: "U1O", DocumentNumber: "L898902C3", DateOfBirth: "740812", DateOfExpiry: "340811"}},
		"number long": {{IssuingState: "UTO", DocumentNumber: strings.Repeat("A", 23), DateOfBirth: "740812", DateOfExpiry: "340811"}},
	} {
		if _, err := Ask(context.Background(), ep, qs, time.Now()); !errors.Is(err, ErrBadQuery) {
			t.Errorf("%s: %v, want ErrBadQuery", name, err)
		}
	}
	if _, err := Ask(context.Background(), Endpoint{State: "UTO", URL: "http://127.0.0.1:9"}, []Query{anna}, time.Now()); !errors.Is(err, ErrBadQuery) {
		t.Errorf("http URL: %v", err)
	}
}

// A full batch of MaxQueries round-trips.
func TestAskFullBatch(t *testing.T) {
	f := newFake(t)
	ep := f.start(t)
	qs := make([]Query, MaxQueries)
	for i := range qs {
		qs[i] = anna
	}
	p, err := Ask(context.Background(), ep, qs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Answers) != MaxQueries || p.Answers[MaxQueries-1].Status != StatusValid {
		t.Fatalf("%d answers", len(p.Answers))
	}
}

// TestAskUnreachableWithinASecond: a partner that is down or slow costs the
// border post at most Timeout, and is ErrUnreachable, never an answer.
func TestAskUnreachableWithinASecond(t *testing.T) {
	// A listener that accepts and never says a word (not even TLS).
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	// A closed port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	// A responder that completes TLS, then takes 2 s to answer.
	slow := newFake(t)
	slow.delay = 2 * time.Second
	slowEP := slow.start(t)

	signer := newStatusSigner(t, "XA", pki.StatusSigner)
	for name, ep := range map[string]Endpoint{
		"silent listener":    {State: "ATL", URL: "https://" + mute.Addr().String(), Root: signer.cert, TLS: &tls.Config{MinVersion: tls.VersionTLS12}},
		"closed port":        {State: "ATL", URL: "https://" + closed, Root: signer.cert, TLS: &tls.Config{MinVersion: tls.VersionTLS12}},
		"slow responder":     slowEP,
		"demo partner port9": {State: "ATL", URL: "https://127.0.0.1:9/", Root: signer.cert},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			q := anna
			q.IssuingState = ep.State
			p, err := Ask(context.Background(), ep, []Query{q}, time.Now())
			took := time.Since(start)
			if !errors.Is(err, ErrUnreachable) || p != nil {
				t.Fatalf("Ask = %+v, %v; want ErrUnreachable", p, err)
			}
			if took > 1500*time.Millisecond {
				t.Fatalf("took %v, want < 1.5 s", took)
			}
			t.Logf("%s: %v after %v", name, err, took.Round(time.Millisecond))
		})
	}
	// A shorter context deadline wins.
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = Ask(ctx, slowEP, []Query{anna}, time.Now())
	if !errors.Is(err, ErrUnreachable) || time.Since(start) > 700*time.Millisecond {
		t.Fatalf("with a 200 ms context: %v after %v", err, time.Since(start))
	}
}

func TestRankAndWorst(t *testing.T) {
	order := []string{StatusStolen, StatusLost, StatusRevoked, StatusExpired, StatusValid, StatusUnknown}
	for i := 0; i+1 < len(order); i++ {
		if Rank(order[i]) <= Rank(order[i+1]) {
			t.Errorf("%s does not outrank %s", order[i], order[i+1])
		}
	}
	if Worst(StatusValid, StatusRevoked, StatusStolen, StatusExpired) != StatusStolen {
		t.Error("stolen-then-revoked is not STOLEN")
	}
	if Worst() != StatusUnknown || Worst(StatusValid, StatusExpired) != StatusExpired {
		t.Error("Worst")
	}
	if ValidStatus("valid") || ValidStatus("") || !ValidStatus(StatusUnknown) {
		t.Error("ValidStatus")
	}
}

// FuzzDecodePayload: the strict payload decoder never panics, and what it
// accepts has exactly the protocol's keys.
func FuzzDecodePayload(f *testing.F) {
	f.Add([]byte(`{"responder":"UTO","nonce":"n","time":"2026-11-27T08:00:00Z","answers":[{"document_number":"L898902C3","status":"VALID","since":"2024-01-02"},{"document_number":"X","status":"UNKNOWN"}]}`))
	f.Add([]byte(`{"responder":"UTO","nonce":"n","time":"t","answers":[]}`))
	f.Add([]byte(`{"responder":"UTO","responder":"UTO"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePayload(b)
		if err != nil {
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", b, err)
		}
		if len(m) != 4 || p.Answers == nil {
			t.Fatalf("accepted %q with keys %v", b, m)
		}
	})
}
