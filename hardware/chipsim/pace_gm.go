package chipsim

// PACE generic mapping, card side: ICAO 9303-11 §4.4.3.3.1. The chip and
// the terminal run an anonymous (EC)DH on the domain's standard generator
// and map the nonce to Ĝ = s·G + H (ĝ = g^s·h for DH), H the shared
// point. PACE-CAM maps the same way (§4.4.3.5); it keeps SK_map,IC for the
// chip authentication data of step 4 (pace_cam.go).

import (
	"bytes"

	"borderid/reader/lds"
)

// paceMapGeneric is step 2 of GM and CAM: the terminal's PK_map,IFD in,
// the chip's PK_map,IC out. The terminal's key is validated by Agree and
// must differ from the chip's (§4.4.3.3.1: a reflected key would let an
// attacker who does not know the password pass the mapping).
func (c *Chip) paceMapGeneric(st *paceState, pkMapIFD []byte) result {
	d := st.offer.d
	if d.ValidatePublic(pkMapIFD) != nil {
		return status(swWrongData)
	}
	sk, pk, err := d.GenerateKey(c.rand, nil)
	if err == nil && c.faults.CAMShortCAIC && st.offer.proto.Mapping() == lds.MappingCAM {
		sk, pk, err = c.camShortMappingKey(d)
	}
	if err != nil {
		return status(swNoDiagnosis)
	}
	st.skMap, st.pkMap = sk, pk
	if bytes.Equal(pk, pkMapIFD) {
		return status(swWrongData)
	}
	h, err := d.Agree(sk, pkMapIFD)
	if err != nil {
		return status(swWrongData)
	}
	gen, err := d.MapGeneric(st.s, h)
	clear(h)
	if err != nil {
		// Ĝ = O (ĝ = 1) happens only when H = -s·G: a terminal that
		// knows s chose its key to make it; refuse rather than run on
		// the identity.
		return status(swWrongData)
	}
	st.gen, st.pkMapIFD = gen, bytes.Clone(pkMapIFD)
	st.step = paceExpectAgreement
	return result{data: dynAuthResponse(appendTLV(nil, tagMappingIC, pk)), sw: swOK}
}
