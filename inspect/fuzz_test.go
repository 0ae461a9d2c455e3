package inspect_test

import (
	"encoding/json"
	"testing"
	"time"

	"borderid/inspect"
	"borderid/inspect/inspecttest"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
)

// FuzzAssemble: whatever a hostile chip returns in DG1, DG2 and EF.SOD,
// Assemble neither panics nor produces a report outside the schema, and a
// report with a failed check is never better than rejected.
func FuzzAssemble(f *testing.F) {
	doc, err := specimen.Generate(specimen.Options{FaceBytes: 2000, Now: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(doc.Files["DG1"], doc.Files["DG2"], doc.Files["SOD"])
	f.Add(doc.Files["DG1"][:20], doc.Files["DG2"][:100], doc.Files["SOD"][:50])
	f.Add([]byte{0x61, 0x00}, []byte{0x75, 0x00}, []byte{0x77, 0x00})
	f.Fuzz(func(t *testing.T, dg1, dg2, sod []byte) {
		res := &reader.Result{AccessControl: "BAC", Files: map[lds.File][]byte{
			lds.FileDG1: dg1, lds.FileDG2: dg2, lds.FileSOD: sod,
		}}
		r := inspect.Assemble(inspect.Input{Result: res, GivenDocNumber: "L898902C3", GivenDOB: "740812",
			GivenDOE: "340811", Now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)}).Report
		js, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := inspecttest.Validate(js); err != nil {
			t.Fatalf("schema: %v\n%s", err, js)
		}
		for name, c := range r.Checks {
			if c.Result == inspect.Fail && r.Verdict != inspect.Rejected {
				t.Fatalf("%s failed but the verdict is %s", name, r.Verdict)
			}
		}
	})
}
