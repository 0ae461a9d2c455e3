package chipsim

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"borderid/internal/smcrypto"
)

// ICAO 9303-11 App. D.3 and D.4 from the card side: with RND.IC and K.IC
// fed through WithRand, the printed commands give the printed responses,
// and the session BAC establishes is the one D.4 continues with.
func TestWorkedExampleD3D4(t *testing.T) {
	rnd := bytes.NewReader(hx(t, vecRNDIC+vecKIC))
	c := newChip(t, Config{}, WithRand(rnd)) // BAC key from DG1
	steps := []struct{ name, cmd, want string }{
		{"select eMRTD application", selectApp, "9000"},
		{"GET CHALLENGE", "0084000008", vecRNDIC + "9000"},
		{"EXTERNAL AUTHENTICATE", "0082000028" +
			"72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2" + "5F1448EEA8AD90A7" + "28",
			"46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F" + "2F2D235D074D7449" + "9000"},
		{"D.4 SELECT EF.COM", "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800",
			"990290008E08FA855A5D4C50A8ED9000"},
		{"D.4 READ BINARY 4", "0CB000000D9701048E08ED6705417E96BA5500",
			"8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"},
		{"D.4 READ BINARY 18 at 4", "0CB000040D9701128E082EA28A70F3C7B53500",
			"871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000"},
	}
	for _, s := range steps {
		if got := tx(t, c, s.cmd); got != s.want {
			t.Fatalf("%s:\n got %s\nwant %s", s.name, got, s.want)
		}
	}
	if rnd.Len() != 0 {
		t.Errorf("%d random bytes unused", rnd.Len())
	}
}

// D.4 alone, with the session set directly; the decrypted EF.COM is the
// vector's.
func TestWorkedExampleD4SetSecureMessaging(t *testing.T) {
	c := newChip(t, Config{})
	if got := tx(t, c, selectApp); got != "9000" {
		t.Fatal(got)
	}
	tm := setVecSession(t, c)
	if got := tx(t, c, "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"); got != "990290008E08FA855A5D4C50A8ED9000" {
		t.Fatalf("SELECT: %s", got)
	}
	tm.inc() // the command
	tm.inc() // the response
	var com []byte
	d, sw := tm.sm(t, c, "00B00000", nil, 4)
	com = append(com, d...)
	if sw != 0x9000 || up(d) != "60145F01" {
		t.Fatalf("READ 4: %X %04X", d, sw)
	}
	d, sw = tm.sm(t, c, "00B00004", nil, 18)
	com = append(com, d...)
	if sw != 0x9000 || up(com) != vecEFCOM {
		t.Fatalf("EF.COM %X %04X", com, sw)
	}
}

// The AES session published with the vectors: the chip verifies the MAC
// of the printed protected MSE:Set AT (SSC ..BB), a Chip Authentication
// command, and answers it — this chip has no CA key — with a protected
// 6A81 "function not supported" (SSC ..BC). TestCAPublishedMSESetAT runs
// the same command against a chip that has the key.
func TestAESPublishedCommand(t *testing.T) {
	c := newChip(t, Config{})
	tm := &term{ci: smcrypto.AES128, kenc: hx(t, "cc86415f2ed7e8fd663b754265695ae1"),
		kmac: hx(t, "581e84b8ee06c4d3eee30461498d7fb3"), ssc: hx(t, "000000000000000000000000000000BA")}
	if err := c.SetSecureMessaging(tm.ci, tm.kenc, tm.kmac, tm.ssc); err != nil {
		t.Fatal(err)
	}
	resp := txb(t, c, hx(t, "0C2241A41D871101980953D37F67558690045D78A853B18A8E08929767A2CEF172E200"))
	tm.inc() // the command's SSC
	d, sw, err := tm.unprotect(resp)
	if err != nil || sw != 0x6A81 || d != nil || swOf(resp) != 0x6A81 {
		t.Fatalf("response %X: data %X sw %04X err %v", resp, d, sw, err)
	}
	if up(tm.ssc) != "000000000000000000000000000000BC" {
		t.Fatalf("SSC %X", tm.ssc)
	}
}

// A whole AES-256 read: CMAC, IV = E(KSenc, SSC), 16-byte SSC.
func TestAESRead(t *testing.T) {
	for _, ci := range []smcrypto.Cipher{smcrypto.AES128, smcrypto.AES192, smcrypto.AES256} {
		t.Run(ci.String(), func(t *testing.T) {
			c := newChip(t, Config{})
			tx(t, c, selectApp)
			k := bytes.Repeat([]byte{0x42}, ci.KeySize())
			tm := &term{ci: ci, kenc: k, kmac: bytes.Repeat([]byte{0x17}, ci.KeySize()), ssc: make([]byte, 16)}
			if err := c.SetSecureMessaging(tm.ci, tm.kenc, tm.kmac, tm.ssc); err != nil {
				t.Fatal(err)
			}
			if d, sw := tm.sm(t, c, "00A4020C", []byte{0x01, 0x1E}, -1); sw != 0x9000 || d != nil {
				t.Fatalf("SELECT %X %04X", d, sw)
			}
			d, sw := tm.sm(t, c, "00B00000", nil, 0)
			if sw != 0x9000 || up(d) != vecEFCOM {
				t.Fatalf("READ %X %04X", d, sw)
			}
			// Le 00 on a 40000-byte file: 223 bytes, the most that fits
			// a short protected response with AES.
			tm.sm(t, c, "00A4020C", []byte{0x01, 0x02}, -1)
			d, sw = tm.sm(t, c, "00B00000", nil, 0)
			if sw != 0x9000 || !bytes.Equal(d, pattern(223)) {
				t.Fatalf("READ DG2: %d bytes %04X", len(d), sw)
			}
		})
	}
}

// Under 3DES with short APDUs Le 00 gives 231 bytes (a 250-byte answer).
func TestReadLimitUnder3DES(t *testing.T) {
	c := newChip(t, Config{})
	tx(t, c, selectApp)
	tm := setVecSession(t, c)
	tm.sm(t, c, "00A4020C", []byte{0x01, 0x02}, -1)
	resp := txb(t, c, tm.protect(t, hx(t, "00B00000"), nil, 0, false))
	if len(resp) != 252 {
		t.Fatalf("response %d bytes, want 252", len(resp))
	}
	d, sw, err := tm.unprotect(resp)
	if err != nil || sw != 0x9000 || !bytes.Equal(d, pattern(231)) {
		t.Fatalf("%d bytes %04X %v", len(d), sw, err)
	}
}

func TestAccessControl(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		cmds []string // all but the last must answer 9000
		want string
	}{
		{"READ BINARY DG1 by SFI before BAC", Config{}, []string{selectApp, "00B0810000"}, "6982"},
		{"SELECT DG1 before BAC", Config{}, []string{selectApp, "00A4020C020101"}, "6982"},
		{"SELECT EF.COM before BAC", Config{}, []string{selectApp, "00A4020C02011E"}, "6982"},
		{"B1 DG2 by FID before BAC", Config{}, []string{selectApp, "00B101020354010000"}, "6982"},
		{"CardAccess in the MF is free", Config{}, []string{"00A4020C02011C", "00B0000000"},
			"3114300F060A04007F000702020402020201029000"},
		{"CardAccess by SFI", Config{}, []string{"00B09C0004"}, "311430" + "0F9000"},
		{"RequireBAC false", Config{RequireBAC: new(false)}, []string{selectApp, "00B0810005"}, "615B5F1F589000"},
		{"absent file", Config{}, []string{selectApp, "00A4020C020107"}, "6A82"},
		{"app EF not in the MF", Config{}, []string{"00A4020C020101"}, "6A82"},
		{"other AID", Config{}, []string{"00A4040C07A0000002471002"}, "6A82"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChip(t, tt.cfg)
			for _, cmd := range tt.cmds[:len(tt.cmds)-1] {
				if got := tx(t, c, cmd); got != "9000" {
					t.Fatalf("%s: %s", cmd, got)
				}
			}
			if got := tx(t, c, tt.cmds[len(tt.cmds)-1]); got != tt.want {
				t.Fatalf("got %s want %s", got, tt.want)
			}
		})
	}
}

func TestBACRefusals(t *testing.T) {
	rndIFD, kIFD := hx(t, "781723860C06C226"), hx(t, "0B795240CB7049B01C19B33E32804F0B")
	t.Run("wrong MRZ", func(t *testing.T) {
		c := newChip(t, Config{})
		tx(t, c, selectApp)
		tm, sw := bac(t, c, "L898902C<369080619406246", rndIFD, kIFD)
		if tm != nil || sw != 0x6300 {
			t.Fatalf("sw %04X", sw)
		}
		// No session: plain access still refused, protected commands
		// have nothing to be protected with.
		if got := tx(t, c, "00B0810000"); got != "6982" {
			t.Fatalf("plain READ after failed BAC: %s", got)
		}
		if got := tx(t, c, "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"); got != "6882" {
			t.Fatalf("protected SELECT after failed BAC: %s", got)
		}
	})
	t.Run("right MRZ", func(t *testing.T) {
		c := newChip(t, Config{})
		tx(t, c, selectApp)
		tm, sw := bac(t, c, vecMRZInfo, rndIFD, kIFD)
		if sw != 0x9000 {
			t.Fatalf("sw %04X", sw)
		}
		d, sw := tm.sm(t, c, "00B08100", nil, 5)
		if sw != 0x9000 || up(d) != "615B5F1F58" {
			t.Fatalf("DG1 %X %04X", d, sw)
		}
	})
	cases := []struct {
		name string
		pre  []string
		cmd  string
		want string
	}{
		{"no challenge", nil, "0082000028" + zeros(40) + "28", "6985"},
		{"challenge not the previous command", []string{"0084000008", selectApp}, "0082000028" + zeros(40) + "28", "6985"},
		{"short data", []string{"0084000008"}, "0082000027" + zeros(39) + "28", "6700"},
		{"Le missing", []string{"0084000008"}, "0082000028" + zeros(40), "6700"},
		{"bad P1", []string{"0084000008"}, "0082010028" + zeros(40) + "28", "6A86"},
		{"bad MAC", []string{"0084000008"}, "0082000028" + zeros(40) + "28", "6300"},
		{"GET CHALLENGE Le 4", nil, "0084000004", "6700"},
		{"GET CHALLENGE with P1", nil, "0084010008", "6A86"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c := newChip(t, Config{})
			for _, p := range tt.pre {
				tx(t, c, p)
			}
			if got := tx(t, c, tt.cmd); got != tt.want {
				t.Fatalf("got %s want %s", got, tt.want)
			}
		})
	}
	// Right keys, right MAC, but RND.IC not the chip's challenge.
	t.Run("wrong challenge echo", func(t *testing.T) {
		c := newChip(t, Config{})
		tx(t, c, "0084000008")
		sum := sha1.Sum([]byte(vecMRZInfo))
		kenc, _ := smcrypto.DeriveKey(smcrypto.TDES, sum[:16], 1)
		kmac, _ := smcrypto.DeriveKey(smcrypto.TDES, sum[:16], 2)
		e, _ := smcrypto.EncryptCBC(smcrypto.TDES, kenc, make([]byte, 8), make([]byte, 32))
		m, _ := smcrypto.MAC(smcrypto.TDES, kmac, e)
		if got := tx(t, c, "0082000028"+up(e)+up(m)+"28"); got != "6300" {
			t.Fatal(got)
		}
	})
	t.Run("EXTERNAL AUTHENTICATE under SM", func(t *testing.T) {
		c := newChip(t, Config{})
		tm := setVecSession(t, c)
		_, sw := tm.sm(t, c, "00840000", nil, 8)
		if sw != 0x9000 {
			t.Fatalf("GET CHALLENGE under SM: %04X", sw)
		}
		if _, sw := tm.sm(t, c, "00820000", make([]byte, 40), 40); sw != 0x6985 {
			t.Fatalf("%04X", sw)
		}
	})
}

func zeros(n int) string { return up(make([]byte, n)) }

// BAC keys from each MRZ format and from the configuration.
func TestBACKeySource(t *testing.T) {
	td1 := func(l1, l2 string) string { return l1 + l2 + "ERIKSSON<<ANNA<MARIA<<<<<<<<<<" }
	tests := []struct {
		name    string
		files   map[string][]byte
		cfg     Config
		mrzInfo string
	}{
		{"TD3 DG1", map[string][]byte{"DG1": dg1(specimenTD3)}, Config{}, vecMRZInfo},
		{"config only", nil, Config{DocumentNumber: "L898902C", DateOfBirth: "690806", DateOfExpiry: "940623"}, vecMRZInfo},
		{"config overrides DG1", map[string][]byte{"DG1": dg1(specimenTD3)},
			Config{DocumentNumber: "X1234567", DateOfBirth: "010203", DateOfExpiry: "300101"}, "X1234567<701020303001019"},
		{"TD1 DG1", map[string][]byte{"DG1": dg1(td1("I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6"))},
			Config{}, "D23145890774081221204159"},
		{"TD1 long document number", map[string][]byte{"DG1": dg1(td1("I<UTOD23145890<7349<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6"))},
			Config{}, "D23145890734974081221204159"},
		{"DG1 with long-form lengths", map[string][]byte{"DG1": append(hx(t, "61815C5F1F8158"), specimenTD3...)}, Config{}, vecMRZInfo},
		{"TD2 DG1", map[string][]byte{"DG1": dg1("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<" + "D231458907UTO7408122F1204159<<<<<<<6")},
			Config{}, "D23145890774081221204159"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := NewIdentity(tt.files, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			c, err := New(id)
			if err != nil {
				t.Fatal(err)
			}
			if _, sw := bac(t, c, tt.mrzInfo, make([]byte, 8), make([]byte, 16)); sw != 0x9000 {
				t.Fatalf("BAC with %s: %04X", tt.mrzInfo, sw)
			}
		})
	}
}

func TestAPDUParsing(t *testing.T) {
	tests := []struct {
		name string
		ext  bool
		cmd  string
		want string
	}{
		{"three bytes", false, "00A402", "6700"},
		{"Lc longer than data", false, "00A4020C03011E", "6700"},
		{"Lc shorter than data", false, "00A4020C01011E", "6700"},
		{"case 4S", false, "00A4020C02011C00", "9000"},
		{"unknown INS", false, "00CA000000", "6D00"},
		{"proprietary CLA", false, "80A4020C02011C", "6E00"},
		{"chaining CLA", false, "10A4020C02011C", "6884"}, // only PACE's GENERAL AUTHENTICATE chains (pace.go)
		{"SM CLA without a session", false, "0CA4020C02011C", "6882"},
		{"extended when not enabled", false, "00B000000000E4", "6700"},
		{"extended case 3", true, "00A4020C000002011C", "9000"},
		{"extended Lc 0", true, "00A4020C000000", "6700"},
		{"extended length mismatch", true, "00A4020C000003011C", "6700"},
		{"extended case 4", true, "00A4020C000002011C0000", "9000"},
		{"six bytes", true, "00B000000000", "6700"},
		{"SELECT P2 unsupported", false, "00A4020802011C", "6A86"},
		{"SELECT P1 path", false, "00A4080C02011C", "6A86"},
		{"SELECT FID of 3 bytes", false, "00A4020C03011C00", "6700"},
		{"SELECT AID empty", false, "00A4040C", "6700"},
		{"GET RESPONSE with nothing pending", false, "00C0000010", "6985"},
		{"READ BINARY without current EF", false, "00B0000010", "6986"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChip(t, Config{ExtendedLength: tt.ext})
			if got := tx(t, c, tt.cmd); got != tt.want {
				t.Fatalf("got %s want %s", got, tt.want)
			}
		})
	}
	c := newChip(t, Config{})
	tx(t, c, "00A4020C02011C")
	for _, cmd := range []string{"00B00000", "00B0000001AA"} {
		if got := tx(t, c, cmd); got != "6700" {
			t.Errorf("%s: %s, want 6700", cmd, got)
		}
	}
}

// Plain reads (RequireBAC false) of DG2 = pattern(40000).
func TestReadBinary(t *testing.T) {
	type step struct{ cmd, want string }
	p := func(off, n int) string { return up(pattern(40000)[off : off+n]) }
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"offset and Le", Config{}, []step{{"00B0011010", p(0x110, 16) + "9000"}}},
		{"SFI with offset", Config{}, []step{{"00B0822004", p(0x20, 4) + "9000"}}},
		{"Le 00 is 256", Config{}, []step{{"00B0000000", p(0, 256) + "9000"}}},
		{"MaxResponse caps", Config{MaxResponse: 100}, []step{{"00B0000000", p(0, 100) + "9000"}}},
		{"offset 32767", Config{}, []step{{"00B07FFF02", p(0x7FFF, 2) + "9000"}}},
		{"two reads", Config{}, []step{{"00B07FF804", p(0x7FF8, 4) + "9000"}, {"00B0000003", p(0, 3) + "9000"}}},
		{"SFI bits 7-6 set", Config{}, []step{{"00B0C20004", "6A86"}}},
		{"SFI 0", Config{}, []step{{"00B0800004", "6A86"}}},
		{"unknown SFI", Config{}, []step{{"00B0870004", "6A82"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.RequireBAC = new(false)
			c := newChip(t, cfg)
			tx(t, c, selectApp)
			tx(t, c, "00A4020C020102")
			for _, s := range tt.steps {
				if got := tx(t, c, s.cmd); got != s.want {
					t.Fatalf("%s:\n got %s\nwant %s", s.cmd, got, s.want)
				}
			}
		})
	}
}

// End of file: the shorter data with 9000 by default, with 6282 when
// EOFWarning; an offset at or past the end is 6B00. EF.SOD is 300 bytes.
func TestReadBinaryEndOfFile(t *testing.T) {
	sod := pattern(300)
	tests := []struct {
		eof  bool
		cmd  string
		want string
	}{
		{false, "00B0012040", up(sod[0x120:]) + "9000"},
		{true, "00B0012040", up(sod[0x120:]) + "6282"},
		{true, "00B001200C", up(sod[0x120:]) + "9000"},
		{true, "00B0012000", up(sod[0x120:]) + "6282"},
		{false, "00B0012C01", "6B00"},
		{true, "00B0012C01", "6B00"},
		{false, "00B07FFF01", "6B00"},
		{true, "00B1000004540201200E", "530C" + up(sod[0x120:]) + "9000"},
		{true, "00B1000004540201200C", "530A" + up(sod[0x120:0x12A]) + "9000"},
		{true, "00B1000004540201200F", "530C" + up(sod[0x120:]) + "6282"},
	}
	for _, tt := range tests {
		c := newChip(t, Config{RequireBAC: new(false), EOFWarning: tt.eof})
		tx(t, c, selectApp)
		tx(t, c, "00A4020C02011D")
		if got := tx(t, c, tt.cmd); got != tt.want {
			t.Errorf("eof=%v %s:\n got %s\nwant %s", tt.eof, tt.cmd, got, tt.want)
		}
	}
}

// Odd INS B1: offsets past 32767 in DO54, data in DO53 (plain) and in DO85
// under secure messaging.
func TestReadBinaryOdd(t *testing.T) {
	dg2 := pattern(40000)
	t.Run("plain", func(t *testing.T) {
		c := newChip(t, Config{RequireBAC: new(false)})
		tx(t, c, selectApp)
		cases := []struct{ cmd, want string }{
			{"00B1010205540300900010", "530E" + up(dg2[0x9000:0x900E]) + "9000"},        // by FID 0102, Ne 16 = 2 + 14
			{"00B1000205540300800000", "53" + "81FD" + up(dg2[0x8000:0x80FD]) + "9000"}, // by SFI 2, Ne 256 = 3 + 253
			{"00B10000035401F007", "5305" + up(dg2[0xF0:0xF5]) + "9000"},                // current EF, one-byte offset
			{"00B100000355010007", "6A80"},                                              // not DO54
			{"00B10000065404000000000A", "6A80"},                                        // four offset bytes
			{"00B10000055403009C4007", "6B00"},                                          // offset 40000
			{"00B10000045402000001", "6700"},                                            // Ne 1 leaves no room for data
			{"00B101070554030000000A", "6A82"},                                          // DG7 absent
			{"00B1001F0554030000000A", "6A82"},                                          // FID 001F, not an SFI
			{"00B1000005540300000A", "6700"},                                            // no Le: wrong length
		}
		for _, tt := range cases {
			if got := tx(t, c, tt.cmd); got != tt.want {
				t.Errorf("%s:\n got %s\nwant %s", tt.cmd, got, tt.want)
			}
		}
	})
	t.Run("secure messaging", func(t *testing.T) {
		c := newChip(t, Config{})
		tx(t, c, selectApp)
		tm := setVecSession(t, c)
		tm.sm(t, c, "00A4020C", []byte{0x01, 0x02}, -1)
		resp := txb(t, c, tm.protect(t, hx(t, "00B10000"), hx(t, "54029C3F"), 0, false))
		if resp[0] != 0x85 {
			t.Fatalf("want DO85 first: %X", resp)
		}
		d, sw, err := tm.unprotect(resp)
		if err != nil || sw != 0x9000 {
			t.Fatalf("%X %04X %v", d, sw, err)
		}
		// DO54 = 9C3F, offset 39999: one byte left.
		if up(d) != "5301"+up(dg2[39999:]) {
			t.Fatalf("data %X", d)
		}
		d, sw = tm.sm(t, c, "00B10000", hx(t, "5403008000"), 0)
		if sw != 0x9000 || !bytes.Equal(d[3:], dg2[32768:32768+len(d)-3]) || d[0] != 0x53 || len(d) > 231 {
			t.Fatalf("%d bytes %04X", len(d), sw)
		}
	})
}

func TestExtendedLength(t *testing.T) {
	dg2 := pattern(40000)
	read := "00B00000000000" // case 2E, Ne 65536
	for _, tt := range []struct {
		ext  bool
		want string
	}{
		{false, "6700"},
		{true, up(dg2) + "9000"},
	} {
		c := newChip(t, Config{ExtendedLength: tt.ext, RequireBAC: new(false)})
		tx(t, c, selectApp)
		tx(t, c, "00A4020C020102")
		if got := tx(t, c, read); got != tt.want {
			t.Errorf("ext=%v: got %d hex chars want %d", tt.ext, len(got), len(tt.want))
		}
		// The ATR's card capabilities say so (third byte, b7); the exact
		// bytes are documented in docs/chip-identity.md.
		atr := c.ATR()
		if want := map[bool]string{true: "3B858001807394014022", false: "3B858001807394010062"}[tt.ext]; up(atr) != want {
			t.Errorf("ext=%v: ATR %X, want %s", tt.ext, atr, want)
		}
		if atr[4] != 0x80 || atr[5] != 0x73 || (atr[8]&0x40 != 0) != tt.ext {
			t.Errorf("ext=%v: ATR %X", tt.ext, atr)
		}
		var x byte
		for _, b := range atr[1:] {
			x ^= b
		}
		if x != 0 {
			t.Errorf("ATR %X: TCK does not check", atr)
		}
	}
	// Extended under secure messaging: Le 0000 in DO97 and an extended
	// outer APDU, capped by MaxResponse, which bounds the response data
	// field, here the protected data objects: 4975 plain bytes fit in
	// 5000 (DO87 of 1 + 3 + 4977, DO99, DO8E: 4995 bytes).
	c := newChip(t, Config{ExtendedLength: true, MaxResponse: 5000})
	tx(t, c, selectApp)
	tm := setVecSession(t, c)
	tm.sm(t, c, "00A4020C", []byte{0x01, 0x02}, -1)
	resp := txb(t, c, tm.protect(t, hx(t, "00B00000"), nil, 0, true))
	d, sw, err := tm.unprotect(resp)
	if err != nil || sw != 0x9000 || !bytes.Equal(d, dg2[:4975]) || len(resp) > 5002 {
		t.Fatalf("%d bytes %04X %v", len(d), sw, err)
	}
	// EF.ATR/INFO is generated: DO7F66 with whole-APDU sizes (ISO/IEC
	// 7816-4 §12.7.1): a command APDU of 4 + 3 + 65535 + 2 = 65544 bytes,
	// a response APDU of 5000 + 2.
	if got := tx(t, c, "00A4000C023F00"); got != "6982" { // plain under SM: dropped
		t.Fatalf("%s", got)
	}
	if got := tx(t, c, "00A4000C023F00"); got != "9000" {
		t.Fatalf("%s", got)
	}
	if got := tx(t, c, "00B0810000"); got != "7F660902030100080202138A9000" {
		t.Fatalf("EF.ATR/INFO %s", got)
	}
	// Short chip: a wrapped Le above 256 is a wrong length, protected.
	c = newChip(t, Config{})
	tx(t, c, selectApp)
	tm = setVecSession(t, c)
	if d, sw := tm.sm(t, c, "00B08200", nil, 0x1000); sw != 0x6700 || d != nil {
		t.Fatalf("%X %04X", d, sw)
	}
	_ = smcrypto.TDES
}

func TestSecureMessagingRefusals(t *testing.T) {
	setup := func(t *testing.T, cfg Config) (*Chip, *term) {
		c := newChip(t, cfg)
		tx(t, c, selectApp)
		return c, setVecSession(t, c)
	}
	// After a refusal the session is gone: a correctly protected command
	// gets 6882.
	gone := func(t *testing.T, c *Chip, tm *term) {
		t.Helper()
		if got := up(txb(t, c, tm.protect(t, hx(t, "00B08100"), nil, 4, false))); got != "6882" {
			t.Fatalf("session still there: %s", got)
		}
	}
	t.Run("bad MAC", func(t *testing.T) {
		c, tm := setup(t, Config{})
		cmd := tm.protect(t, hx(t, "00B08100"), nil, 4, false)
		cmd[len(cmd)-2] ^= 1
		if got := up(txb(t, c, cmd)); got != "6988" {
			t.Fatal(got)
		}
		gone(t, c, tm)
	})
	t.Run("header not as MACed", func(t *testing.T) {
		c, tm := setup(t, Config{})
		cmd := tm.protect(t, hx(t, "00B08100"), nil, 4, false)
		cmd[2] = 0x82
		if got := up(txb(t, c, cmd)); got != "6988" {
			t.Fatal(got)
		}
		gone(t, c, tm)
	})
	t.Run("no DO8E", func(t *testing.T) {
		c, tm := setup(t, Config{})
		if got := tx(t, c, "0CB0810003970104"); got != "6987" {
			t.Fatal(got)
		}
		gone(t, c, tm)
	})
	t.Run("unknown DO", func(t *testing.T) {
		c, tm := setup(t, Config{})
		if got := tx(t, c, "0CB081000D9801048E080000000000000000"); got != "6988" {
			t.Fatal(got)
		}
		gone(t, c, tm)
	})
	t.Run("plain command", func(t *testing.T) {
		c, tm := setup(t, Config{})
		if got := tx(t, c, "00B0810004"); got != "6982" {
			t.Fatal(got)
		}
		gone(t, c, tm)
	})
	t.Run("plain command, session kept", func(t *testing.T) {
		c, tm := setup(t, Config{KeepSessionOnPlain: true})
		if got := tx(t, c, "00B0810004"); got != "6982" {
			t.Fatal(got)
		}
		if d, sw := tm.sm(t, c, "00B08100", nil, 4); sw != 0x9000 || up(d) != "615B5F1F" {
			t.Fatalf("%X %04X", d, sw)
		}
	})
	t.Run("protected error", func(t *testing.T) {
		c, tm := setup(t, Config{})
		resp := txb(t, c, tm.protect(t, hx(t, "00A4020C"), []byte{0x01, 0x07}, -1, false))
		if len(resp) != 16 || resp[0] != 0x99 || swOf(resp) != 0x6A82 {
			t.Fatalf("%X", resp)
		}
		if _, sw, err := tm.unprotect(resp); err != nil || sw != 0x6A82 {
			t.Fatalf("%04X %v", sw, err)
		}
		if d, sw := tm.sm(t, c, "00B08100", nil, 4); sw != 0x9000 || up(d) != "615B5F1F" {
			t.Fatalf("%X %04X", d, sw)
		}
	})
	t.Run("reset drops everything", func(t *testing.T) {
		c, tm := setup(t, Config{})
		c.Reset()
		gone(t, c, tm)
		// the application is no longer selected either
		c.SetSecureMessaging(tm.ci, tm.kenc, tm.kmac, tm.ssc)
		if _, sw := tm.sm(t, c, "00A4020C", []byte{0x01, 0x1E}, -1); sw != 0x6A82 {
			t.Fatalf("%04X", sw)
		}
	})
}

func TestSetSecureMessagingRefusals(t *testing.T) {
	c := newChip(t, Config{})
	k16, k24, k32 := make([]byte, 16), make([]byte, 24), make([]byte, 32)
	for _, tt := range []struct {
		name            string
		ci              smcrypto.Cipher
		kenc, kmac, ssc []byte
	}{
		{"unknown cipher", smcrypto.Cipher(9), k16, k16, make([]byte, 8)},
		{"3DES SSC 16", smcrypto.TDES, k16, k16, make([]byte, 16)},
		{"3DES MAC key 24", smcrypto.TDES, k16, k24, make([]byte, 8)},
		{"AES-256 with 16-byte key", smcrypto.AES256, k16, k32, make([]byte, 16)},
		{"AES-128 MAC key 32", smcrypto.AES128, k16, k32, make([]byte, 16)},
	} {
		if err := c.SetSecureMessaging(tt.ci, tt.kenc, tt.kmac, tt.ssc); !errors.Is(err, ErrInvalidSession) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestStats(t *testing.T) {
	c := newChip(t, Config{})
	tx(t, c, selectApp)
	tx(t, c, "00B0000001")
	c.Reset()
	tx(t, c, "00")
	s := c.Stats()
	if s.APDUs != 3 || s.PowerOns != 1 || s.BytesIn != 12+5+1 || s.BytesOut != 6 {
		t.Fatalf("%+v", s)
	}
}

// Card-side CPU per protected READ BINARY of 231 bytes (3DES, short
// APDUs): unwrap and MAC check, the read, encryption and MAC of the answer.
func BenchmarkReadBinarySM(b *testing.B) {
	c := newChip(b, Config{})
	txb(b, c, hx(b, selectApp))
	tm := setVecSession(b, c)
	tm.sm(b, c, "00A4020C", []byte{0x01, 0x02}, -1)
	ssc := append([]byte{}, tm.ssc...)
	cmd := tm.protect(b, hx(b, "00B00000"), nil, 231, false)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		if err := c.SetSecureMessaging(tm.ci, tm.kenc, tm.kmac, ssc); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		r, err := c.Transmit(ctx, cmd)
		if err != nil || len(r) != 252 {
			b.Fatalf("%X %v", r, err)
		}
	}
}

// The debug log names the APDU and its status word, never data or keys.
func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newChip(t, Config{}, WithLogger(log), WithRand(bytes.NewReader(hx(t, vecRNDIC+vecKIC))))
	tx(t, c, selectApp)
	if _, sw := bac(t, c, vecMRZInfo, hx(t, "781723860C06C226"), hx(t, "0B795240CB7049B01C19B33E32804F0B")); sw != 0x9000 {
		t.Fatal(sw)
	}
	out := buf.String()
	for _, want := range []string{`ins="GET CHALLENGE"`, `sw="9000 ok"`, `ins="EXTERNAL AUTHENTICATE"`, `sm=true`, `n=3`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	for _, secret := range []string{vecRNDIC, "L898902C", "46B9342A41396CD7"} {
		if strings.Contains(strings.ToUpper(out), secret) {
			t.Errorf("log holds %s:\n%s", secret, out)
		}
	}
}

// Secure messaging objects that are MAC-correct but wrong: unprotected
// 6988 and the session ends.
func TestSecureMessagingObjects(t *testing.T) {
	tests := []struct {
		name string
		dos  func(t *testing.T, tm *term) []byte
		want string
	}{
		{"good control", func(t *testing.T, tm *term) []byte {
			return append(tm.encDO87(t, hx(t, "011E"), false), 0x97, 0x01, 0x00)
		}, ""},
		{"padding indicator 02", func(t *testing.T, tm *term) []byte {
			d := tm.encDO87(t, hx(t, "011E"), false)
			d[2] = 0x02
			return d
		}, "6988"},
		{"cryptogram not whole blocks", func(t *testing.T, tm *term) []byte { return hx(t, "87040100000000") }, "6988"},
		{"empty DO87", func(t *testing.T, tm *term) []byte { return hx(t, "870101") }, "6988"},
		{"bad padding", func(t *testing.T, tm *term) []byte { return tm.encDO87(t, hx(t, "011E000000000000"), true) }, "6988"},
		{"DO97 of three bytes", func(t *testing.T, tm *term) []byte { return hx(t, "9703000100") }, "6988"},
		{"DO97 before DO87", func(t *testing.T, tm *term) []byte {
			return append(hx(t, "970100"), tm.encDO87(t, hx(t, "011E"), false)...)
		}, "6988"},
		{"two DO97", func(t *testing.T, tm *term) []byte { return hx(t, "970100970100") }, "6988"},
		{"DO87 with a four-byte length", func(t *testing.T, tm *term) []byte { return hx(t, "878400000001") }, "6988"},
		{"truncated DO", func(t *testing.T, tm *term) []byte { return hx(t, "8710") }, "6988"},
		{"DO8E inside", func(t *testing.T, tm *term) []byte { return hx(t, "8E020000") }, "6988"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChip(t, Config{})
			tx(t, c, selectApp)
			tm := setVecSession(t, c)
			r := txb(t, c, tm.protectDOs(t, hx(t, "00A40200"), tt.dos(t, tm)))
			if tt.want == "" {
				if _, sw, err := tm.unprotect(r); err != nil || sw != 0x9000 {
					t.Fatalf("%X: %04X %v", r, sw, err)
				}
				return
			}
			if up(r) != tt.want {
				t.Fatalf("got %X want %s", r, tt.want)
			}
			if got := up(txb(t, c, tm.protect(t, hx(t, "00B08100"), nil, 4, false))); got != "6882" {
				t.Fatalf("session survived: %s", got)
			}
		})
	}
	t.Run("short MAC", func(t *testing.T) {
		c := newChip(t, Config{})
		setVecSession(t, c)
		if got := tx(t, c, "0CB0810007970104"+"8E020000"); got != "6988" {
			t.Fatal(got)
		}
	})
	// Large objects: a 300-byte AID, protected in an extended APDU (DO87
	// with a two-byte length), is read and refused with a protected 6A82.
	t.Run("long DO87", func(t *testing.T) {
		c := newChip(t, Config{ExtendedLength: true})
		tm := setVecSession(t, c)
		r := txb(t, c, tm.protect(t, hx(t, "00A4040C"), bytes.Repeat([]byte{0xA0}, 300), -1, true))
		if _, sw, err := tm.unprotect(r); err != nil || sw != 0x6A82 {
			t.Fatalf("%X %04X %v", r, sw, err)
		}
	})
}

// Whatever Le and max_response allow, a response APDU fits vpcd's 65535-byte
// frames.
func TestResponseFitsVPCDFrame(t *testing.T) {
	files := specimenFiles(t)
	files["DG5"] = pattern(70000) // not DG3: that needs Terminal Authentication
	id, err := NewIdentity(files, Config{ExtendedLength: true})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := New(id)
	tx(t, c, selectApp)
	tm := setVecSession(t, c)
	tm.sm(t, c, "00A4020C", hx(t, "0105"), -1)
	r := txb(t, c, tm.protect(t, hx(t, "00B00000"), nil, 0, true))
	if len(r) > 0xFFFF {
		t.Fatalf("protected response of %d bytes", len(r))
	}
	d, sw, err := tm.unprotect(r)
	if err != nil || sw != 0x9000 || !bytes.Equal(d, pattern(70000)[:len(d)]) || len(d) < 65000 {
		t.Fatalf("%d bytes %04X %v", len(d), sw, err)
	}
	id.Config.RequireBAC = new(false)
	c, _ = New(id)
	tx(t, c, selectApp)
	if r := txb(t, c, hx(t, "00B08500000000")); len(r) != 0xFFFF || swOf(r) != 0x9000 {
		t.Fatalf("plain response of %d bytes", len(r))
	}
}

// Concurrent use is serialised (run with -race).
func TestConcurrentUse(t *testing.T) {
	c := newChip(t, Config{})
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 50; i++ {
				// 10 bytes with RND.IC, or 6982 after another goroutine's
				// SetSecureMessaging.
				if r, err := c.Transmit(context.Background(), hx(t, "0084000008")); err != nil || (len(r) != 10 && up(r) != "6982") {
					t.Errorf("%X %v", r, err)
					return
				}
				if i%10 == 0 {
					c.Reset()
					_ = c.Stats()
					c.SetSecureMessaging(smcrypto.TDES, make([]byte, 16), make([]byte, 16), make([]byte, 8))
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
	if s := c.Stats(); s.APDUs != 200 || s.PowerOns != 20 {
		t.Fatalf("%+v", s)
	}
}
