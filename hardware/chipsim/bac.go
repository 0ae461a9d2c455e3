package chipsim

import (
	"bytes"
	"crypto/subtle"
	"io"

	"borderid/internal/smcrypto"
)

// Basic Access Control, card side: ICAO 9303-11 §4.3 (protocol) and §9.7
// (keys), checked against the worked example of App. D.3.

// getChallenge is GET CHALLENGE (ISO/IEC 7816-4 §11.5.3): 8 random bytes,
// RND.IC, kept for the EXTERNAL AUTHENTICATE that must follow.
func (c *Chip) getChallenge(cmd command) result {
	if cmd.p1 != 0 || cmd.p2 != 0 {
		return status(swWrongP1P2)
	}
	if cmd.data != nil || cmd.ne != 8 {
		return status(swWrongLength)
	}
	rnd := make([]byte, 8)
	if _, err := io.ReadFull(c.rand, rnd); err != nil {
		return status(swNoDiagnosis)
	}
	c.st.challenge = rnd
	return result{data: bytes.Clone(rnd), sw: swOK}
}

// externalAuthenticate is the EXTERNAL AUTHENTICATE of BAC (9303-11
// §4.3.3.3, a mutual authentication): the command carries E_IFD || M_IFD
// with E_IFD = E(K_Enc, RND.IFD || RND.IC || K.IFD) and M_IFD = MAC(K_MAC,
// E_IFD). The chip checks the MAC and its own challenge, answers E_IC ||
// M_IC over RND.IC || RND.IFD || K.IC, and starts secure messaging with
// keys from K.IFD xor K.IC and SSC = RND.IC[4:8] || RND.IFD[4:8]
// (§9.7.4, §9.8.2). A wrong MRZ shows as a MAC mismatch: 6300, no session.
func (c *Chip) externalAuthenticate(cmd command) result {
	rndIC := c.st.challenge
	c.st.challenge = nil
	if c.st.sess != nil {
		// Under secure messaging this INS belongs to Terminal
		// Authentication (ta.go).
		return c.taExternalAuthenticate(cmd, rndIC)
	}
	if cmd.p1 != 0 || cmd.p2 != 0 {
		return status(swWrongP1P2)
	}
	if len(cmd.data) != 40 || cmd.ne < 40 {
		return status(swWrongLength)
	}
	if rndIC == nil {
		return status(swConditionsOfUse)
	}
	eIFD, mIFD := cmd.data[:32], cmd.data[32:]
	mac, err := smcrypto.MAC(smcrypto.TDES, c.bacMAC, eIFD)
	if err != nil || subtle.ConstantTimeCompare(mac, mIFD) != 1 {
		return status(swVerifyFailed)
	}
	zero := make([]byte, 8)
	s, err := smcrypto.DecryptCBC(smcrypto.TDES, c.bacEnc, zero, eIFD)
	if err != nil {
		return status(swVerifyFailed)
	}
	rndIFD, echo, kIFD := s[:8], s[8:16], s[16:32]
	if subtle.ConstantTimeCompare(echo, rndIC) != 1 {
		return status(swVerifyFailed)
	}
	kIC := make([]byte, 16)
	if _, err := io.ReadFull(c.rand, kIC); err != nil {
		return status(swNoDiagnosis)
	}
	r := make([]byte, 0, 32)
	r = append(append(append(r, rndIC...), rndIFD...), kIC...)
	eIC, err := smcrypto.EncryptCBC(smcrypto.TDES, c.bacEnc, zero, r)
	if err != nil {
		return status(swNoDiagnosis)
	}
	mIC, err := smcrypto.MAC(smcrypto.TDES, c.bacMAC, eIC)
	if err != nil {
		return status(swNoDiagnosis)
	}
	seed := make([]byte, 16)
	subtle.XORBytes(seed, kIFD, kIC)
	ksEnc, err1 := smcrypto.DeriveKey(smcrypto.TDES, seed, smcrypto.CounterEnc)
	ksMAC, err2 := smcrypto.DeriveKey(smcrypto.TDES, seed, smcrypto.CounterMAC)
	if err1 != nil || err2 != nil {
		return status(swNoDiagnosis)
	}
	ssc := make([]byte, 0, 8)
	ssc = append(append(ssc, rndIC[4:]...), rndIFD[4:]...)
	sess, err := newSession(smcrypto.TDES, ksEnc, ksMAC, ssc)
	if err != nil {
		return status(swNoDiagnosis)
	}
	// The response itself goes out in clear: process only wraps
	// responses of commands that arrived protected.
	c.st.sess = sess
	c.accessControl(nil) // ID_IC is the document number (ta.go)
	return result{data: append(eIC, mIC...), sw: swOK}
}
