package chipsim

// PACE integrated mapping, card side: ICAO 9303-11 §4.4.3.3.2. The
// terminal sends its own nonce t; both sides compute the pseudo-random
// R(s,t), reduce it mod p and map it with the point encoding of App. B
// (curves) or R_p^((p-1)/q) (DH). Nothing goes back but an empty 7C: the
// mapping needs no key agreement, and so no randomness from the chip.

import "borderid/internal/pace"

// paceMapIntegrated is step 2 of IM: t must be one key long (the PRF
// encrypts s under t).
func (c *Chip) paceMapIntegrated(st *paceState, t []byte) result {
	if len(t) != st.offer.ci.KeySize() {
		return status(swWrongData)
	}
	gen, err := pace.IntegratedGenerator(st.offer.d, st.offer.ci, st.s, t)
	if err != nil {
		return status(swWrongData)
	}
	st.gen = gen
	st.step = paceExpectAgreement
	return result{data: dynAuthResponse(), sw: swOK}
}
