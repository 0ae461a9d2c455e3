package inspect_test

import (
	"context"
	"testing"

	"borderid/inspect"
	"borderid/internal/cert"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/verify"
)

// The verdict table of issue 4 with real passive authentication of the
// specimen's EF.SOD against its CSCA.
func TestVerdictWithPassiveAuthentication(t *testing.T) {
	res, doc := specimenResult(t, "")
	csca, err := cert.ParseCertificate(doc.CSCA.Raw)
	if err != nil {
		t.Fatal(err)
	}
	trusted := verify.NewMemoryStore()
	trusted.AddCSCA(csca)
	pa := func(store verify.TrustStore) *verify.Result {
		return verify.PassiveAuthentication(context.Background(), res.Files[lds.FileSOD], res.Files, "UTO", store, now, verify.Policy{})
	}
	tests := []struct {
		name     string
		pa       *verify.Result
		ca       bool
		paResult inspect.Result
		reason   string
		verdict  inspect.Verdict
	}{
		{"PA and chip authentication pass", pa(trusted), true, inspect.Pass, "", inspect.Genuine},
		{"PA passes, the chip is not proven", pa(trusted), false, inspect.Pass, "", inspect.AuthenticData},
		{"the CSCA is not in the trust store", pa(verify.NewMemoryStore()), true, inspect.Fail, "unknown_csca", inspect.Rejected},
		{"no trust store", nil, true, inspect.NotDone, "no_trust_store", inspect.Suspect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := given(t, doc.MRZ)
			r := *res
			if tt.ca {
				r.CA = &reader.CAResult{Passed: true}
			}
			in.Result, in.PA = &r, tt.pa
			rep := inspect.Assemble(in).Report
			c := rep.Checks["passive_authentication"]
			if c.Result != tt.paResult || c.Reason != tt.reason || rep.Verdict != tt.verdict {
				t.Errorf("passive_authentication %+v, verdict %s; want %s/%s, %s", c, rep.Verdict, tt.paResult, tt.reason, tt.verdict)
			}
		})
	}

	// PACE-CAM counts only with an EF.CardSecurity that passes PA.
	in := given(t, doc.MRZ)
	r := *res
	r.PACE = &reader.PACEResult{CAM: reader.CAMPassed}
	in.Result, in.PA = &r, pa(trusted)
	in.CardSecurityPA = &verify.Result{Outcome: verify.Fail, Reason: "bad_signature"}
	if c := inspect.Assemble(in).Report.Checks["chip_authentication"]; c.Result != inspect.Fail || c.Reason != "cardsecurity_not_authentic" {
		t.Errorf("CAM with a forged EF.CardSecurity: %+v", c)
	}
	in.CardSecurityPA = &verify.Result{Outcome: verify.Pass, CSCA: in.PA.CSCA}
	rep := inspect.Assemble(in).Report
	if c := rep.Checks["chip_authentication"]; c.Result != inspect.Pass || c.Reason != "pace_cam" || rep.Verdict != inspect.Genuine {
		t.Errorf("CAM with a verified EF.CardSecurity: %+v, verdict %s", c, rep.Verdict)
	}
	// Verified, but under another CSCA than EF.SOD: not the issuer's key.
	other, _ := cert.ParseCertificate(doc.DSC.Raw)
	in.CardSecurityPA = &verify.Result{Outcome: verify.Pass, CSCA: other}
	if c := inspect.Assemble(in).Report.Checks["chip_authentication"]; c.Result == inspect.Pass {
		t.Errorf("CAM with EF.CardSecurity under another CSCA passed: %+v", c)
	}
}
