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
	return pace.EncryptCAMData(st.offer.ci, st.ksenc, caIC)
}
