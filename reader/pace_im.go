package reader

// PACE Integrated Mapping, terminal side: ICAO 9303-11 §4.4.3.3.2.
//
// The terminal sends a random nonce t (GA2: 81 t, answered by an empty
// 7C); both sides compute R(s,t) with the PACE cipher, reduce it mod p and
// map it to the ephemeral generator: the point encoding of App. B for
// curves (every curve of §9.5.1, NIST and brainpool alike), R_p^((p-1)/q)
// for DH. No key agreement is needed for the mapping, so IM costs one
// round trip and one scalar multiplication less than GM.
//
// t is as long as the cipher's key (R's first step keys E with t: App. H.1
// sends 16 bytes for AES-128); internal/pace pins R and the mapping to
// App. H.1 and H.2.

import (
	"context"
	"fmt"
	"io"

	"borderid/internal/pace"
)

// mapIntegrated runs GA2 of the integrated mapping and returns the
// encoding of the mapped generator.
func (r *paceRun) mapIntegrated(ctx context.Context, s []byte) ([]byte, error) {
	t := make([]byte, r.c.KeySize())
	if _, err := io.ReadFull(r.rand, t); err != nil {
		return nil, fmt.Errorf("reader: PACE: random source: %w", err)
	}
	if _, err := r.generalAuthenticate(ctx, 2, paceDO(0x81, t), true); err != nil {
		return nil, err
	}
	gen, err := pace.IntegratedGenerator(r.d, r.c, s, t)
	if err != nil {
		// Only a chip nonce of an unusable length gets here (or, with
		// negligible probability, R_p mapping to the identity).
		return nil, fmt.Errorf("%w: GA2: %w", ErrPACEInvalidResponse, err)
	}
	return gen, nil
}
