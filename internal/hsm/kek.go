package hsm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"

	"borderid/internal/envelope"
)

// kekLabel returns "kek-v<N>".
func kekLabel(v int) string { return kekPrefix + strconv.Itoa(v) }

// parseKEKLabel accepts "kek-v<N>" with N a decimal without leading zeros,
// 1 <= N < 2^31.
func parseKEKLabel(s string) (int, bool) {
	d, ok := strings.CutPrefix(s, kekPrefix)
	if !ok || d == "" || len(d) > 10 || d[0] == '0' {
		return 0, false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(d, 10, 32)
	if err != nil || v < 1 {
		return 0, false
	}
	return int(v), true
}

// keks returns the token's AES keys labelled kek-v<N> by version.
func (t *Token) keks() (map[int]*crypto11.SecretKey, error) {
	if t.closed.Load() {
		return nil, ErrClosed
	}
	tmpl := crypto11.NewAttributeSet()
	if err := tmpl.Set(crypto11.CkaKeyType, pkcs11.CKK_AES); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHSM, err)
	}
	ks, err := t.c.FindKeysWithAttributes(tmpl)
	if err != nil {
		return nil, fmt.Errorf("%w: list KEKs: %w", ErrHSM, err)
	}
	out := make(map[int]*crypto11.SecretKey, len(ks))
	for _, k := range ks {
		a, err := t.c.GetAttribute(k, crypto11.CkaLabel)
		if err != nil || a == nil {
			return nil, fmt.Errorf("%w: KEK label: %w", ErrHSM, err)
		}
		v, ok := parseKEKLabel(string(a.Value))
		if !ok {
			continue // an AES key of another name: not a KEK
		}
		if _, dup := out[v]; dup {
			return nil, fmt.Errorf("%w: %q", ErrDuplicate, kekLabel(v))
		}
		out[v] = k
	}
	return out, nil
}

// KEKCacheTTL bounds how long a Token goes on wrapping under a version
// after another process created a newer one: a rotation that will destroy
// the old version waits at least this long (plus the longest request)
// after EnsureKEK before its rewrap pass. Listing the KEKs costs SoftHSM2
// a scan of its object files (about 0.2 ms), more than the wrap itself.
const KEKCacheTTL = time.Second

// kekCache is the Token's list of KEKs, refreshed when older than
// KEKCacheTTL, after EnsureKEK and DestroyKEK, and when a handle turns
// out to be stale (the key was destroyed by another process).
type kekCache struct {
	mu   sync.Mutex
	keys map[int]*crypto11.SecretKey // never modified once stored
	at   time.Time
}

func (t *Token) cachedKEKs() (map[int]*crypto11.SecretKey, error) {
	if t.closed.Load() {
		return nil, ErrClosed
	}
	t.kc.mu.Lock()
	defer t.kc.mu.Unlock()
	if t.kc.keys != nil && time.Since(t.kc.at) < KEKCacheTTL {
		return t.kc.keys, nil
	}
	ks, err := t.keks()
	if err != nil {
		return nil, err
	}
	t.kc.keys, t.kc.at = ks, time.Now()
	return ks, nil
}

func (t *Token) invalidateKEKs() {
	t.kc.mu.Lock()
	t.kc.keys = nil
	t.kc.mu.Unlock()
}

func isStaleHandle(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "CKR_KEY_HANDLE_INVALID") || strings.Contains(msg, "CKR_OBJECT_HANDLE_INVALID")
}

// kek finds version v.
func (t *Token) kek(v int) (*crypto11.SecretKey, error) {
	if t.closed.Load() {
		return nil, ErrClosed
	}
	tmpl := crypto11.NewAttributeSet()
	if err := errors.Join(tmpl.Set(crypto11.CkaKeyType, pkcs11.CKK_AES), tmpl.Set(crypto11.CkaLabel, []byte(kekLabel(v)))); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHSM, err)
	}
	ks, err := t.c.FindKeysWithAttributes(tmpl)
	if err != nil {
		return nil, fmt.Errorf("%w: find %s: %w", ErrHSM, kekLabel(v), err)
	}
	switch len(ks) {
	case 0:
		return nil, fmt.Errorf("%w: %s", ErrKEKNotFound, kekLabel(v))
	case 1:
		return ks[0], nil
	}
	return nil, fmt.Errorf("%w: %q", ErrDuplicate, kekLabel(v))
}

// EnsureKEK returns whether it generated the AES-256 key-encryption key
// "kek-v<version>" (sensitive, never extractable, CKA_ENCRYPT and
// CKA_DECRYPT only). Versions only grow: a version below the highest
// existing one that does not exist (it was destroyed, or skipped) is
// refused with ErrKEKVersion, so a destroyed version is never re-created.
func (t *Token) EnsureKEK(version int) (created bool, err error) {
	if _, ok := parseKEKLabel(kekLabel(version)); !ok {
		return false, fmt.Errorf("%w: %d", ErrKEKVersion, version)
	}
	err = t.exclusive(func() error {
		ks, err := t.keks()
		if err != nil {
			return err
		}
		if _, ok := ks[version]; ok {
			return nil
		}
		if len(ks) > 0 {
			if top := slices.Max(keysOf(ks)); top > version {
				return fmt.Errorf("%w: %s does not exist and %s does: versions only grow", ErrKEKVersion, kekLabel(version), kekLabel(top))
			}
		}
		label := []byte(kekLabel(version))
		tmpl, err := crypto11.NewAttributeSetWithIDAndLabel(label, label)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrHSM, err)
		}
		tmpl.AddIfNotPresent([]*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
			pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
			pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
			pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
			pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, false),
			pkcs11.NewAttribute(pkcs11.CKA_VERIFY, false),
			pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		})
		if _, err := t.c.GenerateSecretKeyWithAttributes(tmpl, 256, crypto11.CipherAES); err != nil {
			return fmt.Errorf("%w: generate %s: %w", ErrHSM, label, err)
		}
		t.invalidateKEKs()
		created = true
		return nil
	})
	return created, err
}

func keysOf(m map[int]*crypto11.SecretKey) []int {
	vs := make([]int, 0, len(m))
	for v := range m {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs
}

// KEKVersions returns the versions of the KEKs on the token, ascending.
func (t *Token) KEKVersions() ([]int, error) {
	ks, err := t.keks()
	if err != nil {
		return nil, err
	}
	return keysOf(ks), nil
}

// DestroyKEK deletes KEK version from the token: every data key wrapped
// under it becomes unreadable, wherever a copy of it is kept. The highest
// version is refused (ErrKEKVersion): create a newer one and rewrap first.
// An unknown version is ErrKEKNotFound.
func (t *Token) DestroyKEK(version int) error {
	return t.exclusive(func() error {
		ks, err := t.keks()
		if err != nil {
			return err
		}
		k, ok := ks[version]
		if !ok {
			return fmt.Errorf("%w: %s", ErrKEKNotFound, kekLabel(version))
		}
		if top := slices.Max(keysOf(ks)); version == top {
			return fmt.Errorf("%w: %s is the current KEK; EnsureKEK(%d) and rewrap before destroying it", ErrKEKVersion, kekLabel(version), top+1)
		}
		err = k.Delete()
		t.invalidateKEKs()
		if err != nil {
			return fmt.Errorf("%w: destroy %s: %w", ErrHSM, kekLabel(version), err)
		}
		return nil
	})
}

// KeyWrapper returns the token's envelope.KeyWrapper (see the package
// documentation for the format and the errors).
func (t *Token) KeyWrapper() envelope.KeyWrapper { return wrapper{t} }

type wrapper struct{ t *Token }

const gcmTagSize = 16

// Wrap encrypts dek with AES-256-GCM inside the token under the highest
// KEK version: nonce || ciphertext || tag, ad as the additional data.
func (w wrapper) Wrap(ctx context.Context, dek, ad []byte) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	for try := 0; ; try++ {
		ks, err := w.t.cachedKEKs()
		if err != nil {
			return 0, nil, fmt.Errorf("hsm: wrap: %w", err)
		}
		if len(ks) == 0 {
			return 0, nil, fmt.Errorf("hsm: wrap: %w: no KEK on the token (EnsureKEK(1))", ErrKEKNotFound)
		}
		v := slices.Max(keysOf(ks))
		aead, err := ks[v].NewGCM()
		if err != nil {
			return 0, nil, fmt.Errorf("%w: wrap: %w", ErrHSM, err)
		}
		nonce := make([]byte, gcmIVLength)
		if _, err := rand.Read(nonce); err != nil {
			return 0, nil, fmt.Errorf("hsm: wrap: %w", err)
		}
		out, err := seal(aead, nonce, dek, ad)
		if err != nil && isStaleHandle(err) && try == 0 {
			// Destroyed by another process after a newer version
			// was made there: list again.
			w.t.invalidateKEKs()
			continue
		}
		if err != nil {
			return 0, nil, fmt.Errorf("%w: wrap with %s: %w", ErrHSM, kekLabel(v), err)
		}
		return v, out, nil
	}
}

// seal calls crypto11's Seal, which panics when the token fails (its
// cipher.AEAD interface has no error); the session is back in the pool
// by then.
func seal(aead interface {
	Seal(dst, nonce, plaintext, ad []byte) []byte
}, nonce, pt, ad []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return aead.Seal(nonce[:len(nonce):len(nonce)], nonce, pt, ad), nil
}

// Unwrap decrypts wrapped under KEK version with ad.
func (w wrapper) Unwrap(ctx context.Context, version int, wrapped, ad []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, ok := parseKEKLabel(kekLabel(version)); !ok {
		return nil, fmt.Errorf("hsm: unwrap: %w: %w: version %d", envelope.ErrDecrypt, ErrKEKNotFound, version)
	}
	ks, err := w.t.cachedKEKs()
	if err != nil {
		return nil, fmt.Errorf("hsm: unwrap: %w", err)
	}
	k, ok := ks[version]
	if !ok {
		// Perhaps made by another process since the list was read.
		k, err = w.t.kek(version)
		if errors.Is(err, ErrKEKNotFound) {
			return nil, fmt.Errorf("hsm: unwrap: %w: %w", envelope.ErrDecrypt, err)
		}
		if err != nil {
			return nil, fmt.Errorf("hsm: unwrap: %w", err)
		}
		w.t.invalidateKEKs()
	}
	if len(wrapped) < gcmIVLength+gcmTagSize {
		return nil, fmt.Errorf("hsm: unwrap: %w: %d bytes", envelope.ErrDecrypt, len(wrapped))
	}
	aead, err := k.NewGCM()
	if err != nil {
		return nil, fmt.Errorf("%w: unwrap: %w", ErrHSM, err)
	}
	dek, err := aead.Open(nil, wrapped[:gcmIVLength], wrapped[gcmIVLength:], ad)
	if err != nil {
		if isStaleHandle(err) {
			w.t.invalidateKEKs()
		}
		return nil, classifyOpen(k, version, err)
	}
	return dek, nil
}

// classifyOpen tells an authentication failure from a failure of the
// token. crypto11 formats the PKCS#11 error with %v, so the return value's
// name is matched in the message. SoftHSM2 reports a GCM tag mismatch as
// CKR_GENERAL_ERROR, which a failing token could also return: then a
// known-answer probe with the same key decides (it passes: the input was
// wrong, ErrDecrypt; it fails too: the token is, ErrHSM).
func classifyOpen(k *crypto11.SecretKey, version int, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "CKR_ENCRYPTED_DATA_INVALID"), strings.Contains(msg, "CKR_ENCRYPTED_DATA_LEN_RANGE"):
		return fmt.Errorf("hsm: unwrap under %s: %w", kekLabel(version), envelope.ErrDecrypt)
	case isStaleHandle(err):
		// Destroyed (by another process) since it was listed.
		return fmt.Errorf("hsm: unwrap: %w: %w: %s", envelope.ErrDecrypt, ErrKEKNotFound, kekLabel(version))
	case strings.Contains(msg, "C_Decrypt: ") && strings.Contains(msg, "CKR_GENERAL_ERROR"):
		if perr := probe(k); perr != nil {
			return fmt.Errorf("%w: unwrap under %s: %w (and the token fails a known-answer test: %w)", ErrHSM, kekLabel(version), err, perr)
		}
		return fmt.Errorf("hsm: unwrap under %s: %w", kekLabel(version), envelope.ErrDecrypt)
	}
	return fmt.Errorf("%w: unwrap under %s: %w", ErrHSM, kekLabel(version), err)
}

// probe seals and opens a fixed message with k.
func probe(k *crypto11.SecretKey) error {
	aead, err := k.NewGCM()
	if err != nil {
		return err
	}
	nonce := make([]byte, gcmIVLength)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	msg, ad := []byte("borderid hsm probe"), []byte("borderid/hsm/probe")
	ct, err := seal(aead, nonce, msg, ad)
	if err != nil {
		return err
	}
	pt, err := aead.Open(nil, nonce, ct[gcmIVLength:], ad)
	if err != nil {
		return err
	}
	if string(pt) != string(msg) {
		return errors.New("probe decrypts to other bytes")
	}
	return nil
}
