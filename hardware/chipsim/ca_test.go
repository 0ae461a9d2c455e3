package chipsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"borderid/internal/pace"
	"borderid/internal/smcrypto"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
)

// Chip Authentication, card side, against a terminal written here from
// 9303-11 §6.2 and TR-03110-3 B.1/B.2 with internal/pace's arithmetic
// (not package reader's).

// caKeys caches one specimen Chip Authentication key per parameter id:
// PKCS#8 for the chip, the public key for the terminal.
var caKeys sync.Map // int -> *specimen.Document

func caSpecimen(t testing.TB, id int) *specimen.Document {
	t.Helper()
	if d, ok := caKeys.Load(id); ok {
		return d.(*specimen.Document)
	}
	doc, err := specimen.Generate(specimen.Options{FaceBytes: specimen.MinFaceBytes, Chip: &specimen.ChipOptions{CAParameterID: id}})
	if err != nil {
		t.Fatal(err)
	}
	caKeys.Store(id, doc)
	return doc
}

// caChip is a chip with the Chip Authentication key of parameter id in
// an established 3DES session (the App. D keys), the application
// selected. keyID, when not nil, is the key's id.
func caChip(t testing.TB, id int, keyID *int, ext bool, opts ...Option) (*Chip, *term, *specimen.Document) {
	t.Helper()
	doc := caSpecimen(t, id)
	c := newChip(t, Config{ExtendedLength: ext, ChipAuthentication: &CAConfig{Key: doc.CAKey, KeyID: keyID}}, opts...)
	tm := setVecSession(t, c)
	if _, sw := tm.sm(t, c, "00A4040C", hx(t, "A0000002471001"), -1); sw != 0x9000 {
		t.Fatalf("SELECT: %04X", sw)
	}
	return c, tm, doc
}

func oidContent(p lds.Protocol) []byte {
	b := p.OID()
	der, err := asn1.Marshal(b)
	if err != nil {
		panic(err)
	}
	return der[2:]
}

// caProtect sends a protected command whose data may need extended
// length, and unprotects the answer.
func (tm *term) caSend(t testing.TB, c *Chip, hdr string, data []byte, le int) ([]byte, uint16, error) {
	t.Helper()
	ext := len(data) > 200
	resp := txb(t, c, tm.protect(t, hx(t, hdr), data, le, ext))
	return tm.unprotect(resp)
}

// terminalCA runs the terminal side: it returns the new session the
// terminal derives, and the status words of the commands.
func terminalCA(t testing.TB, c *Chip, tm *term, d pace.Domain, chipPub []byte, p lds.Protocol, keyRef []byte, skIFD []byte) (*term, []uint16) {
	t.Helper()
	pkIFD, err := d.PublicKey(skIFD, nil)
	if err != nil {
		t.Fatal(err)
	}
	k, err := d.SharedSecret(skIFD, chipPub)
	if err != nil {
		t.Fatal(err)
	}
	ci := p.Cipher()
	kenc, kmac, err := pace.SessionKeys(ci, k)
	if err != nil {
		t.Fatal(err)
	}
	var sws []uint16
	if ci == smcrypto.TDES {
		data := appendDO(nil, 0x91, pkIFD)
		if keyRef != nil {
			data = appendDO(data, 0x84, keyRef)
		}
		_, sw, err := tm.caSend(t, c, "002241A6", data, -1)
		if err != nil {
			t.Fatalf("MSE:Set KAT: %v", err)
		}
		sws = append(sws, sw)
	} else {
		data := appendDO(nil, 0x80, oidContent(p))
		if keyRef != nil {
			data = appendDO(data, 0x84, keyRef)
		}
		_, sw, err := tm.caSend(t, c, "002241A4", data, -1)
		if err != nil {
			t.Fatalf("MSE:Set AT: %v", err)
		}
		sws = append(sws, sw)
		if sw != 0x9000 {
			return nil, sws
		}
		resp, sw, err := tm.caSend(t, c, "00860000", appendDO(nil, 0x7C, appendDO(nil, 0x80, pkIFD)), 0)
		if err != nil {
			t.Fatalf("GENERAL AUTHENTICATE: %v", err)
		}
		sws = append(sws, sw)
		if sw == 0x9000 && !bytes.Equal(resp, []byte{0x7C, 0x00}) {
			t.Fatalf("GENERAL AUTHENTICATE answered %X, want 7C00", resp)
		}
	}
	return &term{ci: ci, kenc: kenc, kmac: kmac, ssc: make([]byte, ci.BlockSize())}, sws
}

func TestChipAuthenticationRoundTrip(t *testing.T) {
	domains := []struct {
		id   int
		name string
	}{{13, "brainpoolP256r1"}, {12, "P-256"}, {15, "P-384"}, {2, "DH-2048/256"}}
	for _, dom := range domains {
		ecdh := dom.id >= 8
		fam := lds.CAECDH
		if !ecdh {
			fam = lds.CADH
		}
		for _, p := range []lds.Protocol{fam | 1, fam | 2, fam | 4} {
			t.Run(dom.name+"/"+p.String(), func(t *testing.T) {
				c, tm, doc := caChip(t, dom.id, nil, !ecdh)
				d, err := pace.DomainByParameterID(dom.id)
				if err != nil {
					t.Fatal(err)
				}
				sk, _, err := d.GenerateKey(rand.Reader, nil)
				if err != nil {
					t.Fatal(err)
				}
				nt, sws := terminalCA(t, c, tm, d, doc.CAPublicKey, p, nil, sk)
				for _, sw := range sws {
					if sw != 0x9000 {
						t.Fatalf("status words %04X", sws)
					}
				}
				// The next command only verifies under the new keys,
				// SSC 0: READ BINARY EF.COM by SFI.
				data, sw, err := nt.caSend(t, c, "00B09E00", nil, 0)
				if err != nil || sw != 0x9000 {
					t.Fatalf("READ BINARY under the new keys: %04X %v", sw, err)
				}
				if want := hx(t, vecEFCOM); len(data) == 0 || !bytes.Equal(data, want[:min(len(data), len(want))]) {
					t.Fatalf("EF.COM under the new keys: %X", data)
				}
				pkIFD, _ := d.PublicKey(sk, nil)
				c.mu.Lock()
				got := c.caEphemeralKey()
				c.mu.Unlock()
				if !bytes.Equal(got, pkIFD) {
					t.Errorf("caEphemeralKey = %X, want PK_IFD", got)
				}
				// The old keys are gone: a command under them ends the session.
				resp := txb(t, c, tm.protect(t, hx(t, "00B09E00"), nil, 0, false))
				if up(resp) != "6988" {
					t.Errorf("old keys after CA: %X, want 6988", resp)
				}
			})
		}
	}
}

func TestChipAuthenticationKeyID(t *testing.T) {
	id := 7
	c, tm, doc := caChip(t, 13, &id, false)
	d, _ := pace.DomainByParameterID(13)
	sk, _, _ := d.GenerateKey(rand.Reader, nil)
	// Unknown id: 6A88, the session survives.
	if _, sws := terminalCA(t, c, tm, d, doc.CAPublicKey, lds.CAECDHAES128, []byte{8}, sk); sws[0] != 0x6A88 {
		t.Fatalf("key id 8: %04X, want 6A88", sws)
	}
	if _, sws := terminalCA(t, c, tm, d, doc.CAPublicKey, lds.CAECDH3DES, []byte{0, 0, 0, 0, 7}, sk); sws[0] != 0x6A88 {
		t.Fatalf("five-byte key id: %04X, want 6A88", sws)
	}
	nt, sws := terminalCA(t, c, tm, d, doc.CAPublicKey, lds.CAECDHAES128, []byte{7}, sk)
	if sws[0] != 0x9000 || sws[1] != 0x9000 {
		t.Fatalf("key id 7: %04X", sws)
	}
	if _, sw, err := nt.caSend(t, c, "00B09E00", nil, 4); err != nil || sw != 0x9000 {
		t.Fatalf("after CA: %04X %v", sw, err)
	}
	// A chip whose key has no id refuses any DO84.
	c2, tm2, _ := caChip(t, 13, nil, false)
	if _, sws := terminalCA(t, c2, tm2, d, doc.CAPublicKey, lds.CAECDHAES128, []byte{0}, sk); sws[0] != 0x6A88 {
		t.Fatalf("key id on a chip without: %04X, want 6A88", sws)
	}
}

func TestChipAuthenticationRefusals(t *testing.T) {
	bp, _ := pace.DomainByParameterID(13)
	dh, _ := pace.DomainByParameterID(2)
	doc := caSpecimen(t, 13)
	_, goodPK, _ := bp.GenerateKey(rand.Reader, nil)
	offCurve := bytes.Clone(goodPK)
	offCurve[len(offCurve)-1] ^= 1
	p := new(big.Int).SetBytes(dh.Prime())
	pMinus1 := new(big.Int).Sub(p, big.NewInt(1)).FillBytes(make([]byte, dh.ElementLen()))
	one := big.NewInt(1).FillBytes(make([]byte, dh.ElementLen()))
	// g^((p-1)/2)... any element outside the order-q subgroup: 2 is not
	// in it for these groups with overwhelming probability; check it.
	two := big.NewInt(2).FillBytes(make([]byte, dh.ElementLen()))
	if dh.ValidatePublic(two) == nil {
		t.Fatal("2 is in the subgroup; pick another non-member")
	}

	tests := []struct {
		name string
		id   int
		hdr  string
		data []byte
		le   int
		want string
	}{
		{"KAT point off the curve", 13, "002241A6", appendDO(nil, 0x91, offCurve), -1, "6A80"},
		{"KAT point at infinity", 13, "002241A6", appendDO(nil, 0x91, []byte{0}), -1, "6A80"},
		{"KAT compressed point", 13, "002241A6", appendDO(nil, 0x91, append([]byte{2}, goodPK[1:33]...)), -1, "6A80"},
		{"KAT no key", 13, "002241A6", appendDO(nil, 0x84, []byte{1}), -1, "6A80"},
		{"KAT unknown DO", 13, "002241A6", append(appendDO(nil, 0x91, goodPK), 0x85, 0x00), -1, "6A80"},
		{"KAT truncated DO", 13, "002241A6", appendDO(nil, 0x91, goodPK)[:40], -1, "6A80"},
		{"KAT two keys", 13, "002241A6", appendDO(appendDO(nil, 0x91, goodPK), 0x91, goodPK), -1, "6A80"},
		{"AT DH protocol for an EC key", 13, "002241A4", appendDO(nil, 0x80, oidContent(lds.CADHAES128)), -1, "6A80"},
		{"AT PACE protocol", 13, "002241A4", appendDO(nil, 0x80, oidContent(lds.PACEECDHGMAES128)), -1, "6A80"},
		{"AT domain parameter OID", 13, "002241A4", appendDO(nil, 0x80, oidContent(lds.CAECDH)), -1, "6A80"},
		{"AT no OID", 13, "002241A4", appendDO(nil, 0x84, []byte{1}), -1, "6A80"},
		{"AT empty OID", 13, "002241A4", appendDO(nil, 0x80, nil), -1, "6A80"},
		{"AT malformed OID", 13, "002241A4", appendDO(nil, 0x80, []byte{0x80}), -1, "6A80"},
		{"DH y = 1", 2, "002241A6", appendDO(nil, 0x91, one), -1, "6A80"},
		{"DH y = p-1", 2, "002241A6", appendDO(nil, 0x91, pMinus1), -1, "6A80"},
		{"DH y = p", 2, "002241A6", appendDO(nil, 0x91, dh.Prime()), -1, "6A80"},
		{"DH y outside the subgroup", 2, "002241A6", appendDO(nil, 0x91, two), -1, "6A80"},
		{"DH y too long", 2, "002241A6", appendDO(nil, 0x91, append([]byte{0}, pMinus1...)), -1, "6A80"},
		{"MSE other P1-P2", 13, "002281A6", appendDO(nil, 0x91, goodPK), -1, "6A86"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, tm, _ := caChip(t, tc.id, nil, tc.id < 8)
			_, sw, err := tm.caSend(t, c, tc.hdr, tc.data, tc.le)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%04X", sw); got != tc.want {
				t.Fatalf("status %s, want %s", got, tc.want)
			}
			// The refusal came under the old keys and left the session.
			if _, sw, err := tm.caSend(t, c, "00B09E00", nil, 4); err != nil || sw != 0x9000 {
				t.Fatalf("old session after the refusal: %04X %v", sw, err)
			}
		})
	}

	t.Run("GA refusals", func(t *testing.T) {
		for _, ga := range []struct {
			name, hdr string
			data      []byte
			le        int
			want      string
		}{
			{"P1-P2", "00860100", appendDO(nil, 0x7C, appendDO(nil, 0x80, goodPK)), 0, "6A86"},
			{"no 7C", "00860000", appendDO(nil, 0x80, goodPK), 0, "6A80"},
			{"81 inside 7C", "00860000", appendDO(nil, 0x7C, appendDO(nil, 0x81, goodPK)), 0, "6A80"},
			{"data after 7C", "00860000", append(appendDO(nil, 0x7C, appendDO(nil, 0x80, goodPK)), 0), 0, "6A80"},
			{"invalid key", "00860000", appendDO(nil, 0x7C, appendDO(nil, 0x80, offCurve)), 0, "6A80"},
			{"no Le", "00860000", appendDO(nil, 0x7C, appendDO(nil, 0x80, goodPK)), -1, "6700"},
		} {
			t.Run(ga.name, func(t *testing.T) {
				c, tm, _ := caChip(t, 13, nil, false)
				if _, sw, err := tm.caSend(t, c, "002241A4", appendDO(nil, 0x80, oidContent(lds.CAECDHAES128)), -1); err != nil || sw != 0x9000 {
					t.Fatalf("MSE:Set AT: %04X %v", sw, err)
				}
				_, sw, err := tm.caSend(t, c, ga.hdr, ga.data, ga.le)
				if err != nil {
					t.Fatal(err)
				}
				if got := fmt.Sprintf("%04X", sw); got != ga.want {
					t.Fatalf("status %s, want %s", got, ga.want)
				}
				if _, sw, err := tm.caSend(t, c, "00B09E00", nil, 4); err != nil || sw != 0x9000 {
					t.Fatalf("old session after the refusal: %04X %v", sw, err)
				}
			})
		}
	})

	t.Run("before access control", func(t *testing.T) {
		c := newChip(t, Config{ChipAuthentication: &CAConfig{Key: doc.CAKey}})
		kat := appendDO(nil, 0x91, goodPK)
		if got := tx(t, c, fmt.Sprintf("002241A6%02X", len(kat))+hex.EncodeToString(kat)); got != "6982" {
			t.Errorf("KAT before BAC: %s, want 6982", got)
		}
		at := appendDO(nil, 0x80, oidContent(lds.CAECDHAES128))
		if got := tx(t, c, fmt.Sprintf("002241A4%02X", len(at))+hex.EncodeToString(at)); got != "6982" {
			t.Errorf("Set AT before BAC: %s, want 6982", got)
		}
	})

	t.Run("no key", func(t *testing.T) {
		c := newChip(t, Config{})
		tm := setVecSession(t, c)
		if _, sw, _ := tm.caSend(t, c, "002241A6", appendDO(nil, 0x91, goodPK), -1); sw != 0x6A81 {
			t.Errorf("KAT without a key: %04X, want 6A81", sw)
		}
	})

	t.Run("power cycle forgets CA", func(t *testing.T) {
		c, tm, _ := caChip(t, 13, nil, false)
		d, _ := pace.DomainByParameterID(13)
		sk, _, _ := d.GenerateKey(rand.Reader, nil)
		terminalCA(t, c, tm, d, doc.CAPublicKey, lds.CAECDHAES128, nil, sk)
		c.Reset()
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.caEphemeralKey() != nil || c.caPending() || c.st.sess != nil {
			t.Error("CA state survives a power cycle")
		}
	})
}

// TestChipAuthenticationLeadingZero: K whose first byte is 0 (x-coordinate
// or DH value) keeps its full length on the chip: the keys the terminal
// derives from the fixed-length K must work.
func TestChipAuthenticationLeadingZero(t *testing.T) {
	for _, id := range []int{13, 12} {
		d, _ := pace.DomainByParameterID(id)
		doc := caSpecimen(t, id)
		var sk []byte
		for i := 0; i < 4096 && sk == nil; i++ {
			k, _, err := d.GenerateKey(rand.Reader, nil)
			if err != nil {
				t.Fatal(err)
			}
			if s, err := d.SharedSecret(k, doc.CAPublicKey); err == nil && s[0] == 0 {
				if len(s) != d.ElementLen()/2 {
					t.Fatalf("K of %d bytes", len(s))
				}
				sk = k
			}
		}
		if sk == nil {
			t.Fatal("no key with a leading zero in K")
		}
		c, tm, _ := caChip(t, id, nil, false)
		nt, _ := terminalCA(t, c, tm, d, doc.CAPublicKey, lds.CAECDHAES128, nil, sk)
		if _, sw, err := nt.caSend(t, c, "00B09E00", nil, 4); err != nil || sw != 0x9000 {
			t.Fatalf("%v: after CA with a leading-zero K: %04X %v", d.Name(), sw, err)
		}
	}
}

func TestChipAuthenticationFaults(t *testing.T) {
	d, _ := pace.DomainByParameterID(13)
	doc := caSpecimen(t, 13)
	sk, _, _ := d.GenerateKey(rand.Reader, nil)
	// APDU 1 is SELECT, 2 MSE:Set AT, 3 GA, 4 the first under the new keys.
	t.Run("corrupt MAC of the GA answer", func(t *testing.T) {
		c, tm, _ := caChip(t, 13, nil, false, WithFaults(Faults{CorruptMACAt: 3}))
		pkIFD, _ := d.PublicKey(sk, nil)
		tm.caSend(t, c, "002241A4", appendDO(nil, 0x80, oidContent(lds.CAECDHAES128)), -1)
		_, _, err := tm.caSend(t, c, "00860000", appendDO(nil, 0x7C, appendDO(nil, 0x80, pkIFD)), 0)
		if !errors.Is(err, errMAC) {
			t.Fatalf("GA answer: %v, want a MAC error", err)
		}
	})
	t.Run("unprotected errors", func(t *testing.T) {
		c, tm, _ := caChip(t, 13, nil, false, WithFaults(Faults{UnprotectedErrors: true}))
		resp := txb(t, c, tm.protect(t, hx(t, "002241A6"), appendDO(nil, 0x91, []byte{4}), -1, false))
		if up(resp) != "6A80" {
			t.Fatalf("refusal: %X, want a bare 6A80", resp)
		}
	})
	t.Run("tear", func(t *testing.T) {
		c, tm, _ := caChip(t, 13, nil, false, WithFaults(Faults{TearAfter: 1}))
		_, err := c.Transmit(context.Background(), tm.protect(t, hx(t, "00860000"), appendDO(nil, 0x7C, appendDO(nil, 0x80, doc.CAPublicKey)), 0, false))
		if !errors.Is(err, ErrTorn) {
			t.Fatalf("GA after the tear: %v", err)
		}
	})
}

func TestCAConfig(t *testing.T) {
	doc := caSpecimen(t, 12)
	dir := t.TempDir()
	id7 := 7
	id, err := NewIdentity(specimenFiles(t), Config{ChipAuthentication: &CAConfig{Key: doc.CAKey, KeyID: &id7}})
	if err != nil {
		t.Fatal(err)
	}
	if err := id.Save(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, DefaultCAKeyFile))
	if err != nil || !bytes.Equal(b, doc.CAKey) {
		t.Fatalf("ca.key: %v", err)
	}
	js, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	if !bytes.Contains(js, []byte(`"chip_authentication"`)) || !bytes.Contains(js, []byte(`"key_id": 7`)) || bytes.Contains(js, []byte("Key\"")) {
		t.Fatalf("chip.json: %s", js)
	}
	back, err := LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(back)
	if err != nil {
		t.Fatal(err)
	}
	if k := c.caStaticKey(); k == nil || !bytes.Equal(k.pub, doc.CAPublicKey) || k.keyID != 7 || !k.hasKeyID || k.domain.Name() != "P-256" {
		t.Fatalf("loaded key: %+v", k)
	}

	neg := -1
	for _, tc := range []struct {
		name string
		cfg  *CAConfig
	}{
		{"no key", &CAConfig{}},
		{"garbage key", &CAConfig{Key: []byte("not a key")}},
		{"key file outside", &CAConfig{Key: doc.CAKey, KeyFile: "../ca.key"}},
		{"key file an LDS name", &CAConfig{Key: doc.CAKey, KeyFile: "DG14"}},
		{"negative key id", &CAConfig{Key: doc.CAKey, KeyID: &neg}},
		{"RSA key", &CAConfig{Key: pkcs8(t, aaRSA1024())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewIdentity(specimenFiles(t), Config{ChipAuthentication: tc.cfg}); !errors.Is(err, ErrInvalidIdentity) {
				t.Fatalf("err = %v, want ErrInvalidIdentity", err)
			}
		})
	}
	// A key file named in chip.json that is absent.
	if err := os.Remove(filepath.Join(dir, DefaultCAKeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadIdentity(dir); !errors.Is(err, ErrInvalidIdentity) {
		t.Fatalf("missing ca.key: %v", err)
	}
}

func TestParseCAPrivateKeyDomains(t *testing.T) {
	ids := []int{0, 1, 2, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}
	if testing.Short() {
		ids = []int{0, 12, 13}
	}
	for _, id := range ids {
		doc := caSpecimen(t, id)
		k, err := parseCAPrivateKey(doc.CAKey)
		if err != nil {
			t.Fatalf("id %d: %v", id, err)
		}
		if k.domain.ParameterID() != id || !bytes.Equal(k.pub, doc.CAPublicKey) || len(k.priv) != k.domain.ScalarLen() {
			t.Fatalf("id %d: %v, public key mismatch", id, k.domain.Name())
		}
	}
}

func FuzzCACommands(f *testing.F) {
	doc := caSpecimen(f, 13)
	_, pk, _ := func() ([]byte, []byte, error) {
		d, _ := pace.DomainByParameterID(13)
		return d.GenerateKey(rand.Reader, nil)
	}()
	f.Add(byte(0xA6), appendDO(nil, 0x91, pk))
	f.Add(byte(0xA4), appendDO(nil, 0x80, oidContent(lds.CAECDHAES128)))
	f.Add(byte(0x86), appendDO(nil, 0x7C, appendDO(nil, 0x80, pk)))
	f.Add(byte(0xA4), append(appendDO(nil, 0x80, oidContent(lds.CAECDHAES256)), 0x84, 0x01, 0x01))
	c := newChip(f, Config{ChipAuthentication: &CAConfig{Key: doc.CAKey}})
	f.Fuzz(func(t *testing.T, which byte, data []byte) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.st.sess, _ = newSession(smcrypto.TDES, make([]byte, 16), make([]byte, 16), make([]byte, 8))
		cmd := command{cla: claPlain, data: data, ne: 256}
		var r result
		switch which {
		case 0xA6:
			cmd.ins, cmd.p1, cmd.p2 = insManageSE, 0x41, 0xA6
			r = c.caSetKAT(cmd)
		case 0xA4:
			cmd.ins, cmd.p1, cmd.p2 = insManageSE, 0x41, 0xA4
			r = c.caSetAT(cmd)
		default:
			c.st.ca.at = smcrypto.AES128
			cmd.ins = insGeneralAuthenticate
			r = c.caGeneralAuthenticate(cmd)
		}
		if r.sw == swOK && which != 0xA4 && c.st.ca.pkIFD == nil {
			t.Fatal("success without a key agreement")
		}
	})
}

// BenchmarkChipAuthenticationChip is the chip's CPU for one Chip
// Authentication (the MSE:Set AT and GA handlers: key validation, K,
// session keys), beside the raw ECDH / DH of the same domain.
func BenchmarkChipAuthenticationChip(b *testing.B) {
	for _, id := range []int{13, 12, 2} {
		d, _ := pace.DomainByParameterID(id)
		doc := caSpecimen(b, id)
		sk, pk, _ := d.GenerateKey(rand.Reader, nil)
		b.Run(d.Name()+"/raw", func(b *testing.B) {
			for b.Loop() {
				if _, err := d.SharedSecret(sk, doc.CAPublicKey); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(d.Name()+"/chip", func(b *testing.B) {
			c, _, _ := caChip(b, id, nil, id < 8)
			mse := command{cla: claPlain, ins: insManageSE, p1: 0x41, p2: 0xA4, data: appendDO(nil, 0x80, oidContent(lds.CAECDHAES128))}
			if id < 8 {
				mse.data = appendDO(nil, 0x80, oidContent(lds.CADHAES128))
			}
			ga := command{cla: claPlain, ins: insGeneralAuthenticate, data: appendDO(nil, 0x7C, appendDO(nil, 0x80, pk)), ne: 256}
			for b.Loop() {
				c.mu.Lock()
				if r := c.caSetAT(mse); r.sw != swOK {
					b.Fatal(r.sw)
				}
				if r := c.caGeneralAuthenticate(ga); r.sw != swOK {
					b.Fatal(r.sw)
				}
				c.mu.Unlock()
			}
		})
	}
}

// TestCAPublishedMSESetAT: the published protected MSE:Set AT of the AES
// session in ../shared/vectors/icao9303.md is Chip Authentication's
// (DO80 id-CA-ECDH-AES-CBC-CMAC-128, DO84 key reference C3). A chip whose
// key has id 0xC3 verifies it and accepts it (protected 9000, SSC ..BC);
// one whose key has another id answers a protected 6A88.
func TestCAPublishedMSESetAT(t *testing.T) {
	doc := caSpecimen(t, 13)
	for _, tc := range []struct {
		id   int
		want uint16
	}{{0xC3, 0x9000}, {0xC4, 0x6A88}} {
		c := newChip(t, Config{ChipAuthentication: &CAConfig{Key: doc.CAKey, KeyID: &tc.id}})
		tm := &term{ci: smcrypto.AES128, kenc: hx(t, "cc86415f2ed7e8fd663b754265695ae1"),
			kmac: hx(t, "581e84b8ee06c4d3eee30461498d7fb3"), ssc: hx(t, "000000000000000000000000000000BA")}
		if err := c.SetSecureMessaging(tm.ci, tm.kenc, tm.kmac, tm.ssc); err != nil {
			t.Fatal(err)
		}
		resp := txb(t, c, hx(t, "0C2241A41D871101980953D37F67558690045D78A853B18A8E08929767A2CEF172E200"))
		tm.inc() // the command's SSC
		_, sw, err := tm.unprotect(resp)
		if err != nil || sw != tc.want {
			t.Fatalf("key id %X: response %X: sw %04X err %v, want %04X", tc.id, resp, sw, err, tc.want)
		}
		c.mu.Lock()
		pending := c.caPending()
		c.mu.Unlock()
		if pending != (tc.want == 0x9000) {
			t.Fatalf("key id %X: GA pending %v", tc.id, pending)
		}
	}
}
