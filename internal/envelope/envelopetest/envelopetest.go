// Package envelopetest gives tests a software envelope.KeyWrapper and
// envelope.Indexer, for packages whose tests must not depend on SoftHSM2.
// They follow the contract of the real ones in internal/hsm (versions,
// latest-version wrapping, ErrDecrypt/ErrKEKNotFound) but keep their keys
// in process memory: never use them outside tests.
//
// Wrapper wraps a data key with AES-256-GCM (NIST SP 800-38D) under the
// latest version's key, the ad as additional data: wrapped = nonce (12
// bytes) || ciphertext || tag (16 bytes). Indexer is HMAC-SHA256 over
// envelope.IndexMessage with a random 32-byte key.
package envelopetest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"testing"

	"borderid/internal/envelope"
)

// Wrapper is a software key wrapper with numbered KEK versions, starting
// with version 1. It is safe for concurrent use.
type Wrapper struct {
	mu      sync.Mutex
	keys    map[int]cipher.AEAD
	latest  int // highest version ever created; never reused
	wraps   int
	unwraps int
}

var _ envelope.KeyWrapper = (*Wrapper)(nil)

// NewWrapper returns a Wrapper with one KEK version, 1.
func NewWrapper(t testing.TB) *Wrapper {
	t.Helper()
	w := &Wrapper{keys: make(map[int]cipher.AEAD)}
	w.Rotate()
	return w
}

// Rotate adds a new KEK version, which later Wraps use, and returns it.
func (w *Wrapper) Rotate() int {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.latest++
	w.keys[w.latest] = aead
	return w.latest
}

// Destroy deletes KEK version v: records wrapped under it no longer open.
// Destroying the latest version leaves Wrap without a key (it fails) until
// Rotate; a test of that is a test of a misuse internal/hsm refuses.
func (w *Wrapper) Destroy(version int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.keys, version)
}

// Versions returns the live versions, ascending.
func (w *Wrapper) Versions() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	vs := make([]int, 0, len(w.keys))
	for v := range w.keys {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs
}

// Calls returns how many Wrap and Unwrap calls were made.
func (w *Wrapper) Calls() (wraps, unwraps int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.wraps, w.unwraps
}

// Wrap wraps dek under the latest version.
func (w *Wrapper) Wrap(ctx context.Context, dek, ad []byte) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	w.mu.Lock()
	w.wraps++
	v := w.latest
	aead, ok := w.keys[v]
	w.mu.Unlock()
	if !ok {
		return 0, nil, fmt.Errorf("envelopetest: wrap: latest KEK version %d destroyed: %w", v, envelope.ErrKEKNotFound)
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return 0, nil, err
	}
	return v, aead.Seal(nonce, nonce, dek, ad), nil
}

// Unwrap unwraps under the version named.
func (w *Wrapper) Unwrap(ctx context.Context, version int, wrapped, ad []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.unwraps++
	aead, ok := w.keys[version]
	w.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("envelopetest: unwrap: version %d: %w: %w", version, envelope.ErrDecrypt, envelope.ErrKEKNotFound)
	}
	n := aead.NonceSize()
	if len(wrapped) < n+aead.Overhead() {
		return nil, fmt.Errorf("envelopetest: unwrap: %w: %d bytes", envelope.ErrDecrypt, len(wrapped))
	}
	dek, err := aead.Open(nil, wrapped[:n], wrapped[n:], ad)
	if err != nil {
		return nil, fmt.Errorf("envelopetest: unwrap: %w", envelope.ErrDecrypt)
	}
	return dek, nil
}

// Indexer is a software blind-index key. It is safe for concurrent use.
type Indexer struct {
	key []byte
}

var _ envelope.Indexer = (*Indexer)(nil)

// NewIndexer returns an Indexer with a fresh random key.
func NewIndexer(t testing.TB) *Indexer {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return &Indexer{key: key}
}

// NewIndexerWithKey returns an Indexer with the given key (for tests that
// need the same index across two Indexers or against a known value).
func NewIndexerWithKey(key []byte) *Indexer {
	return &Indexer{key: slices.Clone(key)}
}

// Index returns HMAC-SHA256(key, envelope.IndexMessage(purpose, value)).
func (ix *Indexer) Index(ctx context.Context, purpose string, value []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, ix.key)
	m.Write(envelope.IndexMessage(purpose, value))
	return m.Sum(nil), nil
}
