package reader

// PACE Generic Mapping, terminal side: ICAO 9303-11 §4.4.3.3.1 (and the
// mapping phase of PACE-CAM, §4.4.3.5, which is the generic mapping).
//
// Terminal and chip run an anonymous Diffie-Hellman on the domain's
// standard generator (GA2: 81 PK_map,IFD → 82 PK_map,IC); the shared
// element H and the chip's nonce s give the ephemeral generator
// Ĝ = s·G + H (ĝ = g^s·h for DH). Only the arithmetic's inputs are here:
// internal/pace validates the chip's key and computes H and Ĝ with
// fixed-length encodings and constant-time scalar multiplication.

import (
	"context"
	"fmt"
)

// mapGeneric runs GA2 of the generic mapping and returns the encoding of
// the mapped generator. It keeps PK_map,IC for PACE-CAM's check.
func (r *paceRun) mapGeneric(ctx context.Context, s []byte) ([]byte, error) {
	skMap, pkMap, err := r.d.GenerateKey(r.rand, nil)
	if err != nil {
		return nil, fmt.Errorf("reader: PACE: mapping key: %w", err)
	}
	do, err := r.generalAuthenticate(ctx, 2, paceDO(0x81, pkMap), true, 0x82)
	if err != nil {
		return nil, err
	}
	pkMapIC := do[0x82]
	// A chip that echoes PK_map,IFD would make H = SK_map,IFD²·G; refuse
	// the reflection as for PK_IC.
	if err := r.checkPeerKey("GA2", pkMapIC, pkMap); err != nil {
		return nil, err
	}
	h, err := r.d.Agree(skMap, pkMapIC)
	if err != nil {
		return nil, fmt.Errorf("%w: GA2: PK_map,IC: %w", ErrPACEInvalidResponse, err)
	}
	gen, err := r.d.MapGeneric(s, h)
	if err != nil {
		// Ĝ = O (ĝ = 1) happens only when the chip chose H = -s·G: the
		// chip's key is then hostile.
		return nil, fmt.Errorf("%w: GA2: %w", ErrPACEInvalidResponse, err)
	}
	r.pkMapIC = pkMapIC
	return gen, nil
}
