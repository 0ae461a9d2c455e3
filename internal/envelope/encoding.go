package envelope

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// Binary form of a Sealed, for stores that keep a record as one blob (files
// under <home>/chips):
//
//	format      uint8  = 1
//	kek_version uint32 (big-endian, > 0)
//	wrapped_key uint16-length-prefixed bytes (non-empty)
//	nonce       uint8-length-prefixed bytes (24)
//	ciphertext  uint32-length-prefixed bytes (at least 16)
//
// and nothing after. Stores with columns of their own (PostgreSQL) keep the
// four fields apart instead.
const formatV1 = 1

// ErrFormat: bytes given to UnmarshalBinary are not a Sealed of the format
// above. It is not ErrDecrypt: the record was damaged before any key was
// involved.
var ErrFormat = errors.New("envelope: malformed sealed record")

// MarshalBinary encodes s in the binary form above.
func (s Sealed) MarshalBinary() ([]byte, error) {
	if s.KEKVersion <= 0 || uint64(s.KEKVersion) > 0xffffffff {
		return nil, fmt.Errorf("%w: KEK version %d", ErrFormat, s.KEKVersion)
	}
	if len(s.WrappedKey) == 0 || len(s.WrappedKey) > 0xffff || len(s.Nonce) != NonceSize ||
		len(s.Ciphertext) < TagSize || uint64(len(s.Ciphertext)) > 0xffffffff {
		return nil, fmt.Errorf("%w: field sizes %d/%d/%d", ErrFormat, len(s.WrappedKey), len(s.Nonce), len(s.Ciphertext))
	}
	b := cryptobyte.NewFixedBuilder(make([]byte, 0, 1+4+2+len(s.WrappedKey)+1+len(s.Nonce)+4+len(s.Ciphertext)))
	b.AddUint8(formatV1)
	b.AddUint32(uint32(s.KEKVersion))
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(s.WrappedKey) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(s.Nonce) })
	b.AddUint32LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(s.Ciphertext) })
	return b.Bytes()
}

// UnmarshalBinary decodes the binary form above into s (the fields are
// copies, not slices of data).
func (s *Sealed) UnmarshalBinary(data []byte) error {
	in := cryptobyte.String(data)
	var format uint8
	var version, ctLen uint32
	var wrapped, nonce []byte
	var ct []byte
	if !in.ReadUint8(&format) || format != formatV1 ||
		!in.ReadUint32(&version) || version == 0 || uint64(version) > uint64(maxInt) ||
		!in.ReadUint16LengthPrefixed((*cryptobyte.String)(&wrapped)) || len(wrapped) == 0 ||
		!in.ReadUint8LengthPrefixed((*cryptobyte.String)(&nonce)) || len(nonce) != NonceSize ||
		!in.ReadUint32(&ctLen) || uint64(ctLen) > uint64(len(in)) || !in.ReadBytes(&ct, int(ctLen)) || len(ct) < TagSize ||
		!in.Empty() {
		return ErrFormat
	}
	*s = Sealed{
		KEKVersion: int(version),
		WrappedKey: append([]byte(nil), wrapped...),
		Nonce:      append([]byte(nil), nonce...),
		Ciphertext: append([]byte(nil), ct...),
	}
	return nil
}

const maxInt = int(^uint(0) >> 1)
