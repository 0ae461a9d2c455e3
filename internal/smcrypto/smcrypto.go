// Package smcrypto holds the symmetric primitives of ICAO Doc 9303-11
// secure messaging: the key derivation function (§9.7.1), ISO/IEC 9797-1
// padding method 2, the 3DES retail MAC (ISO/IEC 9797-1 MAC algorithm 3),
// AES-CMAC (NIST SP 800-38B) and CBC encryption with the SSC-derived IV
// (§9.8.6).
//
// Both sides of the protocol use it: the terminal (package reader) and the
// software chip (hardware/chipsim). That is deliberate and safe because
// every function here is pinned byte for byte to the published ICAO
// worked examples; the protocol logic that uses them (which data objects
// are MACed, when the SSC moves) is written independently on each side so
// that the chip cannot pass tests by sharing the reader's bugs.
//
// The package does no protocol state keeping and no random generation.
package smcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
)

// Cipher is a secure messaging block cipher with its key length.
type Cipher int

const (
	TDES   Cipher = iota + 1 // two-key 3DES, CBC, retail MAC (BAC, PACE-3DES)
	AES128                   // AES-128, CBC, CMAC
	AES192                   // AES-192, CBC, CMAC
	AES256                   // AES-256, CBC, CMAC
)

// String returns the name used in the inspection report's access_params.cipher.
func (c Cipher) String() string {
	switch c {
	case TDES:
		return "3DES"
	case AES128:
		return "AES-128"
	case AES192:
		return "AES-192"
	case AES256:
		return "AES-256"
	}
	return fmt.Sprintf("Cipher(%d)", int(c))
}

// KeySize is the length in bytes of a derived key (16 for two-key 3DES).
func (c Cipher) KeySize() int {
	switch c {
	case TDES, AES128:
		return 16
	case AES192:
		return 24
	case AES256:
		return 32
	}
	return 0
}

// BlockSize is the cipher's block size: 8 for 3DES, 16 for AES. It is also
// the length of the send sequence counter (§9.8.2).
func (c Cipher) BlockSize() int {
	switch c {
	case TDES:
		return 8
	case AES128, AES192, AES256:
		return 16
	}
	return 0
}

// Counters of the key derivation function, 9303-11 §9.7.1.
const (
	CounterEnc  uint32 = 1
	CounterMAC  uint32 = 2
	CounterPACE uint32 = 3
)

var (
	// ErrPadding reports data that does not end in ISO/IEC 9797-1 method 2 padding.
	ErrPadding = errors.New("smcrypto: invalid padding")
	// ErrCipher reports an unknown cipher or a key of the wrong length.
	ErrCipher = errors.New("smcrypto: unsupported cipher or key length")
)

// DeriveKey is the KDF of 9303-11 §9.7.1: keydata = H(seed || counter),
// with SHA-1 for 3DES and AES-128 and SHA-256 for AES-192 and AES-256,
// truncated to the key size. A 3DES key is returned as 16 bytes (K1 || K2)
// with DES parity bits adjusted, as the worked examples of App. D print it.
func DeriveKey(c Cipher, seed []byte, counter uint32) ([]byte, error) {
	var ctr [4]byte
	binary.BigEndian.PutUint32(ctr[:], counter)
	var sum []byte
	switch c {
	case TDES, AES128:
		h := sha1.New()
		h.Write(seed)
		h.Write(ctr[:])
		sum = h.Sum(nil)
	case AES192, AES256:
		h := sha256.New()
		h.Write(seed)
		h.Write(ctr[:])
		sum = h.Sum(nil)
	default:
		return nil, ErrCipher
	}
	key := sum[:c.KeySize()]
	if c == TDES {
		adjustParity(key)
	}
	return key, nil
}

// adjustParity sets the low bit of each byte so that every byte has odd
// parity (FIPS 46-3). DES ignores these bits; the worked examples print them.
func adjustParity(k []byte) {
	for i, b := range k {
		b &^= 1
		p := b ^ b>>4
		p ^= p >> 2
		p ^= p >> 1
		k[i] = b | (^p & 1)
	}
}

// NewBlock returns the block cipher for c. A 3DES key may be 16 bytes
// (K1 K2, used as K1 K2 K1) or 24 bytes.
func NewBlock(c Cipher, key []byte) (cipher.Block, error) {
	switch c {
	case TDES:
		switch len(key) {
		case 16:
			k := make([]byte, 24)
			copy(k, key)
			copy(k[16:], key[:8])
			return des.NewTripleDESCipher(k)
		case 24:
			return des.NewTripleDESCipher(key)
		}
	case AES128, AES192, AES256:
		if len(key) == c.KeySize() {
			return aes.NewCipher(key)
		}
	}
	return nil, fmt.Errorf("%w: %v with a %d-byte key", ErrCipher, c, len(key))
}

// Pad applies ISO/IEC 9797-1 padding method 2: a byte 80 then zero bytes
// up to a multiple of blockSize. It always adds at least one byte.
func Pad(b []byte, blockSize int) []byte {
	n := len(b) + 1
	if r := n % blockSize; r != 0 {
		n += blockSize - r
	}
	out := make([]byte, n)
	copy(out, b)
	out[len(b)] = 0x80
	return out
}

// Unpad removes ISO/IEC 9797-1 padding method 2.
func Unpad(b []byte) ([]byte, error) {
	i := len(b) - 1
	for i >= 0 && b[i] == 0x00 {
		i--
	}
	if i < 0 || b[i] != 0x80 {
		return nil, ErrPadding
	}
	return b[:i], nil
}

// RetailMAC is ISO/IEC 9797-1 MAC algorithm 3 with DES and padding method
// 2 (9303-11 §9.8.6.1): single-DES CBC under K1 over all blocks, then the
// last output decrypted under K2 and encrypted under K1. key is K1 || K2.
func RetailMAC(key, msg []byte) ([]byte, error) {
	if len(key) != 16 {
		return nil, fmt.Errorf("%w: retail MAC needs a 16-byte key, got %d", ErrCipher, len(key))
	}
	k1, err := des.NewCipher(key[:8])
	if err != nil {
		return nil, err
	}
	k2, err := des.NewCipher(key[8:])
	if err != nil {
		return nil, err
	}
	data := Pad(msg, 8)
	h := make([]byte, 8)
	for i := 0; i < len(data); i += 8 {
		subtle.XORBytes(h, h, data[i:i+8])
		k1.Encrypt(h, h)
	}
	k2.Decrypt(h, h)
	k1.Encrypt(h, h)
	return h, nil
}

// CMAC is AES-CMAC (NIST SP 800-38B) over msg exactly as given; the result
// is the full 16-byte tag.
func CMAC(key, msg []byte) ([]byte, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCipher, err)
	}
	// Subkeys, SP 800-38B §6.1.
	l := make([]byte, 16)
	b.Encrypt(l, l)
	k1 := dbl(l)
	k2 := dbl(k1)

	n := (len(msg) + 15) / 16
	complete := n > 0 && len(msg)%16 == 0
	if n == 0 {
		n = 1
	}
	last := make([]byte, 16)
	if complete {
		subtle.XORBytes(last, msg[(n-1)*16:], k1)
	} else {
		copy(last, msg[(n-1)*16:])
		last[len(msg)-(n-1)*16] = 0x80
		subtle.XORBytes(last, last, k2)
	}
	x := make([]byte, 16)
	for i := 0; i < n-1; i++ {
		subtle.XORBytes(x, x, msg[i*16:(i+1)*16])
		b.Encrypt(x, x)
	}
	subtle.XORBytes(x, x, last)
	b.Encrypt(x, x)
	return x, nil
}

// dbl is multiplication by x in GF(2^128), SP 800-38B §6.1.
func dbl(in []byte) []byte {
	out := make([]byte, 16)
	var carry byte
	for i := 15; i >= 0; i-- {
		out[i] = in[i]<<1 | carry
		carry = in[i] >> 7
	}
	// Constant time: the reduction is applied through a mask, not a branch.
	out[15] ^= 0x87 & -carry
	return out
}

// MAC is the secure messaging MAC of 9303-11 §9.8.6: for 3DES the retail
// MAC (which pads), for AES the CMAC over the method-2 padded message,
// truncated to 8 bytes.
func MAC(c Cipher, key, msg []byte) ([]byte, error) {
	switch c {
	case TDES:
		return RetailMAC(key, msg)
	case AES128, AES192, AES256:
		if len(key) != c.KeySize() {
			return nil, fmt.Errorf("%w: %v with a %d-byte key", ErrCipher, c, len(key))
		}
		t, err := CMAC(key, Pad(msg, 16))
		if err != nil {
			return nil, err
		}
		return t[:8], nil
	}
	return nil, ErrCipher
}

// SSCIV returns the CBC IV for encrypting or decrypting secure messaging
// data: zero for 3DES (§9.8.6.1), E(KSenc, SSC) for AES (§9.8.6.2).
func SSCIV(c Cipher, kenc, ssc []byte) ([]byte, error) {
	if len(ssc) != c.BlockSize() {
		return nil, fmt.Errorf("%w: %v needs a %d-byte SSC, got %d", ErrCipher, c, c.BlockSize(), len(ssc))
	}
	if c == TDES {
		return make([]byte, 8), nil
	}
	b, err := NewBlock(c, kenc)
	if err != nil {
		return nil, err
	}
	iv := make([]byte, 16)
	b.Encrypt(iv, ssc)
	return iv, nil
}

// EncryptCBC encrypts data that is already padded to the block size.
func EncryptCBC(c Cipher, key, iv, padded []byte) ([]byte, error) {
	b, err := NewBlock(c, key)
	if err != nil {
		return nil, err
	}
	if len(iv) != b.BlockSize() || len(padded)%b.BlockSize() != 0 {
		return nil, fmt.Errorf("%w: CBC input of %d bytes, IV %d, block %d", ErrCipher, len(padded), len(iv), b.BlockSize())
	}
	out := make([]byte, len(padded))
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(out, padded)
	return out, nil
}

// DecryptCBC decrypts ct; it does not remove padding.
func DecryptCBC(c Cipher, key, iv, ct []byte) ([]byte, error) {
	b, err := NewBlock(c, key)
	if err != nil {
		return nil, err
	}
	if len(iv) != b.BlockSize() || len(ct)%b.BlockSize() != 0 || len(ct) == 0 {
		return nil, fmt.Errorf("%w: CBC input of %d bytes, IV %d, block %d", ErrCipher, len(ct), len(iv), b.BlockSize())
	}
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(b, iv).CryptBlocks(out, ct)
	return out, nil
}
