package specimen

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"borderid/internal/cvc"
	"borderid/internal/ec"
	"borderid/reader/lds"
)

func TestGenerateEAC(t *testing.T) {
	for _, tc := range []struct {
		name  string
		o     EACOptions
		chain []string // CHRs after the trust point
		want  cvc.Rights
	}{
		{"default", EACOptions{}, []string{"UTDVCA00001", "UTIS00000001"}, cvc.ReadDG3},
		{"link, DG3 and DG4", EACOptions{Link: true, ISRights: cvc.ReadDG3 | cvc.ReadDG4, DG4: true},
			[]string{"UTCVCA00002", "UTDVCA00001", "UTIS00000001"}, cvc.ReadDG3 | cvc.ReadDG4},
		{"DV without rights", EACOptions{DVRights: NoRights}, []string{"UTDVCA00001", "UTIS00000001"}, 0},
		{"brainpoolP384r1", EACOptions{Curve: ec.BrainpoolP384r1(), Fingers: 1}, []string{"UTDVCA00001", "UTIS00000001"}, cvc.ReadDG3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := GenerateEAC(seeded(9), testNow, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			cvca, err := cvc.Parse(e.CVCA)
			if err != nil {
				t.Fatal(err)
			}
			var chain []*cvc.Certificate
			raws := [][]byte{e.DV, e.IS}
			if tc.o.Link {
				raws = append([][]byte{e.Link}, raws...)
			}
			for i, raw := range raws {
				c, err := cvc.Parse(raw)
				if err != nil || c.CHR != tc.chain[i] {
					t.Fatalf("%v %v", c, err)
				}
				chain = append(chain, c)
			}
			rights, err := cvc.Authorize(cvca, chain, testNow)
			if err != nil || rights != tc.want {
				t.Fatalf("rights %v, %v", rights, err)
			}
			// The IS key signs what its certificate says.
			msg := []byte("ID_IC r_IC Comp")
			is := chain[len(chain)-1]
			sig, err := cvc.Sign(rand.Reader, e.ISKey, is.PublicKey.Algorithm, nil, msg)
			if err == nil {
				err = cvc.VerifySignature(&is.PublicKey, cvca.PublicKey.Domain, msg, sig)
			}
			if err != nil {
				t.Fatal(err)
			}
			ef, err := lds.ParseCVCA(e.EFCVCA)
			if err != nil || len(ef.CARs) != 1 || ef.CARs[0] != "UTCVCA00001" {
				t.Fatalf("EF.CVCA %v %v", ef, err)
			}
			d3, err := lds.ParseDG3(e.DG3)
			want := tc.o.Fingers
			if want == 0 {
				want = 2
			}
			if err != nil || len(d3.Fingers) != want || d3.Fingers[0].Compression != lds.FingerJPEG || len(d3.Quirks) != 0 {
				t.Fatalf("DG3 %v %+v", err, d3)
			}
			if tc.o.DG4 {
				if _, err := lds.ParseDG4(e.DG4); err != nil {
					t.Fatal(err)
				}
			} else if e.DG4 != nil {
				t.Fatal("DG4 without asking")
			}
			if len(e.TerminalFiles) != len(raws)+2 || !bytes.Equal(e.TerminalFiles["is.pkcs8"], e.ISKeyPKCS8) {
				t.Fatalf("%d terminal files", len(e.TerminalFiles))
			}
		})
	}
	if _, err := GenerateEAC(seeded(9), testNow, EACOptions{Fingers: 11}); err == nil {
		t.Fatal("11 fingers")
	}
}

// Options.EAC adds DG3 (and DG4) to EF.COM and EF.SOD and EF.CVCA to the
// files; without it the specimen is what it was.
func TestGenerateWithEAC(t *testing.T) {
	plain, err := Generate(Options{Rand: seeded(4), Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if plain.EAC != nil || plain.Files["DG3"] != nil || plain.Files["CVCA"] != nil {
		t.Fatal("EAC data without Options.EAC")
	}
	doc, err := Generate(Options{Rand: seeded(4), Now: testNow, EAC: &EACOptions{DG4: true}})
	if err != nil {
		t.Fatal(err)
	}
	if doc.EAC == nil || !bytes.Equal(doc.Files["DG3"], doc.EAC.DG3) || !bytes.Equal(doc.Files["CVCA"], doc.EAC.EFCVCA) || doc.Files["DG4"] == nil {
		t.Fatal("EAC files missing")
	}
	// The rest of the specimen is unchanged (EAC keys are drawn last).
	for _, name := range []string{"DG1", "DG2", "DG11", "DG12"} {
		if !bytes.Equal(plain.Files[name], doc.Files[name]) {
			t.Errorf("%s changed", name)
		}
	}
	com, err := lds.ParseCOM(doc.Files["COM"])
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range com.Files {
		names = append(names, f.String())
	}
	if got := fmtList(names); got != "DG1 DG2 DG3 DG4 DG11 DG12" {
		t.Fatalf("EF.COM lists %s", got)
	}
	sod, err := lds.ParseSOD(doc.Files["SOD"])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(doc.Files["DG3"])
	if h, ok := sod.SecurityObject.DataGroupHashes[3]; !ok || !bytes.Equal(h, sum[:]) || sod.SecurityObject.Hash != crypto.SHA256 {
		t.Fatal("EF.SOD does not cover DG3")
	}
}

func fmtList(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(x)
	}
	return b.String()
}
