package crossborder

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The client side of POST /v1/crossborder/status: Ask sends one batch of
// queries to the issuing state's responder and returns its answer only when
// every check of the signed answer passes.

// Errors Ask returns, for callers to branch on with errors.Is. Each is
// wrapped with what went wrong.
var (
	// ErrUnreachable: no answer within Timeout, the connection or the TLS
	// handshake failed, or the responder answered 5xx. The document's
	// status stays unknown to the caller; it is never reported as UNKNOWN.
	ErrUnreachable = errors.New("crossborder: partner unreachable")
	// ErrRefused: the responder answered 4xx (the error code is in the
	// message: rate_limited, too_many_queries, an authentication refusal).
	ErrRefused = errors.New("crossborder: request refused by the responder")
	// ErrBadAnswer: an answer came, but one of its checks failed (content
	// type, JWS algorithm, certificate chain to the registered root,
	// signature, payload shape, responder, nonce, freshness, answer count
	// or order, status values). Nothing of it may be used.
	ErrBadAnswer = errors.New("crossborder: bad status answer")
	// ErrBadQuery: the queries are not what the protocol allows (none,
	// more than MaxQueries, a malformed field); nothing was sent.
	ErrBadQuery = errors.New("crossborder: bad query")
)

// Timeout bounds a whole call of Ask (connection, TLS, request, answer): a
// border post must not wait for a partner that is down or slow.
const Timeout = time.Second

// MaxClockSkew is how far the answer's time may be from the asker's clock.
const MaxClockSkew = 2 * time.Minute

// maxAnswerBytes caps the answer read: a full batch of MaxQueries answers
// with its certificate is well under 200 KB.
const maxAnswerBytes = 1 << 20

// StatusPath is the responder's route, on the mutual-TLS listener.
const StatusPath = "/v1/crossborder/status"

// ContentTypeJOSE is the media type of a compact JWS (RFC 7515 §9.2.1).
const ContentTypeJOSE = "application/jose"

// Endpoint is a responder as the asker knows it: out of band, from the
// partner registry (or, for this state's own registry, from its home).
type Endpoint struct {
	// State is the responder's ICAO alpha-3 code; the answer's responder
	// field must equal it.
	State string
	// URL is the responder's base URL, e.g. https://127.0.0.1:8443.
	URL string
	// Root is the status-signer root registered for the state: the x5c
	// leaf must chain to it, for OCSP signing, at the asker's time.
	Root *x509.Certificate
	// TLS carries the asker's client certificate and the CAs that may
	// issue the responder's server certificate.
	TLS *tls.Config
}

// Client asks one responder, keeping its connections alive between calls
// (for a border station that asks often, and for benchmarks). Its zero
// value is not usable: make one with NewClient.
type Client struct {
	ep   Endpoint
	http *http.Client
	// Rand is the nonce source; nil means crypto/rand.
	Rand io.Reader
}

// NewClient returns a client of ep.
func NewClient(ep Endpoint) *Client {
	cfg := ep.TLS
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tr := &http.Transport{
		TLSClientConfig:     cfg,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: Timeout,
		// No proxy: a partner's endpoint is reached directly, and
		// HTTPS_PROXY from a station's environment must not redirect it.
		Proxy: nil,
	}
	return &Client{ep: ep, http: &http.Client{Transport: tr, Timeout: Timeout,
		// A redirect would take the client certificate elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Close releases the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Ask sends qs to ep once, with a fresh client, and returns the verified
// answer (see Client.Ask).
func Ask(ctx context.Context, ep Endpoint, qs []Query, now time.Time) (*Payload, error) {
	c := NewClient(ep)
	defer c.Close()
	return c.Ask(ctx, qs, now)
}

// Ask sends qs (1..MaxQueries; document numbers are normalised: upper
// case, no spaces or '<' fillers) with a fresh 128-bit nonce and returns
// the answer once it has verified it against the endpoint at time now:
//
//   - the body is a compact JWS (Content-Type application/jose) whose only
//     allowed algorithm is ES256;
//   - its protected header says typ JWSType and carries x5c, whose leaf
//     chains to ep.Root at now, names id-kp-OCSPSigning itself and holds
//     a P-256 key;
//   - the signature verifies with that key;
//   - the payload has exactly the keys responder, nonce, time and answers
//     (each answer exactly document_number, status and since, since
//     omitted for UNKNOWN and only then);
//   - responder is ep.State, nonce is the one sent, time is RFC 3339 UTC
//     within MaxClockSkew of now;
//   - there is one answer per query, in query order, each naming the
//     query's document number, each status one of the six.
//
// Every query must name ep.State as its issuing state (ErrBadQuery
// otherwise). The whole call takes at most Timeout (or less, if ctx ends
// sooner).
func (c *Client) Ask(ctx context.Context, qs []Query, now time.Time) (*Payload, error) {
	qs, err := normaliseQueries(qs)
	if err != nil {
		return nil, err
	}
	// A state answers only for its own documents: an answer of ep.State
	// about another state's document would be taken for that state's word.
	for i, q := range qs {
		if !strings.EqualFold(q.IssuingState, c.ep.State) {
			return nil, fmt.Errorf("%w: query %d is about a document of %s, not of %s", ErrBadQuery, i+1, q.IssuingState, c.ep.State)
		}
	}
	nonce, err := newNonce(c.Rand)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(Request{Nonce: nonce, Queries: qs})
	if err != nil {
		return nil, err
	}
	u, err := statusURL(c.ep.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", ContentTypeJOSE)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnreachable, c.ep.State, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: reading the answer: %v", ErrUnreachable, c.ep.State, err)
	}
	switch {
	case resp.StatusCode >= 500:
		return nil, fmt.Errorf("%w: %s answered %s", ErrUnreachable, c.ep.State, resp.Status)
	case resp.StatusCode >= 400:
		return nil, fmt.Errorf("%w: %s answered %s%s", ErrRefused, c.ep.State, resp.Status, errorCode(raw))
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: %s answered %s", ErrBadAnswer, c.ep.State, resp.Status)
	}
	if len(raw) > maxAnswerBytes {
		return nil, fmt.Errorf("%w: the answer is larger than %d bytes", ErrBadAnswer, maxAnswerBytes)
	}
	if ct := resp.Header.Get("Content-Type"); !isJOSE(ct) {
		return nil, fmt.Errorf("%w: content type %q, want %s", ErrBadAnswer, ct, ContentTypeJOSE)
	}
	return Verify(string(raw), c.ep, nonce, qs, now)
}

// Verify checks a compact JWS answer to the queries qs sent with nonce
// (see Client.Ask for the checks) and returns its payload. It is exported
// for callers that hold an answer they received earlier and must prove
// again what they were told (with now = the time it was received).
func Verify(compact string, ep Endpoint, nonce string, qs []Query, now time.Time) (*Payload, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadAnswer, fmt.Sprintf(format, a...))
	}
	if ep.Root == nil {
		return nil, bad("no status-signer root is registered for %s", ep.State)
	}
	jws, err := jose.ParseSignedCompact(strings.TrimSpace(compact), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, bad("not a compact ES256 JWS: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, bad("%d signatures, want 1", len(jws.Signatures))
	}
	hdr := jws.Signatures[0].Protected
	if hdr.Algorithm != string(jose.ES256) {
		return nil, bad("algorithm %q, want ES256", hdr.Algorithm)
	}
	// Explicit typing (RFC 8725 §3.11): a JWS the status signer made for
	// anything else is not a status answer.
	if typ, _ := hdr.ExtraHeaders[jose.HeaderType].(string); typ != JWSType {
		return nil, bad("typ %q, want %s", typ, JWSType)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ep.Root)
	chains, err := hdr.Certificates(x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
	})
	if err != nil {
		return nil, bad("the signing certificate (x5c) does not chain to %s's registered status-signer root: %v", ep.State, err)
	}
	leaf := chains[0][0]
	// crypto/x509 lets a certificate without extendedKeyUsage pass for any
	// usage; the status signer must say OCSPSigning itself.
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
		return nil, bad("the signing certificate lacks the extended key usage id-kp-OCSPSigning")
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, bad("the signing certificate's key is not ECDSA P-256")
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return nil, bad("signature: %v", err)
	}
	p, err := decodePayload(payload)
	if err != nil {
		return nil, bad("payload: %v", err)
	}
	if p.Responder != ep.State {
		return nil, bad("answered by %q, asked %q", p.Responder, ep.State)
	}
	if p.Nonce != nonce {
		return nil, bad("the nonce is not the one sent (a replayed answer?)")
	}
	t, err := time.Parse(time.RFC3339, p.Time)
	if err != nil || !strings.HasSuffix(p.Time, "Z") {
		return nil, bad("time %q is not RFC 3339 UTC", p.Time)
	}
	if d := t.Sub(now); d > MaxClockSkew || d < -MaxClockSkew {
		return nil, bad("time %s is %v away from ours (at most %v)", p.Time, d.Round(time.Second), MaxClockSkew)
	}
	if len(p.Answers) != len(qs) {
		return nil, bad("%d answers to %d queries", len(p.Answers), len(qs))
	}
	for i, a := range p.Answers {
		if a.DocumentNumber != qs[i].DocumentNumber {
			return nil, bad("answer %d is about another document than query %d", i+1, i+1)
		}
		if !ValidStatus(a.Status) {
			return nil, bad("answer %d: status %q", i+1, a.Status)
		}
		if (a.Status == StatusUnknown) != (a.Since == "") {
			return nil, bad("answer %d: since must be given exactly when the status is not UNKNOWN", i+1)
		}
		if a.Since != "" {
			if _, err := time.Parse(time.DateOnly, a.Since); err != nil {
				return nil, bad("answer %d: since %q is not YYYY-MM-DD", i+1, a.Since)
			}
		}
	}
	return p, nil
}

// decodePayload decodes the payload strictly: exactly the keys of the
// protocol, matched case-sensitively (encoding/json alone would accept
// "Responder" for responder, or a key twice), and nothing after it.
func decodePayload(b []byte) (*Payload, error) {
	top, err := exactObject(b, []string{"responder", "nonce", "time", "answers"}, nil)
	if err != nil {
		return nil, err
	}
	p := &Payload{}
	for k, dst := range map[string]*string{"responder": &p.Responder, "nonce": &p.Nonce, "time": &p.Time} {
		if err := json.Unmarshal(top[k], dst); err != nil {
			return nil, fmt.Errorf("%s: %v", k, err)
		}
	}
	var items []json.RawMessage
	if err := json.Unmarshal(top["answers"], &items); err != nil || items == nil {
		return nil, fmt.Errorf("answers is not an array")
	}
	p.Answers = make([]Answer, 0, len(items))
	for i, it := range items {
		m, err := exactObject(it, []string{"document_number", "status"}, []string{"since"})
		if err != nil {
			return nil, fmt.Errorf("answer %d: %v", i+1, err)
		}
		var a Answer
		if err := json.Unmarshal(m["document_number"], &a.DocumentNumber); err != nil {
			return nil, fmt.Errorf("answer %d: document_number: %v", i+1, err)
		}
		if err := json.Unmarshal(m["status"], &a.Status); err != nil {
			return nil, fmt.Errorf("answer %d: status: %v", i+1, err)
		}
		if s, ok := m["since"]; ok {
			if err := json.Unmarshal(s, &a.Since); err != nil || a.Since == "" {
				return nil, fmt.Errorf("answer %d: since is not a date", i+1)
			}
		}
		p.Answers = append(p.Answers, a)
	}
	return p, nil
}

// exactObject reads one JSON object whose keys are all of required and
// some of optional, each once, and nothing else.
func exactObject(b []byte, required, optional []string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := tok.(string)
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			return nil, fmt.Errorf("unexpected key %q", k)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("key %q twice", k)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the object")
	}
	for _, k := range required {
		if _, ok := out[k]; !ok {
			return nil, fmt.Errorf("missing key %q", k)
		}
	}
	return out, nil
}

// NormaliseNumber is a document number as queries carry it: upper case,
// without spaces and '<' fillers (the form the issuing state's blind index
// is computed over).
func NormaliseNumber(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	return strings.NewReplacer("<", "", " ", "").Replace(s)
}

// NormaliseQueries checks qs as Ask does before anything is sent and
// returns a copy with normalised document numbers and upper-case codes;
// the error wraps ErrBadQuery.
func NormaliseQueries(qs []Query) ([]Query, error) { return normaliseQueries(qs) }

func normaliseQueries(qs []Query) ([]Query, error) {
	if len(qs) == 0 || len(qs) > MaxQueries {
		return nil, fmt.Errorf("%w: %d queries (1 to %d)", ErrBadQuery, len(qs), MaxQueries)
	}
	out := make([]Query, len(qs))
	for i, q := range qs {
		q.IssuingState = strings.ToUpper(strings.TrimSpace(q.IssuingState))
		q.DocumentNumber = NormaliseNumber(q.DocumentNumber)
		q.DocumentType = strings.ToUpper(strings.TrimRight(strings.TrimSpace(q.DocumentType), "<"))
		switch {
		case !alnum(q.DocumentNumber, 1, 22):
			return nil, fmt.Errorf("%w: query %d: document number %q (1 to 22 of A-Z 0-9)", ErrBadQuery, i+1, q.DocumentNumber)
		case !letters(q.IssuingState, 1, 3):
			return nil, fmt.Errorf("%w: query %d: issuing state %q (ICAO three-letter code)", ErrBadQuery, i+1, q.IssuingState)
		case !yymmdd(q.DateOfBirth):
			return nil, fmt.Errorf("%w: query %d: date of birth %q (YYMMDD)", ErrBadQuery, i+1, q.DateOfBirth)
		case !yymmdd(q.DateOfExpiry):
			return nil, fmt.Errorf("%w: query %d: date of expiry %q (YYMMDD)", ErrBadQuery, i+1, q.DateOfExpiry)
		case q.DocumentType != "" && !letters(q.DocumentType, 1, 2):
			return nil, fmt.Errorf("%w: query %d: document type %q", ErrBadQuery, i+1, q.DocumentType)
		}
		out[i] = q
	}
	return out, nil
}

func alnum(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func letters(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// yymmdd accepts six digits forming a month 01-12 and a day 01-31 (the
// MRZ's own dates; the responder compares them as strings).
func yymmdd(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	m := (s[2]-'0')*10 + s[3] - '0'
	d := (s[4]-'0')*10 + s[5] - '0'
	return m >= 1 && m <= 12 && d >= 1 && d <= 31
}

// newNonce is 128 random bits, base64url without padding (22 characters).
func newNonce(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("crossborder: nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func statusURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	if u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("responder URL %q is not https://HOST[:PORT]", base)
	}
	u.Path = strings.TrimRight(u.Path, "/") + StatusPath
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

func isJOSE(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), ContentTypeJOSE)
}

// errorCode returns ": code" of a JSON error body, for the error message.
func errorCode(b []byte) string {
	var e struct {
		Code string `json:"code"`
	}
	if json.Unmarshal(b, &e) == nil && e.Code != "" && alnumLower(e.Code) {
		return ": " + e.Code
	}
	return ""
}

func alnumLower(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
