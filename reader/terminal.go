package reader

// The inspection system's credentials for Terminal Authentication: its CV
// certificate chain (BSI TR-03110-3 App. C) and its private key, loaded
// from the `--terminal DIR` folder of `borderid read`:
//
//   - every `*.cvcert` file: one CV certificate each (CVCA, CVCA link
//     certificates, DV, IS), put in chain order by their CAR and CHR, not
//     by their names;
//   - `is.pkcs8`: the inspection system's private key, PKCS#8 (RFC 5208)
//     in DER or PEM ("PRIVATE KEY"), RSA or EC on any curve of
//     internal/ec. crypto/x509 does not know the brainpool curves, so the
//     structure is read here with cryptobyte;
//   - or `is.uri`: a PKCS#11 URI (RFC 7512, one line) naming the key in an
//     HSM, with its module-path, opened by internal/signer (the only code
//     that talks to the HSM); the PIN comes from BORDERID_PKCS11_PIN, else
//     from the URI's pin-value (weaker: anyone who can read the folder has
//     it). The key stays in the HSM; the Terminal then holds a PKCS#11
//     session, which Terminal.Close releases.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"borderid/internal/cvc"
	"borderid/internal/ec"
	"borderid/internal/signer"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Errors of the terminal folder.
var (
	// ErrTerminalConfig: the folder or the certificates and key given to
	// NewTerminal cannot make an inspection system (no IS certificate,
	// an unreadable certificate or key, a key that is not the IS
	// certificate's).
	ErrTerminalConfig = errors.New("reader: invalid terminal credentials")
	// ErrPKCS11Unsupported: the folder's is.uri is a valid PKCS#11 URI
	// that internal/signer cannot open as written: no module-path (it
	// searches for no module), a pin-source, or a token or key selected
	// by attributes it cannot check (see signer.Open). Other failures of
	// is.uri (wrong PIN, absent key, unloadable module) are
	// ErrTerminalConfig wrapping the signer's error.
	ErrPKCS11Unsupported = errors.New("reader: PKCS#11 URI (is.uri) not supported")
)

// Names inside a terminal folder.
const (
	TerminalKeyFile = "is.pkcs8" // PKCS#8 private key, DER or PEM
	TerminalURIFile = "is.uri"   // PKCS#11 URI of the key in an HSM
	TerminalCertExt = ".cvcert"  // one CV certificate per file
	// TerminalPINEnv is the environment variable LoadTerminal reads the
	// PKCS#11 PIN from.
	TerminalPINEnv = "BORDERID_PKCS11_PIN"
)

// Limits of a terminal folder: a CV certificate is a few hundred bytes
// (an RSA-4096 one about 1.1 KB), a chain a handful of them.
const (
	maxTerminalCerts    = 32
	maxTerminalFileSize = 64 << 10
	maxTerminalPath     = 8 // CVCA links + DV + IS sent in one TA
)

// Terminal is an inspection system: its CV certificates and the private
// key of its IS certificate.
type Terminal struct {
	// Certificates are all the certificates given, in chain order: each
	// issuer before the certificates it signed where the CAR/CHR links
	// say so (ties by CHR), the inspection system's last.
	Certificates []*cvc.Certificate
	// IS is the inspection system's certificate, whose key Signer holds.
	IS *cvc.Certificate
	// Signer signs the Terminal Authentication challenge: any
	// crypto.Signer (an *ec.PrivateKey, an *ecdsa or *rsa key, an HSM
	// key). ECDSA signers may return DER; it is converted to r||s.
	Signer crypto.Signer
}

// LoadTerminal reads a terminal folder: the *.cvcert certificates and
// is.pkcs8 or is.uri, whose PIN it reads from $BORDERID_PKCS11_PIN. It is
// LoadTerminalPIN without a deadline. Close the Terminal when done.
func LoadTerminal(dir string) (*Terminal, error) {
	return LoadTerminalPIN(context.Background(), dir, os.Getenv(TerminalPINEnv))
}

// LoadTerminalPIN reads a terminal folder with the PKCS#11 PIN given (""
// for none: is.uri's pin-value, if any, is then used). ctx bounds the
// opening of an HSM key.
func LoadTerminalPIN(ctx context.Context, dir, pin string) (*Terminal, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTerminalConfig, err)
	}
	var certs [][]byte
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), TerminalCertExt) || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if len(certs) == maxTerminalCerts {
			return nil, fmt.Errorf("%w: more than %d certificates in %s", ErrTerminalConfig, maxTerminalCerts, dir)
		}
		b, err := readTerminalFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		certs = append(certs, b)
	}
	keyPath := filepath.Join(dir, TerminalKeyFile)
	uriPath := filepath.Join(dir, TerminalURIFile)
	kb, kerr := readTerminalFile(keyPath)
	_, uerr := os.Stat(uriPath)
	switch {
	case kerr == nil && uerr == nil:
		return nil, fmt.Errorf("%w: both %s and %s in %s", ErrTerminalConfig, TerminalKeyFile, TerminalURIFile, dir)
	case kerr == nil:
	case errors.Is(kerr, os.ErrNotExist) && uerr == nil:
		return loadTerminalPKCS11(ctx, certs, uriPath, pin)
	case errors.Is(kerr, os.ErrNotExist):
		return nil, fmt.Errorf("%w: no %s or %s in %s", ErrTerminalConfig, TerminalKeyFile, TerminalURIFile, dir)
	default:
		return nil, kerr
	}
	key, err := ParseTerminalKey(kb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	return NewTerminal(certs, key)
}

// loadTerminalPKCS11 opens the key is.uri names and makes the terminal
// with it; the HSM session is closed again if the key is not the IS
// certificate's.
func loadTerminalPKCS11(ctx context.Context, certs [][]byte, uriPath, pin string) (*Terminal, error) {
	b, err := readTerminalFile(uriPath)
	if err != nil {
		return nil, err
	}
	u, err := signer.ParseURI(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrTerminalConfig, uriPath, err)
	}
	key, err := signer.Open(ctx, u, pin)
	switch {
	case errors.Is(err, signer.ErrNoModule) || errors.Is(err, signer.ErrUnsupported):
		return nil, fmt.Errorf("%w: %s: %w", ErrPKCS11Unsupported, uriPath, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %s: %w", ErrTerminalConfig, uriPath, err)
	}
	t, err := NewTerminal(certs, key)
	if err != nil {
		key.Close()
		return nil, err
	}
	return t, nil
}

// Close releases the signer when it holds a resource (an HSM session of
// is.uri); for a key in memory it does nothing.
func (t *Terminal) Close() error {
	if t == nil {
		return nil
	}
	if c, ok := t.Signer.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func readTerminalFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrTerminalConfig, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTerminalFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTerminalConfig, err)
	}
	if len(b) > maxTerminalFileSize {
		return nil, fmt.Errorf("%w: %s is over %d bytes", ErrTerminalConfig, path, maxTerminalFileSize)
	}
	return b, nil
}

// NewTerminal parses the certificates, orders them by CAR and CHR and
// checks that signer's public key is the one of the (only) inspection
// system certificate among them. It verifies no signature: the chip does
// that, and a terminal cannot know which CVCA a chip trusts before it
// reads EF.CVCA.
func NewTerminal(certs [][]byte, signer crypto.Signer) (*Terminal, error) {
	if signer == nil {
		return nil, fmt.Errorf("%w: no signing key", ErrTerminalConfig)
	}
	if len(certs) > maxTerminalCerts {
		return nil, fmt.Errorf("%w: %d certificates (at most %d)", ErrTerminalConfig, len(certs), maxTerminalCerts)
	}
	t := &Terminal{Signer: signer}
	type holderIssuer struct{ chr, car string }
	seen := make(map[holderIssuer]bool)
	for i, raw := range certs {
		c, err := cvc.Parse(bytes.Clone(raw))
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %w", ErrTerminalConfig, i+1, err)
		}
		// A CHR names one key (TR-03110-3 A.6.1), but one key may be
		// certified by more than one issuer: after a CVCA rollover the
		// new CVCA has a self-signed certificate and a link certificate
		// signed by the old one, both with its CHR (TR-03110-3 §2.2.2).
		// Two certificates of one holder by one issuer would make the
		// path ambiguous.
		k := holderIssuer{c.CHR, c.CAR}
		if seen[k] {
			return nil, fmt.Errorf("%w: two certificates for %s issued by %s", ErrTerminalConfig, c.CHR, c.CAR)
		}
		seen[k] = true
		if c.Role == cvc.RoleIS {
			if t.IS != nil {
				return nil, fmt.Errorf("%w: two inspection system certificates (%s, %s)", ErrTerminalConfig, t.IS.CHR, c.CHR)
			}
			t.IS = c
		}
		t.Certificates = append(t.Certificates, c)
	}
	if t.IS == nil {
		return nil, fmt.Errorf("%w: no inspection system (IS) certificate", ErrTerminalConfig)
	}
	if err := keyMatches(t.IS, signer.Public()); err != nil {
		return nil, fmt.Errorf("%w: IS %s: %w", ErrTerminalConfig, t.IS.CHR, err)
	}
	t.Certificates = chainOrder(t.Certificates)
	return t, nil
}

// chainOrder sorts certificates so that each comes after its issuers:
// by depth from a root (a self-signed certificate, or one whose issuer
// is absent), the longest way when a key has certificates from more than
// one issuer (a new CVCA's self-signed and link certificates), ties by
// CHR, then CAR.
func chainOrder(certs []*cvc.Certificate) []*cvc.Certificate {
	byCHR := make(map[string][]*cvc.Certificate, len(certs))
	for _, c := range certs {
		byCHR[c.CHR] = append(byCHR[c.CHR], c)
	}
	depths := make(map[*cvc.Certificate]int, len(certs))
	const visiting = -1
	var depth func(c *cvc.Certificate) int
	depth = func(c *cvc.Certificate) int {
		switch d, ok := depths[c]; {
		case ok && d == visiting:
			return 0 // a cycle of cross-certificates: cut it here
		case ok:
			return d
		}
		if c.IsSelfSigned() {
			depths[c] = 0
			return 0
		}
		depths[c] = visiting
		d := 0
		for _, p := range byCHR[c.CAR] {
			if p != c {
				d = max(d, depth(p)+1)
			}
		}
		depths[c] = d
		return d
	}
	out := append([]*cvc.Certificate(nil), certs...)
	for _, c := range out {
		depth(c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		di, dj := depths[out[i]], depths[out[j]]
		if di != dj {
			return di < dj
		}
		if out[i].CHR != out[j].CHR {
			return out[i].CHR < out[j].CHR
		}
		return out[i].CAR < out[j].CAR
	})
	return out
}

// keyMatches reports whether pub is the key of certificate c.
func keyMatches(c *cvc.Certificate, pub crypto.PublicKey) error {
	pk := &c.PublicKey
	switch k := pub.(type) {
	case *ec.PublicKey:
		if !pk.Algorithm.IsECDSA() || !bytes.Equal(k.Bytes(), pk.Point) {
			return errors.New("the private key is not the certificate's")
		}
	case *ecdsa.PublicKey:
		pt, err := ecdsaUncompressed(k)
		if err != nil || !pk.Algorithm.IsECDSA() || !bytes.Equal(pt, pk.Point) {
			return errors.New("the private key is not the certificate's")
		}
	case *rsa.PublicKey:
		if !pk.Algorithm.IsRSA() || pk.N == nil || pk.E == nil || k.N.Cmp(pk.N) != 0 || big.NewInt(int64(k.E)).Cmp(pk.E) != 0 {
			return errors.New("the private key is not the certificate's")
		}
	default:
		// An HSM signer may expose its public key in a form of its own;
		// the chip's verdict on the signature is then the only check.
	}
	return nil
}

// ecdsaUncompressed encodes a crypto/ecdsa key as 04 || x || y with fixed
// lengths (SEC 1 §2.3.3), never big.Int.Bytes.
func ecdsaUncompressed(k *ecdsa.PublicKey) ([]byte, error) {
	if k.Curve == nil || k.X == nil || k.Y == nil {
		return nil, errors.New("incomplete ECDSA key")
	}
	n := (k.Curve.Params().BitSize + 7) / 8
	if k.X.Sign() < 0 || k.Y.Sign() < 0 || k.X.BitLen() > 8*n || k.Y.BitLen() > 8*n {
		return nil, errors.New("ECDSA coordinates out of range")
	}
	out := make([]byte, 1+2*n)
	out[0] = 4
	k.X.FillBytes(out[1 : 1+n])
	k.Y.FillBytes(out[1+n:])
	return out, nil
}

// byCHR finds a certificate by holder reference: the self-signed one when
// the key also has a link certificate, which carries the same key, domain
// and, for a CVCA, the rights of the same trust point.
func (t *Terminal) byCHR(chr string) *cvc.Certificate {
	var found *cvc.Certificate
	for _, c := range t.Certificates {
		if c.CHR != chr {
			continue
		}
		if c.IsSelfSigned() {
			return c
		}
		if found == nil {
			found = c
		}
	}
	return found
}

// issuersOf are the certificates of the key that signed c (CHR = c's
// CAR), c itself excepted: a link certificate before a self-signed one,
// since only the link leads on towards an older CVCA.
func (t *Terminal) issuersOf(c *cvc.Certificate) []*cvc.Certificate {
	var link, self []*cvc.Certificate
	for _, p := range t.Certificates {
		switch {
		case p == c || p.CHR != c.CAR:
		case p.IsSelfSigned():
			self = append(self, p)
		default:
			link = append(link, p)
		}
	}
	return append(link, self...)
}

// Path returns the certificates to present to a chip that trusts the CVCA
// key car, in the order to send them: CVCA link certificates from car on
// (if the chip's CVCA is older than the one that signed the DV), the DV,
// the IS; the shortest such path when the folder holds several (a new
// CVCA's self-signed certificate beside its link certificate). The
// certificate named car itself is never part of it: the chip has that
// key. domain is the EC domain of the IS key (that of the last CVCA key
// on the path, TR-03110-3 D.3.3), nil for RSA or when the terminal does
// not hold that CVCA's certificate (an EC signer that knows its own curve
// does not need it). ErrNoTerminalPath: the certificates do not lead from
// car to the IS. ErrTerminalConfig: the signer's key is not on the
// chain's curve (see checkSignerCurve for what can be checked).
func (t *Terminal) Path(car string) (path []*cvc.Certificate, domain *cvc.ECDomain, err error) {
	if t == nil || t.IS == nil {
		return nil, nil, fmt.Errorf("%w: no terminal", ErrNoTerminalPath)
	}
	// Breadth first from the IS towards the roots until a certificate
	// issued by the chip's CAR is reached; next links each certificate to
	// the one it signed (the next on the path to the chip).
	next := map[*cvc.Certificate]*cvc.Certificate{t.IS: nil}
	level := []*cvc.Certificate{t.IS}
	var end *cvc.Certificate
	var roots, missing []string
	tooLong := false
	for depth := 1; len(level) > 0 && end == nil; depth++ {
		var up []*cvc.Certificate
		for _, c := range level {
			if c.CAR == car {
				end = c
				break
			}
			if c.IsSelfSigned() {
				roots = append(roots, c.CHR)
				continue
			}
			ps := t.issuersOf(c)
			if len(ps) == 0 {
				missing = append(missing, fmt.Sprintf("%s, which signed %s", c.CAR, c.CHR))
			}
			for _, p := range ps {
				if _, ok := next[p]; ok {
					continue
				}
				if depth == maxTerminalPath {
					tooLong = true
					continue
				}
				next[p] = c
				up = append(up, p)
			}
		}
		level = up
	}
	switch {
	case end != nil:
	case tooLong:
		return nil, nil, fmt.Errorf("%w: from %s: more than %d certificates", ErrNoTerminalPath, car, maxTerminalPath)
	case len(missing) > 0:
		return nil, nil, fmt.Errorf("%w: the chip trusts %s; the terminal has no certificate for %s", ErrNoTerminalPath, car, strings.Join(missing, "; "))
	default:
		return nil, nil, fmt.Errorf("%w: the chip trusts %s, the terminal's chain ends at %s", ErrNoTerminalPath, car, strings.Join(roots, ", "))
	}
	for c := end; c != nil; c = next[c] {
		path = append(path, c)
	}
	// The domain of the IS key: the last CVCA key on the path, else the
	// chip's CVCA itself when the terminal holds its certificate.
	if cv := t.byCHR(car); cv != nil && cv.Role == cvc.RoleCVCA {
		domain = cv.PublicKey.Domain
	}
	for _, c := range path {
		if c.Role == cvc.RoleCVCA {
			domain = c.PublicKey.Domain
		}
	}
	if err := t.checkSignerCurve(path, domain); err != nil {
		return nil, nil, err
	}
	return path, domain, nil
}

// checkSignerCurve refuses an EC signer that is not on the curve of the
// chain it signs for: DV and IS keys take their domain parameters from
// the CVCA (TR-03110-3 D.3.3), and a key on another curve with an order
// of the same length (P-256 under brainpoolP256r1) would sign plain
// signatures the chip refuses only at EXTERNAL AUTHENTICATE.
//
// What can be checked: with the domain of the last CVCA key on the path
// (its certificate in the folder), the curves must be the same. Without
// it, the DV and IS certificates carry no parameters; the DV's public
// point (certified on the chain's curve) must then lie on the signer's
// curve, which a point of another curve does with negligible probability.
// A signer whose curve is unknown (an HSM key with an opaque public key)
// is not checked: cvc.Sign takes the order from the domain, and the chip
// has the last word.
func (t *Terminal) checkSignerCurve(path []*cvc.Certificate, domain *cvc.ECDomain) error {
	if !t.IS.PublicKey.Algorithm.IsECDSA() {
		return nil
	}
	sd, err := cvc.DomainOf(t.Signer.Public())
	if err != nil {
		return nil
	}
	sc, err := sd.Curve()
	if err != nil {
		return nil
	}
	if domain != nil {
		dc, err := domain.Curve()
		if err != nil {
			return fmt.Errorf("%w: the CVCA's domain: %w", ErrTerminalConfig, err)
		}
		if dc.ID() != sc.ID() {
			return fmt.Errorf("%w: IS %s: the key is on %s, the chain's CVCA domain is %s", ErrTerminalConfig, t.IS.CHR, sc.Name(), dc.Name())
		}
		return nil
	}
	// The certificates after the last CVCA on the path share its domain.
	for i := len(path) - 1; i >= 0 && path[i].Role != cvc.RoleCVCA; i-- {
		c := path[i]
		if c == t.IS {
			continue // its point is the signer's own (keyMatches)
		}
		ok := c.PublicKey.Algorithm.IsECDSA()
		if ok && c.PublicKey.Domain != nil {
			// Parameters where D.3.3 puts none: compare them instead.
			dc, err := c.PublicKey.Domain.Curve()
			ok = err == nil && dc.ID() == sc.ID()
		} else if ok {
			ok = cvc.CheckKey(&c.PublicKey, sd) == nil
		}
		if !ok {
			return fmt.Errorf("%w: IS %s: the key is on %s, %s's key is not", ErrTerminalConfig, t.IS.CHR, sc.Name(), c.CHR)
		}
	}
	return nil
}

// ParseTerminalKey reads an inspection system's private key: PKCS#8
// (RFC 5208 PrivateKeyInfo, or RFC 5958 OneAsymmetricKey version 2) in DER
// or PEM ("PRIVATE KEY"). RSA keys go to crypto/x509; EC keys (RFC 5915
// ECPrivateKey inside) are read here on any curve of internal/ec, named by
// OID or by explicit parameters equal to a known curve's, and returned as
// an *ec.PrivateKey. Encrypted PKCS#8 is not supported.
func ParseTerminalKey(b []byte) (crypto.Signer, error) {
	if bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("-----BEGIN")) {
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("%w: PEM block is not \"PRIVATE KEY\" (PKCS#8)", ErrTerminalConfig)
		}
		b = blk.Bytes
	}
	in := cryptobyte.String(b)
	var pki, algID cryptobyte.String
	var version int64
	var oid asn1.ObjectIdentifier
	var priv []byte
	if !in.ReadASN1(&pki, cbasn1.SEQUENCE) || !in.Empty() ||
		!pki.ReadASN1Integer(&version) || (version != 0 && version != 1) ||
		!pki.ReadASN1(&algID, cbasn1.SEQUENCE) || !algID.ReadASN1ObjectIdentifier(&oid) ||
		!pki.ReadASN1Bytes(&priv, cbasn1.OCTET_STRING) {
		return nil, fmt.Errorf("%w: malformed PKCS#8 PrivateKeyInfo", ErrTerminalConfig)
	}
	// attributes [0] and, in version 2, publicKey [1] may follow.
	if !pki.SkipOptionalASN1(cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!pki.SkipOptionalASN1(cbasn1.Tag(1).ContextSpecific()) || !pki.Empty() {
		return nil, fmt.Errorf("%w: malformed PKCS#8 trailer", ErrTerminalConfig)
	}
	switch {
	case oid.Equal(oidRSAEncryption):
		k, err := x509.ParsePKCS8PrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("%w: RSA key: %w", ErrTerminalConfig, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: rsaEncryption key of type %T", ErrTerminalConfig, k)
		}
		return rk, nil
	case oid.Equal(oidECPublicKey):
		curve, err := terminalKeyCurve(algID)
		if err != nil {
			return nil, err
		}
		return parseECPrivateKey(priv, curve)
	}
	return nil, fmt.Errorf("%w: key algorithm %v (RSA or EC only)", ErrTerminalConfig, oid)
}

// terminalKeyCurve reads the curve of an id-ecPublicKey AlgorithmIdentifier:
// a named curve OID or explicit ECParameters (SEC 1 §C.2).
func terminalKeyCurve(params cryptobyte.String) (*ec.Curve, error) {
	switch {
	case params.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER):
		var id asn1.ObjectIdentifier
		if !params.ReadASN1ObjectIdentifier(&id) || !params.Empty() {
			return nil, fmt.Errorf("%w: malformed named curve", ErrTerminalConfig)
		}
		return curveByOID(id)
	case params.PeekASN1Tag(cbasn1.SEQUENCE):
		ex, err := parseECParameters(params)
		if err != nil {
			return nil, fmt.Errorf("%w: explicit EC parameters: %v", ErrTerminalConfig, err)
		}
		c, ok := ec.MatchParams(ex.p, ex.a, ex.b, ex.gx, ex.gy, ex.n, ex.h)
		if !ok {
			return nil, fmt.Errorf("%w: explicit EC parameters of no known curve", ErrTerminalConfig)
		}
		return c, nil
	}
	return nil, fmt.Errorf("%w: EC key without curve parameters", ErrTerminalConfig)
}

func curveByOID(id asn1.ObjectIdentifier) (*ec.Curve, error) {
	for _, c := range namedCurves() {
		if c.oid.Equal(id) {
			return c.curve(), nil
		}
	}
	return nil, fmt.Errorf("%w: EC curve %v", ErrTerminalConfig, id)
}

// parseECPrivateKey reads RFC 5915 ECPrivateKey: version 1, the scalar as
// an OCTET STRING (SEC 1 §C.4: ceiling(log2(n)/8) bytes; shorter ones are
// accepted, never longer), optional parameters [0], which must name the
// same curve, and optional publicKey [1], which must be d·G.
func parseECPrivateKey(b []byte, curve *ec.Curve) (*ec.PrivateKey, error) {
	in := cryptobyte.String(b)
	var seq cryptobyte.String
	var version int64
	var d []byte
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Integer(&version) || version != 1 ||
		!seq.ReadASN1Bytes(&d, cbasn1.OCTET_STRING) {
		return nil, fmt.Errorf("%w: malformed ECPrivateKey", ErrTerminalConfig)
	}
	var params, pub cryptobyte.String
	var hasParams, hasPub bool
	if !seq.ReadOptionalASN1(&params, &hasParams, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!seq.ReadOptionalASN1(&pub, &hasPub, cbasn1.Tag(1).ContextSpecific().Constructed()) || !seq.Empty() {
		return nil, fmt.Errorf("%w: malformed ECPrivateKey", ErrTerminalConfig)
	}
	if hasParams {
		c, err := terminalKeyCurve(params)
		if err != nil {
			return nil, err
		}
		if c.ID() != curve.ID() {
			return nil, fmt.Errorf("%w: ECPrivateKey names %s, PKCS#8 %s", ErrTerminalConfig, c.Name(), curve.Name())
		}
	}
	if len(d) > curve.ScalarLen() {
		return nil, fmt.Errorf("%w: EC private key of %d bytes on %s", ErrTerminalConfig, len(d), curve.Name())
	}
	// Left-pad to the fixed length: some encoders drop leading zeros.
	fixed := make([]byte, curve.ScalarLen())
	copy(fixed[len(fixed)-len(d):], d)
	k, err := ec.NewPrivateKey(curve, fixed)
	clear(fixed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTerminalConfig, err)
	}
	if hasPub {
		var bits asn1.BitString
		if !pub.ReadASN1BitString(&bits) || !pub.Empty() || bits.BitLength%8 != 0 {
			return nil, fmt.Errorf("%w: malformed ECPrivateKey public key", ErrTerminalConfig)
		}
		if !bytes.Equal(bits.Bytes, k.PublicKey().Bytes()) {
			return nil, fmt.Errorf("%w: ECPrivateKey's public key is not d·G", ErrTerminalConfig)
		}
	}
	return k, nil
}
