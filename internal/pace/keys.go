package pace

import (
	"crypto/sha1"
	"errors"
	"fmt"

	"borderid/internal/smcrypto"
)

var (
	// ErrPassword reports an empty or malformed password (MRZ information
	// or CAN).
	ErrPassword = errors.New("pace: invalid password")
	// ErrNonce reports an encrypted nonce (or nonce) of a length that is not
	// a positive multiple of the cipher's block size.
	ErrNonce = errors.New("pace: invalid nonce")
)

// KeyFromMRZ derives the password key Kπ from the MRZ information (document
// number, date of birth, date of expiry, each with its check digit, as for
// BAC): Kπ = KDF(SHA-1(MRZ information), 3). Unlike BAC, the whole 20-byte
// SHA-1 digest is the seed, not its first 16 bytes (9303-11 §9.7.3; App.
// G.1 prints it).
func KeyFromMRZ(keySeedInfo string, c smcrypto.Cipher) ([]byte, error) {
	if err := checkPassword(keySeedInfo); err != nil {
		return nil, err
	}
	seed := sha1.Sum([]byte(keySeedInfo))
	k, err := smcrypto.DeriveKey(c, seed[:], smcrypto.CounterPACE)
	if err != nil {
		return nil, fmt.Errorf("pace: password key: %w", err)
	}
	return k, nil
}

// KeyFromCAN derives the password key Kπ from the card access number:
// Kπ = KDF(CAN, 3), the CAN's characters as bytes (9303-11 §9.7.3; App.
// H.1). The CAN is usually six digits; any printable ASCII is accepted.
func KeyFromCAN(can string, c smcrypto.Cipher) ([]byte, error) {
	if err := checkPassword(can); err != nil {
		return nil, err
	}
	k, err := smcrypto.DeriveKey(c, []byte(can), smcrypto.CounterPACE)
	if err != nil {
		return nil, fmt.Errorf("pace: password key: %w", err)
	}
	return k, nil
}

func checkPassword(pw string) error {
	if pw == "" {
		return fmt.Errorf("%w: empty", ErrPassword)
	}
	for i := 0; i < len(pw); i++ {
		if pw[i] < 0x20 || pw[i] > 0x7e {
			return fmt.Errorf("%w: byte %d is not printable ASCII", ErrPassword, i)
		}
	}
	return nil
}

// DecryptNonce recovers the chip's nonce s = D(Kπ, z): CBC with a zero IV
// and no padding (9303-11 §4.4.3.1). z must be a positive multiple of the
// block size.
func DecryptNonce(c smcrypto.Cipher, kpi, z []byte) ([]byte, error) {
	if err := checkNonce(c, z); err != nil {
		return nil, err
	}
	s, err := smcrypto.DecryptCBC(c, kpi, make([]byte, c.BlockSize()), z)
	if err != nil {
		return nil, fmt.Errorf("pace: nonce: %w", err)
	}
	return s, nil
}

// EncryptNonce is the chip's side: z = E(Kπ, s), CBC with a zero IV and no
// padding.
func EncryptNonce(c smcrypto.Cipher, kpi, s []byte) ([]byte, error) {
	if err := checkNonce(c, s); err != nil {
		return nil, err
	}
	z, err := smcrypto.EncryptCBC(c, kpi, make([]byte, c.BlockSize()), s)
	if err != nil {
		return nil, fmt.Errorf("pace: nonce: %w", err)
	}
	return z, nil
}

func checkNonce(c smcrypto.Cipher, b []byte) error {
	bs := c.BlockSize()
	if bs == 0 {
		return fmt.Errorf("pace: %w", smcrypto.ErrCipher)
	}
	if len(b) == 0 || len(b)%bs != 0 {
		return fmt.Errorf("%w: length %d is not a positive multiple of %d", ErrNonce, len(b), bs)
	}
	return nil
}

// SessionKeys derives the secure messaging keys after the key agreement:
// KSenc = KDF(K, 1), KSmac = KDF(K, 2) (9303-11 §4.4.3.4, §9.7.1). K must be
// the fixed-length shared secret (the x-coordinate for ECDH, ByteLen bytes
// for DH) as Domain.SharedSecret returns it: a K with a dropped leading zero
// gives different keys.
func SessionKeys(c smcrypto.Cipher, k []byte) (kenc, kmac []byte, err error) {
	if len(k) == 0 {
		return nil, nil, errors.New("pace: empty shared secret")
	}
	if kenc, err = smcrypto.DeriveKey(c, k, smcrypto.CounterEnc); err != nil {
		return nil, nil, fmt.Errorf("pace: KSenc: %w", err)
	}
	if kmac, err = smcrypto.DeriveKey(c, k, smcrypto.CounterMAC); err != nil {
		return nil, nil, fmt.Errorf("pace: KSmac: %w", err)
	}
	return kenc, kmac, nil
}
