package chipsim

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"borderid/internal/cvc"
	"borderid/internal/ec"
	"borderid/internal/pace"
	"borderid/internal/smcrypto"
	"borderid/reader/lds/specimen"
)

// The terminal side of Terminal Authentication for these tests, written
// from BSI TR-03110-3 B.11 independently of package reader: it builds
// MSE:Set DST, PSO:Verify Certificate, MSE:Set AT, GET CHALLENGE and
// EXTERNAL AUTHENTICATE by hand.

// taDay is the chips' date in these tests.
var taDay = time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)

// taDRBG is a deterministic byte stream (SHA-256 in counter mode) so the
// generated chains are the same in every run.
type taDRBG struct {
	seed [32]byte
	n    uint64
	buf  []byte
}

func (d *taDRBG) Read(p []byte) (int, error) {
	for i := range p {
		if len(d.buf) == 0 {
			h := sha256.New()
			h.Write(d.seed[:])
			h.Write([]byte{byte(d.n >> 56), byte(d.n >> 48), byte(d.n >> 40), byte(d.n >> 32), byte(d.n >> 24), byte(d.n >> 16), byte(d.n >> 8), byte(d.n)})
			d.n++
			d.buf = h.Sum(nil)
		}
		p[i] = d.buf[0]
		d.buf = d.buf[1:]
	}
	return len(p), nil
}

func newDRBG(label string) *taDRBG { return &taDRBG{seed: sha256.Sum256([]byte(label))} }

// taFixture is a chip with a Chip Authentication key on brainpoolP256r1,
// DG3/DG4 and a trust point, and the EAC data behind it.
type taFixture struct {
	eac  *specimen.EAC
	chip *Chip
	caSK []byte // static CA key (test only: to run CA as a terminal)
	caPK []byte
	d    pace.Domain
}

func newTAFixture(t testing.TB, o specimen.EACOptions) *taFixture {
	t.Helper()
	return newTAFixtureAccess(t, o, nil)
}

// newTAFixtureAccess is newTAFixture with an EF.CardAccess (PACE), when
// cardAccess is not nil.
func newTAFixtureAccess(t testing.TB, o specimen.EACOptions, cardAccess []byte) *taFixture {
	t.Helper()
	r := newDRBG("ta " + t.Name())
	o.DG4 = true
	eac, err := specimen.GenerateEAC(r, taDay, o)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := specimen.Generate(specimen.Options{Rand: newDRBG("doc"), Now: taDay, FaceBytes: specimen.MinFaceBytes,
		Chip: &specimen.ChipOptions{CAParameterID: 13}})
	if err != nil {
		t.Fatal(err)
	}
	files := specimenFiles(t)
	files["DG3"], files["DG4"], files["CVCA"], files["DG14"] = eac.DG3, eac.DG4, eac.EFCVCA, doc.Files["DG14"]
	if cardAccess != nil {
		files["CardAccess"] = cardAccess
	}
	id, err := NewIdentity(files, Config{
		ExtendedLength:         true, // link certificates carry domain parameters
		ChipAuthentication:     &CAConfig{Key: doc.CAKey},
		TerminalAuthentication: &TAConfig{CVCA: eac.CVCA, Date: taDay.Format(time.DateOnly)},
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(id)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := pace.DomainByParameterID(13)
	return &taFixture{eac: eac, chip: c, caPK: doc.CAPublicKey, d: d}
}

// accessAndCA runs BAC (App. D MRZ), selects the application and runs
// Chip Authentication with 3DES (MSE:Set KAT, TR-03110-3 B.11.6 / 9303-11
// §6.2.4) from the test terminal. It returns the new session and Comp of
// the ephemeral key.
func (f *taFixture) accessAndCA(t testing.TB) (*term, []byte) {
	t.Helper()
	c := f.chip
	tm, sw := bac(t, c, vecMRZInfo, hx(t, "781723860C06C226"), hx(t, "0B795240CB7049B01C19B33E32804F0B"))
	if sw != 0x9000 {
		t.Fatalf("BAC: %04X", sw)
	}
	if _, sw := tm.sm(t, c, "00A4040C", hx(t, "A0000002471001"), -1); sw != 0x9000 {
		t.Fatalf("select: %04X", sw)
	}
	sk, pk, err := f.d.GenerateKey(rand.Reader, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, sw := tm.sm(t, c, "002241A6", appendDO(nil, 0x91, pk), -1); sw != 0x9000 {
		t.Fatalf("MSE:Set KAT: %04X", sw)
	}
	k, err := f.d.SharedSecret(sk, f.caPK)
	if err != nil {
		t.Fatal(err)
	}
	kenc, kmac, err := pace.SessionKeys(smcrypto.TDES, k)
	if err != nil {
		t.Fatal(err)
	}
	comp, err := f.d.Comp(pk)
	if err != nil {
		t.Fatal(err)
	}
	return &term{ci: smcrypto.TDES, kenc: kenc, kmac: kmac, ssc: make([]byte, 8)}, comp
}

// certContent is a certificate without its 7F21 wrapper: what PSO:Verify
// Certificate carries.
func certContent(t testing.TB, raw []byte) []byte {
	t.Helper()
	c, err := cvc.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(c.Raw, c.Body)
	return c.Raw[i:]
}

func ref(s string) []byte { return appendDO(nil, 0x83, []byte(s)) }

// taRun is one Terminal Authentication attempt; it returns the status
// word of the first step that fails (0x9000 when all pass).
type taRun struct {
	car   string   // the key the chain starts from
	chain [][]byte // certificates to present, in order
	is    string   // CHR for MSE:Set AT
	key   *ec.PrivateKey
	id    []byte // ID_IC signed
	comp  []byte // Comp(PK_IFD) signed
	alg   cvc.Algorithm
	// tamper alters the signature before it is sent.
	tamper func([]byte) []byte
}

func (f *taFixture) run(t testing.TB, tm *term, r taRun) uint16 {
	t.Helper()
	c := f.chip
	issuer := r.car
	for _, raw := range r.chain {
		if _, sw := tm.sm(t, c, "002281B6", ref(issuer), -1); sw != 0x9000 {
			return sw
		}
		if _, sw := smLong(t, tm, c, "002A00BE", certContent(t, raw)); sw != 0x9000 {
			return sw
		}
		cc, _ := cvc.Parse(raw)
		issuer = cc.CHR
	}
	if _, sw := tm.sm(t, c, "002281A4", ref(r.is), -1); sw != 0x9000 {
		return sw
	}
	rIC, sw := tm.sm(t, c, "00840000", nil, 8)
	if sw != 0x9000 || len(rIC) != 8 {
		t.Fatalf("GET CHALLENGE: %X %04X", rIC, sw)
	}
	msg := append(append(append([]byte{}, r.id...), rIC...), r.comp...)
	alg := r.alg
	if alg == 0 {
		alg = cvc.ECDSASHA256
	}
	sig, err := cvc.Sign(rand.Reader, r.key, alg, nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	if r.tamper != nil {
		sig = r.tamper(sig)
	}
	_, sw = tm.sm(t, c, "00820000", sig, -1)
	return sw
}

// smLong sends a command whose data may need extended length once
// protected (a certificate with domain parameters).
func smLong(t testing.TB, tm *term, c *Chip, hdr string, data []byte) ([]byte, uint16) {
	t.Helper()
	resp := txb(t, c, tm.protect(t, hx(t, hdr), data, -1, len(data) > 200))
	d, sw, err := tm.unprotect(resp)
	if err != nil {
		t.Fatalf("%s: response %X: %v", hdr, resp, err)
	}
	return d, sw
}

// idBAC is ID_IC after BAC for the App. D MRZ: "L898902C<" and its check
// digit 3.
var idBAC = []byte("L898902C<3")

func (f *taFixture) good(comp []byte) taRun {
	return taRun{car: "UTCVCA00001", chain: [][]byte{f.eac.DV, f.eac.IS}, is: "UTIS00000001",
		key: f.eac.ISKey, id: idBAC, comp: comp}
}

// readDG answers READ BINARY of the first bytes of a data group by SFI.
func readDG(t testing.TB, tm *term, c *Chip, sfi byte) uint16 {
	t.Helper()
	_, sw := tm.sm(t, c, "00B0"+up([]byte{0x80 | sfi})+"00", nil, 4)
	return sw
}

func TestTerminalAuthentication(t *testing.T) {
	t.Run("grants the chain's rights", func(t *testing.T) {
		f := newTAFixture(t, specimen.EACOptions{})
		tm, comp := f.accessAndCA(t)
		if sw := readDG(t, tm, f.chip, 3); sw != 0x6982 {
			t.Fatalf("DG3 before TA: %04X", sw)
		}
		if sw := f.run(t, tm, f.good(comp)); sw != 0x9000 {
			t.Fatalf("TA: %04X", sw)
		}
		if sw := readDG(t, tm, f.chip, 3); sw != 0x9000 {
			t.Fatalf("DG3 after TA: %04X", sw)
		}
		// The IS has ReadDG3 only (DV: DG3|DG4): DG4 stays closed.
		if sw := readDG(t, tm, f.chip, 4); sw != 0x6982 {
			t.Fatalf("DG4 without the right: %04X", sw)
		}
		// A new secure channel (BAC again) loses the rights. The plain
		// GET CHALLENGE of BAC first ends the session (6982).
		if got := tx(t, f.chip, "0084000008"); got != "6982" {
			t.Fatalf("plain command under SM: %s", got)
		}
		tm2, sw := bac(t, f.chip, vecMRZInfo, hx(t, "781723860C06C226"), hx(t, "0B795240CB7049B01C19B33E32804F0B"))
		if sw != 0x9000 {
			t.Fatal(sw)
		}
		tm2.sm(t, f.chip, "00A4040C", hx(t, "A0000002471001"), -1)
		if sw := readDG(t, tm2, f.chip, 3); sw != 0x6982 {
			t.Fatalf("DG3 after a new BAC: %04X", sw)
		}
	})
	t.Run("DG3 and DG4 with both rights, link certificate", func(t *testing.T) {
		f := newTAFixture(t, specimen.EACOptions{Link: true, ISRights: cvc.ReadDG3 | cvc.ReadDG4})
		tm, comp := f.accessAndCA(t)
		r := f.good(comp)
		// Without the link the DV's CAR (UTCVCA00002) is unknown to the chip.
		if sw := f.run(t, tm, r); sw != 0x6A88 && sw != 0x6300 {
			t.Fatalf("TA without the link: %04X", sw)
		}
		r.chain = [][]byte{f.eac.Link, f.eac.DV, f.eac.IS}
		if sw := f.run(t, tm, r); sw != 0x9000 {
			t.Fatalf("TA with the link: %04X", sw)
		}
		for _, sfi := range []byte{3, 4} {
			if sw := readDG(t, tm, f.chip, sfi); sw != 0x9000 {
				t.Fatalf("DG%d: %04X", sfi, sw)
			}
		}
	})
	t.Run("no TA", func(t *testing.T) {
		f := newTAFixture(t, specimen.EACOptions{})
		tm, _ := f.accessAndCA(t)
		for _, sfi := range []byte{3, 4} {
			if sw := readDG(t, tm, f.chip, sfi); sw != 0x6982 {
				t.Fatalf("DG%d: %04X", sfi, sw)
			}
		}
		if sw := readDG(t, tm, f.chip, 1); sw != 0x9000 {
			t.Fatalf("DG1: %04X", sw)
		}
	})
}

func TestTerminalAuthenticationRefusals(t *testing.T) {
	other := newDRBG("other")
	otherEAC, err := specimen.GenerateEAC(other, taDay, specimen.EACOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts specimen.EACOptions
		edit func(f *taFixture, r *taRun)
		want uint16
		// dg3 is what DG3 answers afterwards.
		dg3 uint16
	}{
		{name: "IS without the DG3 right", opts: specimen.EACOptions{ISRights: cvc.ReadDG4},
			want: 0x9000, dg3: 0x6982},
		{name: "DV without rights", opts: specimen.EACOptions{DVRights: specimen.NoRights},
			want: 0x9000, dg3: 0x6982},
		{name: "expired IS", opts: specimen.EACOptions{ISExpired: true}, want: 0x6300, dg3: 0x6982},
		{name: "wrong signature", edit: func(f *taFixture, r *taRun) {
			r.tamper = func(s []byte) []byte { s[len(s)-1] ^= 1; return s }
		}, want: 0x6300, dg3: 0x6982},
		{name: "signature by another key", edit: func(f *taFixture, r *taRun) { r.key = otherEAC.ISKey },
			want: 0x6300, dg3: 0x6982},
		{name: "wrong ID_IC", edit: func(f *taFixture, r *taRun) { r.id = []byte("L898902C<4") },
			want: 0x6300, dg3: 0x6982},
		{name: "wrong Comp(PK_IFD)", edit: func(f *taFixture, r *taRun) { r.comp = bytes.Repeat([]byte{1}, 32) },
			want: 0x6300, dg3: 0x6982},
		{name: "DV of another CVCA", edit: func(f *taFixture, r *taRun) {
			r.chain = [][]byte{otherEAC.DV, otherEAC.IS}
		}, want: 0x6300, dg3: 0x6982},
		{name: "unknown CAR", edit: func(f *taFixture, r *taRun) { r.car = "UTCVCA00009" }, want: 0x6A88, dg3: 0x6982},
		{name: "IS straight from the CVCA", edit: func(f *taFixture, r *taRun) {
			r.chain = [][]byte{f.eac.IS}
		}, want: 0x6300, dg3: 0x6982},
		{name: "MSE:Set AT naming the DV", edit: func(f *taFixture, r *taRun) { r.is = "UTDVCA00001" },
			want: 0x6A88, dg3: 0x6982},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newTAFixture(t, tc.opts)
			tm, comp := f.accessAndCA(t)
			r := f.good(comp)
			if tc.edit != nil {
				tc.edit(f, &r)
			}
			if sw := f.run(t, tm, r); sw != tc.want {
				t.Fatalf("TA: %04X, want %04X", sw, tc.want)
			}
			if sw := readDG(t, tm, f.chip, 3); sw != tc.dg3 {
				t.Fatalf("DG3: %04X, want %04X", sw, tc.dg3)
			}
		})
	}
}

// Protocol-order refusals: TA needs secure messaging, Chip Authentication
// and a GET CHALLENGE just before EXTERNAL AUTHENTICATE.
func TestTerminalAuthenticationOrder(t *testing.T) {
	f := newTAFixture(t, specimen.EACOptions{})
	c := f.chip
	// Plain, before access control.
	if got := tx(t, c, "002281B60D"+up(ref("UTCVCA00001"))); got != "6982" {
		t.Fatalf("plain MSE:Set DST: %s", got)
	}
	if got := tx(t, c, "002A00BE02"+"7F4E"); got != "6982" {
		t.Fatalf("plain PSO: %s", got)
	}
	// After BAC, no CA: the chain is accepted but the signature cannot be.
	tm, sw := bac(t, c, vecMRZInfo, hx(t, "781723860C06C226"), hx(t, "0B795240CB7049B01C19B33E32804F0B"))
	if sw != 0x9000 {
		t.Fatal(sw)
	}
	tm.sm(t, c, "00A4040C", hx(t, "A0000002471001"), -1)
	if sw := f.run(t, tm, f.good(make([]byte, 32))); sw != 0x6985 {
		t.Fatalf("TA without CA: %04X", sw)
	}
	// EXTERNAL AUTHENTICATE without GET CHALLENGE just before.
	f2 := newTAFixture(t, specimen.EACOptions{})
	tm2, comp := f2.accessAndCA(t)
	r := f2.good(comp)
	for i, raw := range r.chain {
		car := "UTCVCA00001"
		if i == 1 {
			car = "UTDVCA00001"
		}
		tm2.sm(t, f2.chip, "002281B6", ref(car), -1)
		if _, sw := tm2.sm(t, f2.chip, "002A00BE", certContent(t, raw), -1); sw != 0x9000 {
			t.Fatalf("PSO: %04X", sw)
		}
	}
	tm2.sm(t, f2.chip, "002281A4", ref(r.is), -1)
	if _, sw := tm2.sm(t, f2.chip, "00820000", make([]byte, 64), -1); sw != 0x6985 {
		t.Fatalf("EXTERNAL AUTHENTICATE without challenge: %04X", sw)
	}
	// PSO without MSE:Set DST first.
	if _, sw := tm2.sm(t, f2.chip, "002A00BE", certContent(t, f2.eac.DV), -1); sw != 0x6985 {
		t.Fatalf("PSO without Set DST: %04X", sw)
	}
	// Malformed certificate bytes.
	tm2.sm(t, f2.chip, "002281B6", ref("UTCVCA00001"), -1)
	if _, sw := tm2.sm(t, f2.chip, "002A00BE", []byte{0x7F, 0x4E, 0x05, 1, 2}, -1); sw != 0x6A80 {
		t.Fatalf("PSO with garbage: %04X", sw)
	}
}

// The identity folder keeps the trust point in cvca.cvcert; chip.json
// names the date.
func TestTerminalAuthenticationIdentity(t *testing.T) {
	eac, err := specimen.GenerateEAC(newDRBG("id"), taDay, specimen.EACOptions{})
	if err != nil {
		t.Fatal(err)
	}
	files := specimenFiles(t)
	files["CVCA"] = eac.EFCVCA
	id, err := NewIdentity(files, Config{TerminalAuthentication: &TAConfig{CVCA: eac.CVCA, Date: "2026-06-15"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := id.Save(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, DefaultCVCAFile))
	if err != nil || !bytes.Equal(b, eac.CVCA) {
		t.Fatalf("cvca.cvcert: %v", err)
	}
	back, err := LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Config.TerminalAuthentication.CVCA, eac.CVCA) || back.Config.TerminalAuthentication.Date != "2026-06-15" {
		t.Fatalf("%+v", back.Config.TerminalAuthentication)
	}
	for _, tc := range []struct {
		name string
		cfg  *TAConfig
		ef   []byte
	}{
		{"not a certificate", &TAConfig{CVCA: []byte{1, 2, 3}}, eac.EFCVCA},
		{"a DV, not a CVCA", &TAConfig{CVCA: eac.DV}, eac.EFCVCA},
		{"EF.CVCA names another CVCA", &TAConfig{CVCA: eac.CVCA}, []byte{0x42, 0x03, 'X', 'Y', 'Z'}},
		{"bad date", &TAConfig{CVCA: eac.CVCA, Date: "15.06.2026"}, eac.EFCVCA},
		{"path in the file name", &TAConfig{CVCA: eac.CVCA, CVCAFile: "../cvca"}, eac.EFCVCA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := specimenFiles(t)
			files["CVCA"] = tc.ef
			if _, err := NewIdentity(files, Config{TerminalAuthentication: tc.cfg}); !errors.Is(err, ErrInvalidIdentity) {
				t.Fatalf("%v", err)
			}
		})
	}
	// The chip's date: a chain valid today is refused by a chip whose
	// clock says two years later (the DV has expired).
	files = specimenFiles(t)
	files["CVCA"] = eac.EFCVCA
	id, _ = NewIdentity(files, Config{TerminalAuthentication: &TAConfig{CVCA: eac.CVCA}})
	c, err := New(id, WithClock(func() time.Time { return taDay.AddDate(2, 0, 0) }))
	if err != nil {
		t.Fatal(err)
	}
	tm := setVecSession(t, c)
	tm.sm(t, c, "002281B6", ref("UTCVCA00001"), -1)
	if _, sw := tm.sm(t, c, "002A00BE", certContent(t, eac.DV), -1); sw != 0x6300 {
		t.Fatalf("expired DV: %04X", sw)
	}
}

// Faults apply to TA's APDUs like to any other: a torn chip gives no
// answer, a corrupted MAC reaches the terminal as such.
func TestTerminalAuthenticationFaults(t *testing.T) {
	f := newTAFixture(t, specimen.EACOptions{})
	tm, _ := f.accessAndCA(t)
	n := f.chip.st.apdus
	f.chip.faults = Faults{CorruptMACAt: n + 2}
	tm.sm(t, f.chip, "002281B6", ref("UTCVCA00001"), -1)
	resp := txb(t, f.chip, tm.protect(t, hx(t, "002A00BE"), certContent(t, f.eac.DV), -1, false))
	if _, _, err := tm.unprotect(resp); err == nil {
		t.Fatalf("corrupted MAC accepted: %X", resp)
	}
}

func BenchmarkTerminalAuthentication(b *testing.B) {
	f := newTAFixture(b, specimen.EACOptions{})
	c := ec.BrainpoolP256r1()
	digest := sha256.Sum256([]byte("ta"))
	isCert, _ := cvc.Parse(f.eac.IS)
	dom := cvc.DomainOfCurve(c)
	b.Run("card/verify-chain-and-signature", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			f.chip.Reset()
			tm, comp := f.accessAndCA(b)
			b.StartTimer()
			if sw := f.run(b, tm, f.good(comp)); sw != 0x9000 {
				b.Fatalf("%04X", sw)
			}
		}
	})
	b.Run("raw/ecdsa-verify-brainpoolP256r1", func(b *testing.B) {
		sig, _ := cvc.Sign(rand.Reader, f.eac.ISKey, cvc.ECDSASHA256, nil, digest[:])
		for b.Loop() {
			if err := cvc.VerifySignature(&isCert.PublicKey, dom, digest[:], sig); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzTACommands feeds arbitrary data to the TA commands of a chip that
// has imported nothing, one that stands before MSE:Set AT and one that
// waits for EXTERNAL AUTHENTICATE: no panic, no rights without a valid
// signature.
func FuzzTACommands(f *testing.F) {
	fx := newTAFixture(f, specimen.EACOptions{})
	f.Add(byte(0), ref("UTCVCA00001"))
	f.Add(byte(1), certContent(f, fx.eac.DV))
	f.Add(byte(2), ref("UTIS00000001"))
	f.Add(byte(3), make([]byte, 64))
	f.Fuzz(func(t *testing.T, which byte, data []byte) {
		c := fx.chip
		c.mu.Lock()
		defer c.mu.Unlock()
		c.st = powerState{df: c.app}
		c.st.sess = &session{}
		cmds := []command{
			{cla: 0, ins: insManageSE, p1: 0x81, p2: 0xB6, data: data},
			{cla: 0, ins: insPerformSecurityOperation, p1: 0x00, p2: 0xBE, data: data},
			{cla: 0, ins: insManageSE, p1: 0x81, p2: 0xA4, data: data},
			{cla: 0, ins: insExternalAuthenticate, data: data},
		}
		// Walk the valid prefix, then the fuzzed command.
		c.execute(cmds[0], 256)
		c.st.ta.current = c.ta.cvca
		r := c.execute(cmds[int(which)%len(cmds)], 256)
		if r.sw == swOK && int(which)%len(cmds) == 3 {
			t.Fatal("EXTERNAL AUTHENTICATE accepted without a chain")
		}
		if c.st.ta.granted {
			t.Fatal("rights granted")
		}
	})
}
