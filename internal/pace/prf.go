package pace

import (
	"encoding/hex"
	"errors"
	"fmt"

	"borderid/internal/dh"
	"borderid/internal/smcrypto"
)

// ErrPRF reports inputs the integrated mapping's pseudo-random function
// cannot take: a terminal nonce t that is not one key long, a chip nonce s
// that is not a positive multiple of the block size or too short to make a
// key.
var ErrPRF = errors.New("pace: invalid input to the mapping function R")

// The constants c0, c1 of R (9303-11 §4.4.3.3.2): 128 bits for the ciphers
// with 128-bit keys (AES-128, and 3DES, whose two-key bundle is 128 bits),
// 256 bits for AES-192 and AES-256 (AES-192 keeps the leftmost 192 bits of
// each derived key).
const (
	prfC0k128 = "A668892A7C41E3CA739F40B057D85904"
	prfC1k128 = "A4E136AC725F738B01C1F60217C188AD"
	prfC0k256 = "D463D65234124EF7897054986DCA0A174E28DF758CBAA03F240616414D5A1676"
	prfC1k256 = "54BD7255F0AAF831BEC3423FCF39D69B6CBF066677D0FAAE5AADD99DF8E53517"
)

func prfConstants(c smcrypto.Cipher) (c0, c1 []byte, err error) {
	var h0, h1 string
	switch c {
	case smcrypto.TDES, smcrypto.AES128:
		h0, h1 = prfC0k128, prfC1k128
	case smcrypto.AES192, smcrypto.AES256:
		h0, h1 = prfC0k256, prfC1k256
	default:
		return nil, nil, fmt.Errorf("pace: %w", smcrypto.ErrCipher)
	}
	c0, _ = hex.DecodeString(h0)
	c1, _ = hex.DecodeString(h1)
	return c0, c1, nil
}

// PRF is the pseudo-random function R(s, t) of the integrated mapping
// (9303-11 §4.4.3.3.2), built from the PACE cipher E with key length k and
// block length l:
//
//	key_0 = E(t, s)
//	x_i   = E(key_i, c1),  key_{i+1} = E(key_i, c0)      for i = 0, 1, ...
//	R     = leftmost n·l bits of x_0 ‖ x_1 ‖ ...,  n = ⌈(log₂ p + 64) / l⌉
//
// s is the chip's nonce, t the terminal's (exactly KeySize bytes), pBits the
// bit length of p (the DH modulus or the curve's field prime): the extra 64
// bits make R mod p close to uniform. Each E over a multi-block input is CBC
// with a zero IV; a derived key is the leftmost KeySize bytes of its E
// output.
//
// Pinned: AES-128 by App. H.1 and H.2 (one-block E, so ECB = CBC). The
// multi-block reading for 3DES (16-byte constants, 8-byte blocks) and for
// AES-192/256 (32-byte constants) follows the same definition but no
// published vector checks it.
func PRF(c smcrypto.Cipher, s, t []byte, pBits int) ([]byte, error) {
	c0, c1, err := prfConstants(c)
	if err != nil {
		return nil, err
	}
	bs, ks := c.BlockSize(), c.KeySize()
	if len(t) != ks {
		return nil, fmt.Errorf("%w: t is %d bytes, want %d", ErrPRF, len(t), ks)
	}
	if len(s) == 0 || len(s)%bs != 0 {
		return nil, fmt.Errorf("%w: s is %d bytes, want a positive multiple of %d", ErrPRF, len(s), bs)
	}
	if pBits <= 0 || pBits > 16384 {
		return nil, fmt.Errorf("%w: prime of %d bits", ErrPRF, pBits)
	}
	zero := make([]byte, bs)
	key, err := smcrypto.EncryptCBC(c, t, zero, s)
	if err != nil {
		return nil, fmt.Errorf("pace: R: %w", err)
	}
	if len(key) < ks {
		return nil, fmt.Errorf("%w: s is %d bytes, too short for a %d-byte key", ErrPRF, len(s), ks)
	}
	key = key[:ks]
	n := (pBits + 64 + 8*bs - 1) / (8 * bs)
	out := make([]byte, 0, n*bs+len(c1))
	for len(out) < n*bs {
		x, err := smcrypto.EncryptCBC(c, key, zero, c1)
		if err != nil {
			return nil, fmt.Errorf("pace: R: %w", err)
		}
		out = append(out, x...)
		next, err := smcrypto.EncryptCBC(c, key, zero, c0)
		if err != nil {
			return nil, fmt.Errorf("pace: R: %w", err)
		}
		key = next[:ks]
	}
	return out[:n*bs], nil
}

// ReduceModP returns R mod p for the domain d as d.PrimeLen() bytes, in time
// independent of R's value: R_p of the integrated mapping.
func ReduceModP(d Domain, r []byte) ([]byte, error) {
	rp, err := dh.ReduceMod(r, d.Prime())
	if err != nil {
		return nil, fmt.Errorf("pace: R mod p: %w", err)
	}
	return rp, nil
}

// IntegratedGenerator runs the whole integrated mapping of 9303-11
// §4.4.3.3.2 for the nonces s (chip) and t (terminal): R = R(s,t) sized to
// d's prime, R_p = R mod p, then d.MapIntegrated(R_p). The result is the
// encoding of the mapped generator, ready for d.GenerateKey.
func IntegratedGenerator(d Domain, c smcrypto.Cipher, s, t []byte) ([]byte, error) {
	r, err := PRF(c, s, t, d.PrimeBits())
	if err != nil {
		return nil, err
	}
	rp, err := ReduceModP(d, r)
	if err != nil {
		return nil, err
	}
	return d.MapIntegrated(rp)
}
