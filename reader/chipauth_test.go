package reader_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"borderid/hardware/chipsim"
	"borderid/internal/pace"
	"borderid/internal/smcrypto"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
	"borderid/reader/mrz"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Chip Authentication against the independent software chip: the reader
// and hardware/chipsim share internal/pace's arithmetic but each builds
// and parses the APDUs on its own.

// caDocs caches specimens by their chip options: key generation and the
// CMS signature of EF.CardSecurity are not free.
var caDocs sync.Map // string -> *specimen.Document

func caDoc(t testing.TB, co specimen.ChipOptions) *specimen.Document {
	t.Helper()
	key := fmt.Sprintf("%+v", co)
	if d, ok := caDocs.Load(key); ok {
		return d.(*specimen.Document)
	}
	doc, err := specimen.Generate(specimen.Options{FaceBytes: specimen.MinFaceBytes, Chip: &co})
	if err != nil {
		t.Fatal(err)
	}
	caDocs.Store(key, doc)
	return doc
}

// seeded is a deterministic random source.
func seeded(i uint64) chipRand {
	var s [32]byte
	binary.BigEndian.PutUint64(s[:], i)
	s[31] = 0xCA
	return chipRand{rand.NewChaCha8(s)}
}

// caSetup serves doc with chipKey as the chip's CA key (nil: doc's) and
// returns a session after SELECT and BAC, with DG14 read and parsed.
func caSetup(t testing.TB, doc *specimen.Document, chipKey []byte, keyID *int, f chipsim.Faults) (*chipsim.Chip, *reader.Session, *lds.SecurityInfos) {
	t.Helper()
	if chipKey == nil {
		chipKey = doc.CAKey
	}
	cfg := chipsim.Config{ExtendedLength: true, ChipAuthentication: &chipsim.CAConfig{Key: chipKey, KeyID: keyID}}
	id, err := chipsim.NewIdentity(doc.Files, cfg)
	if err != nil {
		t.Fatal(err)
	}
	chip, err := chipsim.New(id, chipsim.WithRand(newRand(2)), chipsim.WithFaults(f))
	if err != nil {
		t.Fatal(err)
	}
	m, err := mrz.Parse(doc.MRZ)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := reader.NewSession(chip, reader.SessionOptions{Extended: reader.ExtendedLength{Supported: true}})
	if err := s.SelectApplication(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.BAC(ctx, s, m.KeySeedInfo(), newRand(3)); err != nil {
		t.Fatal(err)
	}
	raw, err := s.ReadFile(ctx, lds.FileDG14)
	if err != nil {
		t.Fatal(err)
	}
	dg14, err := lds.ParseDG14(raw)
	if err != nil {
		t.Fatal(err)
	}
	return chip, s, dg14
}

func TestChipAuthenticateChipsim(t *testing.T) {
	domains := []int{13, 12, 15, 2}
	for _, id := range domains {
		d, err := pace.DomainByParameterID(id)
		if err != nil {
			t.Fatal(err)
		}
		fam := lds.CAECDH
		if d.KeyAgreement() == pace.DH {
			fam = lds.CADH
		}
		for _, p := range []lds.Protocol{fam | 1, fam | 2, fam | 4} {
			t.Run(d.Name()+"/"+p.String(), func(t *testing.T) {
				doc := caDoc(t, specimen.ChipOptions{CAParameterID: id, CAProtocols: []lds.Protocol{p}, ExplicitParameters: id == 13})
				_, s, dg14 := caSetup(t, doc, nil, nil, chipsim.Faults{})
				res, err := reader.ChipAuthenticate(context.Background(), s, dg14, reader.CAOptions{Rand: newRand(4)})
				if err != nil {
					t.Fatal(err)
				}
				if !res.Passed || res.Protocol != p || res.Domain != d.Name() || res.Cipher != p.Cipher() ||
					res.KeyAgreement != p.KeyAgreement() || res.KeyID.Present {
					t.Fatalf("result %+v", res)
				}
				if !bytes.Equal(res.ChipPublicKey, doc.CAPublicKey) || len(res.EphemeralPublicKey) != d.ElementLen() {
					t.Fatalf("keys in the result: PK_IC %X, PK_IFD of %d bytes", res.ChipPublicKey, len(res.EphemeralPublicKey))
				}
				if !bytes.Equal(res.ChipPublicKeyInfo, dg14.ChipAuthenticationPublicKeys[0].SubjectPublicKeyInfo) {
					t.Fatal("ChipPublicKeyInfo is not DG14's SPKI")
				}
				comp, err := res.CompEphemeralPublicKey()
				if want, _ := d.Comp(res.EphemeralPublicKey); err != nil || !bytes.Equal(comp, want) {
					t.Fatalf("Comp(PK_IFD): %X %v", comp, err)
				}
				if got := s.SecureMessaging().Cipher(); got != p.Cipher() {
					t.Fatalf("session cipher %v after CA with %v", got, p)
				}
				// Reading goes on under the new keys.
				com, err := s.ReadFile(context.Background(), lds.FileCOM)
				if err != nil || !bytes.Equal(com, doc.Files["COM"]) {
					t.Fatalf("EF.COM after CA: %v", err)
				}
			})
		}
	}
}

func TestChipAuthenticateChoice(t *testing.T) {
	doc := caDoc(t, specimen.ChipOptions{CAParameterID: 13, CAProtocols: []lds.Protocol{lds.CAECDH3DES, lds.CAECDHAES128, lds.CAECDHAES256, lds.CAECDHAES192}})
	_, s, dg14 := caSetup(t, doc, nil, nil, chipsim.Faults{})
	res, err := reader.ChipAuthenticate(context.Background(), s, dg14, reader.CAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Protocol != lds.CAECDHAES256 {
		t.Fatalf("chose %v, want AES-256", res.Protocol)
	}

	// By key id.
	id := 42
	doc = caDoc(t, specimen.ChipOptions{CAParameterID: 12, KeyID: lds.OptionalInt{Value: id, Present: true}})
	_, s, dg14 = caSetup(t, doc, nil, &id, chipsim.Faults{})
	if _, err := reader.ChipAuthenticate(context.Background(), s, dg14, reader.CAOptions{KeyID: lds.OptionalInt{Value: 41, Present: true}}); !errors.Is(err, reader.ErrCANotSupported) {
		t.Fatalf("absent key id: %v, want ErrCANotSupported", err)
	}
	res, err = reader.ChipAuthenticate(context.Background(), s, dg14, reader.CAOptions{KeyID: lds.OptionalInt{Value: id, Present: true}})
	if err != nil || res.KeyID != (lds.OptionalInt{Value: id, Present: true}) {
		t.Fatalf("key id %d: %+v %v", id, res, err)
	}
}

// TestChipAuthenticateWrongKey: DG14 announces one key, the chip holds
// another (a clone with copied files): CA fails and never passes.
func TestChipAuthenticateWrongKey(t *testing.T) {
	for _, id := range []int{13, 0} {
		doc := caDoc(t, specimen.ChipOptions{CAParameterID: id})
		other, err := specimen.Generate(specimen.Options{FaceBytes: specimen.MinFaceBytes, Chip: &specimen.ChipOptions{CAParameterID: id}})
		if err != nil {
			t.Fatal(err)
		}
		_, s, dg14 := caSetup(t, doc, other.CAKey, nil, chipsim.Faults{})
		res, err := reader.ChipAuthenticate(context.Background(), s, dg14, reader.CAOptions{})
		if res != nil || !errors.Is(err, reader.ErrCAFailed) {
			t.Fatalf("id %d: %+v, %v; want ErrCAFailed", id, res, err)
		}
	}
}

// TestChipAuthenticateRefused: the chip refuses (6A88 for a key id it
// does not hold): CA fails, and the old session stays usable.
func TestChipAuthenticateRefused(t *testing.T) {
	seven := 7
	doc := caDoc(t, specimen.ChipOptions{CAParameterID: 13, KeyID: lds.OptionalInt{Value: 5, Present: true}})
	for _, p := range []lds.Protocol{lds.CAECDHAES128} {
		_, s, dg14 := caSetup(t, doc, nil, &seven, chipsim.Faults{})
		res, err := reader.ChipAuthenticate(context.Background(), s, dg14, reader.CAOptions{})
		var swErr *reader.SWError
		if res != nil || !errors.Is(err, reader.ErrCAFailed) || !errors.As(err, &swErr) || swErr.SW != 0x6A88 {
			t.Fatalf("%v: %+v, %v; want ErrCAFailed with 6A88", p, res, err)
		}
		if _, err := s.ReadFile(context.Background(), lds.FileCOM); err != nil {
			t.Fatalf("old session after a refusal: %v", err)
		}
	}
	// A chip without CA at all.
	_, s, dg14 := caSetup(t, doc, nil, nil, chipsim.Faults{})
	dg14.ChipAuthentication = nil
	if _, err := reader.ChipAuthenticate(context.Background(), s, dg14, reader.CAOptions{}); !errors.Is(err, reader.ErrCANotSupported) {
		t.Fatalf("no ChipAuthenticationInfo: %v", err)
	}
	if _, err := reader.ChipAuthenticate(context.Background(), s, nil, reader.CAOptions{}); !errors.Is(err, reader.ErrCANotSupported) {
		t.Fatalf("no DG14: %v", err)
	}
	plain := reader.NewSession(nil, reader.SessionOptions{})
	if _, err := reader.ChipAuthenticate(context.Background(), plain, dg14, reader.CAOptions{}); err == nil {
		t.Fatal("CA without secure messaging")
	}
}

// oldKeysCard is a chip that does not switch keys: after GA it answers
// the next command under the keys it had (a clone that does not hold
// SK_IC can do no better). It knows those keys because the test set them.
type oldKeysCard struct {
	chip       *chipsim.Chip
	ci         smcrypto.Cipher
	kenc, kmac []byte
	ssc        []byte // SSC before the first CA command
	n          int
	after      int // the command number answered under the old keys
}

func (o *oldKeysCard) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	o.n++
	if o.n != o.after {
		return o.chip.Transmit(ctx, apdu)
	}
	ssc := bytes.Clone(o.ssc)
	for range 2 * (o.after - 1) {
		for i := len(ssc) - 1; i >= 0; i-- {
			if ssc[i]++; ssc[i] != 0 {
				break
			}
		}
	}
	if err := o.chip.SetSecureMessaging(o.ci, o.kenc, o.kmac, ssc); err != nil {
		return nil, err
	}
	sm, err := reader.NewSM(o.ci, o.kenc, o.kmac, ssc)
	if err != nil {
		return nil, err
	}
	cmd, err := sm.Protect(reader.Command{INS: 0xB0, P1: 0x9E, Ne: 4})
	if err != nil {
		return nil, err
	}
	return o.chip.Transmit(ctx, cmd)
}

func TestChipAuthenticateOldKeys(t *testing.T) {
	for _, p := range []lds.Protocol{lds.CAECDHAES128, lds.CAECDH3DES} {
		doc := caDoc(t, specimen.ChipOptions{CAParameterID: 13, CAProtocols: []lds.Protocol{p}})
		id, err := chipsim.NewIdentity(doc.Files, chipsim.Config{ChipAuthentication: &chipsim.CAConfig{Key: doc.CAKey}})
		if err != nil {
			t.Fatal(err)
		}
		chip, err := chipsim.New(id)
		if err != nil {
			t.Fatal(err)
		}
		kenc, kmac, ssc := bytes.Repeat([]byte{0x11}, 16), bytes.Repeat([]byte{0x22}, 16), make([]byte, 8)
		if err := chip.SetSecureMessaging(smcrypto.TDES, kenc, kmac, ssc); err != nil {
			t.Fatal(err)
		}
		after := 3 // MSE, GA, then the check
		if p == lds.CAECDH3DES {
			after = 2 // MSE:Set KAT, then the check
		}
		card := &oldKeysCard{chip: chip, ci: smcrypto.TDES, kenc: kenc, kmac: kmac, ssc: ssc, after: after}
		s := reader.NewSession(card, reader.SessionOptions{})
		sm, err := reader.NewSM(smcrypto.TDES, kenc, kmac, ssc)
		if err != nil {
			t.Fatal(err)
		}
		s.SetSecureMessaging(sm)
		dg14, err := lds.ParseDG14(doc.Files["DG14"])
		if err != nil {
			t.Fatal(err)
		}
		res, err := reader.ChipAuthenticate(context.Background(), s, dg14, reader.CAOptions{})
		if res != nil || !errors.Is(err, reader.ErrCAFailed) || !errors.Is(err, reader.ErrSecureMessaging) {
			t.Fatalf("%v: old keys after CA: %+v, %v; want ErrCAFailed (secure messaging)", p, res, err)
		}
	}
}

// cutCard truncates the response to APDU number at to keep bytes.
type cutCard struct {
	chip     *chipsim.Chip
	n, at    int
	keep     int
	override []byte
}

func (c *cutCard) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	r, err := c.chip.Transmit(ctx, apdu)
	c.n++
	if err != nil || c.n != c.at {
		return r, err
	}
	if c.override != nil {
		return c.override, nil
	}
	return r[:min(c.keep, len(r))], nil
}

// countCA runs a clean CA over a fresh setup and returns the chip's APDU
// count before CA and the number CA sends.
func countCA(t *testing.T, doc *specimen.Document) (base, n int) {
	t.Helper()
	chip, s, dg14 := caSetup(t, doc, nil, nil, chipsim.Faults{})
	base = chip.Stats().APDUs
	if _, err := reader.ChipAuthenticate(context.Background(), s, dg14, reader.CAOptions{}); err != nil {
		t.Fatal(err)
	}
	return base, chip.Stats().APDUs - base
}

func TestChipAuthenticateFaults(t *testing.T) {
	for _, p := range []lds.Protocol{lds.CAECDHAES128, lds.CAECDH3DES} {
		doc := caDoc(t, specimen.ChipOptions{CAParameterID: 12, CAProtocols: []lds.Protocol{p}})
		base, n := countCA(t, doc)
		for k := 1; k <= n; k++ {
			last := k == n
			t.Run(fmt.Sprintf("%v/tear before CA APDU %d", p, k), func(t *testing.T) {
				_, s, dg14 := caSetup(t, doc, nil, nil, chipsim.Faults{TearAfter: base + k - 1})
				res, err := reader.ChipAuthenticate(context.Background(), s, dg14, reader.CAOptions{})
				if res != nil || !errors.Is(err, chipsim.ErrTorn) {
					t.Fatalf("%+v, %v; want ErrTorn", res, err)
				}
				if last != errors.Is(err, reader.ErrCAFailed) {
					t.Fatalf("ErrCAFailed %v for the tear at APDU %d of %d: %v", !last, k, n, err)
				}
			})
			t.Run(fmt.Sprintf("%v/corrupt MAC of CA APDU %d", p, k), func(t *testing.T) {
				_, s, dg14 := caSetup(t, doc, nil, nil, chipsim.Faults{CorruptMACAt: base + k})
				res, err := reader.ChipAuthenticate(context.Background(), s, dg14, reader.CAOptions{})
				if res != nil || !errors.Is(err, reader.ErrSecureMessaging) || !errors.Is(err, reader.ErrBadMAC) {
					t.Fatalf("%+v, %v; want ErrSecureMessaging (bad MAC)", res, err)
				}
				if last != errors.Is(err, reader.ErrCAFailed) {
					t.Fatalf("ErrCAFailed %v for a bad MAC at APDU %d of %d: %v", !last, k, n, err)
				}
			})
			for _, keep := range []int{0, 1, 2, 12} {
				t.Run(fmt.Sprintf("%v/APDU %d truncated to %d", p, k, keep), func(t *testing.T) {
					cc := &cutCard{at: base + k, keep: keep}
					id, _ := chipsim.NewIdentity(doc.Files, chipsim.Config{ExtendedLength: true, ChipAuthentication: &chipsim.CAConfig{Key: doc.CAKey}})
					cc.chip, _ = chipsim.New(id, chipsim.WithRand(newRand(2)))
					m, _ := mrz.Parse(doc.MRZ)
					s := reader.NewSession(cc, reader.SessionOptions{Extended: reader.ExtendedLength{Supported: true}})
					ctx := context.Background()
					if err := s.SelectApplication(ctx); err != nil {
						t.Fatal(err)
					}
					if _, err := reader.BAC(ctx, s, m.KeySeedInfo(), newRand(3)); err != nil {
						t.Fatal(err)
					}
					raw, err := s.ReadFile(ctx, lds.FileDG14)
					if err != nil {
						t.Fatal(err)
					}
					dg14, _ := lds.ParseDG14(raw)
					if cc.n != base {
						t.Fatalf("setup took %d APDUs, want %d", cc.n, base)
					}
					res, err := reader.ChipAuthenticate(ctx, s, dg14, reader.CAOptions{})
					if res != nil || err == nil {
						t.Fatalf("truncated answer accepted: %+v", res)
					}
				})
			}
		}
	}
}

// TestChipAuthenticateLeadingZero: an ephemeral key whose K = x(SK·PK_IC)
// (or the DH value) starts with a zero byte: both sides must keep it.
func TestChipAuthenticateLeadingZero(t *testing.T) {
	for _, id := range []int{13, 0} {
		doc := caDoc(t, specimen.ChipOptions{CAParameterID: id})
		d, _ := pace.DomainByParameterID(id)
		seed := uint64(0)
		found := false
		for ; seed < 20000; seed++ {
			sk, _, err := d.GenerateKey(seeded(seed), nil)
			if err != nil {
				t.Fatal(err)
			}
			k, err := d.SharedSecret(sk, doc.CAPublicKey)
			if err != nil {
				t.Fatal(err)
			}
			if k[0] == 0 {
				found = true
				break
			}
		}
		if !found {
			t.Fatal("no K with a leading zero")
		}
		_, s, dg14 := caSetup(t, doc, nil, nil, chipsim.Faults{})
		res, err := reader.ChipAuthenticate(context.Background(), s, dg14, reader.CAOptions{Rand: seeded(seed)})
		if err != nil {
			t.Fatalf("%v: K with a leading zero: %v", d.Name(), err)
		}
		sk, _, _ := d.GenerateKey(seeded(seed), nil)
		if pk, _ := d.PublicKey(sk, nil); !bytes.Equal(pk, res.EphemeralPublicKey) {
			t.Fatal("the reader drew another key from the same source")
		}
	}
}

// Real DG14s published as test data by other projects (vectors only; the
// same as in reader/lds's tests): an Austrian passport (id-CA-ECDH-AES-
// 128, explicit brainpoolP256r1) and a Malaysian one (id-CA-ECDH-3DES).
const (
	caDG14AT = "6e82017e3182017a300d060804007f0007020202020101300f060a04007f000702020302020201013012060a04007f0007020204020202010202010d30820142060904007f000702020102308201333081ec06072a8648ce3d02013081e0020101302c06072a8648ce3d0101022100a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377304404207d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9042026dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b60441048bd2aeb9cb7e57cb2c4b482ffc81b7afb9de27e1e3bd23c23a4453bd9ace3262547ef835c3dac4fd97f8461a14611dc9c27745132ded8e545c1d54c72f046997022100a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7020101034200041983917269ac877c0b61544c2c022000d2a5aba723e2d80141e648b40911dc3459761f27480e4b57181a53d8fe1190ea86c939ac14363178caffc621f0f905c3"
	caDG14MY = "6e82016a3182016630820142060904007f000702020102308201333081ec06072a8648ce3d02013081e0020101302c06072a8648ce3d0101022100a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377304404207d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9042026dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b60441048bd2aeb9cb7e57cb2c4b482ffc81b7afb9de27e1e3bd23c23a4453bd9ace3262547ef835c3dac4fd97f8461a14611dc9c27745132ded8e545c1d54c72f046997022100a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a702010103420004a04f85afdfc316fb5e9f33f94ca45837d20d9d91ad5002307c3f124b6ef5b92565d018a6b7f69db73976bfbb4278757405c64e96104d161649e8a94078eaefce300f060a04007f00070202030201020101300d060804007f0007020202020101"
)

func mustDG14(t testing.TB, h string) *lds.SecurityInfos {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	si, err := lds.ParseDG14(b)
	if err != nil {
		t.Fatal(err)
	}
	return si
}

func TestParseCAPublicKey(t *testing.T) {
	for _, tc := range []struct {
		name, dg14, x string
	}{
		{"Austria", caDG14AT, "1983917269ac877c0b61544c2c022000d2a5aba723e2d80141e648b40911dc34"},
		{"Malaysia", caDG14MY, "a04f85afdfc316fb5e9f33f94ca45837d20d9d91ad5002307c3f124b6ef5b925"},
	} {
		si := mustDG14(t, tc.dg14)
		k, err := reader.ParseCAPublicKey(si.ChipAuthenticationPublicKeys[0])
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if k.Domain.Name() != "brainpoolP256r1" || hex.EncodeToString(k.Key[1:33]) != tc.x || len(k.Key) != 65 {
			t.Fatalf("%s: %v %X", tc.name, k.Domain.Name(), k.Key)
		}
	}

	// Every standardized domain, named and explicit, as specimen writes it.
	ids := []int{0, 1, 2, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}
	if testing.Short() {
		ids = []int{0, 12, 13}
	}
	for _, id := range ids {
		for _, explicit := range []bool{false, true} {
			if explicit && id < 8 {
				continue
			}
			doc := caDoc(t, specimen.ChipOptions{CAParameterID: id, ExplicitParameters: explicit})
			si, err := lds.ParseDG14(doc.Files["DG14"])
			if err != nil {
				t.Fatal(err)
			}
			k, err := reader.ParseCAPublicKey(si.ChipAuthenticationPublicKeys[0])
			if err != nil || k.Domain.ParameterID() != id || !bytes.Equal(k.Key, doc.CAPublicKey) {
				t.Fatalf("id %d explicit %v: %v", id, explicit, err)
			}
			// EF.CardSecurity carries the same key.
			if _, ok := doc.Files["CardSecurity"]; !ok {
				t.Fatal("no EF.CardSecurity")
			}
		}
	}
}

func TestParseCAPublicKeyRefusals(t *testing.T) {
	at := mustDG14(t, caDG14AT).ChipAuthenticationPublicKeys[0]
	spki := at.SubjectPublicKeyInfo
	mut := func(f func([]byte)) lds.ChipAuthenticationPublicKeyInfo {
		c := at
		c.SubjectPublicKeyInfo = bytes.Clone(spki)
		f(c.SubjectPublicKeyInfo)
		return c
	}
	dh := caDoc(t, specimen.ChipOptions{CAParameterID: 0})
	dhInfo := mustDG14(t, hex.EncodeToString(dh.Files["DG14"])).ChipAuthenticationPublicKeys[0]
	dhMut := func(f func([]byte) []byte) lds.ChipAuthenticationPublicKeyInfo {
		c := dhInfo
		c.SubjectPublicKeyInfo = f(bytes.Clone(dhInfo.SubjectPublicKeyInfo))
		return c
	}
	d0, _ := pace.DomainByParameterID(0)
	dhP := new(big.Int).SetBytes(d0.Prime())
	n := len(spki)
	for _, tc := range []struct {
		name string
		info lds.ChipAuthenticationPublicKeyInfo
		want error
	}{
		{"point off the curve", mut(func(b []byte) { b[n-1] ^= 1 }), reader.ErrCAFailed},
		{"compressed point marker", mut(func(b []byte) { b[n-65] = 2 }), reader.ErrCANotSupported},
		{"unused bits", mut(func(b []byte) { b[n-66] = 1 }), reader.ErrCAFailed},
		{"unknown explicit curve", mut(func(b []byte) { b[100] ^= 1 }), reader.ErrCANotSupported},
		{"EC key under id-PK-DH", func() lds.ChipAuthenticationPublicKeyInfo { c := at; c.Protocol = lds.PKDH; return c }(), reader.ErrCAFailed},
		{"trailing data", func() lds.ChipAuthenticationPublicKeyInfo {
			c := at
			c.SubjectPublicKeyInfo = append(bytes.Clone(spki), 0)
			return c
		}(), reader.ErrCAFailed},
		{"empty", lds.ChipAuthenticationPublicKeyInfo{Protocol: lds.PKECDH}, reader.ErrCAFailed},
		// The DH value: the last bytes of the SPKI are the INTEGER y.
		{"DH y = 1", dhWithY(t, dhInfo, big.NewInt(1)), reader.ErrCAFailed},
		{"DH y = p-1", dhWithY(t, dhInfo, new(big.Int).Sub(dhP, big.NewInt(1))), reader.ErrCAFailed},
		{"DH y = p", dhWithY(t, dhInfo, dhP), reader.ErrCAFailed},
		{"DH y outside the subgroup", dhWithY(t, dhInfo, big.NewInt(2)), reader.ErrCAFailed},
		{"DH group not RFC 5114", dhMut(func(b []byte) []byte { b[30] ^= 1; return b }), reader.ErrCANotSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := reader.ParseCAPublicKey(tc.info)
			if err == nil {
				t.Fatalf("accepted: %+v", k)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// dhWithY rebuilds a DH SubjectPublicKeyInfo with another public value.
func dhWithY(t testing.TB, info lds.ChipAuthenticationPublicKeyInfo, y *big.Int) lds.ChipAuthenticationPublicKeyInfo {
	t.Helper()
	in := cryptobyte.String(info.SubjectPublicKeyInfo)
	var seq, alg cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Element(&alg, cbasn1.SEQUENCE) {
		t.Fatal("malformed SPKI")
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(alg)
		b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
			b.AddUint8(0)
			b.AddASN1BigInt(y)
		})
	})
	info.SubjectPublicKeyInfo = b.BytesOrPanic()
	return info
}

func FuzzParseCAPublicKey(f *testing.F) {
	for _, h := range []string{caDG14AT, caDG14MY} {
		f.Add(mustDG14(f, h).ChipAuthenticationPublicKeys[0].SubjectPublicKeyInfo, false)
	}
	for _, id := range []int{0, 13} {
		doc := caDoc(f, specimen.ChipOptions{CAParameterID: id})
		si, _ := lds.ParseDG14(doc.Files["DG14"])
		f.Add(si.ChipAuthenticationPublicKeys[0].SubjectPublicKeyInfo, id < 8)
	}
	f.Fuzz(func(t *testing.T, spki []byte, dh bool) {
		info := lds.ChipAuthenticationPublicKeyInfo{Protocol: lds.PKECDH, SubjectPublicKeyInfo: spki}
		if dh {
			info.Protocol = lds.PKDH
		}
		k, err := reader.ParseCAPublicKey(info)
		if err != nil {
			if !errors.Is(err, reader.ErrCAFailed) && !errors.Is(err, reader.ErrCANotSupported) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(k.Key) != k.Domain.ElementLen() || k.Domain.ValidatePublic(k.Key) != nil {
			t.Fatalf("accepted an invalid key %X", k.Key)
		}
	})
}

// timedCard measures the time spent inside the chip.
type timedCard struct {
	chip *chipsim.Chip
	in   time.Duration
}

func (c *timedCard) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	t0 := time.Now()
	r, err := c.chip.Transmit(ctx, apdu)
	c.in += time.Since(t0)
	return r, err
}

// BenchmarkChipAuthentication: one Chip Authentication in process, with
// the time split between terminal (reader) and chip, beside the raw key
// agreement of the same domain.
func BenchmarkChipAuthentication(b *testing.B) {
	for _, id := range []int{13, 12, 2} {
		d, _ := pace.DomainByParameterID(id)
		doc := caDoc(b, specimen.ChipOptions{CAParameterID: id})
		b.Run(d.Name()+"/raw", func(b *testing.B) {
			sk, _, _ := d.GenerateKey(newRand(9), nil)
			for b.Loop() {
				if _, err := d.SharedSecret(sk, doc.CAPublicKey); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(d.Name()+"/ca", func(b *testing.B) {
			id, _ := chipsim.NewIdentity(doc.Files, chipsim.Config{ExtendedLength: true, ChipAuthentication: &chipsim.CAConfig{Key: doc.CAKey}})
			c, _ := chipsim.New(id)
			kenc, kmac := bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 16)
			if err := c.SetSecureMessaging(smcrypto.TDES, kenc, kmac, make([]byte, 8)); err != nil {
				b.Fatal(err)
			}
			card := &timedCard{chip: c}
			s := reader.NewSession(card, reader.SessionOptions{Extended: reader.ExtendedLength{Supported: true}})
			sm, _ := reader.NewSM(smcrypto.TDES, kenc, kmac, make([]byte, 8))
			s.SetSecureMessaging(sm)
			dg14, _ := lds.ParseDG14(doc.Files["DG14"])
			ctx := context.Background()
			r := newRand(10)
			start := time.Now()
			for b.Loop() {
				if _, err := reader.ChipAuthenticate(ctx, s, dg14, reader.CAOptions{Rand: r}); err != nil {
					b.Fatal(err)
				}
			}
			total := time.Since(start)
			b.ReportMetric(float64(card.in.Nanoseconds())/float64(b.N), "chip-ns/op")
			b.ReportMetric(float64((total-card.in).Nanoseconds())/float64(b.N), "terminal-ns/op")
		})
	}
}

// TestChipAuthenticateAfterPACE: CA replaces the PACE session's keys,
// also with another cipher than PACE's.
func TestChipAuthenticateAfterPACE(t *testing.T) {
	for _, p := range []lds.Protocol{lds.CAECDHAES256, lds.CAECDH3DES} {
		t.Run(p.String(), func(t *testing.T) {
			doc := caDoc(t, specimen.ChipOptions{CAParameterID: 13, CAProtocols: []lds.Protocol{p},
				PACE: []lds.PACEInfo{{Protocol: lds.PACEECDHGMAES128, Version: 2, ParameterID: lds.OptionalInt{Value: 13, Present: true}}}})
			id, err := chipsim.NewIdentity(doc.Files, chipsim.Config{ChipAuthentication: &chipsim.CAConfig{Key: doc.CAKey}})
			if err != nil {
				t.Fatal(err)
			}
			chip, err := chipsim.New(id, chipsim.WithRand(newRand(2)))
			if err != nil {
				t.Fatal(err)
			}
			m, _ := mrz.Parse(doc.MRZ)
			ctx := context.Background()
			s := reader.NewSession(chip, reader.SessionOptions{})
			raw, err := s.ReadFile(ctx, lds.FileCardAccess)
			if err != nil {
				t.Fatal(err)
			}
			ca, err := lds.ParseCardAccess(raw)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := reader.PACE(ctx, s, ca, reader.MRZPassword(m.KeySeedInfo()), reader.PACEOptions{Rand: newRand(5)}); err != nil {
				t.Fatal(err)
			}
			if err := s.SelectApplication(ctx); err != nil {
				t.Fatal(err)
			}
			raw, err = s.ReadFile(ctx, lds.FileDG14)
			if err != nil {
				t.Fatal(err)
			}
			dg14, err := lds.ParseDG14(raw)
			if err != nil {
				t.Fatal(err)
			}
			res, err := reader.ChipAuthenticate(ctx, s, dg14, reader.CAOptions{Rand: newRand(6)})
			if err != nil || !res.Passed || res.Cipher != p.Cipher() {
				t.Fatalf("%+v %v", res, err)
			}
			if com, err := s.ReadFile(ctx, lds.FileCOM); err != nil || !bytes.Equal(com, doc.Files["COM"]) {
				t.Fatalf("EF.COM after PACE and CA: %v", err)
			}
		})
	}
}

// captureCard records the APDUs and answers 6F00.
type captureCard struct{ apdus [][]byte }

func (c *captureCard) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	c.apdus = append(c.apdus, bytes.Clone(apdu))
	return []byte{0x6F, 0x00}, nil
}

// TestChipAuthenticatePublishedMSE: with the published AES session of
// ../shared/vectors/icao9303.md (KSenc, KSmac, SSC ..BA) and a DG14 key
// with id 0xC3, the reader's MSE:Set AT is byte for byte the published
// protected command (plain 002241A40F800A04007F000702020302028401C3).
func TestChipAuthenticatePublishedMSE(t *testing.T) {
	doc := caDoc(t, specimen.ChipOptions{CAParameterID: 13, KeyID: lds.OptionalInt{Value: 0xC3, Present: true}})
	dg14, err := lds.ParseDG14(doc.Files["DG14"])
	if err != nil {
		t.Fatal(err)
	}
	card := &captureCard{}
	s := reader.NewSession(card, reader.SessionOptions{})
	ssc, _ := hex.DecodeString("000000000000000000000000000000BA")
	kenc, _ := hex.DecodeString("cc86415f2ed7e8fd663b754265695ae1")
	kmac, _ := hex.DecodeString("581e84b8ee06c4d3eee30461498d7fb3")
	sm, err := reader.NewSM(smcrypto.AES128, kenc, kmac, ssc)
	if err != nil {
		t.Fatal(err)
	}
	s.SetSecureMessaging(sm)
	if _, err := reader.ChipAuthenticate(context.Background(), s, dg14, reader.CAOptions{}); err == nil {
		t.Fatal("passed against a card answering 6F00")
	}
	const want = "0C2241A41D871101980953D37F67558690045D78A853B18A8E08929767A2CEF172E200"
	if len(card.apdus) == 0 || fmt.Sprintf("%X", card.apdus[0]) != want {
		t.Fatalf("MSE:Set AT\n got %X\nwant %s", card.apdus, want)
	}
}
