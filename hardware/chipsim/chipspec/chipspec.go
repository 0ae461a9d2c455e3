// Package chipspec makes software chips from generated specimens: it joins
// reader/lds/specimen (the files and keys of a document) and
// hardware/chipsim (the card that serves them) so that a test, a benchmark
// or `borderid chip specimen` gets a chip with every protocol its data
// calls for configured: PACE (ICAO 9303-11 §4.4; EF.CardAccess is a file,
// the CAN goes to chip.json), Chip Authentication (§6.2, ca.key), Active
// Authentication (§6.1, aa.key and its trailer or hash), Terminal
// Authentication (§7.1, cvca.cvcert and the chip's date) and extended
// length when a public key, a signature or a certificate needs it.
//
// Typical use:
//
//	doc, id, err := chipspec.Generate(specimen.Options{}, chipspec.Profile{
//		PACE: lds.PACEECDHCAMAES128, ParameterID: 13, CA: true,
//		AA: &specimen.AAOptions{RSABits: 1024}, CAN: "123456",
//	})
//	chip, err := chipsim.New(id)
//
// It lives apart from both packages because chipsim's own tests use
// specimen: specimen may not import chipsim. It deliberately makes only
// what a consistent, well-behaved chip holds; faults, broken files and
// mismatched keys are for the tests that want them to build by hand.
package chipspec

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"

	"borderid/hardware/chipsim"
	"borderid/internal/cvc"
	"borderid/internal/pace"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
)

// Profile chooses a chip's protocols.
type Profile struct {
	// PACE is the one PACEInfo the chip's EF.CardAccess offers: a PACE
	// protocol with a cipher (lds.PACEECDHGMAES128, lds.PACEDHIM3DES,
	// lds.PACEECDHCAMAES256, ...). 0: no EF.CardAccess, a BAC chip.
	PACE lds.Protocol
	// ParameterID is the standardized domain (9303-11 §9.5.1) of PACE and
	// of the Chip Authentication key: 0-2 DH, 8-18 ECDH (12 P-256, 13
	// brainpoolP256r1). PACE-CAM needs the CA key on the PACE curve, so
	// both always share it.
	ParameterID int
	// CA gives the chip a Chip Authentication key (DG14 and
	// EF.CardSecurity announce it), whose protocol uses the cipher of
	// PACE (AES-128 without PACE). Required by PACE-CAM and by EAC.
	CA bool
	// AA gives the chip an Active Authentication key (DG15).
	AA *specimen.AAOptions
	// EAC adds DG3 (and DG4), EF.CVCA and the Terminal Authentication
	// chain; the chip trusts the CVCA from the specimen's issuing day.
	EAC *specimen.EACOptions
	// CAN is the card access number, six digits; empty: PACE with the MRZ
	// only.
	CAN string
	// PACEOnly makes the chip refuse BAC (needs PACE).
	PACEOnly bool
	// ExtendedLength forces extended-length APDUs; without it they are
	// turned on only when the chip needs them (see NeedsExtendedLength).
	ExtendedLength bool
}

// ErrProfile reports a Profile no consistent chip can have.
var ErrProfile = errors.New("chipspec: invalid profile")

// Options returns o with the Chip, AA and EAC requests of p (o's own
// Chip, AA and EAC are replaced).
func (p Profile) Options(o specimen.Options) (specimen.Options, error) {
	bad := func(format string, args ...any) (specimen.Options, error) {
		return o, fmt.Errorf("%w: %s", ErrProfile, fmt.Sprintf(format, args...))
	}
	d, err := pace.DomainByParameterID(p.ParameterID)
	if err != nil {
		return bad("parameter id %d: %v", p.ParameterID, err)
	}
	cipherArc := lds.Protocol(2) // AES-128 for CA over BAC
	if p.PACE != 0 {
		if !p.PACE.Valid() || !p.PACE.IsPACE() || p.PACE.Cipher() == 0 {
			return bad("%v is not a PACE protocol with a cipher", p.PACE)
		}
		if (d.KeyAgreement() == pace.DH) != (p.PACE&0xFF00 == lds.PACEDHGM || p.PACE&0xFF00 == lds.PACEDHIM) {
			return bad("%v does not run on %s", p.PACE, d.Name())
		}
		cipherArc = p.PACE & 0xFF
	} else if p.PACEOnly {
		return bad("a PACE-only chip needs PACE")
	}
	cam := p.PACE != 0 && p.PACE&0xFF00 == lds.PACEECDHCAM
	if cam && !p.CA {
		return bad("PACE-CAM needs the Chip Authentication key")
	}
	if p.EAC != nil && !p.CA {
		return bad("Terminal Authentication needs Chip Authentication")
	}
	o.Chip, o.AA, o.EAC = nil, p.AA, p.EAC
	if p.CA {
		family := lds.CAECDH
		if d.KeyAgreement() == pace.DH {
			family = lds.CADH
		}
		co := &specimen.ChipOptions{CAParameterID: p.ParameterID, CAProtocols: []lds.Protocol{family | cipherArc}}
		if p.PACE != 0 {
			co.PACE = []lds.PACEInfo{p.paceInfo()}
		}
		o.Chip = co
	}
	return o, nil
}

func (p Profile) paceInfo() lds.PACEInfo {
	return lds.PACEInfo{Protocol: p.PACE, Version: 2, ParameterID: lds.OptionalInt{Value: p.ParameterID, Present: true}}
}

// Generate makes the specimen of o with the protocols of p and the chip
// identity that serves it.
func Generate(o specimen.Options, p Profile) (*specimen.Document, *chipsim.Identity, error) {
	so, err := p.Options(o)
	if err != nil {
		return nil, nil, err
	}
	doc, err := specimen.Generate(so)
	if err != nil {
		return nil, nil, err
	}
	if p.PACE != 0 && !p.CA {
		// Without Chip Authentication there is no DG14 to carry the
		// PACEInfo; EF.CardAccess alone is what PACE needs (9303-11
		// §9.2.1), and it is not in EF.SOD.
		ca, err := lds.EncodeSecurityInfos(&lds.SecurityInfos{PACE: []lds.PACEInfo{p.paceInfo()}})
		if err != nil {
			return nil, nil, fmt.Errorf("chipspec: EF.CardAccess: %w", err)
		}
		doc.Files[lds.FileCardAccess.String()] = ca
	}
	cfg := chipsim.Config{CAN: p.CAN, ExtendedLength: p.ExtendedLength}
	if p.PACEOnly {
		no := false
		cfg.PACE = &chipsim.PACEConfig{BAC: &no}
	}
	id, err := Identity(doc, cfg)
	if err != nil {
		return nil, nil, err
	}
	return doc, id, nil
}

// Identity returns the chip identity serving doc's files with cfg and
// everything doc's keys call for: Chip Authentication with doc.CAKey (and
// the keyId DG14 gives it), Active Authentication with doc.AA, Terminal
// Authentication trusting doc.EAC.CVCA with the chip's date set to the
// CVCA's effective date (so that a specimen generated for another day
// still has valid certificates), and extended length when
// NeedsExtendedLength says so. What cfg already sets for these is
// replaced.
func Identity(doc *specimen.Document, cfg chipsim.Config) (*chipsim.Identity, error) {
	if doc == nil {
		return nil, errors.New("chipspec: no document")
	}
	cfg.ChipAuthentication, cfg.ActiveAuthentication, cfg.TerminalAuthentication = nil, nil, nil
	if doc.CAKey != nil {
		ca := &chipsim.CAConfig{Key: doc.CAKey}
		if b, ok := doc.Files[lds.FileDG14.String()]; ok {
			infos, err := lds.ParseDG14(b)
			if err != nil {
				return nil, fmt.Errorf("chipspec: DG14: %w", err)
			}
			if pk := infos.ChipAuthenticationPublicKeys; len(pk) == 1 && pk[0].KeyID.Present {
				id := pk[0].KeyID.Value
				ca.KeyID = &id
			}
		}
		cfg.ChipAuthentication = ca
	}
	if doc.AA != nil {
		aa := &chipsim.AAConfig{Key: doc.AA.Key, Trailer: doc.AA.Trailer}
		if doc.AA.Hash != 0 {
			aa.Hash = doc.AA.Hash.String() // "SHA-256": chip.json's names
		}
		cfg.ActiveAuthentication = aa
	}
	if doc.EAC != nil {
		c, err := cvc.Parse(doc.EAC.CVCA)
		if err != nil {
			return nil, fmt.Errorf("chipspec: CVCA certificate: %w", err)
		}
		cfg.TerminalAuthentication = &chipsim.TAConfig{CVCA: doc.EAC.CVCA, Date: c.Effective.Format("2006-01-02")}
	}
	ext, err := NeedsExtendedLength(doc)
	if err != nil {
		return nil, err
	}
	cfg.ExtendedLength = cfg.ExtendedLength || ext
	return chipsim.NewIdentity(doc.Files, cfg)
}

// maxShortSignature is the longest Active Authentication signature a
// protected short response carries: 256 bytes hold DO87 (3 header bytes,
// the padding indicator, the data padded to a 16-byte block), DO99 (4)
// and DO8E (10), so the padded data may be 238 bytes, 224 in whole AES
// blocks: 223 bytes of signature.
const maxShortSignature = 223

// NeedsExtendedLength reports whether a chip serving doc needs
// extended-length APDUs: a DH-2048 domain for PACE or Chip Authentication
// (a 256-byte public key does not fit a short command), an RSA Active
// Authentication signature over 223 bytes, or a Terminal Authentication
// chain whose certificates carry domain parameters (a link certificate)
// or use a curve over 256 bits (chipsim does not implement command
// chaining).
func NeedsExtendedLength(doc *specimen.Document) (bool, error) {
	if b, ok := doc.Files[lds.FileCardAccess.String()]; ok {
		infos, err := lds.ParseCardAccess(b)
		if err != nil {
			return false, fmt.Errorf("chipspec: EF.CardAccess: %w", err)
		}
		for _, pi := range infos.PACE {
			if pi.ParameterID.Present && (pi.ParameterID.Value == 1 || pi.ParameterID.Value == 2) {
				return true, nil
			}
		}
	}
	if len(doc.CAPublicKey) > 200 { // a DH-2048 y; EC points stay under 134 bytes
		return true, nil
	}
	if doc.AA != nil && doc.AA.Trailer != "" {
		k, err := x509.ParsePKIXPublicKey(doc.AA.SubjectPublicKeyInfo)
		if err != nil {
			return false, fmt.Errorf("chipspec: DG15: %w", err)
		}
		if rk, ok := k.(*rsa.PublicKey); ok && rk.Size() > maxShortSignature {
			return true, nil
		}
	}
	if doc.EAC != nil {
		if doc.EAC.Link != nil {
			return true, nil
		}
		c, err := cvc.Parse(doc.EAC.CVCA)
		if err != nil {
			return false, fmt.Errorf("chipspec: CVCA certificate: %w", err)
		}
		if len(c.PublicKey.Point) > 65 {
			return true, nil
		}
	}
	return false, nil
}
