// Package envelope encrypts records at rest with envelope encryption: each
// record gets its own fresh 256-bit data key (DEK), the record is sealed
// with XChaCha20-Poly1305 (RFC 8439 with the extended 24-byte nonce of
// draft-irtf-cfrg-xchacha) under that key, and the DEK itself is wrapped by a
// key-encryption key (KEK) that never leaves the HSM (internal/hsm; the
// software envelopetest.Wrapper in tests).
//
// Use:
//
//	ad := envelope.AD(applicationID, "face")
//	s, err := envelope.Seal(ctx, token.KeyWrapper(), jpeg, ad) // store s.KEKVersion, s.WrappedKey, s.Nonce, s.Ciphertext
//	...
//	jpeg, err := envelope.Open(ctx, token.KeyWrapper(), s, ad) // ErrDecrypt on any mismatch
//
// The associated data binds a sealed record to where it belongs: AD encodes
// the record id and the kind of record unambiguously, and the same bytes are
// the AEAD associated data of the record and of the wrapped DEK. A ciphertext
// copied to another record, or a face ciphertext presented as a fingerprint,
// fails to open with ErrDecrypt, as does any changed byte of any field and any
// other KEK version than the one that wrapped it.
//
// Key rotation: Rewrap unwraps a record's DEK under the version it names and
// wraps it again under the current (latest) KEK; the ciphertext is not touched,
// so rotation needs no re-encryption of the data and no downtime.
//
// Erasure guarantees. Deleting a record's wrapped key (or the whole Sealed)
// makes that record unreadable to anyone who cannot recover the deleted bytes.
// Copies of the old wrapped key can survive in places the application does not
// control: PostgreSQL dead tuples until VACUUM, WAL segments, base backups,
// file-system snapshots. Those copies stay decryptable for as long as the KEK
// version that wrapped them exists; they become unreadable only once every
// record has been rewrapped (Rewrap) and the old KEK version has been destroyed
// in the HSM. Nothing in this package can erase a plaintext that was copied
// elsewhere while open.
//
// What it deliberately does not do: compress, pad or hide the length of
// records (the ciphertext is 16 bytes longer than the plaintext); stream
// (a record is sealed in one piece, in memory); keep keys (the DEK is drawn
// from crypto/rand for each Seal and zeroed after use; the copy inside the
// x/crypto AEAD value cannot be zeroed and is left to the garbage collector);
// decide where KEKs live (KeyWrapper does) or log anything.
//
// The Indexer interface (blind indexes, keyed HMAC-SHA256 over
// IndexMessage) is declared here too, so that the HSM and its test double
// compute the same thing.
package envelope

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeyWrapper wraps data keys under the current key-encryption key (KEK) and
// unwraps under any live version.
//
// Wrap must use the latest KEK version and report it; Unwrap must use
// exactly the version named. An authentication failure, an unknown or
// destroyed version, or any other sign that the wrapped bytes or the ad do
// not belong together must be reported as an error wrapping ErrDecrypt
// (an unknown or destroyed version also wraps ErrKEKNotFound). Other errors
// (the HSM is unreachable, ctx ended) must not wrap ErrDecrypt, so callers
// can tell "this record is not valid" from "try again".
// Implementations are safe for concurrent use.
type KeyWrapper interface {
	Wrap(ctx context.Context, dek, ad []byte) (kekVersion int, wrapped []byte, err error)
	Unwrap(ctx context.Context, kekVersion int, wrapped, ad []byte) ([]byte, error)
}

// Indexer computes blind indexes (keyed hashes) so values like document
// numbers can be found without being stored.
//
// Index returns 32 bytes: HMAC-SHA256(key, IndexMessage(purpose, value)).
// The purpose separates uses of the one key ("document-number", ...): equal
// values under different purposes give unrelated indexes.
type Indexer interface {
	Index(ctx context.Context, purpose string, value []byte) ([]byte, error)
}

// Sealed is one encrypted record: the version of the KEK that wrapped its
// data key, the wrapped data key, the XChaCha20-Poly1305 nonce and the
// ciphertext (with its 16-byte tag). All four must be stored; none is secret.
type Sealed struct {
	KEKVersion int
	WrappedKey []byte
	Nonce      []byte
	Ciphertext []byte
}

// Sizes of the construction.
const (
	DEKSize   = chacha20poly1305.KeySize    // 32
	NonceSize = chacha20poly1305.NonceSizeX // 24
	TagSize   = chacha20poly1305.Overhead   // 16
)

var (
	// ErrDecrypt: a sealed record does not open: a wrong associated
	// data, a changed byte, another or a destroyed KEK version, a
	// malformed field. Deliberately one error for all of them.
	ErrDecrypt = errors.New("envelope: cannot decrypt")
	// ErrKEKNotFound: the KEK version named does not exist (never did, or
	// was destroyed). KeyWrappers return it together with ErrDecrypt.
	ErrKEKNotFound = errors.New("envelope: key-encryption key version not found")
)

// adPrefix names the format of AD; a new format gets a new prefix.
const adPrefix = "borderid/v1"

// AD returns the canonical associated data of a record: "borderid/v1",
// then the record id and the kind, each preceded by its length as a 4-byte
// big-endian integer. The encoding is injective: no two (recordID, kind)
// pairs give the same bytes.
func AD(recordID, kind string) []byte {
	b := make([]byte, 0, len(adPrefix)+8+len(recordID)+len(kind))
	b = append(b, adPrefix...)
	b = appendLenPrefixed(b, []byte(recordID))
	b = appendLenPrefixed(b, []byte(kind))
	return b
}

// IndexMessage returns the bytes an Indexer MACs: "borderid/index/v1", the
// purpose and the value, each of the latter two preceded by its length as a
// 4-byte big-endian integer.
func IndexMessage(purpose string, value []byte) []byte {
	const prefix = "borderid/index/v1"
	b := make([]byte, 0, len(prefix)+8+len(purpose)+len(value))
	b = append(b, prefix...)
	b = appendLenPrefixed(b, []byte(purpose))
	b = appendLenPrefixed(b, value)
	return b
}

func appendLenPrefixed(b, v []byte) []byte {
	if uint64(len(v)) > 0xffffffff {
		// Not reachable for any record id or kind a caller has in
		// memory on purpose; refuse rather than truncate the length.
		panic("envelope: field longer than 4 GiB")
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// Seal encrypts plaintext under a fresh random data key, binding ad, and
// wraps the data key with kw under the same ad.
func Seal(ctx context.Context, kw KeyWrapper, plaintext, ad []byte) (Sealed, error) {
	if kw == nil {
		return Sealed{}, errors.New("envelope: seal: no key wrapper")
	}
	dek := make([]byte, DEKSize)
	defer clear(dek)
	if _, err := rand.Read(dek); err != nil {
		return Sealed{}, fmt.Errorf("envelope: seal: data key: %w", err)
	}
	nonce := make([]byte, NonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return Sealed{}, fmt.Errorf("envelope: seal: nonce: %w", err)
	}
	aead, err := chacha20poly1305.NewX(dek)
	if err != nil {
		return Sealed{}, fmt.Errorf("envelope: seal: %w", err)
	}
	ct := aead.Seal(nil, nonce, plaintext, ad)
	v, wrapped, err := kw.Wrap(ctx, dek, ad)
	if err != nil {
		return Sealed{}, fmt.Errorf("envelope: seal: wrap data key: %w", err)
	}
	if v <= 0 || len(wrapped) == 0 {
		return Sealed{}, fmt.Errorf("envelope: seal: key wrapper returned version %d and %d bytes", v, len(wrapped))
	}
	return Sealed{KEKVersion: v, WrappedKey: wrapped, Nonce: nonce, Ciphertext: ct}, nil
}

// Open unwraps the data key of s and decrypts its ciphertext with ad. Any
// mismatch gives an error wrapping ErrDecrypt; an error of kw that is not an
// authentication failure (the HSM is unreachable) is returned wrapped as is.
func Open(ctx context.Context, kw KeyWrapper, s Sealed, ad []byte) ([]byte, error) {
	dek, err := unwrap(ctx, kw, s, ad)
	if err != nil {
		return nil, fmt.Errorf("envelope: open: %w", err)
	}
	defer clear(dek)
	pt, err := openWith(dek, s, ad)
	if err != nil {
		return nil, fmt.Errorf("envelope: open: %w", err)
	}
	return pt, nil
}

// Rewrap unwraps the data key of s and wraps it again under kw's latest
// KEK version. The nonce and ciphertext are kept (the returned Sealed shares
// them with s); before the new wrapped key is returned the data key is
// checked to open the ciphertext, so a rewrapped record is known to be
// readable before the old KEK version may be destroyed.
func Rewrap(ctx context.Context, kw KeyWrapper, s Sealed, ad []byte) (Sealed, error) {
	dek, err := unwrap(ctx, kw, s, ad)
	if err != nil {
		return Sealed{}, fmt.Errorf("envelope: rewrap: %w", err)
	}
	defer clear(dek)
	pt, err := openWith(dek, s, ad)
	if err != nil {
		return Sealed{}, fmt.Errorf("envelope: rewrap: %w", err)
	}
	clear(pt)
	v, wrapped, err := kw.Wrap(ctx, dek, ad)
	if err != nil {
		return Sealed{}, fmt.Errorf("envelope: rewrap: wrap data key: %w", err)
	}
	if v <= 0 || len(wrapped) == 0 {
		return Sealed{}, fmt.Errorf("envelope: rewrap: key wrapper returned version %d and %d bytes", v, len(wrapped))
	}
	return Sealed{KEKVersion: v, WrappedKey: wrapped, Nonce: s.Nonce, Ciphertext: s.Ciphertext}, nil
}

func unwrap(ctx context.Context, kw KeyWrapper, s Sealed, ad []byte) ([]byte, error) {
	if kw == nil {
		return nil, errors.New("no key wrapper")
	}
	if s.KEKVersion <= 0 || len(s.WrappedKey) == 0 || len(s.Nonce) != NonceSize || len(s.Ciphertext) < TagSize {
		return nil, fmt.Errorf("%w: malformed sealed record", ErrDecrypt)
	}
	dek, err := kw.Unwrap(ctx, s.KEKVersion, s.WrappedKey, ad)
	if err != nil {
		return nil, fmt.Errorf("unwrap data key (KEK version %d): %w", s.KEKVersion, err)
	}
	if len(dek) != DEKSize {
		clear(dek)
		return nil, fmt.Errorf("%w: unwrapped data key of %d bytes", ErrDecrypt, len(dek))
	}
	return dek, nil
}

func openWith(dek []byte, s Sealed, ad []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(dek)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	pt, err := aead.Open(nil, s.Nonce, s.Ciphertext, ad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}
