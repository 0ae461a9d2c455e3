package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"borderid/hardware/chipsim"
	"borderid/hardware/pcsc"
	"borderid/hardware/vpcd"
	"borderid/inspect"
	"borderid/inspect/inspecttest"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
)

type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

// tearClock is a vpcd.Card that remembers when the chip first answered
// with a tear (the moment the passport left the reader).
type tearClock struct {
	*chipsim.Chip
	mu   sync.Mutex
	torn time.Time
}

func (c *tearClock) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	r, err := c.Chip.Transmit(ctx, apdu)
	if errors.Is(err, vpcd.ErrCardRemoved) {
		c.mu.Lock()
		if c.torn.IsZero() {
			c.torn = time.Now()
		}
		c.mu.Unlock()
	}
	return r, err
}

// serveChip puts a specimen chip with faults into a leased virtual reader
// through the real pcscd and returns the reader name, the document and
// the chip.
func serveChip(t testing.TB, faults chipsim.Faults) (string, *specimen.Document, *tearClock) {
	return serveChipConfig(t, chipsim.Config{}, faults)
}

func serveChipConfig(t testing.TB, cfg chipsim.Config, faults chipsim.Faults) (string, *specimen.Document, *tearClock) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l, err := vpcd.Lease(ctx)
	if err != nil {
		t.Fatalf("lease: %v", err)
	}
	// The same document as reader's BenchmarkReadDocument (seed 1), so
	// the benchmarks of BENCHMARKS.md read identical bytes.
	seed := [32]byte{1}
	doc, err := specimen.Generate(specimen.Options{Rand: seeded{rand.NewChaCha8(seed)}, Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	id, err := chipsim.NewIdentity(doc.Files, cfg)
	if err != nil {
		t.Fatal(err)
	}
	chip, err := chipsim.New(id, chipsim.WithFaults(faults))
	if err != nil {
		t.Fatal(err)
	}
	card := &tearClock{Chip: chip}
	pc, err := pcsc.EstablishContext()
	if err != nil {
		t.Fatalf("pcscd (run scripts/pcscd-up): %v", err)
	}
	defer pc.Release()
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := pc.WaitForRemoval(wctx, l.Reader); err != nil {
		t.Fatalf("reader %s keeps a card: %v", l.Reader, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		vpcd.Serve(ctx, l.Addr, card, nil)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		l.Release()
	})
	return l.Reader, doc, card
}

func readCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"read"}, args...), strings.NewReader(stdin), &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

// The whole path a border post uses: pcscd, a virtual reader, the
// software chip, `borderid read --json`, checked field by field.
func TestReadEndToEnd(t *testing.T) {
	name, doc, chip := serveChip(t, chipsim.Faults{})
	code, out, errs := readCLI(t, doc.MRZ, "--reader", name, "--allow-virtual", "--wait", "10s", "--json", "--mrz", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if err := inspecttest.Validate([]byte(out)); err != nil {
		t.Fatalf("schema: %v\n%s", err, out)
	}
	var r inspect.Report
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.Reader.Name != name || r.Reader.ATR != strings.ToUpper(hex.EncodeToString(chip.ATR())) {
		t.Errorf("reader %+v", r.Reader)
	}
	if r.AccessControl != "BAC" || r.AccessParams != (inspect.AccessParams{Cipher: "3DES"}) {
		t.Errorf("access %s %+v", r.AccessControl, r.AccessParams)
	}
	wantDoc := inspect.Document{Type: "P", IssuingState: "UTO", DocumentNumber: "L898902C3", Surname: "ERIKSSON",
		GivenNames: "ANNA MARIA", Nationality: "UTO", DateOfBirth: "1974-08-12", Sex: "F", DateOfExpiry: "2034-08-11",
		OptionalData: "ZE184226B"}
	if r.Document == nil || *r.Document != wantDoc {
		t.Errorf("document %+v", r.Document)
	}
	// Every file the chip holds, byte for byte (by hash), and nothing else.
	if len(r.Files) != len(doc.Files) {
		t.Errorf("%d files, chip holds %d", len(r.Files), len(doc.Files))
	}
	for fname, b := range doc.Files {
		sum := sha256.Sum256(b)
		if got := r.Files[fname]; got.Size != len(b) || got.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("file %s: %+v", fname, got)
		}
	}
	dg2, err := lds.ParseDG2(doc.Files["DG2"])
	if err != nil {
		t.Fatal(err)
	}
	f := dg2.Faces[0]
	if r.Face == nil || *r.Face != (inspect.Face{Format: "JPEG", Width: f.Width, Height: f.Height, Bytes: len(f.Image)}) {
		t.Errorf("face %+v", r.Face)
	}
	if r.Checks["data_group_hashes"].Result != inspect.Pass || r.Checks["mrz_consistency"].Result != inspect.Pass ||
		r.Checks["passive_authentication"].Result != inspect.NotDone || r.Verdict != inspect.Suspect {
		t.Errorf("checks %+v verdict %s", r.Checks, r.Verdict)
	}
	if len(r.Quirks) != 0 {
		t.Errorf("quirks %v from a perfect chip", r.Quirks)
	}
	// The reader's counters agree with what the chip saw.
	st := chip.Stats()
	if r.APDUs != st.APDUs || int64(r.BytesTransferred) != st.BytesIn+st.BytesOut {
		t.Errorf("report counts %d APDUs, %d bytes; the chip saw %d APDUs, %d bytes", r.APDUs, r.BytesTransferred, st.APDUs, st.BytesIn+st.BytesOut)
	}
	if strings.Contains(errs, "L898902C3") {
		t.Error("the document number reached standard error")
	}
}

// A passport pulled off the reader mid-read: a typed error within 2 s of
// the moment it left, no hang, no report.
func TestReadChipRemoved(t *testing.T) {
	name, _, chip := serveChip(t, chipsim.Faults{TearAfter: 40})
	code, out, errs := readCLI(t, "", "--reader", name, "--allow-virtual", "--wait", "10s", "--json",
		"--doc", "L898902C3", "--dob", "740812", "--exp", "340811")
	end := time.Now()
	if code != exitFail || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errs, "the passport left the reader during the read") || !strings.Contains(errs, "SCARD_W_REMOVED_CARD") {
		t.Errorf("stderr: %s", errs)
	}
	chip.mu.Lock()
	torn := chip.torn
	chip.mu.Unlock()
	if torn.IsZero() {
		t.Fatal("the chip never tore")
	}
	if d := end.Sub(torn); d > 2*time.Second {
		t.Errorf("removal reported %v after the chip left", d)
	}
	t.Logf("removal reported %v after the chip left", end.Sub(torn).Round(time.Millisecond))
}

// Refusals end with exit code 1 exactly, a clear message and no report.
func TestReadRefusalsExitCodes(t *testing.T) {
	key := []string{"--doc", "L898902C3", "--dob", "740812", "--exp", "340811"}
	tests := []struct {
		name   string
		faults chipsim.Faults
		args   []string
		stderr string
	}{
		{"wrong MRZ", chipsim.Faults{}, []string{"--doc", "L898902C3", "--dob", "740813", "--exp", "340811"}, "access denied: the chip refused the MRZ data"},
		{"bad MAC", chipsim.Faults{CorruptMACAt: 12}, key, "MAC does not verify"},
		{"downgrade", chipsim.Faults{PlainSuccessAt: 12}, key, "unprotected success under secure messaging"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, _, _ := serveChip(t, tt.faults)
			args := append([]string{"--reader", name, "--allow-virtual", "--wait", "10s", "--json"}, tt.args...)
			code, out, errs := readCLI(t, "", args...)
			if code != exitFail || out != "" || !strings.Contains(errs, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
			}
		})
	}
}

// Without --reader, virtual readers are not candidates: with only virtual
// readers attached, read says so (exit 1) instead of using one.
func TestReadRefusesVirtualByDefault(t *testing.T) {
	pc, err := pcsc.EstablishContext()
	if err != nil {
		t.Fatal(err)
	}
	names, err := pc.ListReaders()
	pc.Release()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !isVirtual(n) {
			t.Skipf("a physical reader %q is attached; the refusal needs virtual readers only", n)
		}
	}
	code, out, errs := readCLI(t, "", "--wait", "1s", "--doc", "L898902C3", "--dob", "740812", "--exp", "340811")
	if code != exitFail || out != "" || !strings.Contains(errs, "pass --allow-virtual to use them") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
