package hsm

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"
)

// Labels of the secret keys.
const (
	IndexKeyLabel = "blind-index"
	kekPrefix     = "kek-v"
)

// checkECLabel accepts labels of lower-case letters, digits, '-', '.' and
// '_', up to 64 bytes, other than the secret keys' labels.
func checkECLabel(label string) error {
	if label == "" || len(label) > 64 {
		return fmt.Errorf("%w: %q", ErrLabel, label)
	}
	for _, c := range label {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return fmt.Errorf("%w: %q", ErrLabel, label)
		}
	}
	if label == IndexKeyLabel || strings.HasPrefix(label, kekPrefix) {
		return fmt.Errorf("%w: %q is reserved for a secret key", ErrLabel, label)
	}
	return nil
}

func curveName(c elliptic.Curve) (string, error) {
	switch c {
	case elliptic.P256():
		return "P-256", nil
	case elliptic.P384():
		return "P-384", nil
	}
	if c == nil {
		return "", fmt.Errorf("%w: no curve", ErrKeyMismatch)
	}
	return "", fmt.Errorf("%w: curve %s (P-256 and P-384 only)", ErrKeyMismatch, c.Params().Name)
}

// EnsureECKey returns the EC key pair labelled label, generating it inside
// the token when there is none (created true). The private key is
// sensitive, never extractable, a token object, and may only sign
// (CKA_SIGN; CKA_DECRYPT, CKA_UNWRAP and CKA_DERIVE false). An existing key
// on another curve is ErrKeyMismatch; it is never replaced.
func (t *Token) EnsureECKey(label string, curve elliptic.Curve) (s crypto.Signer, created bool, err error) {
	if err := checkECLabel(label); err != nil {
		return nil, false, err
	}
	name, err := curveName(curve)
	if err != nil {
		return nil, false, err
	}
	err = t.exclusive(func() error {
		k, err := t.findKeyPair(label)
		if err == nil {
			pub, ok := k.Public().(*ecdsa.PublicKey)
			if !ok || pub.Curve != curve {
				return fmt.Errorf("%w: %q exists and is not an EC %s key", ErrKeyMismatch, label, name)
			}
			s = &signer{t: t, k: k, pub: pub, label: label}
			return nil
		}
		if !errors.Is(err, ErrKeyNotFound) {
			return err
		}
		id := []byte(label)
		pubT, err := crypto11.NewAttributeSetWithIDAndLabel(id, id)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrHSM, err)
		}
		privT := pubT.Copy()
		pubT.AddIfNotPresent([]*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
			pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
			pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
			pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
			pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		})
		privT.AddIfNotPresent([]*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
			pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
			pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
			pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		})
		k, err = t.c.GenerateECDSAKeyPairWithAttributes(pubT, privT, curve)
		if err != nil {
			return fmt.Errorf("%w: generate EC %s key %q: %w", ErrHSM, name, label, err)
		}
		s, created = &signer{t: t, k: k, pub: k.Public(), label: label}, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return s, created, nil
}

// Signer returns the key pair labelled label; ErrKeyNotFound when there
// is none.
func (t *Token) Signer(label string) (crypto.Signer, error) {
	if t.closed.Load() {
		return nil, ErrClosed
	}
	if err := checkECLabel(label); err != nil {
		return nil, err
	}
	k, err := t.findKeyPair(label)
	if err != nil {
		return nil, err
	}
	return &signer{t: t, k: k, pub: k.Public(), label: label}, nil
}

func (t *Token) findKeyPair(label string) (crypto11.Signer, error) {
	ks, err := t.c.FindKeyPairs(nil, []byte(label))
	if err != nil {
		return nil, fmt.Errorf("%w: find %q: %w", ErrHSM, label, err)
	}
	switch len(ks) {
	case 0:
		return nil, fmt.Errorf("%w: %q", ErrKeyNotFound, label)
	case 1:
		return ks[0], nil
	}
	return nil, fmt.Errorf("%w: %d key pairs labelled %q", ErrDuplicate, len(ks), label)
}

// signer is a key pair of the token; it hides crypto11's Delete.
type signer struct {
	t     *Token
	k     crypto11.Signer
	pub   crypto.PublicKey
	label string
}

func (s *signer) Public() crypto.PublicKey { return s.pub }

// Sign signs digest inside the token (rand is not used; the token draws
// its own nonces). ECDSA signatures are X9.62 DER.
func (s *signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.t.closed.Load() {
		return nil, ErrClosed
	}
	if opts == nil || opts.HashFunc() == 0 || len(digest) != opts.HashFunc().Size() {
		return nil, fmt.Errorf("hsm: sign with %q: digest of %d bytes for %v", s.label, len(digest), opts)
	}
	sig, err := s.k.Sign(nil, digest, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: sign with %q: %w", ErrHSM, s.label, err)
	}
	return sig, nil
}

// KeyInfo describes a private or secret key of the token, its attributes
// as the token reports them.
type KeyInfo struct {
	Label            string
	Type             string // "EC P-256", "EC P-384", "AES-256", "GENERIC-SECRET-256", ...
	Sensitive        bool   // CKA_SENSITIVE
	Extractable      bool   // CKA_EXTRACTABLE
	NeverExtractable bool   // CKA_NEVER_EXTRACTABLE
	AlwaysSensitive  bool   // CKA_ALWAYS_SENSITIVE
}

// DER of the named curves' OIDs, as in CKA_EC_PARAMS (RFC 5480 §2.1.1.1).
var (
	oidP256 = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}
	oidP384 = []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}
)

// Keys lists every private and secret key of the token, sorted by label,
// with the attributes read from the token (public keys are not listed).
func (t *Token) Keys() ([]KeyInfo, error) {
	if t.closed.Load() {
		return nil, ErrClosed
	}
	privs, err := t.c.FindPrivateKeysWithAttributes(crypto11.NewAttributeSet())
	if err != nil {
		return nil, fmt.Errorf("%w: list private keys: %w", ErrHSM, err)
	}
	secrets, err := t.c.FindAllKeys()
	if err != nil {
		return nil, fmt.Errorf("%w: list secret keys: %w", ErrHSM, err)
	}
	var out []KeyInfo
	read := func(k any, extra crypto11.AttributeType) error {
		a, err := t.c.GetAttributes(k, []crypto11.AttributeType{
			crypto11.CkaLabel, crypto11.CkaKeyType, crypto11.CkaSensitive, crypto11.CkaExtractable,
			crypto11.CkaNeverExtractable, crypto11.CkaAlwaysSensitive,
		})
		if err != nil {
			return fmt.Errorf("%w: key attributes: %w", ErrHSM, err)
		}
		// The curve or the length, asked apart: a key type without it
		// (an RSA key put there by another tool) is listed all the same.
		var x []byte
		if e, err := t.c.GetAttribute(k, extra); err == nil && e != nil {
			x = e.Value
		}
		info := KeyInfo{
			Label:            string(value(a, crypto11.CkaLabel)),
			Sensitive:        boolAttr(a, crypto11.CkaSensitive),
			Extractable:      boolAttr(a, crypto11.CkaExtractable),
			NeverExtractable: boolAttr(a, crypto11.CkaNeverExtractable),
			AlwaysSensitive:  boolAttr(a, crypto11.CkaAlwaysSensitive),
		}
		switch kt := ulongAttr(a, crypto11.CkaKeyType); kt {
		case pkcs11.CKK_EC:
			switch {
			case bytes.Equal(x, oidP256):
				info.Type = "EC P-256"
			case bytes.Equal(x, oidP384):
				info.Type = "EC P-384"
			default:
				info.Type = "EC"
			}
		case pkcs11.CKK_RSA:
			info.Type = "RSA"
		case pkcs11.CKK_AES:
			info.Type = fmt.Sprintf("AES-%d", 8*bytesToUlong(x))
		case pkcs11.CKK_GENERIC_SECRET:
			info.Type = fmt.Sprintf("GENERIC-SECRET-%d", 8*bytesToUlong(x))
		default:
			info.Type = fmt.Sprintf("CKK_%#x", kt)
		}
		out = append(out, info)
		return nil
	}
	for _, k := range privs {
		if err := read(k, crypto11.CkaEcParams); err != nil {
			return nil, err
		}
	}
	for _, k := range secrets {
		if err := read(k, crypto11.CkaValueLen); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b KeyInfo) int { return strings.Compare(a.Label, b.Label) })
	return out, nil
}

func value(a crypto11.AttributeSet, ty crypto11.AttributeType) []byte {
	if v := a[ty]; v != nil {
		return v.Value
	}
	return nil
}

func boolAttr(a crypto11.AttributeSet, ty crypto11.AttributeType) bool {
	v := value(a, ty)
	return len(v) > 0 && v[0] != 0
}

func ulongAttr(a crypto11.AttributeSet, ty crypto11.AttributeType) uint {
	return bytesToUlong(value(a, ty))
}

// bytesToUlong decodes a CK_ULONG as the module returns it (native byte
// order, which is little-endian on every platform borderid runs on).
func bytesToUlong(b []byte) uint {
	var v uint
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint(b[i])
	}
	return v
}
