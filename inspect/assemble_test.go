package inspect_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"borderid/inspect"
	"borderid/inspect/inspecttest"
	"borderid/internal/smcrypto"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
	"borderid/reader/mrz"
)

// seeded is a deterministic io.Reader for the specimen generator.
type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

var now = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

// specimenResult is what reader.Read would return for a specimen chip.
func specimenResult(t *testing.T, mrzText string) (*reader.Result, *specimen.Document) {
	t.Helper()
	var seed [32]byte
	doc, err := specimen.Generate(specimen.Options{MRZ: mrzText, Rand: seeded{rand.NewChaCha8(seed)}, Now: now.AddDate(-2, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	res := &reader.Result{AccessControl: "BAC", Files: map[lds.File][]byte{}, APDUs: 102, Bytes: 25477, Duration: 16 * time.Millisecond}
	for name, b := range doc.Files {
		f, ok := lds.FileByName(name)
		if !ok {
			t.Fatalf("specimen file %q", name)
		}
		res.Files[f] = b
	}
	return res, doc
}

func given(t *testing.T, text string) inspect.Input {
	t.Helper()
	m, err := mrz.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return inspect.Input{ReaderName: "Virtual PCD 00 00", ATR: []byte{0x3B, 0x85}, GivenMRZ: m,
		GivenDocNumber: m.DocumentNumber, GivenDOB: m.DateOfBirth, GivenDOE: m.DateOfExpiry, Now: now}
}

func TestAssembleSpecimen(t *testing.T) {
	res, doc := specimenResult(t, "")
	in := given(t, doc.MRZ)
	in.Result = res
	a := inspect.Assemble(in)
	r := a.Report

	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := inspecttest.Validate(js); err != nil {
		t.Fatalf("report fails the schema: %v\n%s", err, js)
	}
	want := inspect.Document{Type: "P", IssuingState: "UTO", DocumentNumber: "L898902C3", Surname: "ERIKSSON",
		GivenNames: "ANNA MARIA", Nationality: "UTO", DateOfBirth: "1974-08-12", Sex: "F", DateOfExpiry: "2034-08-11",
		OptionalData: "ZE184226B"}
	if r.Document == nil || *r.Document != want {
		t.Errorf("document\n got %+v\nwant %+v", r.Document, want)
	}
	if r.Reader.ATR != "3B85" || r.Reader.Name != "Virtual PCD 00 00" {
		t.Errorf("reader %+v", r.Reader)
	}
	if r.AccessControl != "BAC" || r.AccessParams.Cipher != "3DES" || r.AccessParams.Mapping != "" {
		t.Errorf("access %q %+v", r.AccessControl, r.AccessParams)
	}
	if r.APDUs != 102 || r.BytesTransferred != 25477 || r.DurationMS != 16 {
		t.Errorf("counters %d %d %d", r.APDUs, r.BytesTransferred, r.DurationMS)
	}
	for _, name := range []string{"COM", "DG1", "DG2", "DG11", "DG12", "SOD"} {
		fi, ok := r.Files[name]
		if !ok || fi.Size != len(doc.Files[name]) || len(fi.SHA256) != 64 {
			t.Errorf("file %s: %+v", name, fi)
		}
	}
	if r.Face == nil || r.Face.Format != "JPEG" || r.Face.Width*4 != r.Face.Height*3 || r.Face.Bytes < 15000 {
		t.Errorf("face %+v", r.Face)
	}
	checks := map[string]inspect.Result{
		"data_group_hashes": inspect.Pass, "mrz_consistency": inspect.Pass, "document_expiry": inspect.Pass,
		"passive_authentication": inspect.NotDone, "chip_authentication": inspect.NotDone,
		"active_authentication": inspect.NotDone, "terminal_authentication": inspect.NotDone,
		"document_status": inspect.NotDone, "biometric_comparison": inspect.NotDone,
	}
	for name, res := range checks {
		if got := r.Checks[name].Result; got != res {
			t.Errorf("%s = %s, want %s", name, got, res)
		}
	}
	if len(r.Checks) != len(checks) {
		t.Errorf("%d checks, want %d", len(r.Checks), len(checks))
	}
	// Not verified is never better than suspect.
	if r.Verdict != inspect.Suspect {
		t.Errorf("verdict %s", r.Verdict)
	}
	if a.DG2 == nil || len(a.DG2.Faces) != 1 {
		t.Error("DG2 not kept for --out")
	}
}

func TestAssembleRefusals(t *testing.T) {
	tests := []struct {
		name    string
		mrz     string // specimen MRZ; "" is the default
		change  func(*reader.Result, *inspect.Input)
		check   string
		result  inspect.Result
		reason  string
		verdict inspect.Verdict
	}{
		{
			name:   "a changed DG2 byte",
			change: func(r *reader.Result, _ *inspect.Input) { r.Files[lds.FileDG2][len(r.Files[lds.FileDG2])-10] ^= 1 },
			check:  "data_group_hashes", result: inspect.Fail, reason: "hash_mismatch_dg2", verdict: inspect.Rejected,
		},
		{
			name:   "a changed DG1",
			change: func(r *reader.Result, _ *inspect.Input) { r.Files[lds.FileDG1][10] ^= 1 },
			check:  "data_group_hashes", result: inspect.Fail, reason: "hash_mismatch_dg1", verdict: inspect.Rejected,
		},
		{
			name: "a DG the SOD does not cover",
			change: func(r *reader.Result, _ *inspect.Input) {
				r.Files[lds.FileDG15] = []byte{0x6F, 0x00}
			},
			check: "data_group_hashes", result: inspect.Fail, reason: "dg_not_in_sod_dg15", verdict: inspect.Rejected,
		},
		{
			name: "a DG listed in EF.SOD went missing",
			change: func(r *reader.Result, _ *inspect.Input) {
				delete(r.Files, lds.FileDG11)
			},
			check: "data_group_hashes", result: inspect.Fail, reason: "dg_missing_dg11", verdict: inspect.Rejected,
		},
		{
			name:   "no SOD",
			change: func(r *reader.Result, _ *inspect.Input) { delete(r.Files, lds.FileSOD) },
			check:  "data_group_hashes", result: inspect.NotDone, reason: "no_sod", verdict: inspect.Suspect,
		},
		{
			name:   "a truncated SOD",
			change: func(r *reader.Result, _ *inspect.Input) { r.Files[lds.FileSOD] = r.Files[lds.FileSOD][:200] },
			check:  "data_group_hashes", result: inspect.Fail, reason: "sod_malformed", verdict: inspect.Rejected,
		},
		{
			name:   "no DG1",
			change: func(r *reader.Result, _ *inspect.Input) { delete(r.Files, lds.FileDG1) },
			check:  "mrz_consistency", result: inspect.Fail, reason: "dg1_missing", verdict: inspect.Rejected,
		},
		{
			name: "DG1 differs from the MRZ given",
			change: func(_ *reader.Result, in *inspect.Input) {
				m, _ := mrz.Parse(strings.Replace(specimen.DefaultMRZ(), "ERIKSSON<<ANNA", "ERIKSSON<<ANNE", 1))
				in.GivenMRZ = m
			},
			check: "mrz_consistency", result: inspect.Fail, reason: "dg1_mrz_mismatch", verdict: inspect.Rejected,
		},
		{
			name:   "DG1 differs from --dob",
			change: func(_ *reader.Result, in *inspect.Input) { in.GivenMRZ, in.GivenDOB = nil, "740813" },
			check:  "mrz_consistency", result: inspect.Fail, reason: "dg1_mrz_mismatch", verdict: inspect.Rejected,
		},
		{
			name:  "expired yesterday",
			mrz:   "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F2611262ZE184226B<<<<<12",
			check: "document_expiry", result: inspect.Fail, reason: "expired", verdict: inspect.Rejected,
		},
		{
			name:  "expires today: still valid",
			mrz:   "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F2611273ZE184226B<<<<<16",
			check: "document_expiry", result: inspect.Pass, verdict: inspect.Suspect,
		},
		{
			name:   "DG3 locked behind terminal authentication",
			change: func(r *reader.Result, _ *inspect.Input) { r.NotAuthorised = []lds.File{lds.FileDG3} },
			check:  "terminal_authentication", result: inspect.NotAuthorised, reason: "no_chip_authentication", verdict: inspect.Suspect,
		},
		{
			name: "DG3 locked, chip authenticated, no terminal given",
			change: func(r *reader.Result, _ *inspect.Input) {
				r.NotAuthorised = []lds.File{lds.FileDG3}
				r.CA = &reader.CAResult{Passed: true, Domain: "brainpoolP256r1", Cipher: smcrypto.AES128}
			},
			check: "terminal_authentication", result: inspect.NotAuthorised, reason: "no_terminal_certificates", verdict: inspect.Suspect,
		},
		{
			name: "terminal authentication passed, DG3 read",
			change: func(r *reader.Result, _ *inspect.Input) {
				r.CA = &reader.CAResult{Passed: true}
				r.TA = &reader.TAResult{Path: []string{"UTDV00001", "UTIS00001"}}
			},
			check: "terminal_authentication", result: inspect.Pass, verdict: inspect.Suspect,
		},
		{
			name: "terminal authentication refused",
			change: func(r *reader.Result, _ *inspect.Input) {
				r.NotAuthorised = []lds.File{lds.FileDG3}
				r.CA = &reader.CAResult{Passed: true}
				r.TAErr = fmt.Errorf("%w: PSO:Verify Certificate 6300", reader.ErrTAFailed)
			},
			check: "terminal_authentication", result: inspect.NotAuthorised, reason: "ta_refused", verdict: inspect.Suspect,
		},
		{
			name:   "chip authentication passed",
			change: func(r *reader.Result, _ *inspect.Input) { r.CA = &reader.CAResult{Passed: true} },
			check:  "chip_authentication", result: inspect.Pass, verdict: inspect.Suspect,
		},
		{
			name: "chip authentication failed: a clone",
			change: func(r *reader.Result, _ *inspect.Input) {
				r.CAErr = fmt.Errorf("%w: no MAC-valid answer under the new keys", reader.ErrCAFailed)
			},
			check: "chip_authentication", result: inspect.Fail, reason: "ca_failed", verdict: inspect.Rejected,
		},
		{
			name:   "PACE-CAM passed alone: EF.CardSecurity is not verified yet",
			change: func(r *reader.Result, _ *inspect.Input) { r.PACE = &reader.PACEResult{CAM: reader.CAMPassed} },
			check:  "chip_authentication", result: inspect.NotDone, reason: "cardsecurity_unverified", verdict: inspect.Suspect,
		},
		{
			name: "PACE-CAM passed but chip authentication with the DG14 key failed: a clone",
			change: func(r *reader.Result, _ *inspect.Input) {
				r.PACE = &reader.PACEResult{CAM: reader.CAMPassed}
				r.CAErr = fmt.Errorf("%w: no MAC-valid answer under the new keys", reader.ErrCAFailed)
			},
			check: "chip_authentication", result: inspect.Fail, reason: "ca_failed", verdict: inspect.Rejected,
		},
		{
			name: "PACE-CAM key mismatch",
			change: func(r *reader.Result, _ *inspect.Input) {
				r.PACE = &reader.PACEResult{CAM: reader.CAMFailed, CAMReason: reader.CAMReasonMismatch}
			},
			check: "chip_authentication", result: inspect.Fail, reason: "cam_mismatch", verdict: inspect.Rejected,
		},
		{
			name: "PACE-CAM key mismatch hidden behind a passed chip authentication",
			change: func(r *reader.Result, _ *inspect.Input) {
				r.PACE = &reader.PACEResult{CAM: reader.CAMFailed, CAMReason: reader.CAMReasonMismatch}
				r.CA = &reader.CAResult{Passed: true}
			},
			check: "chip_authentication", result: inspect.Fail, reason: "cam_mismatch", verdict: inspect.Rejected,
		},
		{
			name:   "active authentication passed",
			change: func(r *reader.Result, _ *inspect.Input) { r.AA = &reader.AAResult{Curve: "P-256"} },
			check:  "active_authentication", result: inspect.Pass, verdict: inspect.Suspect,
		},
		{
			name: "active authentication signature invalid",
			change: func(r *reader.Result, _ *inspect.Input) {
				r.AAErr = fmt.Errorf("%w: 9796-2 trailer", reader.ErrAAFailed)
			},
			check: "active_authentication", result: inspect.Fail, reason: "signature_invalid", verdict: inspect.Rejected,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, doc := specimenResult(t, tt.mrz)
			in := given(t, doc.MRZ)
			in.Result = res
			if tt.change != nil {
				tt.change(res, &in)
			}
			r := inspect.Assemble(in).Report
			c := r.Checks[tt.check]
			if c.Result != tt.result || c.Reason != tt.reason {
				t.Errorf("%s = %+v, want %s/%s", tt.check, c, tt.result, tt.reason)
			}
			if r.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s", r.Verdict, tt.verdict)
			}
			js, _ := json.Marshal(r)
			if err := inspecttest.Validate(js); err != nil {
				t.Errorf("schema: %v", err)
			}
		})
	}
}

// The century rules of CONTRACTS.md, and a partial date of birth.
func TestAssembleDates(t *testing.T) {
	res, doc := specimenResult(t, "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO6908<<5F6904155ZE184226B<<<<<16")
	in := given(t, doc.MRZ)
	in.Result = res
	r := inspect.Assemble(in).Report
	if r.Document.DateOfBirth != "1969-08" {
		t.Errorf("date of birth %q", r.Document.DateOfBirth)
	}
	// yy=69 < 70: 2069.
	if r.Document.DateOfExpiry != "2069-04-15" {
		t.Errorf("date of expiry %q", r.Document.DateOfExpiry)
	}
	c := r.Checks["mrz_consistency"]
	if c.Result != inspect.Pass || !strings.Contains(c.Detail, "date of birth is partial") {
		t.Errorf("mrz_consistency %+v", c)
	}
	// The note survives a failed comparison too.
	in.GivenMRZ, in.GivenDOB = nil, "690801"
	c = inspect.Assemble(in).Report.Checks["mrz_consistency"]
	if c.Result != inspect.Fail || !strings.Contains(c.Detail, "date of birth is partial") {
		t.Errorf("mrz_consistency after a mismatch %+v", c)
	}
}

// A date of birth left wholly unknown and a nationality of fillers are
// legal in an MRZ (9303-3): the report stays valid against its schema.
func TestAssembleUnknownFields(t *testing.T) {
	res, doc := specimenResult(t, "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36<<<<<<<<<0F3408113ZE184226B<<<<<12")
	in := given(t, doc.MRZ)
	in.Result = res
	r := inspect.Assemble(in).Report
	if r.Document.DateOfBirth != "" || r.Document.Nationality != "" {
		t.Errorf("document %+v", r.Document)
	}
	js, _ := json.Marshal(r)
	if err := inspecttest.Validate(js); err != nil {
		t.Errorf("schema: %v", err)
	}
}

func TestAssemblePACEAccessParams(t *testing.T) {
	res, doc := specimenResult(t, "")
	res.AccessControl = "PACE-IM"
	res.PACE = &reader.PACEResult{Mapping: lds.MappingIM, KeyAgreement: lds.KeyAgreementECDH, Domain: "brainpoolP256r1",
		Cipher: smcrypto.AES128, ParameterID: 13}
	in := given(t, doc.MRZ)
	in.Result = res
	r := inspect.Assemble(in).Report
	p := r.AccessParams
	if r.AccessControl != "PACE-IM" || p.Mapping != "IM" || p.KeyAgreement != "ECDH" || p.Domain != "brainpoolP256r1" ||
		p.Cipher != "AES-128" || p.ParameterID == nil || *p.ParameterID != 13 {
		t.Errorf("access %s %+v", r.AccessControl, p)
	}
	js, _ := json.Marshal(r)
	if err := inspecttest.Validate(js); err != nil {
		t.Errorf("schema: %v", err)
	}
}

func TestSchemaRefusesBadReports(t *testing.T) {
	res, doc := specimenResult(t, "")
	in := given(t, doc.MRZ)
	in.Result = res
	good, _ := json.Marshal(inspect.Assemble(in).Report)
	for _, tt := range []struct{ from, to string }{
		{`"verdict":"suspect"`, `"verdict":"green"`},
		{`"sex":"F"`, `"sex":"female"`},
		{`"date_of_birth":"1974-08-12"`, `"date_of_birth":"12.08.1974"`},
		{`"access_control":"BAC"`, `"access_control":"bac"`},
		{`"apdus":102`, `"apdus":-1`},
		{`"quirks":[]`, `"quirks":["Bad Quirk"]`},
	} {
		bad := bytes.Replace(good, []byte(tt.from), []byte(tt.to), 1)
		if bytes.Equal(bad, good) {
			t.Fatalf("%s not in the report", tt.from)
		}
		if err := inspecttest.Validate(bad); err == nil {
			t.Errorf("schema accepts %s", tt.to)
		}
	}
}
