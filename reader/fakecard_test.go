package reader

import (
	"bytes"
	"context"
	"crypto/subtle"
	"testing"

	"borderid/internal/smcrypto"
	"borderid/reader/lds"
)

// fakeCard is a minimal eMRTD written for these tests from ISO/IEC 7816-4
// and 9303-11 (it shares only internal/smcrypto with the reader): a master
// file and the eMRTD application, BAC, 3DES or AES secure messaging, READ
// BINARY B0/B1, and switches for the behaviours of real chips. The
// independent software chip (hardware/chipsim) is the real interoperability
// check; this one lets each length rule and quirk be provoked alone.
type fakeCard struct {
	t        testing.TB
	files    map[lds.File][]byte
	bacInfo  string
	rndIC    []byte
	kIC      []byte
	inApp    bool
	cur      lds.File
	sm       *cardSide
	denied   map[lds.File]bool
	reads    []readLog // every READ BINARY served: offset and Ne
	apdus    int
	wire     int // bytes in both directions
	protN    int
	pending  []byte
	transErr error // returned from Transmit once apdus reaches transErrAt
	transAt  int

	ext              bool // accepts extended APDUs
	maxResp          int  // never more than this many data bytes (0: no limit)
	wrongLengthAbove int  // 6700 when Ne exceeds it
	exactAbove       int  // 6Cxx (xx = exactAbove) when Ne exceeds it
	// 6700, or 6Cxx with the bytes that remain, when Ne reaches past the
	// end of the file.
	wrongLengthPastEnd, exactPastEnd bool
	eof6282                          bool // 6282 when the file ends before Ne
	selectNeedsP200                  bool // 6A86 to SELECT P2=0C
	selectGetResponse                bool // answer SELECT P2=00 with 61xx
	noSFI                            bool
	unprotectedErrors                bool
	omitDO99                         bool
	dropSMAt                         []int // protected command numbers answered with a plain 6987
	corruptMACAt                     int
	plainSuccessAt                   int
	maxOuterNe                       int // the largest Ne of a protected command seen
}

type readLog struct {
	file    lds.File
	odd     bool
	off, ne int
	served  int // file bytes answered
}

func newFakeCard(t testing.TB, files map[lds.File][]byte) *fakeCard {
	return &fakeCard{
		t: t, files: files, bacInfo: d3Info,
		rndIC: unhex(t, "4608F91988702212"), kIC: unhex(t, "0B4F80323EB3191CB04970CB4052790B"),
		denied: map[lds.File]bool{lds.FileDG3: true, lds.FileDG4: true},
	}
}

func sw2(sw StatusWord) []byte { return []byte{byte(sw >> 8), byte(sw)} }

type capdu struct {
	cla, ins, p1, p2 byte
	data             []byte
	ne               int
	ext              bool
}

// parseCAPDU decodes the four cases, short and extended (ISO/IEC 7816-4 §5.1).
func parseCAPDU(b []byte) (capdu, bool) {
	if len(b) < 4 {
		return capdu{}, false
	}
	c := capdu{cla: b[0], ins: b[1], p1: b[2], p2: b[3]}
	body := b[4:]
	le := func(v int, max int) int {
		if v == 0 {
			return max
		}
		return v
	}
	switch {
	case len(body) == 0:
	case len(body) == 1:
		c.ne = le(int(body[0]), 256)
	case body[0] != 0:
		lc := int(body[0])
		switch len(body) {
		case 1 + lc:
			c.data = body[1:]
		case 2 + lc:
			c.data, c.ne = body[1:1+lc], le(int(body[1+lc]), 256)
		default:
			return capdu{}, false
		}
	case len(body) == 3:
		c.ext, c.ne = true, le(int(body[1])<<8|int(body[2]), 65536)
	case len(body) > 3:
		c.ext = true
		lc := int(body[1])<<8 | int(body[2])
		switch len(body) {
		case 3 + lc:
			c.data = body[3:]
		case 5 + lc:
			c.data, c.ne = body[3:3+lc], le(int(body[3+lc])<<8|int(body[4+lc]), 65536)
		default:
			return capdu{}, false
		}
	default:
		return capdu{}, false
	}
	return c, true
}

func (fc *fakeCard) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	resp, err := fc.transmit(apdu)
	fc.wire += len(apdu) + len(resp)
	return resp, err
}

func (fc *fakeCard) transmit(apdu []byte) ([]byte, error) {
	fc.apdus++
	if fc.transErr != nil && fc.apdus >= fc.transAt {
		return nil, fc.transErr
	}
	c, ok := parseCAPDU(apdu)
	if !ok {
		return sw2(SWWrongLength), nil
	}
	if c.ext && !fc.ext {
		return sw2(SWWrongLength), nil
	}
	if c.ins == insGetResponse && fc.pending != nil {
		out := fc.pending
		fc.pending = nil
		return out, nil
	}
	if c.cla&0x0C == 0 {
		if fc.sm != nil {
			fc.sm = nil // a plain command ends secure messaging
			return sw2(SWSecurityNotSatisfied), nil
		}
		data, sw := fc.process(c)
		return fc.maybeSplit(c, append(data, sw2(sw)...)), nil
	}
	if fc.sm == nil {
		return sw2(SWSMDataObjectsMissing), nil
	}
	fc.protN++
	fc.maxOuterNe = max(fc.maxOuterNe, c.ne)
	for _, n := range fc.dropSMAt {
		if n == fc.protN {
			fc.sm = nil
			return sw2(SWSMDataObjectsMissing), nil
		}
	}
	plain, ok := fc.unwrap(c)
	if !ok {
		fc.sm = nil
		return sw2(SWSMDataObjectsIncorrect), nil
	}
	data, sw := fc.process(plain)
	if fc.plainSuccessAt == fc.protN {
		return append(data, 0x90, 0x00), nil
	}
	if fc.unprotectedErrors && sw != SWSuccess && !sw.Warning() {
		return sw2(sw), nil
	}
	resp := fc.sm.protect(data, sw, respOpts{odd: c.ins&1 == 1, noDO99: fc.omitDO99, badMAC: fc.corruptMACAt == fc.protN})
	return fc.maybeSplit(c, resp), nil
}

// maybeSplit answers SELECT P2=00 through 61xx when asked to.
func (fc *fakeCard) maybeSplit(c capdu, resp []byte) []byte {
	if fc.selectGetResponse && c.ins == insSelect && c.p2 == 0x00 && len(resp) > 2 {
		fc.pending = resp
		return []byte{0x61, byte(len(resp) - 2)}
	}
	return resp
}

// unwrap checks and decrypts a protected command (9303-11 §9.8).
func (fc *fakeCard) unwrap(c capdu) (capdu, bool) {
	cs := fc.sm
	cs.inc()
	var enc, do97, mac []byte
	var encTag byte
	var macIn []byte
	rest := c.data
	for len(rest) > 0 {
		if len(rest) < 2 {
			return capdu{}, false
		}
		tag, l, h := rest[0], int(rest[1]), 2
		if rest[1] == 0x81 && len(rest) > 2 {
			l, h = int(rest[2]), 3
		}
		if len(rest) < h+l {
			return capdu{}, false
		}
		v := rest[h : h+l]
		switch tag {
		case 0x85, 0x87:
			enc, encTag = v, tag
			macIn = append(macIn, rest[:h+l]...)
		case 0x97:
			do97 = v
			macIn = append(macIn, rest[:h+l]...)
		case 0x8E:
			mac = v
		default:
			return capdu{}, false
		}
		rest = rest[h+l:]
	}
	bs := cs.c.BlockSize()
	hdr := smcrypto.Pad([]byte{c.cla, c.ins, c.p1, c.p2}, bs)
	want, _ := smcrypto.MAC(cs.c, cs.kmac, append(append(append([]byte{}, cs.ssc...), hdr...), macIn...))
	if subtle.ConstantTimeCompare(want, mac) != 1 {
		return capdu{}, false
	}
	p := capdu{cla: c.cla &^ 0x0C, ins: c.ins, p1: c.p1, p2: c.p2}
	if enc != nil {
		if encTag == 0x87 {
			enc = enc[1:]
		}
		iv, _ := smcrypto.SSCIV(cs.c, cs.kenc, cs.ssc)
		pt, err := smcrypto.DecryptCBC(cs.c, cs.kenc, iv, enc)
		if err != nil {
			return capdu{}, false
		}
		if p.data, err = smcrypto.Unpad(pt); err != nil {
			return capdu{}, false
		}
	}
	switch len(do97) {
	case 1:
		p.ne = int(do97[0])
		if p.ne == 0 {
			p.ne = 256
		}
	case 2:
		p.ne = int(do97[0])<<8 | int(do97[1])
		if p.ne == 0 {
			p.ne = 65536
		}
	}
	return p, true
}

func (fc *fakeCard) fileBySFI(sfi byte) (lds.File, bool) {
	for f := range fc.files {
		if f.SFI() == sfi && f.InMF() == !fc.inApp {
			return f, true
		}
	}
	return 0, false
}

func (fc *fakeCard) fileByFID(fid uint16) (lds.File, bool) {
	for f := range fc.files {
		if f.FID() == fid && f.InMF() == !fc.inApp {
			return f, true
		}
	}
	return 0, false
}

func (fc *fakeCard) process(c capdu) ([]byte, StatusWord) {
	switch c.ins {
	case insSelect:
		switch c.p1 {
		case 0x04:
			if !bytes.Equal(c.data, []byte(aidEMRTD)) {
				return nil, SWFileNotFound
			}
			fc.inApp, fc.cur = true, 0
			return nil, SWSuccess
		case 0x02:
			if len(c.data) != 2 {
				return nil, SWWrongLength
			}
			if fc.inApp && fc.sm == nil {
				return nil, SWSecurityNotSatisfied
			}
			f, ok := fc.fileByFID(uint16(c.data[0])<<8 | uint16(c.data[1]))
			if !ok {
				return nil, SWFileNotFound
			}
			switch c.p2 {
			case 0x0C:
				if fc.selectNeedsP200 {
					return nil, SWIncorrectP1P2
				}
				fc.cur = f
				return nil, SWSuccess
			case 0x00:
				fc.cur = f
				n := len(fc.files[f])
				return []byte{0x62, 0x08, 0x80, 0x02, byte(n >> 8), byte(n), 0x83, 0x02, c.data[0], c.data[1]}, SWSuccess
			}
			return nil, SWIncorrectP1P2
		}
		return nil, SWIncorrectP1P2
	case insReadBinary, insReadBinaryOdd:
		if fc.inApp && fc.sm == nil {
			return nil, SWSecurityNotSatisfied
		}
		var off int
		if c.ins == insReadBinary && c.p1&0x80 != 0 {
			if fc.noSFI {
				return nil, SWIncorrectP1P2
			}
			f, ok := fc.fileBySFI(c.p1 & 0x1F)
			if !ok {
				return nil, SWFileNotFound
			}
			fc.cur, off = f, int(c.p2)
		} else if c.ins == insReadBinary {
			off = int(c.p1)<<8 | int(c.p2)
		} else {
			if c.p1 != 0 || c.p2 != 0 || len(c.data) < 3 || c.data[0] != 0x54 || int(c.data[1]) != len(c.data)-2 {
				return nil, SWIncorrectData
			}
			for _, b := range c.data[2:] {
				off = off<<8 | int(b)
			}
		}
		if fc.cur == 0 {
			return nil, SWCommandNotAllowed
		}
		if fc.denied[fc.cur] {
			return nil, SWSecurityNotSatisfied
		}
		fc.reads = append(fc.reads, readLog{file: fc.cur, odd: c.ins == insReadBinaryOdd, off: off, ne: c.ne})
		file := fc.files[fc.cur]
		if off > len(file) {
			return nil, SWWrongParameters
		}
		if fc.wrongLengthAbove > 0 && c.ne > fc.wrongLengthAbove {
			return nil, SWWrongLength
		}
		if fc.exactAbove > 0 && c.ne > fc.exactAbove {
			return nil, StatusWord(0x6C00 | fc.exactAbove&0xFF)
		}
		rem := len(file) - off
		if c.ne > rem && c.ins == insReadBinary && fc.wrongLengthPastEnd {
			return nil, SWWrongLength
		}
		if c.ne > rem && c.ins == insReadBinary && fc.exactPastEnd && rem > 0 && rem < 256 {
			return nil, StatusWord(0x6C00 | rem)
		}
		room := c.ne
		if c.ins == insReadBinaryOdd {
			// The DO53 header counts against Ne.
			room = min(rem, c.ne)
			for room > 0 && 1+berLenSize(room)+room > c.ne {
				room--
			}
		}
		n := min(room, rem)
		if fc.maxResp > 0 {
			n = min(n, fc.maxResp)
		}
		data := file[off : off+n]
		fc.reads[len(fc.reads)-1].served = n
		sw := SWSuccess
		if n == rem && n < room && fc.eof6282 {
			sw = SWEndOfFile
		}
		if c.ins == insReadBinaryOdd {
			return tlv(0x53, data), sw
		}
		return append([]byte{}, data...), sw
	case insGetChallenge:
		return append([]byte{}, fc.rndIC...), SWSuccess
	case insExternalAuth:
		return fc.externalAuth(c.data)
	}
	return nil, SWInstructionNotSupported
}

// externalAuth is the chip's side of 9303-11 §4.3.3.
func (fc *fakeCard) externalAuth(d []byte) ([]byte, StatusWord) {
	kenc, kmac, err := BACKeys(fc.bacInfo)
	if err != nil || len(d) != 40 {
		return nil, SWAuthenticationFailed
	}
	if m, _ := smcrypto.RetailMAC(kmac, d[:32]); !bytes.Equal(m, d[32:]) {
		return nil, SWAuthenticationFailed
	}
	s, _ := smcrypto.DecryptCBC(smcrypto.TDES, kenc, make([]byte, 8), d[:32])
	if !bytes.Equal(s[8:16], fc.rndIC) {
		return nil, SWAuthenticationFailed
	}
	rndIFD, kIFD := s[:8], s[16:32]
	r := append(append(append([]byte{}, fc.rndIC...), rndIFD...), fc.kIC...)
	e, _ := smcrypto.EncryptCBC(smcrypto.TDES, kenc, make([]byte, 8), r)
	m, _ := smcrypto.RetailMAC(kmac, e)
	seed := make([]byte, 16)
	subtle.XORBytes(seed, kIFD, fc.kIC)
	ksenc, _ := smcrypto.DeriveKey(smcrypto.TDES, seed, 1)
	ksmac, _ := smcrypto.DeriveKey(smcrypto.TDES, seed, 2)
	fc.sm = newCardSide(fc.t, smcrypto.TDES, ksenc, ksmac, append(append([]byte{}, fc.rndIC[4:]...), rndIFD[4:]...))
	return append(e, m...), SWSuccess
}

// specimenFiles builds a small LDS: EF.COM listing DG1, DG2 (dg2Size
// bytes) and DG3, those DGs and an EF.SOD-shaped element.
func specimenFiles(t testing.TB, dg2Size int, extra ...lds.File) map[lds.File][]byte {
	t.Helper()
	dgs := append([]lds.File{lds.FileDG1, lds.FileDG2, lds.FileDG3}, extra...)
	com, err := lds.EncodeCOM("0107", "040000", dgs)
	if err != nil {
		t.Fatal(err)
	}
	files := map[lds.File][]byte{lds.FileCOM: com}
	for _, f := range dgs {
		files[f] = element(t, byte(f.Tag()), 30+int(f))
	}
	files[lds.FileDG2] = element(t, 0x75, dg2Size)
	files[lds.FileSOD] = element(t, 0x77, 1500)
	return files
}

// element is a TLV element of total size n with a recognisable pattern.
func element(t testing.TB, tag byte, n int) []byte {
	t.Helper()
	for hdr := 2; hdr <= 4; hdr++ {
		v := make([]byte, n-hdr)
		for i := range v {
			v[i] = byte(i*7 + i/251)
		}
		if e := tlv(tag, v); len(e) == n {
			return e
		}
	}
	t.Fatalf("cannot build a %d-byte element", n)
	return nil
}
