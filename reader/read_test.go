package reader

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"borderid/internal/smcrypto"
	"borderid/reader/lds"
)

func readOpts(t testing.TB) ReadOptions {
	return ReadOptions{BACKeyInfo: d3Info, Rand: bytes.NewReader(bytes.Repeat(unhex(t, d3RndIFD+d3KIFD), 4))}
}

// checkFiles asserts that every file the card has (but the refused and
// skipped ones) came back byte for byte.
func checkFiles(t *testing.T, fc *fakeCard, res *Result, skip ...lds.File) {
	t.Helper()
	for f, want := range fc.files {
		if slices.Contains(skip, f) {
			if _, ok := res.Files[f]; ok {
				t.Errorf("%v read although it should not be", f)
			}
			continue
		}
		if got := res.Files[f]; !bytes.Equal(got, want) {
			t.Errorf("%v: got %d bytes, want %d", f, len(got), len(want))
		}
	}
}

// checkNeverPastEnd asserts that no READ BINARY asked for bytes beyond
// the end of a file whose length the reader could know: every read after
// the chip served the file's TLV header, at offset 0 as elsewhere (a
// retry at offset 0, a probe after a refusal). Only reads before that may
// reach past the end: the reader cannot know the length yet, and ISO/IEC
// 7816-4 §11.3.3 lets the chip answer with what remains. EF.ATR/INFO and
// EF.CVCA hold no single element and are read until the chip says they
// ended, so they are not checked.
func checkNeverPastEnd(t *testing.T, fc *fakeCard) {
	t.Helper()
	served := map[lds.File]int{}
	for _, r := range fc.reads {
		if r.file == lds.FileATRInfo || r.file == lds.FileCVCA {
			continue
		}
		file := fc.files[r.file]
		n := r.ne
		if r.odd {
			n -= 1 + berLenSize(n)
		}
		if served[r.file] >= headerLen(file) && r.off+n > len(file) {
			t.Errorf("%v: read of %d at %d past the end %d", r.file, n, r.off, len(file))
		}
		served[r.file] = max(served[r.file], r.off+r.served)
	}
}

// headerLen is the size of the tag and length of the TLV element that
// starts b (ISO/IEC 7816-4 §5.2.2): enough to know the file's length.
func headerLen(b []byte) int {
	if len(b) < 2 {
		return len(b) + 1
	}
	n := 1
	if b[0]&0x1F == 0x1F {
		n++
	}
	if n >= len(b) {
		return len(b) + 1
	}
	if l := b[n]; l >= 0x80 {
		n += int(l & 0x7F)
	}
	return n + 1
}

func TestReadBAC3DES(t *testing.T) {
	fc := newFakeCard(t, specimenFiles(t, 20000))
	var progress []string
	opts := readOpts(t)
	var last = map[string][2]int{}
	opts.Progress = func(file string, read, total int) {
		progress = append(progress, file)
		last[file] = [2]int{read, total}
	}
	res, err := Read(context.Background(), fc, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, fc, res, lds.FileDG3)
	if !slices.Equal(res.NotAuthorised, []lds.File{lds.FileDG3}) || len(res.NotFound) != 0 {
		t.Errorf("not authorised %v, not found %v", res.NotAuthorised, res.NotFound)
	}
	if res.AccessControl != "BAC" || len(res.Quirks) != 0 {
		t.Errorf("access control %q, quirks %v", res.AccessControl, res.Quirks)
	}
	// CardAccess, ATR/INFO (both absent), SELECT, GET CHALLENGE, EXTERNAL
	// AUTHENTICATE, then one READ BINARY per 231 bytes: COM 1, DG1 1,
	// DG2 ceil(20000/231) = 87, SOD ceil(1500/231) = 7.
	if res.APDUs != 5+1+1+87+7 || res.APDUs != fc.apdus {
		t.Errorf("%d APDUs (card saw %d), want 101", res.APDUs, fc.apdus)
	}
	if res.Bytes != fc.wire {
		t.Errorf("%d bytes counted, card saw %d", res.Bytes, fc.wire)
	}
	if res.MaxLe != 231 || res.ExtendedLength {
		t.Errorf("MaxLe %d extended %v", res.MaxLe, res.ExtendedLength)
	}
	checkNeverPastEnd(t, fc)
	// The last chunk of DG2 is sized from its length: 20000 - 86*231.
	var lastDG2 readLog
	for _, r := range fc.reads {
		if r.file == lds.FileDG2 {
			lastDG2 = r
		}
	}
	if lastDG2.off != 19866 || lastDG2.ne != 134 {
		t.Errorf("last DG2 read %+v, want offset 19866 Ne 134", lastDG2)
	}
	if got := last["DG2"]; got != [2]int{20000, 20000} {
		t.Errorf("DG2 progress ended at %v", got)
	}
	if !slices.Contains(progress, "SOD") {
		t.Errorf("no progress for SOD: %v", progress)
	}
}

// The AES length rule: at most 223 bytes per protected short answer.
func TestReadFileAES(t *testing.T) {
	fc := newFakeCard(t, specimenFiles(t, 5000))
	m, cs := aesPair(t)
	fc.sm, fc.inApp = cs, true
	s := NewSession(fc, SessionOptions{})
	s.SetSecureMessaging(m)
	got, err := s.ReadFile(context.Background(), lds.FileDG2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, fc.files[lds.FileDG2]) {
		t.Fatal("DG2 differs")
	}
	for _, r := range fc.reads {
		if r.ne > 223 {
			t.Errorf("Ne %d > 223 under AES", r.ne)
		}
	}
	if s.MaxLe() != 223 || s.APDUs() != 23 { // ceil(5000/223)
		t.Errorf("MaxLe %d, %d APDUs", s.MaxLe(), s.APDUs())
	}
	checkNeverPastEnd(t, fc)
}

// atrWithCapabilities is 3B 85 80 01 + historical bytes 80 73 00 00 40
// (category 80, card capabilities with "extended Lc and Le") + TCK.
func atrWithCapabilities(third byte) []byte {
	atr := []byte{0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x00, 0x00, third}
	var tck byte
	for _, b := range atr[1:] {
		tck ^= b
	}
	return append(atr, tck)
}

func TestReadExtendedLength(t *testing.T) {
	atrInfo := unhex(t, "7F660802020400020208 00")
	tests := []struct {
		name     string
		atr      []byte
		atrInfo  []byte
		maxNe    int
		wantLe   int
		wantExt  bool
		dg2Reads int
	}{
		{"not advertised", nil, nil, 0, 231, false, 87},
		{"ATR bit clear", atrWithCapabilities(0x00), nil, 0, 231, false, 87},
		{"ATR", atrWithCapabilities(0x40), nil, 0, 65511, true, 1},
		{"ATR capped by reader", atrWithCapabilities(0x40), nil, 4096, 4071, true, 5},
		// A response APDU of 2048 bytes: 2046 data bytes, whose protected
		// form holds 2023 plain bytes under 3DES.
		{"EF.ATR/INFO 7F66 max 2048", nil, atrInfo, 0, 2023, true, 10},
		// A response APDU of 200 bytes (198 data bytes) binds even though
		// it is below a short APDU's 256 (the command side, 1024, offers
		// extended length): 175 plain bytes, short APDUs.
		{"EF.ATR/INFO 7F66 response 200", nil, unhex(t, "7F660802020400020200C8"), 0, 175, false, 115},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := specimenFiles(t, 20000)
			if tc.atrInfo != nil {
				files[lds.FileATRInfo] = tc.atrInfo
			}
			fc := newFakeCard(t, files)
			fc.ext = true // the card could, but may only be asked if it says so
			opts := readOpts(t)
			opts.ATR, opts.MaxNe = tc.atr, tc.maxNe
			res, err := Read(context.Background(), fc, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkFiles(t, fc, res, lds.FileDG3)
			if res.MaxLe != tc.wantLe || res.ExtendedLength != tc.wantExt {
				t.Errorf("MaxLe %d extended %v, want %d %v", res.MaxLe, res.ExtendedLength, tc.wantLe, tc.wantExt)
			}
			n := 0
			for _, r := range fc.reads {
				// The master file's files are read before EF.ATR/INFO
				// tells the maxima (EF.ATR/INFO itself among them).
				if r.ne > tc.wantLe && !r.file.InMF() {
					t.Errorf("Ne %d above %d", r.ne, tc.wantLe)
				}
				if r.file == lds.FileDG2 {
					n++
				}
			}
			if n != tc.dg2Reads {
				t.Errorf("%d DG2 reads, want %d", n, tc.dg2Reads)
			}
			// In extended form the protected commands' own Le never asks
			// for more than the chip advertised (response data bytes), nor
			// more than needed. (Short protected commands keep Le 00, as
			// 9303-11 §9.8 and App. D.4 have it.)
			if e, _ := ExtendedLengthFromATRInfo(tc.atrInfo); tc.wantExt && e.MaxNe > 0 && fc.maxOuterNe > e.MaxNe {
				t.Errorf("protected Le %d above the advertised %d", fc.maxOuterNe, e.MaxNe)
			}
			if tc.wantExt && fc.maxOuterNe != protectedSize(smcrypto.TDES, tc.wantLe, false) {
				t.Errorf("largest protected Le %d, want %d for Ne %d", fc.maxOuterNe, protectedSize(smcrypto.TDES, tc.wantLe, false), tc.wantLe)
			}
			checkNeverPastEnd(t, fc)
		})
	}
}

func TestReadStepDown(t *testing.T) {
	tests := []struct {
		name     string
		set      func(*fakeCard)
		wantLe   int
		dg2Reads int
	}{
		// EF.COM and DG1 are shorter than 100 bytes: their first reads
		// (231, refused) are followed by an 8-byte header probe, and the
		// refusals say nothing about the chip since the files end before
		// 231. DG2's refused 231 lies inside its 20000 bytes: the limit
		// is below 231, and bisection between the largest full answer so
		// far (23 bytes, a short file's remainder) and the smallest
		// refusal settles on exactly 100: 231 refused, 8, 127 refused, 75,
		// 101 refused, 88, 94, 97, 99, 100, then 100 per read: 205 reads,
		// 3 refused. (Halving settled at 57 and took 351.)
		{"6700", func(fc *fakeCard) { fc.wrongLengthAbove = 100 }, 100, 205},
		// 6C80 to EF.COM's and DG1's first reads says nothing (both are
		// shorter than 128); to DG2's it does: 128 from then on, 1 + 157.
		{"6Cxx", func(fc *fakeCard) { fc.exactAbove = 128 }, 128, 158},
		// A chip that serves 100 bytes with 9000: learnt on DG2's first read.
		{"short 9000", func(fc *fakeCard) { fc.maxResp = 100 }, 100, 200},
		// A chip that refuses any Ne beyond the end of the file with 6700:
		// the over-long first reads of the short files must not cap the
		// session (EF.COM and DG1 each cost a refused 231 and an 8-byte
		// probe). DG2 is longer than 231: 87 reads as on a perfect chip.
		{"6700 past the end", func(fc *fakeCard) { fc.wrongLengthPastEnd = true }, 231, 87},
		// The same with 6Cxx giving the bytes that remain (the ISO/IEC
		// 7816-4 meaning of 6Cxx for Ne beyond the end).
		{"6Cxx past the end", func(fc *fakeCard) { fc.exactPastEnd = true }, 231, 87},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := newFakeCard(t, specimenFiles(t, 20000))
			tc.set(fc)
			res, err := Read(context.Background(), fc, readOpts(t))
			if err != nil {
				t.Fatal(err)
			}
			checkFiles(t, fc, res, lds.FileDG3)
			if res.MaxLe != tc.wantLe {
				t.Errorf("MaxLe %d, want %d", res.MaxLe, tc.wantLe)
			}
			n := 0
			var seq []int
			for _, r := range fc.reads {
				if r.file == lds.FileDG2 {
					n++
					if len(seq) < 10 {
						seq = append(seq, r.ne)
					}
				}
			}
			if n != tc.dg2Reads {
				t.Errorf("%d DG2 reads, want %d", n, tc.dg2Reads)
			}
			t.Logf("%d APDUs; DG2 Ne: %v ...", res.APDUs, seq)
			checkNeverPastEnd(t, fc)
		})
	}
}

// Offsets from 32768 on go through B1 with DO54, answered in DO53 (inside
// DO85 under secure messaging, plain otherwise).
func TestReadBeyond32K(t *testing.T) {
	for _, plain := range []bool{false, true} {
		name := map[bool]string{false: "SM", true: "plain"}[plain]
		t.Run(name, func(t *testing.T) {
			files := specimenFiles(t, 40000)
			if plain {
				files = map[lds.File][]byte{lds.FileCardAccess: element(t, 0x31, 40000)}
			}
			fc := newFakeCard(t, files)
			s := NewSession(fc, SessionOptions{})
			f := lds.FileCardAccess
			if !plain {
				m, cs := tdesPair(t)
				fc.sm, fc.inApp = cs, true
				s.SetSecureMessaging(m)
				f = lds.FileDG2
			}
			got, err := s.ReadFile(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, fc.files[f]) {
				t.Fatal("file differs")
			}
			odd := 0
			for _, r := range fc.reads {
				if r.odd != (r.off >= 32768) {
					t.Errorf("read at %d odd=%v", r.off, r.odd)
				}
				if r.odd {
					odd++
				}
			}
			if odd == 0 {
				t.Error("no B1 read")
			}
			checkNeverPastEnd(t, fc)
		})
	}
}

// A chip that refuses SELECT P2=0C and answers P2=00 through 61xx, and
// does not read by SFI.
func TestReadSelectGetResponse(t *testing.T) {
	fc := newFakeCard(t, specimenFiles(t, 3000))
	fc.selectNeedsP200, fc.selectGetResponse, fc.noSFI = true, true, true
	res, err := Read(context.Background(), fc, readOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, fc, res, lds.FileDG3)
	if want := []string{"sfi_unsupported", "select_p2_00"}; !slices.Equal(res.Quirks, want) {
		t.Errorf("quirks %v, want %v", res.Quirks, want)
	}
}

func TestReadQuirks(t *testing.T) {
	cardAccessPACE := unhex(t, "3114 3012 060A04007F00070202040202 020102 02010D")
	// 40 bytes, well formed, without PACE: TerminalAuthenticationInfo
	// (id-TA, version 1) and ActiveAuthenticationInfo (version 1,
	// ecdsa-with-SHA256).
	cardAccessNoPACE := unhex(t, "3126 300D 060804007F00070202 02 020101 "+
		"3015 0606678108010105 020101 06082A8648CE3D040302")
	tests := []struct {
		name       string
		files      func(map[lds.File][]byte)
		set        func(*fakeCard)
		quirks     []string
		notAuth    []lds.File
		notFound   []lds.File
		unverified []lds.File
		skip       []lds.File
		wantAPDUs  int
		opts       func(*ReadOptions)
	}{
		{
			// The refusals come without secure messaging: nothing proves
			// the chip sent them, so DG5 and DG14 are unverified, not
			// absent or refused.
			name: "unprotected errors",
			files: func(f map[lds.File][]byte) {
				f[lds.FileCOM], _ = lds.EncodeCOM("0107", "040000", []lds.File{lds.FileDG1, lds.FileDG5, lds.FileDG14})
				delete(f, lds.FileDG2)
				delete(f, lds.FileDG3)
				f[lds.FileDG14] = element(t, 0x6E, 50)
			},
			set:        func(fc *fakeCard) { fc.unprotectedErrors = true; fc.denied[lds.FileDG14] = true },
			quirks:     []string{"sm_unprotected_error"},
			unverified: []lds.File{lds.FileDG5, lds.FileDG14},
			skip:       []lds.File{lds.FileDG14},
		},
		{
			// The same refusals MAC-protected prove what they say.
			name: "protected errors",
			files: func(f map[lds.File][]byte) {
				f[lds.FileCOM], _ = lds.EncodeCOM("0107", "040000", []lds.File{lds.FileDG1, lds.FileDG5, lds.FileDG14})
				delete(f, lds.FileDG2)
				delete(f, lds.FileDG3)
				f[lds.FileDG14] = element(t, 0x6E, 50)
			},
			set:      func(fc *fakeCard) { fc.denied[lds.FileDG14] = true },
			notAuth:  []lds.File{lds.FileDG14},
			notFound: []lds.File{lds.FileDG5},
			skip:     []lds.File{lds.FileDG14},
		},
		{
			name:    "no DO99",
			set:     func(fc *fakeCard) { fc.omitDO99 = true },
			quirks:  []string{"sm_no_do99"},
			notAuth: []lds.File{lds.FileDG3},
			skip:    []lds.File{lds.FileDG3},
		},
		{
			name:    "SM dropped once",
			set:     func(fc *fakeCard) { fc.dropSMAt = []int{5} }, // inside DG2
			quirks:  []string{"sm_reestablished"},
			notAuth: []lds.File{lds.FileDG3},
			skip:    []lds.File{lds.FileDG3},
			// 101 + the dropped command + SELECT, GET CHALLENGE, EXTERNAL
			// AUTHENTICATE + SELECT EF DG2 to resume.
			wantAPDUs: 101 + 5,
		},
		{
			// This card lists PACE but answers MSE:Set AT with 6D00: with
			// the fallback allowed the read goes on with BAC and says so.
			name:    "PACE offered, fails, BAC fallback allowed",
			files:   func(f map[lds.File][]byte) { f[lds.FileCardAccess] = cardAccessPACE },
			opts:    func(o *ReadOptions) { o.AllowBACFallback = true },
			quirks:  []string{"pace_offered_bac_used"},
			notAuth: []lds.File{lds.FileDG3},
			skip:    []lds.File{lds.FileDG3},
		},
		{
			name:    "CardAccess without PACE",
			files:   func(f map[lds.File][]byte) { f[lds.FileCardAccess] = cardAccessNoPACE },
			notAuth: []lds.File{lds.FileDG3},
			skip:    []lds.File{lds.FileDG3},
		},
		{
			// A PACEDomainParameterInfo is under id-PACE but offers
			// nothing without a PACEInfo.
			name: "PACE domain parameters only",
			files: func(f map[lds.File][]byte) {
				f[lds.FileCardAccess] = unhex(t, "311B 3019 060904007F000702020402 300C 060704007F00070102 02010D")
			},
			notAuth: []lds.File{lds.FileDG3},
			skip:    []lds.File{lds.FileDG3},
		},
		{
			// Not SecurityInfos: the raw file is kept, BAC goes on.
			name:    "CardAccess malformed",
			files:   func(f map[lds.File][]byte) { f[lds.FileCardAccess] = element(t, 0x31, 40) },
			quirks:  []string{"cardaccess_malformed"},
			notAuth: []lds.File{lds.FileDG3},
			skip:    []lds.File{lds.FileDG3},
		},
		{
			// The chip has EF.CardAccess but its bytes are no TLV element
			// (an indefinite length): the read goes on, the quirk is noted.
			name:    "CardAccess not a TLV element",
			files:   func(f map[lds.File][]byte) { f[lds.FileCardAccess] = []byte{0x31, 0x80, 0x00, 0x00} },
			quirks:  []string{"cardaccess_malformed"},
			notAuth: []lds.File{lds.FileDG3},
			skip:    []lds.File{lds.FileDG3, lds.FileCardAccess},
		},
		{
			name: "CardAccess with PACE after garbage",
			files: func(f map[lds.File][]byte) {
				f[lds.FileCardAccess] = unhex(t, "3117 3012 060A04007F00070202040202 020102 02010D 0401FF")
			},
			quirks:  []string{"cardaccess_malformed"},
			notAuth: []lds.File{lds.FileDG3},
			skip:    []lds.File{lds.FileDG3},
		},
		{
			name: "6282 at end of file",
			files: func(f map[lds.File][]byte) {
				f[lds.FileCardAccess] = cardAccessNoPACE
			},
			set:     func(fc *fakeCard) { fc.eof6282 = true },
			notAuth: []lds.File{lds.FileDG3},
			skip:    []lds.File{lds.FileDG3},
			// Plain 6282 data does not count: CardAccess is asked again for
			// exactly its 40 bytes. Under SM the protected 6282 answers count.
			wantAPDUs: 101 + 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := specimenFiles(t, 20000)
			if tc.files != nil {
				tc.files(files)
			}
			fc := newFakeCard(t, files)
			if tc.set != nil {
				tc.set(fc)
			}
			opts := readOpts(t)
			if tc.opts != nil {
				tc.opts(&opts)
			}
			res, err := Read(context.Background(), fc, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkFiles(t, fc, res, tc.skip...)
			if !slices.Equal(res.Quirks, tc.quirks) {
				t.Errorf("quirks %v, want %v", res.Quirks, tc.quirks)
			}
			if !slices.Equal(res.NotAuthorised, tc.notAuth) || !slices.Equal(res.NotFound, tc.notFound) || !slices.Equal(res.Unverified, tc.unverified) {
				t.Errorf("not authorised %v, not found %v, unverified %v", res.NotAuthorised, res.NotFound, res.Unverified)
			}
			if tc.wantAPDUs != 0 && res.APDUs != tc.wantAPDUs {
				t.Errorf("%d APDUs, want %d", res.APDUs, tc.wantAPDUs)
			}
		})
	}
}

var errUnplugged = errors.New("test: card removed")

func TestReadFailures(t *testing.T) {
	tests := []struct {
		name   string
		set    func(*fakeCard)
		target []error
	}{
		{"wrong MRZ", func(fc *fakeCard) { fc.bacInfo = "X00000000<000000000000000" }, []error{ErrBACFailed}},
		{"bad MAC from the chip", func(fc *fakeCard) { fc.corruptMACAt = 3 }, []error{ErrSecureMessaging, ErrBadMAC}},
		{"plain 9000 downgrade", func(fc *fakeCard) { fc.plainSuccessAt = 2 }, []error{ErrSecureMessaging, ErrDowngrade}},
		{"SM dropped twice", func(fc *fakeCard) { fc.dropSMAt = []int{5, 9} }, []error{ErrSMDropped}},
		{"transport error", func(fc *fakeCard) { fc.transErr, fc.transAt = errUnplugged, 20 }, []error{errUnplugged}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := newFakeCard(t, specimenFiles(t, 20000))
			tc.set(fc)
			res, err := Read(context.Background(), fc, readOpts(t))
			for _, target := range tc.target {
				if !errors.Is(err, target) {
					t.Fatalf("err %v, want %v", err, target)
				}
			}
			if res == nil {
				t.Fatal("no partial result")
			}
			if _, ok := res.Files[lds.FileDG2]; ok {
				t.Error("DG2 returned although the read failed")
			}
		})
	}
}

func TestReadOptionsRefusals(t *testing.T) {
	fc := newFakeCard(t, specimenFiles(t, 100))
	if _, err := Read(context.Background(), fc, ReadOptions{Rand: bytes.NewReader(nil)}); !errors.Is(err, ErrNoKey) {
		t.Errorf("no key: %v", err)
	}
	if _, err := Read(context.Background(), fc, ReadOptions{BACKeyInfo: d3Info}); !errors.Is(err, ErrNoRandom) {
		t.Errorf("no random source: %v", err)
	}
	if fc.apdus != 0 {
		t.Errorf("%d APDUs sent for refused options", fc.apdus)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, fc, readOpts(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// Files given explicitly are read instead of EF.COM's list.
func TestReadSelectedFiles(t *testing.T) {
	fc := newFakeCard(t, specimenFiles(t, 20000))
	opts := readOpts(t)
	opts.Files = []lds.File{lds.FileDG1, lds.FileDG4}
	res, err := Read(context.Background(), fc, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || !bytes.Equal(res.Files[lds.FileDG1], fc.files[lds.FileDG1]) {
		t.Errorf("files %v", res.Files)
	}
	if !slices.Equal(res.NotAuthorised, []lds.File{lds.FileDG4}) {
		t.Errorf("not authorised %v", res.NotAuthorised)
	}
}

// Debug logs name commands and status words; they never carry the MRZ
// key-seed information or file contents.
func TestReadLogsNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	fc := newFakeCard(t, specimenFiles(t, 500))
	opts := readOpts(t)
	opts.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if _, err := Read(context.Background(), fc, opts); err != nil {
		t.Fatal(err)
	}
	log := buf.String()
	if !strings.Contains(log, "READ BINARY") {
		t.Fatal("no debug records")
	}
	for _, secret := range []string{"L898902C", "0107", hexOf(fc.files[lds.FileDG1][2:10])} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains %q", secret)
		}
	}
}

func TestExtendedLengthParsing(t *testing.T) {
	tests := []struct {
		name string
		atr  string
		want ExtendedLength
	}{
		{"capabilities with extended", hexOf(atrWithCapabilities(0x40)), ExtendedLength{Supported: true, Source: "ATR"}},
		{"capabilities without", hexOf(atrWithCapabilities(0x80)), ExtendedLength{}},
		// Category 00: objects then a 3-byte status indicator.
		{"category 00", "3B88800100730000C0009000" + "00", ExtendedLength{Supported: true, Source: "ATR"}},
		{"no historical bytes", "3B8001" + "81", ExtendedLength{}},
		{"proprietary category", "3B828001" + "4142" + "00", ExtendedLength{}},
	}
	for _, tc := range tests {
		got, err := ExtendedLengthFromATR(unhex(t, tc.atr))
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v %v, want %+v", tc.name, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "3B", "3B85800180", "3F8F" + strings.Repeat("00", 40), "42800001"} {
		if _, err := ExtendedLengthFromATR(unhex(t, bad)); !errors.Is(err, ErrATR) {
			t.Errorf("ATR %s: %v, want ErrATR", bad, err)
		}
	}
	info := []struct {
		b    string
		want ExtendedLength
	}{
		// ISO/IEC 7816-4 §12.7.1: whole-APDU sizes. A command APDU of 1024
		// bytes carries at most 1024 - 9 data bytes (header, extended Lc
		// and Le), a response APDU of 2048 at most 2046 (SW1 SW2).
		{"7F66080202040002020800", ExtendedLength{Supported: true, MaxNc: 1015, MaxNe: 2046, Source: "EF.ATR/INFO"}},
		{"7F6608020200FF020200FF", ExtendedLength{MaxNc: 246, MaxNe: 253, Source: "EF.ATR/INFO"}},
		{"7F660802020400020208000000", ExtendedLength{Supported: true, MaxNc: 1015, MaxNe: 2046, Source: "EF.ATR/INFO"}},
		{"470300004041020000", ExtendedLength{Supported: true, Source: "EF.ATR/INFO"}},
		{"7F66080202FFFF0202FFFF", ExtendedLength{Supported: true, MaxNc: 65526, MaxNe: 65533, Source: "EF.ATR/INFO"}},
		// What hardware/chipsim generates with extended length: a command
		// APDU of 65544 bytes (65535 data bytes), a response APDU of 65535
		// (vpcd's frame limit).
		{"7F660A0203010008020300FFFF", ExtendedLength{Supported: true, MaxNc: 65535, MaxNe: 65533, Source: "EF.ATR/INFO"}},
		// A response APDU of 65540 bytes: above the largest Ne, capped.
		{"7F660A02030100040203010004", ExtendedLength{Supported: true, MaxNc: 65531, MaxNe: MaxExtendedNe, Source: "EF.ATR/INFO"}},
		// Short maxima, but the card capabilities say extended.
		{"7F6608020200FF020200FF" + "4703000040", ExtendedLength{Supported: true, MaxNc: 246, MaxNe: 253, Source: "EF.ATR/INFO"}},
		{"4703000000", ExtendedLength{}},
		{"", ExtendedLength{}},
		{"0000", ExtendedLength{}},
		{"FFFFFF", ExtendedLength{}},
	}
	for _, tc := range info {
		got, err := ExtendedLengthFromATRInfo(unhex(t, tc.b))
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v %v, want %+v", tc.b, got, err, tc.want)
		}
	}
	for _, bad := range []string{"7F6603020104", "7F66", "7F66080402040002020800", "7F660A020400000002020800",
		"7F66080202040002020800" + "01", // a truncated object after 7F66
		"7F6606020100020100",            // a maximum of 0
		"7F6606020109020102",            // sizes that leave no data byte
		"00FF",                          // mixed padding
	} {
		if _, err := ExtendedLengthFromATRInfo(unhex(t, bad)); !errors.Is(err, ErrATR) {
			t.Errorf("EF.ATR/INFO %s: %v, want ErrATR", bad, err)
		}
	}
}

func FuzzATRHistorical(f *testing.F) {
	f.Add(atrWithCapabilities(0x40))
	f.Add(unhex(f, "3B88800100730000C000900000"))
	f.Add(unhex(f, "3B8F8001804F0CA000000306030001000000006A"))
	f.Add(unhex(f, "7F66080202040002020800"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := HistoricalBytes(b); err == nil {
			if len(h) > 15 || len(h) > len(b) {
				t.Fatalf("%d historical bytes from %d", len(h), len(b))
			}
			if e, err := ExtendedLengthFromHistorical(h); err == nil && e.Supported && e.Source != "ATR" {
				t.Fatal("source not set")
			}
		}
		ExtendedLengthFromHistorical(b)
		if e, err := ExtendedLengthFromATRInfo(b); err == nil && (e.MaxNe > MaxExtendedNe || e.MaxNc > MaxExtendedNe) {
			t.Fatalf("advertised maxima %+v", e)
		}
	})
}

var _ = smcrypto.TDES

// chipFromBytes answers each command with the next piece of a fuzzed
// byte string: a length byte, then that many bytes (status word included).
type chipFromBytes struct{ b []byte }

func (c *chipFromBytes) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if len(c.b) == 0 {
		return nil, errUnplugged
	}
	n := int(c.b[0])
	c.b = c.b[1:]
	if n > len(c.b) {
		n = len(c.b)
	}
	out := c.b[:n]
	c.b = c.b[n:]
	return out, nil
}

// FuzzReadFile lets a hostile chip answer a plain file read: the loop
// always ends (a bounded number of commands), never panics and never
// returns more than the file's announced length.
func FuzzReadFile(f *testing.F) {
	f.Add([]byte{0x06, 0x31, 0x03, 0x01, 0x02, 0x90, 0x00})
	f.Add([]byte{0x02, 0x61, 0x04, 0x06, 0x31, 0x82, 0x01, 0x00, 0x62, 0x82, 0x02, 0x6C, 0x10})
	f.Add([]byte{0x02, 0x67, 0x00, 0x02, 0x67, 0x00, 0x04, 0x31, 0x81, 0x90, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &chipFromBytes{b: b}
		s := NewSession(c, SessionOptions{})
		got, err := s.ReadFile(context.Background(), lds.FileCardAccess)
		if s.APDUs() > maxReadRounds*2 {
			t.Fatalf("%d APDUs", s.APDUs())
		}
		if err == nil {
			n, lerr := lds.ElementLength(got)
			if lerr != nil || n != len(got) {
				t.Fatalf("returned %X, not one element (%v)", got, lerr)
			}
		}
	})
}

// smChipFromBytes answers under a valid secure messaging session with
// answers the fuzzer shapes. Each answer takes four bytes (form, SW1, SW2,
// payload length) and the payload: form 0 is a protected answer with
// DO99, 1 one without DO99, 2 an unprotected status word (the card counts
// no response), 3 the raw bytes payload || SW. Once the input is spent the
// card repeats its last answer, re-protected, forever: the reader's own
// bounds must end the read.
type smChipFromBytes struct {
	cs    *cardSide
	b     []byte
	last  [3]byte
	lastP []byte
	apdus int
	// acceptable concatenates the payloads of protected READ BINARY
	// answers (direct, or fetched by GET RESPONSE after 61xx) that carry
	// file data (9000, or 6282 with DO99).
	acceptable []byte
}

var errFuzzLoop = errors.New("test: the reader does not stop")

func (c *smChipFromBytes) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if c.apdus++; c.apdus > 4*maxReadRounds {
		return nil, errFuzzLoop
	}
	if len(apdu) >= 2 && apdu[0] == 0x00 && apdu[1] == insGetResponse {
		// GET RESPONSE is plain and not counted in the SSC.
	} else {
		c.cs.inc() // the card counts the protected command
	}
	if len(c.b) >= 4 {
		n := min(int(c.b[3]), len(c.b)-4)
		c.last, c.lastP = [3]byte{c.b[0], c.b[1], c.b[2]}, c.b[4:4+n]
		c.b = c.b[4+n:]
	}
	form, sw, p := c.last[0]%4, StatusWord(uint16(c.last[1])<<8|uint16(c.last[2])), c.lastP
	// A GET RESPONSE here fetches the protected answer of a READ BINARY
	// that the card announced with 61xx (ISO 7816-4 T=0): its MAC covers
	// the read's data like a direct answer's.
	read := len(apdu) > 1 && (apdu[1] == insReadBinary || apdu[1] == insReadBinaryOdd || apdu[1] == insGetResponse)
	switch form {
	case 0, 1:
		if read && len(p) > 0 && (sw == SWSuccess || (sw == SWEndOfFile && form == 0)) {
			c.acceptable = append(c.acceptable, p...)
		}
		return c.cs.protect(p, sw, respOpts{noDO99: form == 1}), nil
	case 2:
		return sw2(sw), nil
	}
	return append(append([]byte{}, p...), sw2(sw)...), nil
}

// isSubsequence reports whether a's bytes appear in b in order.
func isSubsequence(a, b []byte) bool {
	i := 0
	for _, c := range b {
		if i < len(a) && a[i] == c {
			i++
		}
	}
	return i == len(a)
}

// FuzzReadFileSM lets a chip with a valid secure messaging session shape
// every answer to a file read: the read never panics, never loops (the
// card repeats its last answer forever, so only the reader's bounds end
// it), and never returns bytes that no MAC-protected READ BINARY answer
// with 9000 (or 6282 under DO99) carried.
func FuzzReadFileSM(f *testing.F) {
	f.Add([]byte{0, 0x90, 0x00, 5, 0x75, 0x03, 1, 2, 3})
	f.Add([]byte{0, 0x90, 0x00, 2, 0x75, 0x82, 0, 0x90, 0x00, 2, 0x01, 0x00, 0, 0x67, 0x00, 0})
	f.Add([]byte{2, 0x6C, 0x10, 0, 0, 0x90, 0x00, 4, 0x75, 0x02, 1, 2})
	f.Add([]byte{1, 0x90, 0x00, 3, 0x75, 0x01, 7})
	f.Add([]byte{0, 0x62, 0x82, 3, 0x75, 0x01, 7})
	f.Add([]byte{3, 0x90, 0x00, 3, 0x75, 0x01, 7})
	f.Add([]byte{2, 0x6A, 0x82, 0, 3, 0x69, 0x88, 0})
	f.Add([]byte{0, 0x90, 0x00, 3, 0x75, 0x83, 0x0F, 0, 0x90, 0x00, 1, 0xFF})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, cs := tdesPair(t)
		c := &smChipFromBytes{cs: cs, b: b}
		s := NewSession(c, SessionOptions{})
		s.SetSecureMessaging(m)
		got, err := s.ReadFile(context.Background(), lds.FileDG2)
		if errors.Is(err, errFuzzLoop) {
			t.Fatalf("%d APDUs and no end", c.apdus)
		}
		if err != nil {
			return
		}
		if n, lerr := lds.ElementLength(got); lerr != nil || n != len(got) {
			t.Fatalf("returned %X, not one element (%v)", got, lerr)
		}
		if !isSubsequence(got, c.acceptable) {
			t.Fatalf("returned %X, not from MAC-protected answers %X", got, c.acceptable)
		}
	})
}

// Fail closed: a chip that offers PACE and fails it is not read with BAC
// unless the caller allows the fallback.
func TestReadPACEFailsClosed(t *testing.T) {
	files := specimenFiles(t, 2000)
	files[lds.FileCardAccess] = unhex(t, "3114 3012 060A04007F00070202040202 020102 02010D")
	fc := newFakeCard(t, files)
	res, err := Read(context.Background(), fc, readOpts(t))
	if !errors.Is(err, ErrPACEUnsupported) {
		t.Fatalf("err %v, want ErrPACEUnsupported", err)
	}
	if res.AccessControl != "" || len(res.Files) != 1 {
		t.Errorf("access control %q, %d files read after a failed PACE", res.AccessControl, len(res.Files))
	}
}
