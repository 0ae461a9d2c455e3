package chipsim

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"borderid/internal/cvc"
)

// Terminal Authentication version 1, card side: BSI TR-03110-1 v1.11 §3.3
// (the protocol, as ICAO 9303-11 §7.1 uses it to protect DG3 and DG4),
// TR-03110-3 App. B.11 (the APDUs) and App. C (certificates, verified with
// internal/cvc).
//
// The chip trusts one CVCA public key, read from its certificate in the
// identity folder (TAConfig). A terminal proves it may read fingerprints
// (DG3) or irises (DG4) in four steps, all under secure messaging and after
// Chip Authentication:
//
//  1. for each certificate of its chain, starting from the key the chip
//     trusts: MSE:Set DST 0022 81B6 {83 CAR} selects the verifying key,
//     PSO:Verify Certificate 002A 00BE {7F4E body, 5F37 signature} imports
//     the certificate's key after checking signature, validity and role;
//  2. MSE:Set AT 0022 81A4 {83 CHR} names the inspection system's key;
//  3. GET CHALLENGE gives r_IC;
//  4. EXTERNAL AUTHENTICATE {signature} over ID_IC || r_IC || Comp(PK_IFD),
//     PK_IFD being the terminal's ephemeral key of the Chip Authentication
//     this chip performed last, and ID_IC the document number with its check
//     digit after BAC, or Comp of the chip's ephemeral PACE key after PACE
//     (TR-03110-1 v1.11 §3.3, §2.3 "ID_PICC").
//
// Only then does the chip grant the effective authorization, the AND of
// the rights along the chain (TR-03110-3 C.4), and only for the secure
// messaging session it was granted in: DG3 and DG4 otherwise answer 6982.
//
// Deliberately not done: persistent updates of the trust point or of the
// chip's date by link and domestic certificates (TR-03110-1 v1.11 §2.4.3:
// a real chip stores them; this one forgets them at power-off, its
// identity being read-only), TA version 2 (ephemeral key in MSE:Set AT,
// no Chip Authentication before), command chaining of long certificates
// (extended length carries them when the identity enables it).

// P1-P2 of the MSE and PSO commands of TA (TR-03110-3 B.11.1-B.11.3).
const (
	taP1P2SetDST      = 0x81B6 // MSE:Set DST, verification of a certificate
	taP1P2SetAT       = 0x81A4 // MSE:Set AT, external authentication
	taP1P2VerifyCert  = 0x00BE // PSO:Verify Certificate
	taTagKeyReference = 0x83   // CAR (Set DST) or CHR (Set AT)
	taMaxChain        = 8      // links + DV + IS a chip accepts in one session
)

// swTAKeyUnknown (6A88, referenced data not found, ISO/IEC 7816-4 §5.6)
// answers an MSE naming a key the chip does not know.
const swTAKeyUnknown statusWord = 0x6A88

// DefaultCVCAFile is the trust point's certificate in an identity folder
// when chip.json does not name another.
const DefaultCVCAFile = "cvca.cvcert"

// TAConfig configures Terminal Authentication: chip.json's
// "terminal_authentication" object (docs/chip-identity.md). Without it
// the chip has no trust point: DG3 and DG4 can never be read.
type TAConfig struct {
	// CVCAFile is the file of the identity folder holding the CV
	// certificate of the CVCA the chip trusts (a plain name, default
	// DefaultCVCAFile): self-signed, or a link certificate (whose own
	// signature the chip cannot check and takes on trust, as a chip
	// personalised with that key would).
	CVCAFile string `json:"cvca_file,omitempty"`
	// Date is the chip's current date, YYYY-MM-DD, against which it checks
	// certificate validity (a chip has no clock: TR-03110-1 v1.11 §2.4.3
	// keeps the most recent effective date it has seen). Empty: the clock
	// of WithClock, default time.Now.
	Date string `json:"date,omitempty"`
	// CVCA is the content of CVCAFile: LoadIdentity reads it and Save
	// writes it. It is never part of chip.json.
	CVCA []byte `json:"-"`
}

func (t *TAConfig) clone() *TAConfig {
	if t == nil {
		return nil
	}
	c := *t
	c.CVCA = bytes.Clone(t.CVCA)
	return &c
}

func (t *TAConfig) cvcaFile() string {
	if t.CVCAFile == "" {
		return DefaultCVCAFile
	}
	return t.CVCAFile
}

func (t *TAConfig) checkFile() error {
	return sideFile{field: "terminal_authentication cvca_file", what: "terminal authentication trust point"}.check(t.cvcaFile())
}

// loadCVCA reads the trust point's certificate from an identity folder.
func (t *TAConfig) loadCVCA(dir string) error {
	if t == nil {
		return nil
	}
	b, err := sideFile{field: "terminal_authentication cvca_file", what: "terminal authentication trust point"}.load(dir, t.cvcaFile())
	if err != nil {
		return err
	}
	t.CVCA = b
	return nil
}

// saveCVCA writes the trust point's certificate into an identity folder.
func (t *TAConfig) saveCVCA(dir string) error {
	if t == nil {
		return nil
	}
	return writeFile(dir, t.cvcaFile(), t.CVCA)
}

// taAnchor is a resolved TAConfig: what the chip needs for TA.
type taAnchor struct {
	cvca *cvc.Certificate
	date time.Time // zero: use the clock
	// idBAC is ID_IC after BAC: the document number as in the MRZ
	// (padded to nine characters) followed by its check digit.
	idBAC []byte
}

// resolve checks the trust point: a parseable CVCA certificate of an
// inspection system chain whose key is usable, self-signed with a valid
// signature or a link certificate, and named in EF.CVCA when the identity
// holds one (a terminal chooses its chain by the CAR it reads there).
func (t *TAConfig) resolve(efCVCA []byte, mrzInfo string) (*taAnchor, error) {
	if t == nil {
		return nil, nil
	}
	if err := t.checkFile(); err != nil {
		return nil, err
	}
	bad := func(err error) error {
		return fmt.Errorf("%w: terminal_authentication: %w", ErrInvalidIdentity, err)
	}
	c, err := cvc.Parse(t.CVCA)
	if err != nil {
		return nil, bad(err)
	}
	if c.Role != cvc.RoleCVCA || !c.TerminalType.Equal(cvc.OIDInspectionSystem()) {
		return nil, bad(fmt.Errorf("%s is a %v certificate, not a CVCA of inspection systems", c.CHR, c.Role))
	}
	if c.PublicKey.Algorithm.IsECDSA() && c.PublicKey.Domain == nil {
		return nil, bad(fmt.Errorf("CVCA %s carries no domain parameters", c.CHR))
	}
	if c.IsSelfSigned() {
		err = c.CheckSignatureFrom(c, nil)
	} else {
		err = cvc.CheckKey(&c.PublicKey, nil)
	}
	if err != nil {
		return nil, bad(err)
	}
	if efCVCA != nil && !listsCAR(efCVCA, c.CHR) {
		return nil, bad(fmt.Errorf("EF.CVCA does not name the trust point %s", c.CHR))
	}
	a := &taAnchor{cvca: c}
	if t.Date != "" {
		d, err := time.Parse(time.DateOnly, t.Date)
		if err != nil {
			return nil, bad(fmt.Errorf("date %q is not YYYY-MM-DD", t.Date))
		}
		a.date = d
	}
	// MRZ_information (9303-11 §9.7.2) is document number || check digit
	// || birth || digit || expiry || digit; the last two parts are 14
	// characters.
	if len(mrzInfo) > 14 {
		a.idBAC = []byte(mrzInfo[:len(mrzInfo)-14])
	}
	return a, nil
}

// listsCAR reports whether EF.CVCA (TR-03110-3 A.6.2.2: up to two DO42,
// then zero padding) names car.
func listsCAR(ef []byte, car string) bool {
	rest := ef
	for len(rest) > 0 && rest[0] != 0x00 && rest[0] != 0xFF {
		t, v, r, ok := readTLV(rest)
		if !ok || t != 0x42 {
			return false
		}
		if string(v) == car {
			return true
		}
		rest = r
	}
	return false
}

// WithClock sets the clock the chip checks certificate validity against
// when its configuration gives no date (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Chip) { c.clock = now } }

// taState is what a chip knows of Terminal Authentication since power-on.
// A successful BAC or PACE clears it (a new channel needs a new TA).
type taState struct {
	// idIC is ID_IC after PACE (Comp of the chip's ephemeral PACE key);
	// nil after BAC, whose ID_IC is fixed (taAnchor.idBAC).
	idIC []byte

	// The certificates imported since the trust point was last selected,
	// in order, and the key MSE:Set DST selected (nil: none).
	chain   []*cvc.Certificate
	current *cvc.Certificate

	// is: the inspection system named by MSE:Set AT, with its rights
	// along the verified chain and the domain of its key.
	is       *cvc.Certificate
	isRights cvc.Rights
	isDomain *cvc.ECDomain

	// granted: EXTERNAL AUTHENTICATE succeeded with these rights, for
	// the secure messaging session sess only.
	granted bool
	rights  cvc.Rights
	sess    *session
}

// taCompPKIFD is Comp(PK_IFD) of the last successful Chip Authentication
// (ca.go): the x-coordinate of the terminal's ephemeral key for ECDH,
// SHA-1 of its public value for DH (TR-03110-3 A.2.2.3). nil before CA.
func (c *Chip) taCompPKIFD() []byte {
	pk, k := c.caEphemeralKey(), c.caStaticKey()
	if pk == nil || k == nil {
		return nil
	}
	comp, err := k.domain.Comp(pk)
	if err != nil {
		return nil
	}
	return comp
}

// accessControl records a new secure channel: after PACE (idIC = Comp
// of the chip's ephemeral PACE public key) or after BAC (idIC nil).
// Everything Chip and Terminal Authentication had established is gone:
// TA signs Comp(PK_IFD) of a Chip Authentication of this very session
// (9303-11 §7.1, TR-03110-1 §3.2), so a CA of an earlier BAC or PACE
// session must not bind it (nor may an MSE:Set AT still waiting for its
// GENERAL AUTHENTICATE carry over).
func (c *Chip) accessControl(idIC []byte) {
	c.st.ca = caState{}
	c.st.ta = taState{idIC: bytes.Clone(idIC)}
}

// taAllows reports whether the current state lets f be read: DG3 and DG4
// need the rights Terminal Authentication granted in this very secure
// messaging session; other files are not its business.
func (c *Chip) taAllows(f *elementaryFile) bool {
	var need cvc.Rights
	switch f.name {
	case "DG3":
		need = cvc.ReadDG3
	case "DG4":
		need = cvc.ReadDG4
	default:
		return true
	}
	t := &c.st.ta
	return t.granted && c.st.sess != nil && t.sess == c.st.sess && t.rights&need == need
}

// taNow is the chip's current date.
func (c *Chip) taNow() time.Time {
	if !c.ta.date.IsZero() {
		return c.ta.date
	}
	if c.clock != nil {
		return c.clock()
	}
	return time.Now()
}

// manageSecurityEnvironmentTA answers the MSE variants of TA. Other
// protocols' MSE (PACE C1A4, Chip Authentication 41A4/41A6) are not
// handled here.
func (c *Chip) manageSecurityEnvironmentTA(cmd command) result {
	if c.st.sess == nil {
		return status(swSecurityStatus)
	}
	if c.ta == nil {
		return status(swTAKeyUnknown)
	}
	if cmd.ne != 0 {
		return status(swWrongLength)
	}
	t, ref, rest, ok := readTLV(cmd.data)
	if !ok || t != taTagKeyReference || len(rest) != 0 || len(ref) == 0 {
		return status(swWrongData)
	}
	st := &c.st.ta
	st.granted = false
	switch uint16(cmd.p1)<<8 | uint16(cmd.p2) {
	case taP1P2SetDST:
		st.is = nil
		// The trust point restarts the chain; otherwise the key must be
		// one imported in this session (TR-03110-3 B.11.1: "the public
		// key ... must be known to the chip").
		if string(ref) == c.ta.cvca.CHR {
			st.chain, st.current = nil, c.ta.cvca
			return status(swOK)
		}
		for _, k := range st.chain {
			if k.CHR == string(ref) && k.Role != cvc.RoleIS {
				st.current = k
				return status(swOK)
			}
		}
		st.current = nil
		return status(swTAKeyUnknown)
	case taP1P2SetAT:
		st.current = nil
		if len(st.chain) == 0 {
			return status(swTAKeyUnknown)
		}
		is := st.chain[len(st.chain)-1]
		if is.Role != cvc.RoleIS || is.CHR != string(ref) {
			return status(swTAKeyUnknown)
		}
		// Each certificate was checked on import, against its issuer and
		// in role order, so the chain is trust point, links, one DV, the
		// IS. The effective authorization is the AND of the rights of all
		// of them (TR-03110-3 C.4).
		rights := c.ta.cvca.Rights
		for _, k := range st.chain {
			rights &= k.Rights
		}
		st.is, st.isRights, st.isDomain = is, rights, taDomain(c.ta.cvca, st.chain)
		return status(swOK)
	}
	return status(swWrongP1P2)
}

// taDomain is the EC domain governing the last certificate of chain: that
// of the last CVCA key (the trust point or a link), TR-03110-3 D.3.3.
func taDomain(anchor *cvc.Certificate, chain []*cvc.Certificate) *cvc.ECDomain {
	d := anchor.PublicKey.Domain
	for _, k := range chain {
		if k.Role == cvc.RoleCVCA {
			d = k.PublicKey.Domain
		}
	}
	return d
}

// performSecurityOperation is PSO:Verify Certificate (TR-03110-3 B.11.2):
// the certificate's body and signature, verified with the key MSE:Set DST
// selected. On success the certificate's key is imported for the rest of
// the session; on failure the chain starts over.
func (c *Chip) performSecurityOperation(cmd command) result {
	if c.st.sess == nil {
		return status(swSecurityStatus)
	}
	if c.ta == nil {
		return status(swConditionsOfUse)
	}
	if uint16(cmd.p1)<<8|uint16(cmd.p2) != taP1P2VerifyCert {
		return status(swWrongP1P2)
	}
	if cmd.ne != 0 || len(cmd.data) == 0 {
		return status(swWrongLength)
	}
	st := &c.st.ta
	st.granted, st.is = false, nil
	issuer := st.current
	st.current = nil
	if issuer == nil {
		return status(swConditionsOfUse)
	}
	if len(st.chain) >= taMaxChain {
		st.chain = nil
		return status(swConditionsOfUse)
	}
	cert, err := cvc.Parse(wrapCertificate(cmd.data))
	if err != nil {
		return status(swWrongData)
	}
	if err := c.taCheckImport(issuer, cert); err != nil {
		st.chain = nil
		return status(swVerifyFailed)
	}
	// A chain that does not continue from its last certificate (the
	// terminal went back to an earlier key) is cut there.
	for i, k := range st.chain {
		if k == issuer {
			st.chain = st.chain[:i+1]
			break
		}
	}
	if issuer == c.ta.cvca {
		st.chain = nil
	}
	st.chain = append(st.chain, cert)
	return status(swOK)
}

// errTARole reports a certificate whose role may not follow its issuer's.
var errTARole = errors.New("role does not follow the issuer's")

// taCheckImport checks one certificate against the key that is to verify
// it: the CAR names it, the roles follow CVCA (links) -> DV -> IS, the
// certificate is of an inspection system, valid today, its signature
// verifies on the governing domain and its key is usable.
func (c *Chip) taCheckImport(issuer, cert *cvc.Certificate) error {
	if cert.CAR != issuer.CHR {
		return fmt.Errorf("CAR %s does not name %s", cert.CAR, issuer.CHR)
	}
	if !cert.TerminalType.Equal(cvc.OIDInspectionSystem()) {
		return fmt.Errorf("terminal type %v", cert.TerminalType)
	}
	switch {
	case issuer.Role == cvc.RoleCVCA && (cert.Role == cvc.RoleCVCA || cert.Role == cvc.RoleDVDomestic || cert.Role == cvc.RoleDVForeign):
	case (issuer.Role == cvc.RoleDVDomestic || issuer.Role == cvc.RoleDVForeign) && cert.Role == cvc.RoleIS:
	default:
		return errTARole
	}
	if cert.Role == cvc.RoleCVCA && cert.PublicKey.Algorithm.IsECDSA() && cert.PublicKey.Domain == nil {
		return errors.New("link certificate without domain parameters")
	}
	if err := cert.ValidAt(c.taNow()); err != nil {
		return err
	}
	// The trust point's own dates count when it signs a DV itself; a link
	// certificate is how a chip moves on from an expired CVCA (as
	// internal/cvc's Authorize).
	if issuer == c.ta.cvca && cert.Role != cvc.RoleCVCA {
		if err := issuer.ValidAt(c.taNow()); err != nil {
			return err
		}
	}
	// The issuer's key lives on the domain of the CVCA governing it.
	var chainToIssuer []*cvc.Certificate
	for _, k := range c.st.ta.chain {
		chainToIssuer = append(chainToIssuer, k)
		if k == issuer {
			break
		}
	}
	if issuer == c.ta.cvca {
		chainToIssuer = nil
	}
	issuerDomain := taDomain(c.ta.cvca, chainToIssuer)
	if err := cert.CheckSignatureFrom(issuer, issuerDomain); err != nil {
		return err
	}
	keyDomain := issuerDomain
	if cert.Role == cvc.RoleCVCA {
		keyDomain = cert.PublicKey.Domain
	}
	return cvc.CheckKey(&cert.PublicKey, keyDomain)
}

// wrapCertificate puts the body and signature of PSO:Verify Certificate
// back into the 7F21 certificate they were taken from.
func wrapCertificate(content []byte) []byte {
	return appendTLV(nil, tagCVCertificate, content)
}

// tagCVCertificate is the CV certificate template (TR-03110-3 C.1).
const tagCVCertificate tag = 0x7F21

// taExternalAuthenticate is EXTERNAL AUTHENTICATE of TA (TR-03110-3
// B.11.5): the terminal's signature over ID_IC || r_IC || Comp(PK_IFD)
// with the inspection system key MSE:Set AT named. rndIC is the challenge
// of the GET CHALLENGE just before (nil if there was none). Success grants
// the chain's rights for this secure messaging session; any failure ends
// this attempt (the terminal starts over from MSE:Set DST).
func (c *Chip) taExternalAuthenticate(cmd command, rndIC []byte) result {
	st := &c.st.ta
	is, rights, domain := st.is, st.isRights, st.isDomain
	st.is, st.granted = nil, false
	if c.ta == nil || is == nil || rndIC == nil {
		return status(swConditionsOfUse)
	}
	if cmd.p1 != 0 || cmd.p2 != 0 {
		return status(swWrongP1P2)
	}
	if cmd.ne != 0 || len(cmd.data) == 0 {
		return status(swWrongLength)
	}
	// 9303-11 §7.1 runs TA v1 after Chip Authentication, whose ephemeral
	// key the signature binds to this channel.
	comp := c.taCompPKIFD()
	if comp == nil {
		return status(swConditionsOfUse)
	}
	id := st.idIC
	if id == nil {
		id = c.ta.idBAC
	}
	msg := make([]byte, 0, len(id)+len(rndIC)+len(comp))
	msg = append(append(append(msg, id...), rndIC...), comp...)
	if err := cvc.VerifySignature(&is.PublicKey, domain, msg, cmd.data); err != nil {
		return status(swVerifyFailed)
	}
	st.granted, st.rights, st.sess = true, rights, c.st.sess
	return status(swOK)
}
