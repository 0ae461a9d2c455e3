package inspect

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"borderid/internal/smcrypto"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/reader/mrz"
	"borderid/verify"
)

// Input is what Assemble needs: the reader that was used, what was read
// and what the guard supplied.
type Input struct {
	ReaderName string
	ATR        []byte
	Result     *reader.Result
	// Given holds the MRZ fields the guard supplied for access control: the
	// document number and the dates of birth and expiry (YYMMDD). When the
	// guard supplied whole MRZ lines, GivenMRZ holds them as well and every
	// field of DG1 is compared with them.
	GivenDocNumber, GivenDOB, GivenDOE string
	GivenMRZ                           *mrz.MRZ
	Now                                time.Time
	// PA is the passive authentication of EF.SOD against the trust store,
	// and CardSecurityPA that of EF.CardSecurity (for PACE-CAM); nil when
	// no trust store was given.
	PA, CardSecurityPA *verify.Result
	// Status is what the issuing state's registry said of the document
	// (`read --status`, through package crossborder's client); nil when it
	// was not asked.
	Status *StatusAnswer
}

// Assembled is a report together with the parsed pieces a caller may want
// to keep (the face image for --out, for instance).
type Assembled struct {
	Report *Report
	DG1    *lds.DG1
	DG2    *lds.DG2
}

// Assemble builds the inspection report of a read. It never fails: what
// cannot be parsed becomes a failed or not-done check with a reason.
func Assemble(in Input) *Assembled {
	res := in.Result
	r := &Report{
		Reader:           ReaderInfo{Name: in.ReaderName, ATR: strings.ToUpper(hex.EncodeToString(in.ATR))},
		AccessControl:    res.AccessControl,
		AccessParams:     accessParams(res),
		Files:            map[string]FileInfo{},
		Checks:           map[string]Check{},
		Quirks:           []string{},
		APDUs:            res.APDUs,
		BytesTransferred: res.Bytes,
		DurationMS:       ms(res.Duration),
	}
	out := &Assembled{Report: r}
	addQuirks := func(qs ...string) {
		for _, q := range qs {
			if !slices.Contains(r.Quirks, q) {
				r.Quirks = append(r.Quirks, q)
			}
		}
	}
	addQuirks(res.Quirks...)

	for f, b := range res.Files {
		if !reportable(f) {
			continue
		}
		sum := sha256.Sum256(b)
		r.Files[f.String()] = FileInfo{Size: len(b), SHA256: hex.EncodeToString(sum[:])}
	}

	// DG1: the document as the chip holds it.
	var dg1 *lds.DG1
	if b, ok := res.Files[lds.FileDG1]; ok {
		d, err := lds.ParseDG1(b)
		if err == nil {
			dg1 = d
		} else {
			r.Checks[CheckMRZConsistency] = Check{Result: Fail, Reason: "dg1_malformed", Detail: err.Error()}
		}
	} else {
		r.Checks[CheckMRZConsistency] = Check{Result: Fail, Reason: "dg1_missing", Detail: "the chip holds no readable DG1"}
	}
	out.DG1 = dg1
	if dg1 != nil {
		d := document(dg1.MRZ, in.Now)
		r.Document = &d
		r.Checks[CheckMRZConsistency] = mrzConsistency(dg1.MRZ, in)
		r.Checks[CheckExpiry] = expiry(dg1.MRZ, in.Now)
	} else {
		r.Checks[CheckExpiry] = Check{Result: NotDone, Reason: "dg1_unavailable", Detail: "no date of expiry could be read from the chip"}
	}

	// DG2: the face, measured from the image bytes.
	if b, ok := res.Files[lds.FileDG2]; ok {
		d, err := lds.ParseDG2(b)
		if err != nil {
			addQuirks("dg2_malformed")
		} else {
			out.DG2 = d
			addQuirks(d.Quirks...)
			if len(d.Faces) > 0 && d.Faces[0].Format != lds.ImageUnknown {
				f := d.Faces[0]
				r.Face = &Face{Format: f.Format.String(), Width: f.Width, Height: f.Height, Bytes: len(f.Image)}
			}
		}
	}

	r.Checks[CheckDGHashes] = dgHashes(res.Files, res.Unverified)
	r.Checks[CheckPassiveAuth] = passiveAuth(in.PA)
	for _, q := range paQuirks(in.PA) {
		addQuirks(q)
	}
	r.Checks[CheckChipAuth] = chipAuth(res, in.CardSecurityPA, in.PA)
	r.Checks[CheckActiveAuth] = activeAuth(res)
	r.Checks[CheckTerminalAuth] = terminalAuth(res)
	r.Checks[CheckStatus] = DocumentStatus(in.Status)
	r.Checks[CheckBiometric] = Check{Result: NotDone, Reason: "no_live_capture", Detail: "no live face was captured to compare"}

	r.Verdict = verdict(r.Checks)
	return out
}

// reportable reports whether the contract's `files` object names f
// (EF.ATR/INFO is read for its length limits but is not part of it).
func reportable(f lds.File) bool { return f != lds.FileATRInfo }

func document(m *mrz.MRZ, now time.Time) Document {
	return Document{
		Type:           m.DocumentCode,
		IssuingState:   m.IssuingState,
		DocumentNumber: m.DocumentNumber,
		Surname:        m.Surname,
		GivenNames:     m.GivenNames,
		Nationality:    m.Nationality,
		DateOfBirth:    m.BirthDate(now).String(),
		Sex:            m.Sex,
		DateOfExpiry:   m.ExpiryDate().String(),
		OptionalData:   strings.TrimSpace(strings.Join(nonEmpty(m.OptionalData, m.OptionalData2), " ")),
	}
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// mrzConsistency compares DG1 with what the guard supplied and checks
// DG1's own check digits. BAC succeeding proves only that the chip's BAC
// key matches the guard's fields; a chip can hold a DG1 that disagrees.
func mrzConsistency(m *mrz.MRZ, in Input) Check {
	var notes []string
	if d := m.BirthDate(in.Now); d.Partial() {
		notes = append(notes, fmt.Sprintf("the date of birth is partial (%q): the MRZ leaves the day, month or year unknown", d))
	}
	if d := m.ExpiryDate(); d.Partial() {
		notes = append(notes, fmt.Sprintf("the date of expiry is partial (%q)", d))
	}
	withNotes := func(c Check) Check {
		c.Detail = strings.Join(append(nonEmpty(c.Detail), notes...), "; ")
		return c
	}
	var diffs []string
	nothingGiven := in.GivenMRZ == nil && in.GivenDocNumber == "" && in.GivenDOB == "" && in.GivenDOE == ""
	if nothingGiven {
		notes = append([]string{"no MRZ was supplied (the chip was opened with the CAN): DG1 checked only against its own check digits"}, notes...)
	}
	switch {
	case nothingGiven:
	case in.GivenMRZ != nil:
		if in.GivenMRZ.Raw != m.Raw {
			diffs = append(diffs, mrzFieldDiffs(in.GivenMRZ, m)...)
		}
	default:
		if norm(in.GivenDocNumber) != norm(m.DocumentNumber) {
			diffs = append(diffs, "document number")
		}
		if in.GivenDOB != m.DateOfBirth {
			diffs = append(diffs, "date of birth")
		}
		if in.GivenDOE != m.DateOfExpiry {
			diffs = append(diffs, "date of expiry")
		}
	}
	if len(diffs) > 0 {
		return withNotes(Check{Result: Fail, Reason: "dg1_mrz_mismatch", Detail: "DG1 differs from the MRZ supplied in: " + strings.Join(diffs, ", ")})
	}
	if err := m.Verify(); err != nil {
		return withNotes(Check{Result: Fail, Reason: "dg1_check_digit", Detail: "DG1 fails its check digits: " + strings.Join(fieldNames(m), ", ")})
	}
	return withNotes(Check{Result: Pass})
}

func fieldNames(m *mrz.MRZ) []string {
	var out []string
	for _, f := range m.Failed() {
		out = append(out, strings.ReplaceAll(f.String(), "_", " "))
	}
	return out
}

func mrzFieldDiffs(a, b *mrz.MRZ) []string {
	var d []string
	cmp := func(name, x, y string) {
		if x != y {
			d = append(d, name)
		}
	}
	cmp("document type", a.DocumentCode, b.DocumentCode)
	cmp("issuing state", a.IssuingState, b.IssuingState)
	cmp("document number", a.DocumentNumber, b.DocumentNumber)
	cmp("surname", a.Surname, b.Surname)
	cmp("given names", a.GivenNames, b.GivenNames)
	cmp("nationality", a.Nationality, b.Nationality)
	cmp("date of birth", a.DateOfBirth, b.DateOfBirth)
	cmp("sex", a.Sex, b.Sex)
	cmp("date of expiry", a.DateOfExpiry, b.DateOfExpiry)
	cmp("optional data", a.OptionalData+a.OptionalData2, b.OptionalData+b.OptionalData2)
	if len(d) == 0 {
		d = append(d, "check digits or fillers")
	}
	return d
}

func norm(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "<", "")) }

func expiry(m *mrz.MRZ, now time.Time) Check {
	d := m.ExpiryDate()
	if !d.Known() || d.Partial() {
		return Check{Result: NotDone, Reason: "expiry_date_partial", Detail: fmt.Sprintf("the date of expiry %q is partial", d)}
	}
	// A document is valid through its date of expiry.
	end := time.Date(d.Year, time.Month(d.Month), d.Day+1, 0, 0, 0, 0, time.UTC)
	if !now.Before(end) {
		return Check{Result: Fail, Reason: "expired", Detail: "the document expired on " + d.String()}
	}
	return Check{Result: Pass, Detail: "valid until " + d.String()}
}

// dgHashes compares every data group read with its hash in EF.SOD, and
// requires every group EF.SOD lists to have been read, except DG3 and DG4,
// which need terminal authentication. A group that went missing (the
// chip, or something between it and the reader, said "not found" or "not
// allowed") would otherwise hide data or the key of chip or active
// authentication without a trace. It says only that the files match the
// SOD; that the SOD is the issuer's is passive authentication's question.
func dgHashes(files map[lds.File][]byte, unverified []lds.File) Check {
	b, ok := files[lds.FileSOD]
	if !ok {
		return Check{Result: NotDone, Reason: "no_sod", Detail: "the chip holds no readable EF.SOD"}
	}
	sod, err := lds.ParseSOD(b)
	if err != nil {
		return Check{Result: Fail, Reason: "sod_malformed", Detail: err.Error()}
	}
	h := sod.SecurityObject.Hash
	if h == 0 || !h.Available() {
		return Check{Result: Fail, Reason: "unsupported_hash", Detail: "EF.SOD names a hash algorithm borderid does not know"}
	}
	var checked []string
	for _, f := range lds.Files(files).DataGroups() {
		want, ok := sod.SecurityObject.DataGroupHashes[f.DataGroup()]
		if !ok {
			return Check{Result: Fail, Reason: "dg_not_in_sod_" + strings.ToLower(f.String()), Detail: f.String() + " was read but EF.SOD holds no hash for it"}
		}
		hh := h.New()
		hh.Write(files[f])
		if !bytes.Equal(hh.Sum(nil), want) {
			return Check{Result: Fail, Reason: "hash_mismatch_" + strings.ToLower(f.String()), Detail: f.String() + " does not match its hash in EF.SOD"}
		}
		checked = append(checked, f.String())
	}
	for _, n := range sod.SecurityObject.DataGroups() {
		if n == 3 || n == 4 {
			continue
		}
		f := lds.FileDG1 + lds.File(n-1)
		if _, ok := files[f]; !ok {
			why := "the chip said it is absent or not readable"
			if slices.Contains(unverified, f) {
				why = "a refusal came without a MAC: it may not be the chip's"
			}
			return Check{Result: Fail, Reason: "dg_missing_" + strings.ToLower(f.String()),
				Detail: "EF.SOD lists " + f.String() + " but it could not be read: " + why}
		}
	}
	return Check{Result: Pass, Detail: fmt.Sprintf("%s match EF.SOD (%v)", strings.Join(checked, ", "), h)}
}

func accessParams(res *reader.Result) AccessParams {
	if p := res.PACE; p != nil && strings.HasPrefix(res.AccessControl, "PACE") {
		id := p.ParameterID
		return AccessParams{Mapping: p.Mapping.String(), KeyAgreement: p.KeyAgreement.String(),
			Domain: p.Domain, Cipher: p.Cipher.String(), ParameterID: &id}
	}
	c := res.Cipher
	if c == 0 {
		c = smcrypto.TDES // BAC
	}
	return AccessParams{Cipher: c.String()}
}

// chipAuth: Chip Authentication (DG14) or PACE-CAM prove the chip holds
// a private key. Any evidence against the chip fails the check first, so
// a pass of one protocol never hides a failure of the other. PACE-CAM
// alone does not pass: its key comes from EF.CardSecurity, which a clone
// can write itself, so it counts only once passive authentication has
// verified that file; Chip Authentication's key comes from DG14, which
// EF.SOD covers (data_group_hashes; the SOD itself is PA's part).
func chipAuth(res *reader.Result, cardSecurity, sod *verify.Result) Check {
	p := res.PACE
	// CAM's key counts only when EF.CardSecurity passes passive
	// authentication under the same CSCA as EF.SOD, which passes too.
	camKeyVerified := cardSecurity != nil && cardSecurity.Outcome == verify.Pass && cardSecurity.CSCA != nil &&
		sod != nil && sod.Outcome == verify.Pass && sod.CSCA != nil && bytes.Equal(sod.CSCA.Raw, cardSecurity.CSCA.Raw)
	switch {
	case errors.Is(res.CAErr, reader.ErrCAFailed):
		return Check{Result: Fail, Reason: "ca_failed", Detail: res.CAErr.Error()}
	case p != nil && p.CAM == reader.CAMFailed:
		return Check{Result: Fail, Reason: p.CAMReason, Detail: p.CAMDetail}
	case p != nil && p.CAM == reader.CAMPassed && cardSecurity != nil && cardSecurity.Outcome == verify.Fail:
		return Check{Result: Fail, Reason: "cardsecurity_not_authentic",
			Detail: "PACE-CAM used the key of an EF.CardSecurity that fails passive authentication: " + string(cardSecurity.Reason)}
	case res.CA != nil && res.CA.Passed:
		return Check{Result: Pass, Detail: fmt.Sprintf("chip authentication with the DG14 key (%s, %s)", res.CA.Domain, res.CA.Cipher)}
	case p != nil && p.CAM == reader.CAMPassed && camKeyVerified:
		return Check{Result: Pass, Reason: "pace_cam", Detail: "PACE-CAM with the key of EF.CardSecurity, which passes passive authentication"}
	case p != nil && p.CAM == reader.CAMPassed:
		return Check{Result: NotDone, Reason: "cardsecurity_unverified",
			Detail: "PACE-CAM passed with the key of EF.CardSecurity, whose signature this version does not verify"}
	case errors.Is(res.CAErr, reader.ErrCANotSupported):
		return Check{Result: NotDone, Reason: "ca_not_supported", Detail: res.CAErr.Error()}
	case res.CAErr != nil:
		return Check{Result: NotDone, Reason: "ca_interrupted", Detail: res.CAErr.Error()}
	}
	if _, ok := res.Files[lds.FileDG14]; ok {
		return Check{Result: NotDone, Reason: "not_attempted", Detail: "DG14 offers no chip authentication this reader runs"}
	}
	return Check{Result: NotDone, Reason: "not_offered", Detail: "the chip has no DG14"}
}

// passiveAuth turns verify's result into the report's check: the reason
// codes are verify's (unknown_csca, bad_signature, hash_mismatch_dgN,
// dsc_revoked, country_mismatch, ...).
func passiveAuth(pa *verify.Result) Check {
	if pa == nil {
		return Check{Result: NotDone, Reason: "no_trust_store",
			Detail: "no trust store was given (borderid read --trust FILE --ml-root CERT)"}
	}
	var warn []string
	for _, w := range pa.Warnings {
		warn = append(warn, string(w))
	}
	switch pa.Outcome {
	case verify.Pass:
		d := "EF.SOD signed by " + pa.DSC.Subject.String() + " under " + pa.CSCA.Subject.String()
		if len(warn) > 0 {
			d += "; warnings: " + strings.Join(warn, ", ")
		}
		return Check{Result: Pass, Detail: d}
	case verify.Fail:
		return Check{Result: Fail, Reason: string(pa.Reason), Detail: pa.Detail}
	}
	return Check{Result: NotDone, Reason: string(pa.Reason), Detail: pa.Detail}
}

func paQuirks(pa *verify.Result) []string {
	if pa == nil {
		return nil
	}
	var out []string
	for _, q := range pa.Quirks {
		out = append(out, string(q))
	}
	return out
}

func activeAuth(res *reader.Result) Check {
	switch {
	case res.AA != nil:
		return Check{Result: Pass, Detail: fmt.Sprintf("%s signature over an 8-byte challenge", aaKind(res.AA))}
	case errors.Is(res.AAErr, reader.ErrAAFailed):
		return Check{Result: Fail, Reason: "signature_invalid", Detail: res.AAErr.Error()}
	case errors.Is(res.AAErr, reader.ErrAANotSupported):
		return Check{Result: NotDone, Reason: "aa_not_supported", Detail: res.AAErr.Error()}
	case res.AAErr != nil:
		return Check{Result: NotDone, Reason: "aa_interrupted", Detail: res.AAErr.Error()}
	}
	if _, ok := res.Files[lds.FileDG15]; ok {
		return Check{Result: NotDone, Reason: "not_attempted", Detail: "DG15 was read but active authentication was not run"}
	}
	return Check{Result: NotDone, Reason: "not_offered", Detail: "the chip has no DG15"}
}

func aaKind(a *reader.AAResult) string {
	if a.Curve != "" {
		return "ECDSA " + a.Curve
	}
	return fmt.Sprintf("RSA-%d ISO/IEC 9796-2", a.KeyBits)
}

func terminalAuth(res *reader.Result) Check {
	var locked []string
	for _, f := range res.NotAuthorised {
		if f == lds.FileDG3 || f == lds.FileDG4 {
			locked = append(locked, f.String())
		}
	}
	switch {
	case res.TA != nil && len(locked) == 0:
		return Check{Result: Pass, Detail: "terminal authentication via " + strings.Join(res.TA.Path, " -> ")}
	case res.TA != nil:
		return Check{Result: NotAuthorised, Reason: "insufficient_rights",
			Detail: strings.Join(locked, ", ") + " stay locked: the inspection system's certificate lacks the right"}
	case errors.Is(res.TAErr, reader.ErrNoTerminalPath):
		return Check{Result: NotAuthorised, Reason: "no_terminal_path", Detail: res.TAErr.Error()}
	case errors.Is(res.TAErr, reader.ErrTAFailed):
		return Check{Result: NotAuthorised, Reason: "ta_refused", Detail: res.TAErr.Error()}
	case res.TAErr != nil:
		return Check{Result: NotDone, Reason: "ta_interrupted", Detail: res.TAErr.Error()}
	case len(locked) > 0 && res.CA == nil:
		return Check{Result: NotAuthorised, Reason: "no_chip_authentication",
			Detail: strings.Join(locked, ", ") + " need terminal authentication, which needs chip authentication first"}
	case len(locked) > 0:
		return Check{Result: NotAuthorised, Reason: "no_terminal_certificates",
			Detail: strings.Join(locked, ", ") + " need terminal authentication: give --terminal DIR"}
	}
	return Check{Result: NotDone, Reason: "not_required", Detail: "the chip lists no data groups that need it"}
}

// verdict: any failed check rejects (a document the issuing state reports
// lost, stolen or revoked among them, however genuine its chip); genuine
// and authentic_data need passive authentication, so without it the best
// is suspect. A status that could not be asked (document_status not_done)
// does not lower the verdict: the border post decides what to do without
// the registry.
func verdict(checks map[string]Check) Verdict {
	switch checks[CheckStatus].Reason {
	case ReasonDocumentLost, ReasonDocumentStolen, ReasonDocumentRevoked:
		return Rejected
	}
	for _, c := range checks {
		if c.Result == Fail {
			return Rejected
		}
	}
	pa := checks[CheckPassiveAuth].Result == Pass
	chip := checks[CheckChipAuth].Result == Pass || checks[CheckActiveAuth].Result == Pass
	switch {
	case pa && chip:
		return Genuine
	case pa:
		return AuthenticData
	}
	return Suspect
}
