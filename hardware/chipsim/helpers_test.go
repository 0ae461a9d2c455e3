package chipsim

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"borderid/internal/smcrypto"
)

// The test side of the conversation: a minimal terminal written for these
// tests from 9303-11 §4.3 and §9.8, independent of package reader.

func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func up(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// ICAO 9303-11 App. D values (shared/vectors/icao9303.md).
const (
	vecRNDIC   = "4608F91988702212"
	vecKIC     = "0B4F80323EB3191CB04970CB4052790B"
	vecKSenc   = "979EC13B1CBFE9DCD01AB0FED307EAE5"
	vecKSmac   = "F1CB1F1FB5ADF208806B89DC579DC1F8"
	vecSSC     = "887022120C06C226"
	vecEFCOM   = "60145F0104303130365F36063034303030305C026175"
	vecMRZInfo = "L898902C<369080619406236"
)

// The 9303 specimen MRZ of App. D (TD3).
const specimenTD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<" +
	"L898902C<3UTO6908061F9406236ZE184226B<<<<<14"

// dg1 wraps an MRZ as DG1: DO61 { DO5F1F mrz }.
func dg1(mrz string) []byte {
	inner := append([]byte{0x5F, 0x1F, byte(len(mrz))}, mrz...)
	return append([]byte{0x61, byte(len(inner))}, inner...)
}

// pattern is a file whose byte at i is i*7 mod 251, so offsets show.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7 % 251)
	}
	return b
}

// specimenFiles: EF.COM of App. D.4, the App. D DG1, a 40000-byte DG2 (so
// B1 reads pass 32767), a CardAccess in the master file.
func specimenFiles(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"COM":        hx(t, vecEFCOM),
		"DG1":        dg1(specimenTD3),
		"DG2":        pattern(40000),
		"SOD":        pattern(300),
		"CardAccess": hx(t, "3114300F060A04007F00070202040202020102"),
	}
}

func newChip(t testing.TB, cfg Config, opts ...Option) *Chip {
	t.Helper()
	id, err := NewIdentity(specimenFiles(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(id, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tx sends hex and returns the response in upper-case hex.
func tx(t testing.TB, c *Chip, apdu string) string {
	t.Helper()
	r, err := c.Transmit(context.Background(), hx(t, apdu))
	if err != nil {
		t.Fatalf("Transmit(%s): %v", apdu, err)
	}
	return up(r)
}

func txb(t testing.TB, c *Chip, apdu []byte) []byte {
	t.Helper()
	r, err := c.Transmit(context.Background(), apdu)
	if err != nil {
		t.Fatalf("Transmit(%X): %v", apdu, err)
	}
	if len(r) < 2 {
		t.Fatalf("Transmit(%X): response %X has no status word", apdu, r)
	}
	return r
}

// term is the test's terminal side of secure messaging.
type term struct {
	ci         smcrypto.Cipher
	kenc, kmac []byte
	ssc        []byte
}

func (tm *term) inc() {
	for i := len(tm.ssc) - 1; i >= 0; i-- {
		tm.ssc[i]++
		if tm.ssc[i] != 0 {
			return
		}
	}
}

// protect wraps a plain command given as header, data and Le (le < 0: no
// Le; le 0 means 256, or 65536 with ext). ext builds an extended APDU.
func (tm *term) protect(t testing.TB, hdr []byte, data []byte, le int, ext bool) []byte {
	t.Helper()
	tm.inc()
	bs := tm.ci.BlockSize()
	h := []byte{0x0C, hdr[1], hdr[2], hdr[3]}
	var dos []byte
	if len(data) > 0 {
		iv, err := smcrypto.SSCIV(tm.ci, tm.kenc, tm.ssc)
		if err != nil {
			t.Fatal(err)
		}
		ct, err := smcrypto.EncryptCBC(tm.ci, tm.kenc, iv, smcrypto.Pad(data, bs))
		if err != nil {
			t.Fatal(err)
		}
		if hdr[1]&1 == 1 {
			dos = appendDO(dos, 0x85, ct)
		} else {
			dos = appendDO(dos, 0x87, append([]byte{1}, ct...))
		}
	}
	if le >= 0 {
		if ext || le > 256 {
			dos = append(dos, 0x97, 0x02, byte(le>>8), byte(le))
		} else {
			dos = append(dos, 0x97, 0x01, byte(le))
		}
	}
	msg := append(append(append([]byte{}, tm.ssc...), smcrypto.Pad(h, bs)...), dos...)
	mac, err := smcrypto.MAC(tm.ci, tm.kmac, msg)
	if err != nil {
		t.Fatal(err)
	}
	body := append(append(dos, 0x8E, 0x08), mac...)
	out := append([]byte{}, h...)
	if ext {
		out = append(out, 0x00, byte(len(body)>>8), byte(len(body)))
		out = append(out, body...)
		return append(out, 0x00, 0x00)
	}
	out = append(out, byte(len(body)))
	out = append(out, body...)
	return append(out, 0x00)
}

func appendDO(b []byte, tag byte, v []byte) []byte {
	b = append(b, tag)
	switch n := len(v); {
	case n < 0x80:
		b = append(b, byte(n))
	case n < 0x100:
		b = append(b, 0x81, byte(n))
	default:
		b = append(b, 0x82, byte(n>>8), byte(n))
	}
	return append(b, v...)
}

var errMAC = errors.New("response MAC mismatch")

// unprotect checks and decrypts a protected response; it returns the data
// and the status word from DO99 (or the trailer when DO99 is omitted).
func (tm *term) unprotect(resp []byte) ([]byte, uint16, error) {
	if len(resp) < 2 {
		return nil, 0, errors.New("short response")
	}
	sw := uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1])
	body := resp[:len(resp)-2]
	tm.inc()
	var crypt []byte
	var odd bool
	var mac []byte
	covered := 0
	for p := 0; p < len(body); {
		if p+2 > len(body) {
			return nil, 0, errors.New("truncated DO")
		}
		tag := body[p]
		l, hl := int(body[p+1]), 2
		switch body[p+1] {
		case 0x81:
			l, hl = int(body[p+2]), 3
		case 0x82:
			l, hl = int(body[p+2])<<8|int(body[p+3]), 4
		}
		if p+hl+l > len(body) {
			return nil, 0, errors.New("truncated DO")
		}
		v := body[p+hl : p+hl+l]
		switch tag {
		case 0x87:
			crypt = v[1:]
		case 0x85:
			crypt, odd = v, true
		case 0x99:
			sw = uint16(v[0])<<8 | uint16(v[1])
		case 0x8E:
			mac = v
		default:
			return nil, 0, fmt.Errorf("unexpected DO %02X", tag)
		}
		p += hl + l
		if tag != 0x8E {
			covered = p
		}
	}
	if mac == nil {
		return nil, sw, errors.New("no DO8E")
	}
	want, err := smcrypto.MAC(tm.ci, tm.kmac, append(append([]byte{}, tm.ssc...), body[:covered]...))
	if err != nil {
		return nil, 0, err
	}
	if !bytes.Equal(want, mac) {
		return nil, sw, errMAC
	}
	_ = odd
	if crypt == nil {
		return nil, sw, nil
	}
	iv, err := smcrypto.SSCIV(tm.ci, tm.kenc, tm.ssc)
	if err != nil {
		return nil, 0, err
	}
	p, err := smcrypto.DecryptCBC(tm.ci, tm.kenc, iv, crypt)
	if err != nil {
		return nil, 0, err
	}
	data, err := smcrypto.Unpad(p)
	return data, sw, err
}

// sm sends a plain short command protected and returns the unprotected
// data and status word; it fails the test on a MAC error.
func (tm *term) sm(t testing.TB, c *Chip, hdr string, data []byte, le int) ([]byte, uint16) {
	t.Helper()
	resp := txb(t, c, tm.protect(t, hx(t, hdr), data, le, false))
	d, sw, err := tm.unprotect(resp)
	if err != nil {
		t.Fatalf("%s: response %X: %v", hdr, resp, err)
	}
	return d, sw
}

// bac runs BAC from the terminal side with the given MRZ information and
// terminal randoms and returns the session, or the failing status word.
func bac(t testing.TB, c *Chip, mrzInfo string, rndIFD, kIFD []byte) (*term, uint16) {
	t.Helper()
	r := txb(t, c, hx(t, "0084000008"))
	if len(r) != 10 || r[8] != 0x90 {
		t.Fatalf("GET CHALLENGE: %X", r)
	}
	rndIC := r[:8]
	sum := sha1.Sum([]byte(mrzInfo))
	kenc, _ := smcrypto.DeriveKey(smcrypto.TDES, sum[:16], 1)
	kmac, _ := smcrypto.DeriveKey(smcrypto.TDES, sum[:16], 2)
	s := append(append(append([]byte{}, rndIFD...), rndIC...), kIFD...)
	e, err := smcrypto.EncryptCBC(smcrypto.TDES, kenc, make([]byte, 8), s)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := smcrypto.MAC(smcrypto.TDES, kmac, e)
	cmd := append(append(append(hx(t, "0082000028"), e...), m...), 0x28)
	resp := txb(t, c, cmd)
	sw := uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1])
	if sw != 0x9000 {
		if len(resp) != 2 {
			t.Fatalf("EXTERNAL AUTHENTICATE failed with data: %X", resp)
		}
		return nil, sw
	}
	if len(resp) != 42 {
		t.Fatalf("EXTERNAL AUTHENTICATE: %X", resp)
	}
	mic, _ := smcrypto.MAC(smcrypto.TDES, kmac, resp[:32])
	if !bytes.Equal(mic, resp[32:40]) {
		t.Fatalf("M_IC mismatch")
	}
	rr, _ := smcrypto.DecryptCBC(smcrypto.TDES, kenc, make([]byte, 8), resp[:32])
	if !bytes.Equal(rr[:8], rndIC) || !bytes.Equal(rr[8:16], rndIFD) {
		t.Fatalf("R does not echo the randoms: %X", rr)
	}
	seed := make([]byte, 16)
	for i := range seed {
		seed[i] = kIFD[i] ^ rr[16+i]
	}
	ksenc, _ := smcrypto.DeriveKey(smcrypto.TDES, seed, 1)
	ksmac, _ := smcrypto.DeriveKey(smcrypto.TDES, seed, 2)
	ssc := append(append([]byte{}, rndIC[4:]...), rndIFD[4:]...)
	return &term{ci: smcrypto.TDES, kenc: ksenc, kmac: ksmac, ssc: ssc}, sw
}

// vecTerm is the App. D session, SSC as it stands after BAC.
func vecTerm(t testing.TB) *term {
	return &term{ci: smcrypto.TDES, kenc: hx(t, vecKSenc), kmac: hx(t, vecKSmac), ssc: hx(t, vecSSC)}
}

func setVecSession(t testing.TB, c *Chip) *term {
	t.Helper()
	tm := vecTerm(t)
	if err := c.SetSecureMessaging(tm.ci, tm.kenc, tm.kmac, tm.ssc); err != nil {
		t.Fatal(err)
	}
	return tm
}

const selectApp = "00A4040C07A0000002471001"

func swOf(b []byte) uint16 { return uint16(b[len(b)-2])<<8 | uint16(b[len(b)-1]) }

// protectDOs builds a protected command around arbitrary data objects,
// with a correct MAC over them, for tests of the chip's object checks.
func (tm *term) protectDOs(t testing.TB, hdr []byte, dos []byte) []byte {
	t.Helper()
	tm.inc()
	h := []byte{0x0C, hdr[1], hdr[2], hdr[3]}
	msg := append(append(append([]byte{}, tm.ssc...), smcrypto.Pad(h, tm.ci.BlockSize())...), dos...)
	mac, err := smcrypto.MAC(tm.ci, tm.kmac, msg)
	if err != nil {
		t.Fatal(err)
	}
	body := append(append(append([]byte{}, dos...), 0x8E, 0x08), mac...)
	return append(append(append(h, byte(len(body))), body...), 0x00)
}

// encDO87 encrypts b (padded unless raw) into a DO87 at the terminal's
// next SSC.
func (tm *term) encDO87(t testing.TB, b []byte, raw bool) []byte {
	t.Helper()
	if !raw {
		b = smcrypto.Pad(b, tm.ci.BlockSize())
	}
	ssc := append([]byte{}, tm.ssc...)
	for i := len(ssc) - 1; i >= 0; i-- {
		ssc[i]++
		if ssc[i] != 0 {
			break
		}
	}
	iv, _ := smcrypto.SSCIV(tm.ci, tm.kenc, ssc)
	ct, err := smcrypto.EncryptCBC(tm.ci, tm.kenc, iv, b)
	if err != nil {
		t.Fatal(err)
	}
	return appendDO(nil, 0x87, append([]byte{1}, ct...))
}
