package chipsim

// PACE chip authentication mapping, card side: ICAO 9303-11 §4.4.3.5.
// The mapping is the generic one (pace_gm.go); at step 4 the chip adds
// A_IC = E(KSenc, IV, pad(CA_IC)) in CBC with IV = E(KSenc, FF…FF), where
// CA_IC = SK_IC⁻¹ · SK_map,IC mod n and SK_IC is the chip's static Chip
// Authentication key (ca.go, chip.json's chip_authentication), so that the
// terminal can check KA(CA_IC, PK_IC) = CA_IC · PK_IC = SK_map,IC · G =
// PK_map,IC with PK_IC from EF.CardSecurity: the chip proves it holds the
// static key in the same run that gave access. CAM exists for ECDH with AES
// only; the static key must be on the curve of the PACE parameter id.

import (
	"errors"
	"fmt"
	"io"

	"filippo.io/bigmod"

	"borderid/internal/pace"
	"borderid/reader/lds"
)

// checkCAM refuses an identity whose EF.CardAccess offers PACE-CAM on a
// curve the chip has no static key on: such a chip could only fail every
// CAM run at step 4.
func checkCAM(pc *paceCard, k *caKey) error {
	for _, o := range pc.offers {
		if o.proto.Mapping() != lds.MappingCAM {
			continue
		}
		if k == nil || k.domain == nil || k.domain.ParameterID() != o.d.ParameterID() {
			return fmt.Errorf("%w: EF.CardAccess offers %v on %s but chip_authentication has no key on that curve",
				ErrInvalidIdentity, o.proto, o.d.Name())
		}
	}
	return nil
}

// camData is DO8A of step 4: the encrypted CA_IC.
func (c *Chip) camData(st *paceState) ([]byte, error) {
	k := c.caStaticKey()
	if k == nil || k.domain == nil || k.domain.ParameterID() != st.offer.d.ParameterID() || st.skMap == nil {
		return nil, errors.New("chipsim: PACE-CAM without a static key on the curve")
	}
	caIC, err := pace.CAMChipData(st.offer.d, st.skMap, k.priv)
	if err != nil {
		return nil, err
	}
	defer clear(caIC)
	if c.faults.CAMShortCAIC {
		// Faults.CAMShortCAIC: the leading zero camShortMappingKey
		// arranged for is dropped.
		for len(caIC) > 1 && caIC[0] == 0 {
			caIC = caIC[1:]
		}
	}
	return pace.EncryptCAMData(st.offer.ci, st.ksenc, caIC)
}

// camShortMappingKey is the mapping key of Faults.CAMShortCAIC: SK_map,IC
// = c · SK_IC mod n for a random c below 2^(8(L-1)) (L the order's byte
// length), so that CA_IC = SK_map,IC · SK_IC⁻¹ = c has a leading zero.
func (c *Chip) camShortMappingKey(d pace.Domain) (sk, pk []byte, err error) {
	k := c.caStaticKey()
	if k == nil {
		return nil, nil, errors.New("chipsim: PACE-CAM without a static key")
	}
	n, err := bigmod.NewModulus(d.Order())
	if err != nil {
		return nil, nil, err
	}
	r := make([]byte, n.Size())
	for range 100 {
		if _, err := io.ReadFull(c.rand, r[1:]); err != nil {
			return nil, nil, err
		}
		x, err := bigmod.NewNat().SetBytes(r, n)
		if err != nil || x.IsZero() == 1 {
			continue
		}
		s, err := bigmod.NewNat().SetBytes(k.priv, n)
		if err != nil {
			return nil, nil, err
		}
		sk = x.Mul(s, n).Bytes(n)
		pk, err = d.PublicKey(sk, nil)
		return sk, pk, err
	}
	return nil, nil, errors.New("chipsim: no CAM mapping key")
}
