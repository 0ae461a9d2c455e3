package reader

// PACE with Chip Authentication Mapping (PACE-CAM), terminal side: ICAO
// 9303-11 §4.4.3.5 (BSI TR-03110-2 §3.4.2 calls it PACE-CAM too).
//
// The mapping is the generic one (pace_gm.go). In GA4's answer the chip
// adds 8A: A_IC = E(KSenc, pad(CA_IC)) with CA_IC = SK_map,IC · SK_IC⁻¹ mod
// n, encrypted in CBC with the IV E(KSenc, FF…FF) — not the raw FF…FF,
// which still yields valid-looking padding and is a silent error some
// readers make (the published CAM vector checks exactly this). After
// secure messaging starts the terminal reads EF.CardSecurity, takes the
// chip's static key PK_IC from its ChipAuthenticationPublicKeyInfo and
// checks KA(CA_IC, PK_IC) = CA_IC · PK_IC = PK_map,IC (§4.4.3.5.2): only
// the holder of SK_IC could have produced a CA_IC that does this, so the
// chip is proven genuine once passive authentication has verified
// EF.CardSecurity's signature (not done here: the bytes are returned).
//
// A failed or impossible check does not undo the secure messaging: the
// result says CAMFailed or CAMNotDone with a stable reason, and the caller
// decides (the inspection report's chip_authentication check).

import (
	"context"
	"encoding/asn1"
	"errors"
	"fmt"

	"borderid/internal/ec"
	"borderid/internal/pace"
	"borderid/reader/lds"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// chipAuthenticationMapping completes PACE-CAM after secure messaging has
// been installed. It returns an error only when reading EF.CardSecurity
// broke the session (secure messaging, transport); every other outcome is
// recorded in res.
func (r *paceRun) chipAuthenticationMapping(ctx context.Context, res *PACEResult, ksenc, aIC []byte) error {
	if aIC == nil {
		res.CAM, res.CAMReason, res.CAMDetail = CAMFailed, CAMReasonDataMissing, "GA4 answer without encrypted chip authentication data (8A)"
		return nil
	}
	caIC, err := pace.DecryptCAMData(r.c, ksenc, aIC)
	if err != nil {
		res.CAM, res.CAMReason, res.CAMDetail = CAMFailed, CAMReasonDataInvalid, err.Error()
		return nil
	}
	// QuirkCAMShortCAIC: a CA_IC without its leading zero byte(s) is the
	// same integer; VerifyCAM wants the fixed length (9303-11
	// §4.4.3.5.2 treats CA_IC as a private key of the domain).
	if n := r.d.ScalarLen(); len(caIC) > 0 && len(caIC) < n {
		caIC = append(make([]byte, n-len(caIC)), caIC...)
		res.Quirks = append(res.Quirks, QuirkCAMShortCAIC)
		r.s.AddQuirk(QuirkCAMShortCAIC)
	}
	cs, err := r.s.ReadFile(ctx, lds.FileCardSecurity)
	if err != nil {
		res.CAM, res.CAMReason, res.CAMDetail = CAMNotDone, CAMReasonCardSecurityRead, err.Error()
		if errors.Is(err, ErrFileNotFound) || errors.Is(err, ErrAccessDenied) || errors.Is(err, ErrReadBinary) ||
			errors.Is(err, ErrFileTooLarge) || errors.Is(err, ErrWrongLength) {
			return nil
		}
		return fmt.Errorf("reader: PACE-CAM: reading EF.CardSecurity: %w", err)
	}
	res.CardSecurity = cs
	res.CAM, res.CAMReason, res.CAMDetail, res.CAMKeyID = verifyCAMWithCardSecurity(r.d, caIC, r.pkMapIC, cs)
	r.log.Debug("pace-cam", "result", res.CAM.String(), "reason", res.CAMReason)
	return nil
}

// verifyCAMWithCardSecurity finds the chip's static ECDH keys for domain d
// in EF.CardSecurity and checks CA_IC against each (§4.4.3.5.2). A chip
// may list several chip authentication keys; the check passes when one of
// them explains CA_IC, and the key id used is returned.
func verifyCAMWithCardSecurity(d pace.Domain, caIC, pkMapIC, cardSecurity []byte) (CAMStatus, string, string, lds.OptionalInt) {
	ssi, err := lds.ParseCardSecurity(cardSecurity)
	if err != nil {
		return CAMNotDone, CAMReasonCardSecurityParse, err.Error(), lds.OptionalInt{}
	}
	var keys, skipped int
	var lastSkip string
	for _, ki := range ssi.SecurityInfos.ChipAuthenticationPublicKeys {
		if ki.Protocol != lds.PKECDH {
			continue
		}
		pk, err := camStaticKey(d, ki.SubjectPublicKeyInfo)
		if err != nil {
			skipped++
			lastSkip = err.Error()
			continue
		}
		keys++
		if pace.VerifyCAM(d, caIC, pk, pkMapIC) == nil {
			return CAMPassed, CAMReasonPassed, fmt.Sprintf("CA_IC verified against the %s key of EF.CardSecurity", d.Name()), ki.KeyID
		}
	}
	if keys == 0 {
		detail := fmt.Sprintf("EF.CardSecurity holds no ECDH chip authentication key on %s", d.Name())
		if skipped > 0 {
			detail += fmt.Sprintf(" (%d skipped; last: %s)", skipped, lastSkip)
		}
		return CAMNotDone, CAMReasonNoChipKey, detail, lds.OptionalInt{}
	}
	return CAMFailed, CAMReasonMismatch, fmt.Sprintf("CA_IC·PK_IC ≠ PK_map,IC for all %d keys of EF.CardSecurity", keys), lds.OptionalInt{}
}

// oidStandardizedDomainParameters is TR-03110-3 A.2.1.1's
// standardizedDomainParameters (bsi-de 1 2): an AlgorithmIdentifier whose
// parameter is the INTEGER id of §9.5.1.
var oidStandardizedDomainParameters = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 2}

// errCAMKey is the cause of a chip authentication key that cannot be used
// for the check.
var errCAMKey = errors.New("chip authentication public key")

// camStaticKey extracts PK_IC from a ChipAuthenticationPublicKeyInfo's
// SubjectPublicKeyInfo and checks that it lies in the PACE domain d: the
// chip's static key and the PACE mapping share the domain (§4.4.3.5.1,
// CA_IC is computed mod d's order). The domain may be named by a curve
// OID, given explicitly (X9.62 ECParameters, exactly a known curve), given
// as a standardized parameter id (TR-03110-3 A.2.1.1), or left out.
func camStaticKey(d pace.Domain, spki []byte) ([]byte, error) {
	in := cryptobyte.String(spki)
	var seq, algID cryptobyte.String
	var algOID asn1.ObjectIdentifier
	var key asn1.BitString
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1(&algID, cbasn1.SEQUENCE) ||
		!algID.ReadASN1ObjectIdentifier(&algOID) ||
		!seq.ReadASN1BitString(&key) || !seq.Empty() || key.BitLength%8 != 0 {
		return nil, fmt.Errorf("%w: malformed SubjectPublicKeyInfo", errCAMKey)
	}
	switch {
	case algID.Empty():
		// No parameters: the PACE domain is implied.
	case algID.PeekASN1Tag(cbasn1.INTEGER):
		var id int64
		if !algID.ReadASN1Integer(&id) || !algID.Empty() {
			return nil, fmt.Errorf("%w: malformed parameter id", errCAMKey)
		}
		if id != int64(d.ParameterID()) {
			return nil, fmt.Errorf("%w: parameter id %d, PACE used %d", errCAMKey, id, d.ParameterID())
		}
	case algID.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER):
		var curveOID asn1.ObjectIdentifier
		if !algID.ReadASN1ObjectIdentifier(&curveOID) || !algID.Empty() {
			return nil, fmt.Errorf("%w: malformed named curve", errCAMKey)
		}
		name := ""
		for _, c := range namedCurves() {
			if c.oid.Equal(curveOID) {
				name = c.curve().Name()
			}
		}
		if name != d.Name() {
			return nil, fmt.Errorf("%w: curve %v, PACE used %s", errCAMKey, curveOID, d.Name())
		}
	case algID.PeekASN1Tag(cbasn1.SEQUENCE):
		ex, err := parseECParameters(algID)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errCAMKey, err)
		}
		c, ok := ec.MatchParams(ex.p, ex.a, ex.b, ex.gx, ex.gy, ex.n, ex.h)
		if !ok || c.Name() != d.Name() {
			return nil, fmt.Errorf("%w: explicit parameters are not those of %s", errCAMKey, d.Name())
		}
	default:
		return nil, fmt.Errorf("%w: unrecognised domain parameters", errCAMKey)
	}
	if len(key.Bytes) != d.ElementLen() {
		return nil, fmt.Errorf("%w: %d bytes, want %d", errCAMKey, len(key.Bytes), d.ElementLen())
	}
	if err := d.ValidatePublic(key.Bytes); err != nil {
		return nil, fmt.Errorf("%w: %w", errCAMKey, err)
	}
	return key.Bytes, nil
}
