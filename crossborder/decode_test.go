package crossborder

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"borderid/db"
)

func TestDecodeRequestAccepts(t *testing.T) {
	b := []byte(`{"queries": [{"document_type": "P<", "issuing_state": "D", "document_number": "l898902c<3", "date_of_birth": "740812", "date_of_expiry": "120415"},
		{"issuing_state": "UTO", "document_number": "X", "date_of_birth": "000000", "date_of_expiry": "999999"}], "nonce": "AbC-_~"}`)
	rq, err := DecodeRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Request{Nonce: "AbC-_~", Queries: []Query{
		{IssuingState: "D", DocumentNumber: "l898902c<3", DateOfBirth: "740812", DateOfExpiry: "120415", DocumentType: "P<"},
		{IssuingState: "UTO", DocumentNumber: "X", DateOfBirth: "000000", DateOfExpiry: "999999"},
	}}
	got, _ := json.Marshal(rq)
	exp, _ := json.Marshal(want)
	if !bytes.Equal(got, exp) {
		t.Errorf("got %s\nwant %s", got, exp)
	}
}

func TestDecodeRequestRefuses(t *testing.T) {
	q := `{"issuing_state": "UTO", "document_number": "X", "date_of_birth": "740812", "date_of_expiry": "340415"}`
	for _, c := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"nonce": "n", "queries": [` + q + `]`, 400, CodeMalformedJSON},
		{"{\"nonce\": \"n\xff\", \"queries\": []}", 400, CodeMalformedJSON},
		{`[]`, 422, CodeInvalidBody},
		{`{"nonce": "n"}`, 422, CodeMissingField},
		{`{"queries": [` + q + `]}`, 422, CodeMissingField},
		{`{"nonce": "", "queries": [` + q + `]}`, 422, CodeInvalidNonce},
		{`{"nonce": "a b", "queries": [` + q + `]}`, 422, CodeInvalidNonce},
		{`{"nonce": 1, "queries": [` + q + `]}`, 422, CodeInvalidType},
		{`{"nonce": "n", "queries": {}}`, 422, CodeInvalidType},
		{`{"nonce": "n", "queries": ["x"]}`, 422, CodeInvalidType},
		{`{"nonce": "n", "queries": [{"issuing_state": "UTO", "issuing_state": "UTO"}]}`, 422, CodeDuplicateField},
		{`{"nonce": "n", "queries": [{"issuing_state": "uto", "document_number": "X", "date_of_birth": "740812", "date_of_expiry": "340415"}]}`, 422, CodeInvalidState},
		{`{"nonce": "n", "queries": [{"issuing_state": "UTOO", "document_number": "X", "date_of_birth": "740812", "date_of_expiry": "340415"}]}`, 422, CodeInvalidState},
		{`{"nonce": "n", "queries": [{"issuing_state": "UTO", "document_number": "<<<", "date_of_birth": "740812", "date_of_expiry": "340415"}]}`, 422, CodeInvalidNumber},
		{`{"nonce": "n", "queries": [{"issuing_state": "UTO", "document_number": "AB-12", "date_of_birth": "740812", "date_of_expiry": "340415"}]}`, 422, CodeInvalidNumber},
		{`{"nonce": "n", "queries": [{"issuing_state": "UTO", "document_number": "X", "date_of_birth": "74081", "date_of_expiry": "340415"}]}`, 422, CodeInvalidDate},
		{`{"nonce": "n", "queries": [{"issuing_state": "UTO", "document_number": "X", "date_of_birth": "740812", "date_of_expiry": "34041X"}]}`, 422, CodeInvalidDate},
		{`{"nonce": "n", "queries": [{"issuing_state": "UTO", "document_number": "X", "date_of_birth": "740812", "date_of_expiry": "340415", "document_type": "PPP"}]}`, 422, CodeInvalidDocType},
		{`{"nonce": "n", "queries": [` + strings.Repeat(q+",", MaxQueries) + q + `]}`, 413, CodeTooManyQueries},
	} {
		_, err := DecodeRequest([]byte(c.body))
		var he *httpError
		if !errors.As(err, &he) || he.status != c.status || he.code != c.code {
			t.Errorf("%.80s: %v, want %d %s", c.body, err, c.status, c.code)
		}
		if he != nil && strings.Contains(he.message, "740812") {
			t.Errorf("the message echoes a value: %s", he.message)
		}
	}
}

// FuzzDecodeRequest: the decoder never panics, refuses with a 4xx refusal or accepts a request that
// re-encodes to one it accepts again, and never accepts more than MaxQueries.
func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"nonce": "n", "queries": [{"issuing_state": "UTO", "document_number": "L898902C3", "date_of_birth": "740812", "date_of_expiry": "120415", "document_type": "P"}]}`))
	f.Add([]byte(`{"nonce": "n", "queries": [{"issuing_state": "UTO", "issuing_state": "UTO"}]}`))
	f.Add([]byte(`{"nonce": "n", "queries": []}`))
	f.Add([]byte(`{"nonce": "n", "queries": [`))
	f.Add([]byte(`{"Nonce": 1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rq, err := DecodeRequest(b)
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) || he.status < 400 || he.status > 499 || he.code == "" {
				t.Fatalf("error %v is not a 4xx refusal", err)
			}
			return
		}
		if len(rq.Queries) < 1 || len(rq.Queries) > MaxQueries || !validNonce(rq.Nonce) {
			t.Fatalf("accepted %d queries, nonce %q", len(rq.Queries), rq.Nonce)
		}
		again, _ := json.Marshal(rq)
		if _, err := DecodeRequest(again); err != nil {
			t.Fatalf("re-encoded request refused: %v", err)
		}
	})
}

func TestRawSignature(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	d := sha256.Sum256([]byte("x"))
	for i := 0; i < 50; i++ { // short r or s (about 1 in 128) are padded
		der, err := k.Sign(rand.Reader, d[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := rawSignature(der, 32)
		if err != nil || len(raw) != 64 {
			t.Fatalf("%x: %v", raw, err)
		}
		r, s := new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])
		if !ecdsa.Verify(&k.PublicKey, d[:], r, s) {
			t.Fatal("raw signature does not verify")
		}
	}
	for _, bad := range [][]byte{nil, {0x30, 0x00}, {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00}, append(bytes.Repeat([]byte{0}, 3), 1)} {
		if _, err := rawSignature(bad, 32); err == nil {
			t.Errorf("%x accepted", bad)
		}
	}
	big33 := append([]byte{0x30, 0x26, 0x02, 0x21, 0x01}, bytes.Repeat([]byte{1}, 32)...)
	big33 = append(big33, 0x02, 0x01, 0x01)
	if _, err := rawSignature(big33, 32); err == nil {
		t.Error("a 33-byte r accepted")
	}
}

// The opaque signer over a crypto.Signer that returns DER (as the HSM does) makes JWS that go-jose verifies,
// and refuses any algorithm but ES256.
func TestOpaqueSigner(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: opaqueES256{k}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign([]byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	compact, _ := obj.CompactSerialize()
	parsed, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := parsed.Verify(&k.PublicKey); err != nil || string(p) != `{"a":1}` {
		t.Fatalf("%s %v", p, err)
	}
	if _, err := (opaqueES256{k}).SignPayload([]byte("x"), jose.ES384); err == nil {
		t.Error("ES384 accepted")
	}
}

func TestStatusOf(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	today := day(2026, 6, 1)
	base := db.DocumentStatus{DateOfBirth: day(1974, 8, 12), DateOfExpiry: day(2026, 5, 31), Status: db.StatusValid, IssuedAt: day(2016, 6, 1)}
	q := Query{DateOfBirth: "740812", DateOfExpiry: "260531"}
	for _, c := range []struct {
		name          string
		mod           func(*db.DocumentStatus)
		q             Query
		status, since string
	}{
		{"expired yesterday", nil, q, StatusExpired, "2026-06-01"},
		{"valid through today", func(d *db.DocumentStatus) { d.DateOfExpiry = today }, Query{DateOfBirth: "740812", DateOfExpiry: "260601"}, StatusValid, "2016-06-01"},
		{"wrong dob", nil, Query{DateOfBirth: "740813", DateOfExpiry: "260531"}, StatusUnknown, ""},
		{"revoked beats expired", func(d *db.DocumentStatus) { d.Status, d.RevokedSince = db.StatusRevoked, day(2020, 1, 1) }, q, StatusRevoked, "2020-01-01"},
		{"status without its day", func(d *db.DocumentStatus) { d.Status, d.StatusSince = db.StatusLost, day(2021, 2, 3) }, q, StatusLost, "2021-02-03"},
	} {
		d := base
		if c.mod != nil {
			c.mod(&d)
		}
		st, since := statusOf(&d, c.q, today)
		if st != c.status || since != c.since {
			t.Errorf("%s: %s %s, want %s %s", c.name, st, since, c.status, c.since)
		}
	}
}

func TestLimits(t *testing.T) {
	l := newLimits()
	now := time.Date(2026, 6, 1, 23, 59, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		if ok, _ := l.allow("p", 3, now); !ok {
			t.Fatalf("request %d refused within the burst", i)
		}
	}
	if ok, retry := l.allow("p", 3, now); ok || retry < time.Second {
		t.Fatalf("4th request: %v %v", ok, retry)
	}
	if ok, _ := l.allow("p", 3, now.Add(400*time.Millisecond)); !ok {
		t.Fatal("a token did not come back")
	}
	// A lower rate from the registry applies at once.
	l.allow("p", 0.1, now.Add(time.Second))
	if ok, retry := l.allow("p", 0.1, now.Add(time.Second)); ok || retry < 9*time.Second {
		t.Fatalf("the lowered rate was not applied: %v %v", ok, retry)
	}
	if ok, _ := l.spend("p", 5, 10, now); !ok {
		t.Fatal("within quota refused")
	}
	if ok, retry := l.spend("p", 6, 10, now); ok || retry != time.Minute {
		t.Fatalf("over quota: %v %v", ok, retry)
	}
	if ok, _ := l.spend("p", 10, 10, now.Add(time.Minute)); !ok {
		t.Fatal("the quota did not reset on the next UTC day")
	}
	if ok, _ := l.spend("q", 1<<30, 0, now); !ok {
		t.Fatal("no quota refused")
	}
}

// readBody refuses a body over the cap before reading it, and one without a length at the cap.
func TestReadBodyCap(t *testing.T) {
	for _, cl := range []int64{100, -1} {
		req, _ := http.NewRequest(http.MethodPost, "/", io.NopCloser(bytes.NewReader(make([]byte, 100))))
		req.ContentLength = cl
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		_, err := readBody(&nopWriter{}, req, 50)
		var he *httpError
		if !errors.As(err, &he) || he.status != 413 {
			t.Errorf("length %d: %v", cl, err)
		}
	}
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header {
	if w.h == nil {
		w.h = http.Header{}
	}
	return w.h
}
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}
