package reader

// Terminal Authentication version 1, terminal side: BSI TR-03110-1 v1.11
// §3.3 (protocol) and TR-03110-3 App. B.11 (APDUs), as ICAO 9303-11 §7.1
// uses it: after Chip Authentication, an inspection system proves to the
// chip that a CVCA the chip trusts authorised it to read fingerprints
// (DG3) or irises (DG4).
//
//  1. EF.CVCA names the CVCA key(s) the chip trusts (one or two CARs).
//  2. For each certificate on the path from that key to the inspection
//     system (CVCA link certificates if the chip's CVCA is older, then
//     the DV, then the IS; the CVCA the chip already has is never sent):
//     MSE:Set DST 0022 81B6 {83 CAR} selects the chip's verifying key and
//     PSO:Verify Certificate 002A 00BE {7F4E body, 5F37 signature}
//     imports the certificate.
//  3. MSE:Set AT 0022 81A4 {83 CHR of the IS}.
//  4. GET CHALLENGE 0084 0000 08 gives r_IC.
//  5. EXTERNAL AUTHENTICATE 0082 0000 {s}: s is the IS key's signature over
//     ID_IC || r_IC || Comp(PK_IFD), where PK_IFD is the terminal's
//     ephemeral key of the Chip Authentication just performed (binding TA
//     to that secure channel) and ID_IC is the document number with its
//     check digit after BAC, or Comp of the chip's ephemeral PACE key after
//     PACE (TR-03110-1 v1.11 §2.3 and §3.3). ECDSA signatures are sent as
//     plain r||s (TR-03111 §5.2.1), whatever the signer returns.
//
// The chip then grants the effective rights of the chain (the AND of the
// rights of every certificate, TR-03110-3 C.4); the caller reads DG3 and
// DG4 as usual. This file deliberately does not read them, does not check
// the chain itself (the chip is the verifier; the terminal only finds a
// path by CAR and CHR) and implements neither TA version 2 nor command
// chaining: a certificate that does not fit a short protected APDU needs
// a chip that accepts extended length.

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"borderid/internal/cvc"
	"borderid/reader/lds"
)

// Errors of Terminal Authentication that callers branch on.
var (
	// ErrTAFailed: the chip refused a certificate, the inspection system
	// key or the signature (the chain is not one it accepts, a certificate
	// expired by its date, a wrong ID_IC or Comp(PK_IFD)); DG3 and DG4
	// stay closed and the check reads not_authorised.
	ErrTAFailed = errors.New("reader: terminal authentication failed")
	// ErrNoTerminalPath: the terminal's certificates do not lead from any
	// CVCA the chip names in EF.CVCA to its IS certificate. Nothing was
	// sent.
	ErrNoTerminalPath = errors.New("reader: no certificate chain from the chip's CVCA")
)

// TAChallengeSize is the length of r_IC (TR-03110-3 B.11.4).
const TAChallengeSize = 8

// TAResult describes a Terminal Authentication the chip accepted.
type TAResult struct {
	// CAR is the chip's trusted CVCA the path started from.
	CAR string
	// Path lists the CHRs of the certificates sent, in order.
	Path []string
	// Rights are the rights the chip should have granted: the AND along
	// the path (and of the CVCA certificate when the terminal holds it).
	// The chip's answers to READ BINARY are what counts.
	Rights cvc.Rights
	// Challenge is r_IC; Signature what EXTERNAL AUTHENTICATE carried.
	Challenge []byte
	Signature []byte
}

// TAIDFromBAC returns ID_IC after BAC: the document number as in the MRZ,
// padded with '<' to at least nine characters, followed by its check
// digit (9303-11 §7.1, TR-03110-1 v1.11 §2.3). keySeedInfo is the BAC
// MRZ_information (document number, check digit, birth date, check digit,
// expiry date, check digit), as given to BAC.
func TAIDFromBAC(keySeedInfo string) ([]byte, error) {
	// The two dates with their check digits are the last 14 characters.
	if len(keySeedInfo) < 10+14 {
		return nil, fmt.Errorf("reader: MRZ information of %d characters", len(keySeedInfo))
	}
	return []byte(keySeedInfo[:len(keySeedInfo)-14]), nil
}

// TerminalAuthenticate runs Terminal Authentication version 1 with the
// terminal t over s, which must be the secure messaging session that Chip
// Authentication established.
//
// idIC is ID_IC (TAIDFromBAC after BAC, Comp of the chip's ephemeral PACE
// public key after PACE). caEphemeral is Comp(PK_IFD) of that Chip
// Authentication: the x-coordinate of the terminal's ephemeral public key
// for ECDH, SHA-1 of it for DH (TR-03110-3 A.2.2.3; pace.Domain.Comp
// computes both). cvcaFile is EF.CVCA as read; nil reads it here.
//
// The chip's first trusted CAR with a path is used. A result is returned
// only when the chip accepted the signature. ErrNoTerminalPath: no path
// (nothing sent); ErrTAFailed: the chip refused a step (the SWError is
// wrapped). Transport and secure messaging errors are returned as they
// come.
func TerminalAuthenticate(ctx context.Context, s *Session, t *Terminal, idIC []byte, caEphemeral []byte, cvcaFile []byte) (*TAResult, error) {
	return terminalAuthenticate(ctx, s, t, idIC, caEphemeral, cvcaFile, rand.Reader)
}

func terminalAuthenticate(ctx context.Context, s *Session, t *Terminal, idIC, caEphemeral, cvcaFile []byte, rnd io.Reader) (*TAResult, error) {
	if s == nil || s.SecureMessaging() == nil {
		return nil, errors.New("reader: terminal authentication needs secure messaging (access control and Chip Authentication first)")
	}
	if t == nil || t.IS == nil || t.Signer == nil {
		return nil, fmt.Errorf("%w: no terminal", ErrNoTerminalPath)
	}
	if len(idIC) == 0 || len(caEphemeral) == 0 {
		return nil, errors.New("reader: terminal authentication needs ID_IC and Comp(PK_IFD) of Chip Authentication")
	}
	if cvcaFile == nil {
		b, err := s.ReadFile(ctx, lds.FileCVCA)
		if err != nil {
			return nil, fmt.Errorf("reader: terminal authentication: EF.CVCA: %w", err)
		}
		cvcaFile = b
	}
	ef, err := lds.ParseCVCA(cvcaFile)
	if err != nil {
		return nil, fmt.Errorf("reader: terminal authentication: %w", err)
	}
	for _, q := range ef.Quirks {
		s.AddQuirk(Quirk(q))
	}
	var path []*cvc.Certificate
	var domain *cvc.ECDomain
	var car string
	var pathErr error
	for _, c := range ef.CARs {
		if path, domain, pathErr = t.Path(c); pathErr == nil {
			car = c
			break
		}
	}
	if path == nil {
		return nil, pathErr
	}
	// An algorithm the key cannot serve fails here, not after the chip
	// has imported half a chain.
	alg := t.IS.PublicKey.Algorithm
	if alg == cvc.AlgorithmUnknown {
		return nil, fmt.Errorf("reader: terminal authentication: IS %s has an unknown key algorithm %v", t.IS.CHR, t.IS.PublicKey.OID)
	}

	res := &TAResult{CAR: car, Rights: pathRights(t, car, path)}
	// 2. MSE:Set DST + PSO:Verify Certificate for each certificate.
	issuer := car
	for _, c := range path {
		if err := taStep(ctx, s, "MSE:Set DST "+issuer, Command{CLA: 0x00, INS: insManageSecEnv, P1: 0x81, P2: 0xB6, Data: keyRef(issuer)}); err != nil {
			return nil, err
		}
		body, err := certificateContent(c)
		if err != nil {
			return nil, err
		}
		if err := taStep(ctx, s, "PSO:Verify Certificate "+c.CHR, Command{CLA: 0x00, INS: insPSO, P1: 0x00, P2: 0xBE, Data: body}); err != nil {
			return nil, err
		}
		res.Path = append(res.Path, c.CHR)
		issuer = c.CHR
	}
	// 3. MSE:Set AT with the IS key.
	if err := taStep(ctx, s, "MSE:Set AT "+t.IS.CHR, Command{CLA: 0x00, INS: insManageSecEnv, P1: 0x81, P2: 0xA4, Data: keyRef(t.IS.CHR)}); err != nil {
		return nil, err
	}
	// 4. GET CHALLENGE.
	r, err := s.Transmit(ctx, Command{CLA: 0x00, INS: insGetChallenge, Ne: TAChallengeSize})
	if err != nil {
		return nil, fmt.Errorf("reader: terminal authentication: %w", err)
	}
	if r.SW != SWSuccess {
		return nil, fmt.Errorf("%w: %w", ErrTAFailed, &SWError{Cmd: "GET CHALLENGE", SW: r.SW})
	}
	if len(r.Data) != TAChallengeSize {
		return nil, fmt.Errorf("%w: GET CHALLENGE answered %d bytes, want %d", ErrTAFailed, len(r.Data), TAChallengeSize)
	}
	res.Challenge = bytes.Clone(r.Data)
	// 5. EXTERNAL AUTHENTICATE over ID_IC || r_IC || Comp(PK_IFD).
	msg := make([]byte, 0, len(idIC)+TAChallengeSize+len(caEphemeral))
	msg = append(append(append(msg, idIC...), res.Challenge...), caEphemeral...)
	sig, err := cvc.Sign(rnd, t.Signer, alg, domain, msg)
	if err != nil {
		return nil, fmt.Errorf("reader: terminal authentication: signing: %w", err)
	}
	res.Signature = sig
	if err := taStep(ctx, s, "EXTERNAL AUTHENTICATE", Command{CLA: 0x00, INS: insExternalAuth, Data: sig}); err != nil {
		return nil, err
	}
	return res, nil
}

// insPSO is PERFORM SECURITY OPERATION (ISO/IEC 7816-8 §11).
const insPSO = 0x2A

// taStep sends one command that must answer 9000 without data.
func taStep(ctx context.Context, s *Session, name string, cmd Command) error {
	r, err := s.Transmit(ctx, cmd)
	if err != nil {
		return fmt.Errorf("reader: terminal authentication: %s: %w", name, err)
	}
	if r.SW != SWSuccess {
		return fmt.Errorf("%w: %w", ErrTAFailed, &SWError{Cmd: name, SW: r.SW})
	}
	return nil
}

// keyRef is the DO83 key reference of MSE (TR-03110-3 B.11.1, B.11.3).
func keyRef(ref string) []byte {
	return append([]byte{0x83, byte(len(ref))}, ref...)
}

// certificateContent is the data of PSO:Verify Certificate: the body 7F4E
// and the signature 5F37 exactly as in the certificate, without the 7F21
// wrapper (TR-03110-3 B.11.2).
func certificateContent(c *cvc.Certificate) ([]byte, error) {
	i := bytes.Index(c.Raw, c.Body)
	if i < 0 || len(c.Body) == 0 {
		return nil, fmt.Errorf("reader: terminal authentication: certificate %s without its raw body", c.CHR)
	}
	return bytes.Clone(c.Raw[i:]), nil
}

// pathRights is the AND of the rights along the path and of the chip's
// CVCA when the terminal holds its certificate.
func pathRights(t *Terminal, car string, path []*cvc.Certificate) cvc.Rights {
	r := cvc.ReadDG3 | cvc.ReadDG4
	if cv := t.byCHR(car); cv != nil {
		r &= cv.Rights
	}
	for _, c := range path {
		r &= c.Rights
	}
	return r
}
