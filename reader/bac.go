package reader

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"borderid/internal/smcrypto"
)

// Basic Access Control, ICAO 9303-11 §4.3: the terminal proves knowledge of
// the MRZ key-seed information (document number, date of birth and date of
// expiry with their check digits), both sides contribute key material, and
// the result is a 3DES secure messaging session.

// ErrBACFailed: the chip refused the terminal's authentication (typically
// 6300 or 6982 to EXTERNAL AUTHENTICATE). The MRZ data is most likely wrong.
var ErrBACFailed = errors.New("reader: BAC failed (check the MRZ data)")

// BACKeys derives the basic access keys Kenc and Kmac from the MRZ
// key-seed information (§4.3.2, App. D.2): Kseed is the first 16 bytes of
// SHA-1(info), and each key is KDF(Kseed, counter) with 3DES parity.
func BACKeys(keySeedInfo string) (kenc, kmac []byte, err error) {
	if keySeedInfo == "" {
		return nil, nil, fmt.Errorf("%w: empty MRZ key-seed information", ErrBACFailed)
	}
	h := sha1.Sum([]byte(keySeedInfo))
	seed := h[:16]
	if kenc, err = smcrypto.DeriveKey(smcrypto.TDES, seed, smcrypto.CounterEnc); err != nil {
		return nil, nil, err
	}
	if kmac, err = smcrypto.DeriveKey(smcrypto.TDES, seed, smcrypto.CounterMAC); err != nil {
		return nil, nil, err
	}
	return kenc, kmac, nil
}

// BAC runs Basic Access Control (§4.3.3) over s and, on success, installs
// the new secure messaging session in s and returns it. Any previous secure
// messaging in s is discarded first: GET CHALLENGE and EXTERNAL
// AUTHENTICATE are plain commands. rnd supplies RND.IFD (8 bytes) then
// K.IFD (16 bytes), in that order, so a test can replay App. D.3.
func BAC(ctx context.Context, s *Session, keySeedInfo string, rnd io.Reader) (SecureMessaging, error) {
	if rnd == nil {
		return nil, fmt.Errorf("reader: BAC: no random source")
	}
	kenc, kmac, err := BACKeys(keySeedInfo)
	if err != nil {
		return nil, err
	}
	s.SetSecureMessaging(nil)

	// §4.3.3.1 step 1: the chip's challenge RND.IC.
	r, err := s.Transmit(ctx, Command{CLA: 0x00, INS: insGetChallenge, Ne: 8})
	if err != nil {
		return nil, fmt.Errorf("reader: BAC GET CHALLENGE: %w", err)
	}
	if !r.SW.OK() {
		return nil, fmt.Errorf("%w: %w", ErrBACFailed, &SWError{Cmd: "GET CHALLENGE", SW: r.SW})
	}
	if len(r.Data) != 8 {
		return nil, fmt.Errorf("%w: GET CHALLENGE returned %d bytes, want 8", ErrBACFailed, len(r.Data))
	}
	rndIC := r.Data

	// Step 2: S = RND.IFD || RND.IC || K.IFD, encrypted and MACed.
	rndIFD := make([]byte, 8)
	kIFD := make([]byte, 16)
	if _, err := io.ReadFull(rnd, rndIFD); err != nil {
		return nil, fmt.Errorf("reader: BAC: random source: %w", err)
	}
	if _, err := io.ReadFull(rnd, kIFD); err != nil {
		return nil, fmt.Errorf("reader: BAC: random source: %w", err)
	}
	S := make([]byte, 0, 32)
	S = append(append(append(S, rndIFD...), rndIC...), kIFD...)
	eIFD, err := smcrypto.EncryptCBC(smcrypto.TDES, kenc, make([]byte, 8), S)
	if err != nil {
		return nil, err
	}
	mIFD, err := smcrypto.RetailMAC(kmac, eIFD)
	if err != nil {
		return nil, err
	}
	r, err = s.Transmit(ctx, Command{CLA: 0x00, INS: insExternalAuth, Data: append(eIFD, mIFD...), Ne: 40})
	if err != nil {
		return nil, fmt.Errorf("reader: BAC EXTERNAL AUTHENTICATE: %w", err)
	}
	if !r.SW.OK() {
		return nil, fmt.Errorf("%w: %w", ErrBACFailed, &SWError{Cmd: "EXTERNAL AUTHENTICATE", SW: r.SW})
	}
	if len(r.Data) != 40 {
		return nil, fmt.Errorf("%w: %w: EXTERNAL AUTHENTICATE returned %d bytes, want 40", ErrSecureMessaging, ErrMalformedSM, len(r.Data))
	}

	// Step 3: check the chip's MAC, then that it answers our challenge.
	eIC, mIC := r.Data[:32], r.Data[32:]
	want, err := smcrypto.RetailMAC(kmac, eIC)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(want, mIC) != 1 {
		return nil, fmt.Errorf("%w: %w: chip's EXTERNAL AUTHENTICATE answer", ErrSecureMessaging, ErrBadMAC)
	}
	R, err := smcrypto.DecryptCBC(smcrypto.TDES, kenc, make([]byte, 8), eIC)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(R[:8], rndIC) || !bytes.Equal(R[8:16], rndIFD) {
		return nil, fmt.Errorf("%w: chip's answer does not contain the exchanged challenges", ErrSecureMessaging)
	}
	kIC := R[16:32]

	// §4.3.3.3: session keys from K.IFD xor K.IC, SSC from the challenges.
	seed := make([]byte, 16)
	subtle.XORBytes(seed, kIFD, kIC)
	ksenc, err := smcrypto.DeriveKey(smcrypto.TDES, seed, smcrypto.CounterEnc)
	if err != nil {
		return nil, err
	}
	ksmac, err := smcrypto.DeriveKey(smcrypto.TDES, seed, smcrypto.CounterMAC)
	if err != nil {
		return nil, err
	}
	ssc := append(append([]byte(nil), rndIC[4:8]...), rndIFD[4:8]...)
	sm, err := NewSM(smcrypto.TDES, ksenc, ksmac, ssc)
	if err != nil {
		return nil, err
	}
	s.SetSecureMessaging(sm)
	return sm, nil
}
