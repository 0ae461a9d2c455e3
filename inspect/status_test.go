package inspect_test

import (
	"context"
	"encoding/json"
	"testing"

	"borderid/inspect"
	"borderid/inspect/inspecttest"
	"borderid/internal/cert"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/verify"
)

// The document_status check and its verdict rule (issue 6): a genuine chip
// of a document its issuer reports lost, stolen or revoked is rejected; a
// question that got no verified answer is not_done and changes nothing.
func TestDocumentStatusVerdict(t *testing.T) {
	res, doc := specimenResult(t, "")
	csca, err := cert.ParseCertificate(doc.CSCA.Raw)
	if err != nil {
		t.Fatal(err)
	}
	trusted := verify.NewMemoryStore()
	trusted.AddCSCA(csca)
	pa := verify.PassiveAuthentication(context.Background(), res.Files[lds.FileSOD], res.Files, "UTO", trusted, now, verify.Policy{})
	tests := []struct {
		name    string
		status  *inspect.StatusAnswer
		result  inspect.Result
		reason  string
		verdict inspect.Verdict
	}{
		{"not asked", nil, inspect.NotDone, "no_status_source", inspect.Genuine},
		{"VALID", &inspect.StatusAnswer{Status: "VALID", Since: "2024-08-12", Responder: "UTO"}, inspect.Pass, "", inspect.Genuine},
		{"LOST", &inspect.StatusAnswer{Status: "LOST", Since: "2026-11-01", Responder: "UTO"}, inspect.Fail, "document_lost", inspect.Rejected},
		{"STOLEN", &inspect.StatusAnswer{Status: "STOLEN", Since: "2026-11-01", Responder: "UTO"}, inspect.Fail, "document_stolen", inspect.Rejected},
		{"REVOKED", &inspect.StatusAnswer{Status: "REVOKED", Since: "2026-11-01", Responder: "UTO"}, inspect.Fail, "document_revoked", inspect.Rejected},
		{"EXPIRED", &inspect.StatusAnswer{Status: "EXPIRED", Since: "2026-11-01", Responder: "UTO"}, inspect.Fail, "document_expired", inspect.Rejected},
		{"UNKNOWN", &inspect.StatusAnswer{Status: "UNKNOWN", Responder: "UTO"}, inspect.NotDone, "unknown_document", inspect.Genuine},
		{"unreachable", &inspect.StatusAnswer{Failure: "partner_unreachable", Detail: "ATL: timeout"}, inspect.NotDone, "partner_unreachable", inspect.Genuine},
		{"bad answer", &inspect.StatusAnswer{Failure: "bad_status_answer", Detail: "signature"}, inspect.NotDone, "bad_status_answer", inspect.Genuine},
		{"refused", &inspect.StatusAnswer{Failure: "status_refused", Detail: "429"}, inspect.NotDone, "status_refused", inspect.Genuine},
		{"not registered", &inspect.StatusAnswer{Failure: "partner_not_registered"}, inspect.NotDone, "partner_not_registered", inspect.Genuine},
		{"odd failure code", &inspect.StatusAnswer{Failure: "weird"}, inspect.NotDone, "bad_status_answer", inspect.Genuine},
		{"odd status", &inspect.StatusAnswer{Status: "valid"}, inspect.NotDone, "bad_status_answer", inspect.Genuine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := given(t, doc.MRZ)
			r := *res
			r.CA = &reader.CAResult{Passed: true}
			in.Result, in.PA, in.Status = &r, pa, tt.status
			rep := inspect.Assemble(in).Report
			c := rep.Checks["document_status"]
			if c.Result != tt.result || c.Reason != tt.reason || rep.Verdict != tt.verdict {
				t.Errorf("document_status %+v, verdict %s; want %s/%s, %s", c, rep.Verdict, tt.result, tt.reason, tt.verdict)
			}
			js, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			if err := inspecttest.Validate(js); err != nil {
				t.Errorf("report fails the schema: %v", err)
			}
		})
	}
}

// The schema knows the check's reason codes: a made-up one is refused.
func TestSchemaDocumentStatusReasons(t *testing.T) {
	res, doc := specimenResult(t, "")
	in := given(t, doc.MRZ)
	in.Result = res
	rep := inspect.Assemble(in).Report
	for _, bad := range []inspect.Check{
		{Result: inspect.Fail, Reason: "document_misplaced"},
		{Result: inspect.Fail},
		{Result: inspect.NotDone, Reason: "partner_asleep"},
		{Result: inspect.Pass, Reason: "document_lost"},
		{Result: inspect.NotAuthorised, Reason: "partner_unreachable"},
	} {
		rep.Checks["document_status"] = bad
		js, _ := json.Marshal(rep)
		if inspecttest.Validate(js) == nil {
			t.Errorf("the schema accepts document_status %+v", bad)
		}
	}
	rep.Checks["document_status"] = inspect.Check{Result: inspect.NotDone, Reason: "partner_unreachable", Detail: "ATL"}
	js, _ := json.Marshal(rep)
	if err := inspecttest.Validate(js); err != nil {
		t.Errorf("the schema refuses a good document_status: %v", err)
	}
}
