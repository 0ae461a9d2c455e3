package reader_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"borderid/hardware/chipsim"
	"borderid/internal/cvc"
	"borderid/internal/ec"
	"borderid/reader"
	"borderid/reader/lds/specimen"
)

// A terminal folder after a CVCA key rollover holds the old CVCA, the new
// CVCA's self-signed certificate and its link certificate (the same CHR,
// signed by the old CVCA), the DV and the IS (TR-03110-3 §2.2.2, A.6.1):
// a chip that still trusts the old CVCA is sent the link certificate; one
// that trusts the new CVCA is not.
func TestTerminalFolderWithLinkAndNewCVCA(t *testing.T) {
	e := newEACChip(t, specimen.EACOptions{Link: true, ISRights: cvc.ReadDG3 | cvc.ReadDG4},
		chipsim.Config{ExtendedLength: true}, chipsim.Faults{})
	eac := e.doc.EAC
	if eac.NewCVCA == nil {
		t.Fatal("specimen made no second CVCA")
	}
	dir := t.TempDir()
	files := map[string][]byte{"UTCVCA00002.cvcert": eac.NewCVCA}
	for name, b := range eac.TerminalFiles {
		files[name] = b
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	term, err := reader.LoadTerminal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(term.Certificates) != 5 {
		t.Fatalf("%d certificates", len(term.Certificates))
	}
	// Chain order: every issuer before what it signed.
	pos := map[string]int{}
	for i, c := range term.Certificates {
		if _, ok := pos[c.CHR+"/"+c.CAR]; ok {
			t.Fatalf("%s/%s twice", c.CHR, c.CAR)
		}
		pos[c.CHR+"/"+c.CAR] = i
	}
	for _, before := range [][2]string{
		{"UTCVCA00001/UTCVCA00001", "UTCVCA00002/UTCVCA00001"},
		{"UTCVCA00002/UTCVCA00001", "UTDVCA00001/UTCVCA00002"},
		{"UTCVCA00002/UTCVCA00002", "UTDVCA00001/UTCVCA00002"},
		{"UTDVCA00001/UTCVCA00002", "UTIS00000001/UTDVCA00001"},
	} {
		if pos[before[0]] >= pos[before[1]] {
			t.Errorf("%s after %s", before[0], before[1])
		}
	}
	for car, want := range map[string]string{
		"UTCVCA00001": "UTCVCA00002/UTCVCA00001,UTDVCA00001/UTCVCA00002,UTIS00000001/UTDVCA00001",
		"UTCVCA00002": "UTDVCA00001/UTCVCA00002,UTIS00000001/UTDVCA00001",
	} {
		p, dom, err := term.Path(car)
		if err != nil {
			t.Fatalf("path from %s: %v", car, err)
		}
		var got []string
		for _, c := range p {
			got = append(got, c.CHR+"/"+c.CAR)
		}
		if strings.Join(got, ",") != want || dom == nil || dom.OrderLen() != 32 {
			t.Fatalf("path from %s: %v (domain %v)", car, got, dom)
		}
	}
	// End to end: the chip trusts UTCVCA00001 and accepts the path.
	s, id, comp := e.open(t)
	res, err := reader.TerminalAuthenticate(context.Background(), s, term, id, comp, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.CAR != "UTCVCA00001" || strings.Join(res.Path, ",") != "UTCVCA00002,UTDVCA00001,UTIS00000001" {
		t.Fatalf("CAR %s path %v", res.CAR, res.Path)
	}
	// The same certificate twice is still ambiguous.
	if _, err := reader.NewTerminal([][]byte{eac.CVCA, eac.Link, eac.Link, eac.DV, eac.IS}, eac.ISKey); err == nil {
		t.Fatal("the link certificate twice: accepted")
	}
}

// The IS key must be on the chain's curve (TR-03110-3 D.3.3: DV and IS
// keys take their domain parameters from the CVCA). An IS certificate and
// key on P-256 under a brainpoolP256r1 chain sign plain signatures of the
// right length, which the chip would refuse; the terminal refuses first:
// by curve identity when it holds the CVCA certificate, else because the
// DV's public point is not on the signer's curve.
func TestTerminalPathRefusesSignerOffTheChainsCurve(t *testing.T) {
	bp, err := specimen.GenerateEAC(newRand(31), taNow, specimen.EACOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p256, err := specimen.GenerateEAC(newRand(32), taNow, specimen.EACOptions{Curve: ec.P256()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		certs [][]byte
	}{
		{"CVCA in the folder", [][]byte{bp.CVCA, bp.DV, p256.IS}},
		{"no CVCA in the folder", [][]byte{bp.DV, p256.IS}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			term, err := reader.NewTerminal(tc.certs, p256.ISKey)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := term.Path("UTCVCA00001"); !errors.Is(err, reader.ErrTerminalConfig) {
				t.Fatalf("Path: %v, want ErrTerminalConfig", err)
			}
		})
	}
	// The matching chain still has its path, with or without the CVCA.
	for _, certs := range [][][]byte{{bp.CVCA, bp.DV, bp.IS}, {bp.DV, bp.IS}} {
		term, err := reader.NewTerminal(certs, bp.ISKey)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := term.Path("UTCVCA00001"); err != nil {
			t.Fatalf("%d certificates: %v", len(certs), err)
		}
	}
}
