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

// checkNeverPastEnd asserts that once a file's length was known (after
// its first read) no READ BINARY asked for bytes beyond its end.
func checkNeverPastEnd(t *testing.T, fc *fakeCard) {
	t.Helper()
	for _, r := range fc.reads {
		if r.off == 0 {
			continue // the length is known only after the first bytes
		}
		n := r.ne
		if r.odd {
			n -= 1 + berLenSize(n)
		}
		if r.off+n > len(fc.files[r.file]) {
			t.Errorf("%v: read of %d at %d past the end %d", r.file, n, r.off, len(fc.files[r.file]))
		}
	}
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
		{"EF.ATR/INFO 7F66 max 2048", nil, atrInfo, 0, 2023, true, 10},
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
				if r.ne > tc.wantLe {
					t.Errorf("Ne %d above %d", r.ne, tc.wantLe)
				}
				if r.file == lds.FileDG2 {
					n++
				}
			}
			if n != tc.dg2Reads {
				t.Errorf("%d DG2 reads, want %d", n, tc.dg2Reads)
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
		// 231 -> 6700 -> 115 -> 6700 -> 57 (on EF.COM, then kept).
		{"6700", func(fc *fakeCard) { fc.wrongLengthAbove = 100 }, 57, 351},
		// 231 -> 6C80: 128 from then on.
		{"6Cxx", func(fc *fakeCard) { fc.exactAbove = 128 }, 128, 157},
		// A chip that serves 100 bytes with 9000: learnt on DG2's first read.
		{"short 9000", func(fc *fakeCard) { fc.maxResp = 100 }, 100, 200},
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
			for _, r := range fc.reads {
				if r.file == lds.FileDG2 {
					n++
				}
			}
			if n != tc.dg2Reads {
				t.Errorf("%d DG2 reads, want %d", n, tc.dg2Reads)
			}
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
		name      string
		files     func(map[lds.File][]byte)
		set       func(*fakeCard)
		quirks    []string
		notAuth   []lds.File
		notFound  []lds.File
		skip      []lds.File
		wantAPDUs int
	}{
		{
			name: "unprotected errors",
			files: func(f map[lds.File][]byte) {
				f[lds.FileCOM], _ = lds.EncodeCOM("0107", "040000", []lds.File{lds.FileDG1, lds.FileDG5, lds.FileDG14})
				delete(f, lds.FileDG2)
				delete(f, lds.FileDG3)
				f[lds.FileDG14] = element(t, 0x6E, 50)
			},
			set:      func(fc *fakeCard) { fc.unprotectedErrors = true; fc.denied[lds.FileDG14] = true },
			quirks:   []string{"sm_unprotected_error"},
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
			name:    "PACE offered",
			files:   func(f map[lds.File][]byte) { f[lds.FileCardAccess] = cardAccessPACE },
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
			res, err := Read(context.Background(), fc, readOpts(t))
			if err != nil {
				t.Fatal(err)
			}
			checkFiles(t, fc, res, tc.skip...)
			if !slices.Equal(res.Quirks, tc.quirks) {
				t.Errorf("quirks %v, want %v", res.Quirks, tc.quirks)
			}
			if !slices.Equal(res.NotAuthorised, tc.notAuth) || !slices.Equal(res.NotFound, tc.notFound) {
				t.Errorf("not authorised %v, not found %v", res.NotAuthorised, res.NotFound)
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
	if _, err := Read(context.Background(), fc, ReadOptions{BACKeyInfo: d3Info}); err == nil {
		t.Error("no random source accepted")
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
		{"7F66080202040002020800", ExtendedLength{Supported: true, MaxNc: 1024, MaxNe: 2048, Source: "EF.ATR/INFO"}},
		{"7F6608020200FF020200FF", ExtendedLength{MaxNc: 255, MaxNe: 255, Source: "EF.ATR/INFO"}},
		{"7F660802020400020208000000", ExtendedLength{Supported: true, MaxNc: 1024, MaxNe: 2048, Source: "EF.ATR/INFO"}},
		{"470300004041020000", ExtendedLength{Supported: true, Source: "EF.ATR/INFO"}},
		{"7F66080202FFFF0202FFFF", ExtendedLength{Supported: true, MaxNc: 65535, MaxNe: 65535, Source: "EF.ATR/INFO"}},
		// What hardware/chipsim generates with extended length: data bytes.
		{"7F660A020300FFFF0203010000", ExtendedLength{Supported: true, MaxNc: 65535, MaxNe: 65536, Source: "EF.ATR/INFO"}},
		// Above the largest Ne: capped.
		{"7F660A02030100040203010004", ExtendedLength{Supported: true, MaxNc: MaxExtendedNe, MaxNe: MaxExtendedNe, Source: "EF.ATR/INFO"}},
		// Short maxima, but the card capabilities say extended.
		{"7F6608020200FF020200FF" + "4703000040", ExtendedLength{Supported: true, MaxNc: 255, MaxNe: 255, Source: "EF.ATR/INFO"}},
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
