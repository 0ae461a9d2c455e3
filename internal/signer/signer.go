// Package signer is the only code of borderid that talks to an HSM: it
// opens a private key named by a PKCS#11 URI (RFC 7512) through a PKCS#11
// module (OASIS PKCS #11 v2.40, via github.com/ThalesGroup/crypto11) and
// hands back a crypto.Signer, so everything above it signs without
// knowing where the key lives.
//
// Use:
//
//	s, err := signer.OpenURI(ctx, "pkcs11:token=borderid;object=is;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so", pin)
//	if err != nil { ... }
//	defer s.Close()
//	sig, err := s.Sign(rand.Reader, digest, crypto.SHA256) // ECDSA: X9.62 DER
//
// The PIN is a parameter: callers read it where they keep it (borderid
// read: the BORDERID_PKCS11_PIN environment variable) and pass it in;
// this package reads no environment. Without one, the URI's pin-value is
// used. A PIN written in a file is weaker than one given at start: anyone
// who can read the file can use the key.
//
// What it deliberately does not do: create, import or export keys
// (keys are generated inside the token, sensitive and non-extractable,
// by the tools that provision it; see softhsmtest for tests); search for
// modules (module-name; a module-path is required) or read PINs from
// pin-source; select tokens by manufacturer, model, library or slot
// description (refused, never ignored, so a URI never reaches another
// token than the one it describes); DSA keys. It keeps no package-level
// state: every Open has its own PKCS#11 context, which Close releases.
//
// One property of PKCS#11 to know: the login state is per token and per
// process. crypto11 accepts CKR_USER_ALREADY_LOGGED_IN, so while one
// Signer of a token is open in a process, another Open of the same token
// succeeds whatever PIN it is given. The PIN gates the first Open only.
package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"
)

// Errors of Open and Sign, for callers to branch on.
var (
	// ErrUnsupported: the URI is valid but asks for what this package
	// does not do (module-name without module-path, pin-source, a type
	// other than private, token selection by other attributes).
	ErrUnsupported = errors.New("signer: PKCS#11 URI not supported")
	// ErrNoModule: the URI has no module-path.
	ErrNoModule = errors.New("signer: PKCS#11 URI names no module-path")
	// ErrModule: the module cannot be loaded or initialised.
	ErrModule = errors.New("signer: cannot load the PKCS#11 module")
	// ErrNoPIN: no PIN was passed in and the URI has no pin-value.
	ErrNoPIN = errors.New("signer: no PKCS#11 PIN")
	// ErrPIN: the token refused the PIN (incorrect, locked, expired or
	// of the wrong length).
	ErrPIN = errors.New("signer: PKCS#11 PIN refused")
	// ErrTokenNotFound: no token of the module matches the URI.
	ErrTokenNotFound = errors.New("signer: PKCS#11 token not found")
	// ErrKeyNotFound: no private key with its public key matches the
	// URI's id and object.
	ErrKeyNotFound = errors.New("signer: PKCS#11 key not found")
	// ErrAmbiguousKey: several key pairs match; the URI must say which.
	ErrAmbiguousKey = errors.New("signer: several PKCS#11 keys match")
	// ErrKeyType: the key is neither ECDSA nor RSA.
	ErrKeyType = errors.New("signer: unsupported PKCS#11 key type")
	// ErrClosed: Sign after Close.
	ErrClosed = errors.New("signer: closed")
	// ErrHSM: any other failure reported by the module.
	ErrHSM = errors.New("signer: PKCS#11 failure")
)

// token is the one small interface this package needs of a PKCS#11
// token once logged in; *crypto11.Context satisfies it and tests may
// fake it.
type token interface {
	FindKeyPairs(id, label []byte) ([]crypto11.Signer, error)
	Close() error
}

// configureFunc opens and logs in to a token.
type configureFunc func(*crypto11.Config) (token, error)

func configureCrypto11(c *crypto11.Config) (token, error) {
	ctx, err := crypto11.Configure(c)
	if err != nil {
		return nil, err
	}
	return ctx, nil
}

// Signer is a private key in a PKCS#11 token. It implements
// crypto.Signer (Public is an *ecdsa.PublicKey or *rsa.PublicKey) and
// io.Closer; it is safe for concurrent use.
type Signer struct {
	tok    token
	key    crypto.Signer
	pub    crypto.PublicKey
	closed atomic.Bool
}

var (
	_ crypto.Signer = (*Signer)(nil)
	_ io.Closer     = (*Signer)(nil)
)

// OpenURI parses s with ParseURI and opens it with Open.
func OpenURI(ctx context.Context, s, pin string) (*Signer, error) {
	u, err := ParseURI(s)
	if err != nil {
		return nil, err
	}
	return Open(ctx, u, pin)
}

// Open loads the URI's module, logs in to its token with pin (else the
// URI's pin-value) and finds the private key by id and/or object label
// (type private, or no type). The token is named by exactly one of
// token (label), serial or slot-id; vendor query attributes are ignored,
// vendor path attributes refused. Loading a module and logging in
// cannot be interrupted; when ctx ends first Open returns ctx.Err() and
// closes the context it was opening once that finishes.
func Open(ctx context.Context, u *URI, pin string) (*Signer, error) {
	return open(ctx, u, pin, configureCrypto11)
}

func open(ctx context.Context, u *URI, pin string, configure configureFunc) (*Signer, error) {
	cfg, err := config(u, pin)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A missing file is the common mistake: say so rather than let
	// dlopen's message through.
	if fi, err := os.Stat(cfg.Path); err != nil || fi.IsDir() {
		if err == nil {
			err = errors.New("is a directory")
		}
		return nil, fmt.Errorf("%w %s: %w", ErrModule, cfg.Path, err)
	}
	type result struct {
		tok token
		err error
	}
	done := make(chan result, 1)
	go func() {
		t, err := configure(cfg)
		done <- result{t, err}
	}()
	var tok token
	select {
	case r := <-done:
		if r.err != nil {
			return nil, classify(r.err, u, cfg)
		}
		tok = r.tok
	case <-ctx.Done():
		go func() {
			if r := <-done; r.err == nil {
				r.tok.Close()
			}
		}()
		return nil, ctx.Err()
	}
	s, err := findKey(tok, u)
	if err != nil {
		tok.Close()
		return nil, err
	}
	return s, nil
}

// config checks what Open supports of u and builds the crypto11
// configuration.
func config(u *URI, pin string) (*crypto11.Config, error) {
	if u == nil {
		return nil, fmt.Errorf("%w: nil URI", ErrURI)
	}
	if u.Type != TypeAny && u.Type != TypePrivate {
		return nil, fmt.Errorf("%w: type=%v (a signing key is type=private)", ErrUnsupported, u.Type)
	}
	if u.ModulePath == "" {
		if u.ModuleName != "" {
			return nil, fmt.Errorf("%w: module-name=%s is not searched for; give module-path", ErrNoModule, u.ModuleName)
		}
		return nil, ErrNoModule
	}
	for name, v := range map[string]string{
		"manufacturer": u.Manufacturer, "model": u.Model,
		"library-manufacturer": u.LibraryManufacturer, "library-description": u.LibraryDescription,
		"library-version": u.LibraryVersion, "slot-description": u.SlotDescription,
		"slot-manufacturer": u.SlotManufacturer,
	} {
		if v != "" {
			return nil, fmt.Errorf("%w: tokens are selected by token, serial or slot-id, not %s", ErrUnsupported, name)
		}
	}
	if len(u.VendorPath) > 0 {
		// A path attribute narrows the match; one this package cannot
		// check (or a misspelt standard one) must not be dropped.
		return nil, fmt.Errorf("%w: vendor path attributes %v", ErrUnsupported, mapKeys(u.VendorPath))
	}
	cfg := &crypto11.Config{Path: u.ModulePath}
	n := 0
	if u.Token != "" {
		cfg.TokenLabel, n = u.Token, n+1
	}
	if u.Serial != "" {
		cfg.TokenSerial, n = u.Serial, n+1
	}
	if u.HasSlotID {
		if u.SlotID > uint64(^uint(0)>>1) {
			return nil, fmt.Errorf("%w: slot-id %d", ErrUnsupported, u.SlotID)
		}
		slot := int(u.SlotID)
		cfg.SlotNumber, n = &slot, n+1
	}
	if n != 1 {
		// crypto11 selects by exactly one; a second one it could not
		// check is refused rather than ignored.
		return nil, fmt.Errorf("%w: name the token by exactly one of token, serial, slot-id (%d given)", ErrUnsupported, n)
	}
	if u.Object == "" && len(u.ID) == 0 {
		return nil, fmt.Errorf("%w: name the key by object or id", ErrUnsupported)
	}
	switch {
	case pin != "":
		cfg.Pin = pin
	case u.PINValue != "":
		cfg.Pin = u.PINValue
	case u.PINSource != "":
		return nil, fmt.Errorf("%w: pin-source is not read; pass the PIN in", ErrUnsupported)
	default:
		return nil, ErrNoPIN
	}
	return cfg, nil
}

// classify maps crypto11's errors to this package's. crypto11 exports no
// sentinel for a missing token or an unloadable module, so those two are
// recognised by its messages (the SoftHSM2 tests pin them down).
func classify(err error, u *URI, cfg *crypto11.Config) error {
	var rv pkcs11.Error
	if errors.As(err, &rv) {
		switch rv {
		case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE,
			pkcs11.CKR_PIN_EXPIRED, pkcs11.CKR_PIN_LOCKED:
			return fmt.Errorf("%w: token %q: %w", ErrPIN, tokenName(u), err)
		case pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_TOKEN_NOT_RECOGNIZED, pkcs11.CKR_SLOT_ID_INVALID:
			return fmt.Errorf("%w: %q: %w", ErrTokenNotFound, tokenName(u), err)
		}
		return fmt.Errorf("%w: %w", ErrHSM, err)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "could not find PKCS#11 token"):
		return fmt.Errorf("%w: %q in %s", ErrTokenNotFound, tokenName(u), cfg.Path)
	case strings.Contains(msg, "failed to create module context"):
		return fmt.Errorf("%w %s: %w", ErrModule, cfg.Path, err)
	}
	return fmt.Errorf("%w: %w", ErrHSM, err)
}

func tokenName(u *URI) string {
	switch {
	case u.Token != "":
		return u.Token
	case u.Serial != "":
		return "serial " + u.Serial
	}
	return fmt.Sprintf("slot %d", u.SlotID)
}

// findKey finds the one key pair the URI names. crypto11 finds private
// keys that have a CKA_ID and a public key of the same CKA_ID.
func findKey(tok token, u *URI) (*Signer, error) {
	var label []byte
	if u.Object != "" {
		label = []byte(u.Object)
	}
	keys, err := tok.FindKeyPairs(u.ID, label)
	if err != nil {
		return nil, fmt.Errorf("%w: finding key %s: %w", ErrHSM, keyName(u), err)
	}
	switch len(keys) {
	case 0:
		return nil, fmt.Errorf("%w: %s in token %q", ErrKeyNotFound, keyName(u), tokenName(u))
	case 1:
	default:
		return nil, fmt.Errorf("%w: %d keys for %s in token %q", ErrAmbiguousKey, len(keys), keyName(u), tokenName(u))
	}
	k := keys[0]
	pub := k.Public()
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		if p == nil || p.Curve == nil {
			return nil, fmt.Errorf("%w: %s: incomplete EC public key", ErrKeyType, keyName(u))
		}
	case *rsa.PublicKey:
		if p == nil || p.N == nil {
			return nil, fmt.Errorf("%w: %s: incomplete RSA public key", ErrKeyType, keyName(u))
		}
	default:
		return nil, fmt.Errorf("%w: %s: %T", ErrKeyType, keyName(u), pub)
	}
	return &Signer{tok: tok, key: k, pub: pub}, nil
}

func keyName(u *URI) string {
	var parts []string
	if u.Object != "" {
		parts = append(parts, fmt.Sprintf("object %q", u.Object))
	}
	if len(u.ID) > 0 {
		parts = append(parts, fmt.Sprintf("id %X", u.ID))
	}
	return strings.Join(parts, ", ")
}

// Public returns the key's public half: *ecdsa.PublicKey or
// *rsa.PublicKey.
func (s *Signer) Public() crypto.PublicKey { return s.pub }

// Sign signs digest inside the token; rand is not used (the token draws
// its own nonces). ECDSA returns an X9.62 DER signature (opts is the
// hash, whose size digest must have). RSA signs PKCS#1 v1.5 with a
// DigestInfo for SHA-1 and SHA-2 hashes, or PSS given *rsa.PSSOptions
// with an explicit salt length or rsa.PSSSaltLengthEqualsHash (the
// token cannot size an "auto" salt).
func (s *Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s == nil || s.closed.Load() {
		return nil, ErrClosed
	}
	if opts == nil {
		return nil, fmt.Errorf("%w: sign: no hash given", ErrUnsupported)
	}
	h := opts.HashFunc()
	switch h {
	case crypto.SHA1, crypto.SHA224, crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		return nil, fmt.Errorf("%w: sign: hash %v", ErrUnsupported, h)
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("signer: sign: digest of %d bytes for %v", len(digest), h)
	}
	if pss, ok := opts.(*rsa.PSSOptions); ok {
		if _, isRSA := s.pub.(*rsa.PublicKey); !isRSA {
			return nil, fmt.Errorf("%w: sign: PSS options for an EC key", ErrUnsupported)
		}
		if pss.SaltLength == rsa.PSSSaltLengthAuto {
			return nil, fmt.Errorf("%w: sign: PSS with an automatic salt length", ErrUnsupported)
		}
	}
	sig, err := s.key.Sign(nil, digest, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: sign: %w", ErrHSM, err)
	}
	return sig, nil
}

// Close releases the PKCS#11 context (its sessions, and the module when
// no other context of the process uses it). Later Sign calls fail with
// ErrClosed; a second Close does nothing.
func (s *Signer) Close() error {
	if s == nil || !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	return s.tok.Close()
}

func mapKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
