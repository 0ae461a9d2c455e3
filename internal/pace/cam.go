package pace

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"

	"filippo.io/bigmod"

	"borderid/internal/smcrypto"
)

var (
	// ErrCAMData reports encrypted chip authentication data that does not
	// decrypt to a padded value.
	ErrCAMData = errors.New("pace: invalid encrypted chip authentication data")
	// ErrCAM reports a failed PACE-CAM check: KA(CA_IC, PK_IC) ≠ PK_map,IC.
	ErrCAM = errors.New("pace: chip authentication mapping check failed")
)

// camIV is the IV of the encrypted chip authentication data: E(KSenc, -1),
// the all-ones block encrypted under KSenc — the AES secure messaging IV
// rule E(KSenc, SSC) of §9.8.6.2 applied to an SSC of all ones. The raw
// all-ones block is not the IV: data decrypted with it still ends in valid
// padding but its first block is wrong, so padding alone cannot catch the
// mistake (the PACE-CAM vector shows it).
func camIV(c smcrypto.Cipher, ksenc []byte) ([]byte, error) {
	switch c {
	case smcrypto.AES128, smcrypto.AES192, smcrypto.AES256:
	default:
		return nil, fmt.Errorf("pace: PACE-CAM is defined for AES only: %w", smcrypto.ErrCipher)
	}
	ones := bytes.Repeat([]byte{0xff}, c.BlockSize())
	return smcrypto.EncryptCBC(c, ksenc, make([]byte, c.BlockSize()), ones)
}

// EncryptCAMData is the chip's side of PACE-CAM (9303-11 §4.4.3.5.1):
// A_IC = E(KSenc, IV, pad(CA_IC)) in CBC with IV = E(KSenc, FF…FF) and
// padding method 2.
func EncryptCAMData(c smcrypto.Cipher, ksenc, caIC []byte) ([]byte, error) {
	if len(caIC) == 0 {
		return nil, errors.New("pace: empty chip authentication data")
	}
	iv, err := camIV(c, ksenc)
	if err != nil {
		return nil, err
	}
	out, err := smcrypto.EncryptCBC(c, ksenc, iv, smcrypto.Pad(caIC, c.BlockSize()))
	if err != nil {
		return nil, fmt.Errorf("pace: CAM data: %w", err)
	}
	return out, nil
}

// DecryptCAMData is the terminal's side: it decrypts A_IC with the IV
// E(KSenc, FF…FF) and removes the padding, returning CA_IC. It does not check
// CA_IC: that needs the chip's static key from EF.CardSecurity (VerifyCAM).
func DecryptCAMData(c smcrypto.Cipher, ksenc, aIC []byte) ([]byte, error) {
	iv, err := camIV(c, ksenc)
	if err != nil {
		return nil, err
	}
	if len(aIC) == 0 || len(aIC)%c.BlockSize() != 0 {
		return nil, fmt.Errorf("%w: %d bytes", ErrCAMData, len(aIC))
	}
	pt, err := smcrypto.DecryptCBC(c, ksenc, iv, aIC)
	if err != nil {
		return nil, fmt.Errorf("pace: CAM data: %w", err)
	}
	ca, err := smcrypto.Unpad(pt)
	if err != nil || len(ca) == 0 {
		return nil, fmt.Errorf("%w: padding", ErrCAMData)
	}
	return ca, nil
}

// CAMChipData computes the chip's CA_IC = SK_map,IC · SK_IC⁻¹ mod n (9303-11
// §4.4.3.5.1), from its ephemeral mapping key and its static chip
// authentication key, both private keys of d (ECDH only). The inverse is
// computed as SK_IC^(n-2) mod n with bigmod, in constant time.
func CAMChipData(d Domain, skMapIC, skIC []byte) ([]byte, error) {
	if d.KeyAgreement() != ECDH {
		return nil, fmt.Errorf("pace: PACE-CAM is defined for ECDH only, not %s", d.Name())
	}
	n := d.Order()
	mod, err := bigmod.NewModulus(n)
	if err != nil {
		return nil, fmt.Errorf("pace: order: %w", err)
	}
	if len(skMapIC) != len(n) || len(skIC) != len(n) {
		return nil, fmt.Errorf("pace: CAM keys must be %d bytes", len(n))
	}
	a, err := bigmod.NewNat().SetBytes(skMapIC, mod)
	if err != nil || a.IsZero() == 1 {
		return nil, errors.New("pace: CAM mapping key out of range")
	}
	b, err := bigmod.NewNat().SetBytes(skIC, mod)
	if err != nil || b.IsZero() == 1 {
		return nil, errors.New("pace: CAM static key out of range")
	}
	// n-2 is public: math/big may compute it. The exponentiation that uses
	// it as exponent runs on bigmod, constant time in the secret base.
	nm2 := new(big.Int).Sub(new(big.Int).SetBytes(n), big.NewInt(2)).FillBytes(make([]byte, len(n)))
	inv := bigmod.NewNat().Exp(b, nm2, mod)
	return inv.Mul(a, mod).Bytes(mod), nil
}

// VerifyCAM is the terminal's final PACE-CAM check (9303-11 §4.4.3.5.2):
// KA(CA_IC, PK_IC) = PK_map,IC, i.e. CA_IC · PK_IC must be the chip's
// mapping public key, where PK_IC is the static chip authentication key
// from EF.CardSecurity (after passive authentication of that file). caIC must
// be a private-key-sized value in [1, n-1]; any failure is ErrCAM.
func VerifyCAM(d Domain, caIC, pkIC, pkMapIC []byte) error {
	if d.KeyAgreement() != ECDH {
		return fmt.Errorf("%w: PACE-CAM is defined for ECDH only", ErrCAM)
	}
	if err := d.ValidatePublic(pkMapIC); err != nil {
		return fmt.Errorf("%w: PK_map,IC: %w", ErrCAM, err)
	}
	got, err := d.PublicKey(caIC, pkIC)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCAM, err)
	}
	if !bytes.Equal(got, pkMapIC) {
		return ErrCAM
	}
	return nil
}
