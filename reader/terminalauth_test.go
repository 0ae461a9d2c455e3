package reader_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"borderid/hardware/chipsim"
	"borderid/internal/cvc"
	"borderid/internal/ec"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
	"borderid/reader/mrz"
)

// Terminal Authentication against the independent software chip, after
// BAC and Chip Authentication (brainpoolP256r1, the specimen's CA key).

var taNow = time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)

type eacChip struct {
	chip    *chipsim.Chip
	doc     *specimen.Document
	keySeed string
	dg14    *lds.SecurityInfos
}

func newEACChip(t testing.TB, o specimen.EACOptions, cfg chipsim.Config, f chipsim.Faults) *eacChip {
	t.Helper()
	o.DG4 = true
	doc, err := specimen.Generate(specimen.Options{FaceBytes: specimen.MinFaceBytes, Rand: newRand(7), Now: taNow,
		Chip: &specimen.ChipOptions{CAParameterID: 13}, EAC: &o})
	if err != nil {
		t.Fatal(err)
	}
	cfg.ChipAuthentication = &chipsim.CAConfig{Key: doc.CAKey}
	cfg.TerminalAuthentication = &chipsim.TAConfig{CVCA: doc.EAC.CVCA, Date: taNow.Format(time.DateOnly)}
	id, err := chipsim.NewIdentity(doc.Files, cfg)
	if err != nil {
		t.Fatal(err)
	}
	chip, err := chipsim.New(id, chipsim.WithRand(newRand(8)), chipsim.WithFaults(f))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mrz.Parse(doc.MRZ)
	if err != nil {
		t.Fatal(err)
	}
	dg14, err := lds.ParseDG14(doc.Files["DG14"])
	if err != nil {
		t.Fatal(err)
	}
	return &eacChip{chip: chip, doc: doc, keySeed: m.KeySeedInfo(), dg14: dg14}
}

// terminalDir writes the EAC data's terminal folder and loads it.
func terminalDir(t testing.TB, eac *specimen.EAC) (*reader.Terminal, string) {
	t.Helper()
	dir := t.TempDir()
	for name, b := range eac.TerminalFiles {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	term, err := reader.LoadTerminal(dir)
	if err != nil {
		t.Fatal(err)
	}
	return term, dir
}

// open runs BAC and Chip Authentication and returns the session with
// ID_IC and Comp(PK_IFD) for TA.
func (e *eacChip) open(t testing.TB) (*reader.Session, []byte, []byte) {
	t.Helper()
	ctx := context.Background()
	ext, err := reader.ExtendedLengthFromATR(e.chip.ATR())
	if err != nil {
		t.Fatal(err)
	}
	s := reader.NewSession(e.chip, reader.SessionOptions{Extended: ext})
	if err := s.SelectApplication(ctx); err != nil {
		t.Fatal(err)
	}
	sm, err := reader.BAC(ctx, s, e.keySeed, newRand(9))
	if err != nil {
		t.Fatal(err)
	}
	s.SetSecureMessaging(sm)
	ca, err := reader.ChipAuthenticate(ctx, s, e.dg14, reader.CAOptions{Rand: newRand(10)})
	if err != nil {
		t.Fatal(err)
	}
	comp, err := ca.CompEphemeralPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	id, err := reader.TAIDFromBAC(e.keySeed)
	if err != nil {
		t.Fatal(err)
	}
	return s, id, comp
}

func TestTerminalAuthenticateChipsim(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		o    specimen.EACOptions
		path []string
		dg4  bool
	}{
		{"DV and IS", specimen.EACOptions{}, []string{"UTDVCA00001", "UTIS00000001"}, false},
		{"link certificate", specimen.EACOptions{Link: true, ISRights: cvc.ReadDG3 | cvc.ReadDG4},
			[]string{"UTCVCA00002", "UTDVCA00001", "UTIS00000001"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEACChip(t, tc.o, chipsim.Config{ExtendedLength: true}, chipsim.Faults{})
			term, _ := terminalDir(t, e.doc.EAC)
			s, id, comp := e.open(t)
			if _, err := s.ReadFile(ctx, lds.FileDG3); !errors.Is(err, reader.ErrAccessDenied) {
				t.Fatalf("DG3 before TA: %v", err)
			}
			res, err := reader.TerminalAuthenticate(ctx, s, term, id, comp, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.CAR != "UTCVCA00001" || strings.Join(res.Path, ",") != strings.Join(tc.path, ",") {
				t.Fatalf("CAR %s path %v", res.CAR, res.Path)
			}
			dg3, err := s.ReadFile(ctx, lds.FileDG3)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dg3, e.doc.Files["DG3"]) {
				t.Fatal("DG3 differs from the chip's")
			}
			d, err := lds.ParseDG3(dg3)
			if err != nil || len(d.Fingers) != 2 || d.Fingers[0].Compression != lds.FingerJPEG {
				t.Fatalf("%v %+v", err, d)
			}
			_, err = s.ReadFile(ctx, lds.FileDG4)
			if tc.dg4 != (err == nil) || (!tc.dg4 && !errors.Is(err, reader.ErrAccessDenied)) {
				t.Fatalf("DG4: %v", err)
			}
		})
	}
}

// derSigner hides *ec.PrivateKey's plain signing: it is any crypto.Signer
// returning X9.62 DER, as an HSM does.
type derSigner struct{ k *ec.PrivateKey }

func (d derSigner) Public() crypto.PublicKey { return d.k.Public() }
func (d derSigner) Sign(r io.Reader, digest []byte, o crypto.SignerOpts) ([]byte, error) {
	return d.k.Sign(r, digest, o)
}

// opaqueSigner also hides the public key's type, as a PKCS#11 signer
// might: the domain must then come from the CVCA certificate.
type opaqueSigner struct{ derSigner }

func (o opaqueSigner) Public() crypto.PublicKey { return struct{}{} }

func TestTerminalAuthenticateSigners(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		mk   func(k *ec.PrivateKey) crypto.Signer
	}{
		{"DER", func(k *ec.PrivateKey) crypto.Signer { return derSigner{k} }},
		{"opaque public key", func(k *ec.PrivateKey) crypto.Signer { return opaqueSigner{derSigner{k}} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEACChip(t, specimen.EACOptions{}, chipsim.Config{}, chipsim.Faults{})
			eac := e.doc.EAC
			term, err := reader.NewTerminal([][]byte{eac.IS, eac.CVCA, eac.DV}, tc.mk(eac.ISKey))
			if err != nil {
				t.Fatal(err)
			}
			if term.Certificates[0].CHR != "UTCVCA00001" || term.Certificates[2].CHR != "UTIS00000001" {
				t.Fatalf("chain order: %s %s %s", term.Certificates[0].CHR, term.Certificates[1].CHR, term.Certificates[2].CHR)
			}
			s, id, comp := e.open(t)
			res, err := reader.TerminalAuthenticate(ctx, s, term, id, comp, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Signature) != 64 {
				t.Fatalf("signature of %d bytes, want plain r||s of 64", len(res.Signature))
			}
			if _, err := s.ReadFile(ctx, lds.FileDG3); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTerminalAuthenticateRefusals(t *testing.T) {
	ctx := context.Background()
	other, err := specimen.GenerateEAC(newRand(99), taNow, specimen.EACOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Another state's chain with the same CHRs: it claims the chip's CVCA
	// but is signed by another key.
	otherTerm, err := reader.NewTerminal([][]byte{other.DV, other.IS}, other.ISKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		o       specimen.EACOptions
		edit    func(e *eacChip, term **reader.Terminal, id, comp *[]byte)
		wantErr error
		// dg3Denied: TA passed but DG3 still answers 6982.
		dg3Denied bool
	}{
		{name: "IS without the DG3 right", o: specimen.EACOptions{ISRights: cvc.ReadDG4}, dg3Denied: true},
		{name: "expired IS", o: specimen.EACOptions{ISExpired: true}, wantErr: reader.ErrTAFailed},
		{name: "wrong ID_IC", edit: func(e *eacChip, _ **reader.Terminal, id, _ *[]byte) {
			*id = []byte("L898902C<0")
		}, wantErr: reader.ErrTAFailed},
		{name: "wrong Comp(PK_IFD)", edit: func(e *eacChip, _ **reader.Terminal, _, comp *[]byte) {
			(*comp)[0] ^= 1
		}, wantErr: reader.ErrTAFailed},
		{name: "wrong signing key", edit: func(e *eacChip, term **reader.Terminal, _, _ *[]byte) {
			// An opaque signer skips the local key check: the chip must refuse.
			(*term).Signer = opaqueSigner{derSigner{other.ISKey}}
		}, wantErr: reader.ErrTAFailed},
		{name: "chain of another CVCA", edit: func(e *eacChip, term **reader.Terminal, _, _ *[]byte) {
			*term = otherTerm
		}, wantErr: reader.ErrTAFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEACChip(t, tc.o, chipsim.Config{}, chipsim.Faults{})
			term, _ := terminalDir(t, e.doc.EAC)
			s, id, comp := e.open(t)
			if tc.edit != nil {
				tc.edit(e, &term, &id, &comp)
			}
			_, err := reader.TerminalAuthenticate(ctx, s, term, id, comp, nil)
			if tc.wantErr != nil {
				var swe *reader.SWError
				if !errors.Is(err, tc.wantErr) || !errors.As(err, &swe) {
					t.Fatalf("%v, want %v with a status word", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if _, err := s.ReadFile(ctx, lds.FileDG3); !errors.Is(err, reader.ErrAccessDenied) {
				t.Fatalf("DG3 after a refused TA: %v", err)
			}
		})
	}
	t.Run("no path from the chip's CVCA", func(t *testing.T) {
		e := newEACChip(t, specimen.EACOptions{}, chipsim.Config{}, chipsim.Faults{})
		s, id, comp := e.open(t)
		// EF.CVCA names a CVCA the terminal's chain does not reach.
		cvcaFile, _ := lds.EncodeCVCA("ZZCVCA00001")
		n := s.APDUs()
		if _, err := reader.TerminalAuthenticate(ctx, s, otherTerm, id, comp, cvcaFile); !errors.Is(err, reader.ErrNoTerminalPath) {
			t.Fatalf("%v", err)
		}
		if s.APDUs() != n {
			t.Fatalf("%d APDUs sent without a path", s.APDUs()-n)
		}
	})
	t.Run("without secure messaging", func(t *testing.T) {
		e := newEACChip(t, specimen.EACOptions{}, chipsim.Config{}, chipsim.Faults{})
		term, _ := terminalDir(t, e.doc.EAC)
		s := reader.NewSession(e.chip, reader.SessionOptions{})
		if _, err := reader.TerminalAuthenticate(ctx, s, term, []byte("X"), []byte("Y"), nil); err == nil {
			t.Fatal("TA in plain")
		}
	})
}

// Faults of the chip during TA: a clean typed error, never DG3.
func TestTerminalAuthenticateFaults(t *testing.T) {
	ctx := context.Background()
	// APDUs before TA (SELECT, BAC, Chip Authentication and its check),
	// counted on a clean run; TA then sends MSE:Set DST, PSO (DV), MSE:Set
	// DST, PSO (IS), MSE:Set AT, GET CHALLENGE, EXTERNAL AUTHENTICATE.
	probe := newEACChip(t, specimen.EACOptions{}, chipsim.Config{}, chipsim.Faults{})
	probe.open(t)
	before := probe.chip.Stats().APDUs
	dvCAR, _ := lds.EncodeCVCA("UTDVCA00001") // a CAR the chip does not trust: 6A88
	for _, tc := range []struct {
		name    string
		f       chipsim.Faults
		cvca    []byte
		timeout time.Duration
		want    error
		sw      reader.StatusWord
	}{
		{name: "tear during the chain", f: chipsim.Faults{TearAfter: before + 2}, want: chipsim.ErrTorn},
		{name: "corrupt MAC of PSO", f: chipsim.Faults{CorruptMACAt: before + 2}, want: reader.ErrSecureMessaging},
		{name: "corrupt MAC of EXTERNAL AUTHENTICATE", f: chipsim.Faults{CorruptMACAt: before + 7}, want: reader.ErrSecureMessaging},
		{name: "unprotected error", f: chipsim.Faults{UnprotectedErrors: true}, cvca: dvCAR, want: reader.ErrTAFailed, sw: 0x6A88},
		{name: "cap Le", f: chipsim.Faults{CapLe: 64}},
		{name: "latency", f: chipsim.Faults{Latency: 5 * time.Millisecond}, timeout: 2 * time.Millisecond, want: context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEACChip(t, specimen.EACOptions{}, chipsim.Config{}, tc.f)
			term, _ := terminalDir(t, e.doc.EAC)
			s, id, comp := e.open(t)
			tctx := ctx
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				tctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			_, err := reader.TerminalAuthenticate(tctx, s, term, id, comp, tc.cvca)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				// A capped chip still serves DG3 in pieces.
				dg3, err := s.ReadFile(ctx, lds.FileDG3)
				if err != nil || !bytes.Equal(dg3, e.doc.Files["DG3"]) {
					t.Fatalf("DG3 under CapLe: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
			if tc.sw != 0 {
				var swe *reader.SWError
				if !errors.As(err, &swe) || swe.SW != tc.sw {
					t.Fatalf("%v, want status %v", err, tc.sw)
				}
			}
		})
	}
}

// LoadTerminal: the folder's files, in any name order, PEM or DER keys,
// and every refusal.
func TestLoadTerminal(t *testing.T) {
	eac, err := specimen.GenerateEAC(newRand(3), taNow, specimen.EACOptions{Link: true})
	if err != nil {
		t.Fatal(err)
	}
	term, dir := terminalDir(t, eac)
	var chrs []string
	for _, c := range term.Certificates {
		chrs = append(chrs, c.CHR)
	}
	if got := strings.Join(chrs, ","); got != "UTCVCA00001,UTCVCA00002,UTDVCA00001,UTIS00000001" {
		t.Fatalf("chain order %s", got)
	}
	// Paths: from the old CVCA through the link, from the new one directly.
	for car, want := range map[string]string{
		"UTCVCA00001": "UTCVCA00002,UTDVCA00001,UTIS00000001",
		"UTCVCA00002": "UTDVCA00001,UTIS00000001",
	} {
		p, dom, err := term.Path(car)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range p {
			got = append(got, c.CHR)
		}
		if strings.Join(got, ",") != want || dom == nil || dom.OrderLen() != 32 {
			t.Fatalf("path from %s: %v (domain %v)", car, got, dom)
		}
	}
	if _, _, err := term.Path("ZZCVCA00001"); !errors.Is(err, reader.ErrNoTerminalPath) {
		t.Fatal(err)
	}
	// PEM key.
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: eac.ISKeyPKCS8})
	if err := os.WriteFile(filepath.Join(dir, reader.TerminalKeyFile), pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.LoadTerminal(dir); err != nil {
		t.Fatalf("PEM: %v", err)
	}
	// is.uri beside is.pkcs8: refused; alone: not supported yet.
	os.WriteFile(filepath.Join(dir, reader.TerminalURIFile), []byte("pkcs11:token=borderid;object=is"), 0o600)
	if _, err := reader.LoadTerminal(dir); !errors.Is(err, reader.ErrTerminalConfig) {
		t.Fatalf("both keys: %v", err)
	}
	os.Remove(filepath.Join(dir, reader.TerminalKeyFile))
	if _, err := reader.LoadTerminal(dir); !errors.Is(err, reader.ErrPKCS11Unsupported) {
		t.Fatalf("is.uri: %v", err)
	}
	os.Remove(filepath.Join(dir, reader.TerminalURIFile))
	if _, err := reader.LoadTerminal(dir); !errors.Is(err, reader.ErrTerminalConfig) {
		t.Fatalf("no key: %v", err)
	}
	// A key that is not the IS certificate's.
	other, err := specimen.GenerateEAC(newRand(4), taNow, specimen.EACOptions{})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, reader.TerminalKeyFile), other.ISKeyPKCS8, 0o600)
	if _, err := reader.LoadTerminal(dir); !errors.Is(err, reader.ErrTerminalConfig) {
		t.Fatalf("wrong key: %v", err)
	}
	// No IS certificate; two IS certificates; garbage certificate.
	for name, certs := range map[string][][]byte{
		"no IS":   {eac.CVCA, eac.DV},
		"two IS":  {eac.IS, eac.IS},
		"garbage": {eac.IS, []byte{0x7F, 0x21, 0x01, 0x00}},
	} {
		if _, err := reader.NewTerminal(certs, eac.ISKey); !errors.Is(err, reader.ErrTerminalConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := reader.LoadTerminal(filepath.Join(dir, "absent")); !errors.Is(err, reader.ErrTerminalConfig) {
		t.Fatalf("absent folder: %v", err)
	}
}

func TestParseTerminalKey(t *testing.T) {
	eac, err := specimen.GenerateEAC(newRand(5), taNow, specimen.EACOptions{Curve: ec.BrainpoolP384r1()})
	if err != nil {
		t.Fatal(err)
	}
	k, err := reader.ParseTerminalKey(eac.ISKeyPKCS8)
	if err != nil {
		t.Fatal(err)
	}
	ek, ok := k.(*ec.PrivateKey)
	if !ok || !bytes.Equal(ek.Bytes(), eac.ISKey.Bytes()) || ek.Curve().Name() != "brainpoolP384r1" {
		t.Fatalf("%T", k)
	}
	// NIST and RSA keys as crypto/x509 writes them.
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(p256)
	k, err = reader.ParseTerminalKey(der)
	if err != nil {
		t.Fatal(err)
	}
	want := p256.D.FillBytes(make([]byte, 32))
	if ek, ok := k.(*ec.PrivateKey); !ok || !bytes.Equal(ek.Bytes(), want) {
		t.Fatalf("P-256: %T", k)
	}
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ = x509.MarshalPKCS8PrivateKey(rk)
	if k, err := reader.ParseTerminalKey(der); err != nil || !k.(*rsa.PrivateKey).Equal(rk) {
		t.Fatalf("RSA: %v", err)
	}
	for name, b := range map[string][]byte{
		"empty":     nil,
		"truncated": eac.ISKeyPKCS8[:len(eac.ISKeyPKCS8)-3],
		"trailing":  append(append([]byte{}, eac.ISKeyPKCS8...), 0),
		"PEM type":  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: eac.ISKeyPKCS8}),
	} {
		if _, err := reader.ParseTerminalKey(b); !errors.Is(err, reader.ErrTerminalConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A public key [1] that is not d·G.
	bad := append([]byte{}, eac.ISKeyPKCS8...)
	bad[len(bad)-1] ^= 1
	if _, err := reader.ParseTerminalKey(bad); !errors.Is(err, reader.ErrTerminalConfig) {
		t.Errorf("wrong public key: %v", err)
	}
}

func FuzzParseTerminalKey(f *testing.F) {
	eac, err := specimen.GenerateEAC(newRand(6), taNow, specimen.EACOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(eac.ISKeyPKCS8)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: eac.ISKeyPKCS8}))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = reader.ParseTerminalKey(b)
	})
}

// openpace's cvc-print checks the chain the specimen and the terminal
// folder hold, written elsewhere than internal/cvc.
func TestTerminalChainOpenPACE(t *testing.T) {
	cvcPrint, err := exec.LookPath("cvc-print")
	if err != nil {
		t.Skip("cvc-print not installed (Debian package openpace)")
	}
	eac, err := specimen.GenerateEAC(newRand(11), time.Now(), specimen.EACOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	trust := filepath.Join(dir, "trust")
	os.Mkdir(trust, 0o755)
	for chr, raw := range map[string][]byte{"UTCVCA00001": eac.CVCA, "UTDVCA00001": eac.DV} {
		os.WriteFile(filepath.Join(trust, chr), raw, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "is.cvcert"), eac.IS, 0o644)
	out, err := exec.Command(cvcPrint, "--cvc="+filepath.Join(dir, "is.cvcert"), "--cvc-dir="+trust).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, w := range []string{"CHR: UTIS00000001", "CAR: UTDVCA00001", "Read fingerprint", "certificate verified"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("cvc-print output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(string(out), "Read iris") {
		t.Errorf("cvc-print sees DG4 on an IS that has DG3 only:\n%s", out)
	}
}

// Terminal Authentication CPU on both sides, beside raw ECDSA on
// brainpoolP256r1 in the same run. The TA figure is the terminal's
// signature plus the chip's three verifications (DV, IS, challenge) and
// the secure messaging of nine APDUs, all in-process.
func BenchmarkTerminalAuthenticate(b *testing.B) {
	ctx := context.Background()
	e := newEACChip(b, specimen.EACOptions{}, chipsim.Config{}, chipsim.Faults{})
	term, _ := terminalDir(b, e.doc.EAC)
	b.Run("TA-both-sides", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			e.chip.Reset()
			s, id, comp := e.open(b)
			b.StartTimer()
			if _, err := reader.TerminalAuthenticate(ctx, s, term, id, comp, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	digest := make([]byte, 32)
	sig, _ := e.doc.EAC.ISKey.SignPlain(rand.Reader, digest)
	c := ec.BrainpoolP256r1()
	pub := e.doc.EAC.ISKey.PublicKey().Point()
	b.Run("raw-ECDSA-sign-brainpoolP256r1", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.doc.EAC.ISKey.SignPlain(rand.Reader, digest); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw-ECDSA-verify-brainpoolP256r1", func(b *testing.B) {
		for b.Loop() {
			if !c.Verify(pub, digest, sig[:32], sig[32:]) {
				b.Fatal("verify")
			}
		}
	})
}
