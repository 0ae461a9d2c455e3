package chipsim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"borderid/internal/pace"
	"borderid/internal/smcrypto"
	"borderid/reader/lds"
)

// ICAO 9303-11 App. G.1 from the card side, byte for byte: the chip draws
// s, SK_map,IC and SK_IC from WithRand in that order, and answers the
// printed terminal commands with the printed responses.
func TestPACEVectorG1(t *testing.T) {
	const (
		pkMapIFD = "04" + "7ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E" +
			"544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D"
		pkMapIC = "04" + "824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57" +
			"30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54"
		pkIFD = "04" + "2DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C" +
			"3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462"
		pkIC = "04" + "9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB" +
			"7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094"
	)
	for _, mse := range []string{
		"0022C1A40F800A04007F00070202040202830101",       // without DO84
		"0022C1A412800A04007F0007020204020283010184010D", // with DO84 = 13
	} {
		t.Run(mse[8:10], func(t *testing.T) {
			rnd := seqReader(t, "3F00C4D39D153F2B2A214A078D899B22",
				"498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560",
				"107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A")
			c := newPACEChip(t, hx(t, "3114"+"3012060A04007F0007020204020202010202010D"), vecPACEMRZ, WithRand(rnd))
			steps := []struct{ cmd, want string }{
				{mse, "9000"},
				{"10860000027C0000", "7C128010" + "95A3A016522EE98D01E76CB6B98B42C3" + "9000"},
				{"10860000457C438141" + pkMapIFD + "00", "7C438241" + pkMapIC + "9000"},
				{"10860000457C438341" + pkIFD + "00", "7C438441" + pkIC + "9000"},
				{"008600000C7C0A8508C2B0BD78D94BA86600", "7C0A86083ABB9674BCE93C08" + "9000"},
			}
			for i, s := range steps {
				if got := tx(t, c, s.cmd); got != s.want {
					t.Fatalf("step %d: %s\n got %s\nwant %s", i, s.cmd, got, s.want)
				}
			}
			tm := &term{ci: smcrypto.AES128, kenc: hx(t, "F5F0E35C0D7161EE6724EE513A0D9A7F"),
				kmac: hx(t, "FE251C7858B356B24514B3BD5F4297D1"), ssc: make([]byte, 16)}
			readAfterPACE(t, c, tm)
		})
	}
}

// App. G.2 (DH GM, 1024/160) from the card side, byte for byte.
func TestPACEVectorG2(t *testing.T) {
	const (
		pkMapIFD = "23FB3749EA030D2A25B278D2A562047ADE3F01B74F17A15402CB7352CA7D2B3EB71C343DB13D1DEBCE9A3666DBCFC920B49174A602CB47965CAA73DC702489A44D41DB914DE9613DC5E98C94160551C0DF86274B9359BC0490D01B03AD54022DCB4F57FAD6322497D7A1E28D46710F461AFE710FBBBC5F8BA166F4311975EC6C"
		pkMapIC  = "78879F57225AA8080D52ED0FC890A4B25336F699AA89A2D3A189654AF70729E623EA5738B26381E4DA19E004706FACE7B235C2DBF2F38748312F3C98C2DD4882A41947B324AA1259AC22579DB93F7085655AF30889DBB845D9E6783FE42C9F2449400306254C8AE8EE9DD812A804C0B66E8CAFC14F84D8258950A91B44126EE6"
		pkIFD    = "907D89E2D425A178AA81AF4A7774EC8E388C115CAE67031E85EECE520BD911551B9AE4D04369F29A02626C86FBC6747CC7BC352645B6161A2A42D44EDA80A08FA8D61B76D3A154AD8A5A51786B0BC07147057871A922212C5F67F43173172236B7747D1671E6D692A3C7D40A0C3C5CE397545D015C175EB5130551EDBC2EE5D4"
		pkIC     = "075693D9AE941877573E634B6E644F8E60AF17A0076B8B123D9201074D36152BD8B3A213F53820C42ADC79AB5D0AEEC3AEFB91394DA476BD97B9B14D0A65C1FC71A0E019CB08AF55E1F729005FBA7E3FA5DC41899238A250767A6D46DB974064386CD456743585F8E5D90CC8B4004B1F6D866C79CE0584E49687FF61BC29AEA1"
	)
	rnd := seqReader(t, "FA5B7E3E49753A0DB9178B7B9BD898C8",
		"66DDAFEAC1609CB5B963BB0CB3FF8B3E047F336C", "A5B780126B7C980E9FCEA1D4539DA1D27C342DFA")
	c := newPACEChip(t, hx(t, "3114"+"3012060A04007F00070202040102020102020100"), vecPACEMRZ, WithRand(rnd))
	steps := []struct{ cmd, want string }{
		{"0022C1A40F800A04007F00070202040102830101", "9000"},
		{"10860000027C0000", "7C128010" + "854D8DF5827FA6852D1A4FA701CDDDCA" + "9000"},
		{"10860000867C818381818" + "0" + pkMapIFD + "00", "7C818382818" + "0" + pkMapIC + "9000"},
		{"10860000867C818383818" + "0" + pkIFD + "00", "7C818384818" + "0" + pkIC + "9000"},
		{"008600000C7C0A8508B46DD9BD4D98381F00", "7C0A8608917F37B5C0E6D8D1" + "9000"},
	}
	for i, s := range steps {
		if got := tx(t, c, s.cmd); got != s.want {
			t.Fatalf("step %d: %s\n got %s\nwant %s", i, s.cmd, got, s.want)
		}
	}
	tm := &term{ci: smcrypto.AES128, kenc: hx(t, "2F7F46ADCC9E7E521B45D192FAFA9126"),
		kmac: hx(t, "805A1D27D45A5116F73C54469462B7D8"), ssc: make([]byte, 16)}
	readAfterPACE(t, c, tm)
}

// App. H.1 and H.2 (IM, CAN): the chip's side is fixed up to its ephemeral
// key, which the examples do not print. With the printed s and t the chip
// must reach the printed Ĝ: its PK_IC for a key the test feeds it is
// checked against SK_IC·Ĝ, and a terminal built from internal/pace with
// the printed SK_IFD completes the run.
func TestPACEVectorsH(t *testing.T) {
	tests := []struct {
		name, info, z, s, tn, gen, skIFD, pkIFD, skIC string
		id                                            int
	}{
		{
			name: "H.1", info: "3012060A04007F0007020204040202010202010D", id: 13,
			z: "143DC40C08C8E891FBED7DEDB92B64AD", s: "2923BE84E16CD6AE529049F1F1BBE9EB", tn: "5DD4CBFC96F5453B130D890A1CDBAE32",
			gen: "04" + "8E82D31559ED0FDE92A4D0498ADD3C23BABA94FB77691E31E90AEA77FB17D427" +
				"4C1AE14BD0C3DBAC0C871B7F3608169364437CA30AC243A089D3F266C1E60FAD",
			skIFD: "A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595",
			pkIFD: "04" + "89CBA23FFE96AA18D824627C3E934E54A9FD0B87A95D1471DC1C0ABFDCD640D4" +
				"6755DE9B7B778280B6BEBD57439ADFEB0E21FD4ED6DF42578C13418A59B34C37",
			skIC: "107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A",
		},
		{
			name: "H.2", info: "3012060A04007F00070202040302020102020100", id: 0,
			z: "9ABB8864CA0FF1551E620D1EF4E13510", s: "FA5B7E3E49753A0DB9178B7B9BD898C8", tn: "B3A6DB3C870C3E99245E0D1C06B747DE",
			gen:   "1D7D767F11E333BCD6DBAEF40E799E7A926B96973550656FF3C830726D118D61C276CDCC61D475CF03A98E0C0E79CAEBA5BE25578BD4551D0B10903236F0B0F976852FA78EEA14EA0ACA87D1E91F688FE0DFF897BBE35A472621D343564B262F34223AE8FC59B664BFEDFA2BFE7516CA5510A6BBB633D517EC25D4E0BBAA16C2",
			skIFD: "89CCD99B0E8D3B1F11E1296DCA68EC53411CF2CA",
			pkIFD: "0F0CC62945A8029251FB7EF3C094E12EC68E4EF07F27CB9D9CD04C5C4250FAE0E4F8A951557E929AEB48E5C6DD47F2F5CD7C351A9BD2CD722C07EDE166770F08FFCB370262CF308DD7B07F2E0DA9CAAA1492344C852906919538C98A4BA4187E76CE9D87832386D319CE2E043C3343AEAE6EDBA1A9894DC5094D22F7FE1351D5",
			skIC:  "A5B780126B7C980E9FCEA1D4539DA1D27C342DFA",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newPACEChip(t, hx(t, "3114"+tc.info), Config{CAN: vecCAN}, WithRand(seqReader(t, tc.s, tc.skIC)))
			infos, err := lds.ParseCardAccess(hx(t, "3114"+tc.info))
			if err != nil {
				t.Fatal(err)
			}
			pt := newPACETerm(t, c, infos.PACE[0].Protocol, tc.id, vecCAN, 2)
			pt.param = false
			pt.fixT, pt.fixSK = hx(t, tc.tn), hx(t, tc.skIFD)
			if sw := pt.mse(); sw != 0x9000 {
				t.Fatalf("MSE: %04X", sw)
			}
			// GA1 by hand: z exactly as printed.
			if got := tx(t, c, "10860000027C0000"); got != "7C128010"+tc.z+"9000" {
				t.Fatalf("GA1: %s", got)
			}
			pt.s = hx(t, tc.s)
			// GA2 with the printed t (the H.1 APDU is printed too).
			if tc.name == "H.1" {
				if got := tx(t, c, "10860000147C128110"+tc.tn+"00"); got != "7C009000" {
					t.Fatalf("GA2: %s", got)
				}
				pt.gen, _ = pace.IntegratedGenerator(pt.d, pt.ci, pt.s, pt.fixT)
			} else if sw := pt.ga2(); sw != 0x9000 {
				t.Fatalf("GA2: %04X", sw)
			}
			if up(pt.gen) != tc.gen {
				t.Fatalf("terminal Ĝ %X, want the printed one", pt.gen)
			}
			if sw := pt.ga3(); sw != 0x9000 {
				t.Fatalf("GA3: %04X", sw)
			}
			if up(pt.pkIFD) != tc.pkIFD {
				t.Fatalf("PK_IFD %X, want the printed one", pt.pkIFD)
			}
			want, err := pt.d.PublicKey(hx(t, tc.skIC), hx(t, tc.gen))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pt.pkIC, want) {
				t.Fatalf("chip PK_IC %X is not SK_IC·Ĝ for the printed Ĝ", pt.pkIC)
			}
			if sw := pt.ga4(); sw != 0x9000 {
				t.Fatalf("GA4: %04X", sw)
			}
			readAfterPACE(t, c, pt.session())
		})
	}
}

// Every standardized parameter id with GM and IM, the ciphers in turn, and
// CAM with AES on every curve, against the test terminal; both passwords.
func TestPACEMatrix(t *testing.T) {
	ciphers := []int{1, 2, 3, 4} // the OID's cipher arc: 3DES, AES-128, -192, -256
	type run struct {
		p   lds.Protocol
		id  int
		cam bool
	}
	var runs []run
	for i, id := range pace.ParameterIDs() {
		arc := ciphers[i%len(ciphers)]
		gm, im := lds.PACEECDHGM, lds.PACEECDHIM
		if id <= 2 {
			gm, im = lds.PACEDHGM, lds.PACEDHIM
		}
		runs = append(runs, run{p: gm | lds.Protocol(arc), id: id}, run{p: im | lds.Protocol(ciphers[(i+1)%4]), id: id})
		if id >= 8 {
			runs = append(runs, run{p: lds.PACEECDHCAM | lds.Protocol(2+i%3), id: id, cam: true})
		}
	}
	for i, r := range runs {
		if testing.Short() && r.id != 0 && r.id != 13 && r.id != 18 && r.id != 2 {
			continue
		}
		t.Run(fmt.Sprintf("%v/%d", r.p, r.id), func(t *testing.T) {
			cfg := Config{CAN: vecCAN, ExtendedLength: r.id == 1 || r.id == 2}
			var camPK []byte
			if r.cam {
				der, pub := camKeyFor(t, r.id)
				cfg.ChipAuthentication = &CAConfig{Key: der}
				camPK = pub
			}
			// A second, unrelated offer: the chip picks by OID and id.
			other := paceInfo(lds.PACEECDHGMAES128, 12)
			if r.id == 12 {
				other = paceInfo(lds.PACEDHGMAES128, 0)
			}
			c := newPACEChip(t, cardAccess(t, other, paceInfo(r.p, r.id)), cfg)
			pw, ref := vecMRZInfo, byte(1)
			if i%2 == 1 {
				pw, ref = vecCAN, 2
			}
			pt := newPACETerm(t, c, r.p, r.id, pw, ref)
			pt.camPK = camPK
			tm := pt.run()
			if r.cam && pt.caIC == nil {
				t.Fatal("no CA_IC")
			}
			readAfterPACE(t, c, tm)
		})
	}
}

// The PACE-only chip refuses BAC; the default chip still offers both.
func TestPACEOnlyChipRefusesBAC(t *testing.T) {
	ca := cardAccess(t, paceInfo(lds.PACEECDHGMAES128, 13))
	c := newPACEChip(t, ca, Config{PACE: &PACEConfig{BAC: new(false)}})
	if got := tx(t, c, "0084000008"); got != "6982" {
		t.Fatalf("GET CHALLENGE on a PACE-only chip: %s", got)
	}
	if got := tx(t, c, "0082000028"+up(make([]byte, 40))+"28"); got != "6982" {
		t.Fatalf("EXTERNAL AUTHENTICATE on a PACE-only chip: %s", got)
	}
	tm := newPACETerm(t, c, lds.PACEECDHGMAES128, 13, vecMRZInfo, 1).run()
	readAfterPACE(t, c, tm)

	d := newPACEChip(t, ca, Config{})
	if tm, sw := bac(t, d, vecMRZInfo, hx(t, "781723860C06C226"), hx(t, "0B795240CB7049B01C19B33E32804F0B")); sw != 0x9000 || tm == nil {
		t.Fatalf("BAC on a chip that allows it: %04X", sw)
	}
	// bac: false without a PACE to run is no chip at all.
	if _, err := NewIdentity(paceFiles(t, hx(t, "3114300F060A04007F00070202040202020102")), Config{PACE: &PACEConfig{BAC: new(false)}}); !errors.Is(err, ErrInvalidIdentity) {
		t.Fatalf("bac false and no usable PACE: %v", err)
	}
}

func TestPACEIdentityRefusals(t *testing.T) {
	ca := cardAccess(t, paceInfo(lds.PACEECDHCAMAES128, 13))
	der12, _ := camKeyFor(t, 12)
	for name, cfg := range map[string]Config{
		"CAM without key":          {},
		"CAM key on another curve": {ChipAuthentication: &CAConfig{Key: der12}},
		"CAN of five digits":       {CAN: "12345"},
		"CAN with a letter":        {CAN: "12345A"},
	} {
		if _, err := NewIdentity(paceFiles(t, ca), cfg); !errors.Is(err, ErrInvalidIdentity) {
			t.Errorf("%s: %v, want ErrInvalidIdentity", name, err)
		}
	}
	// A CardAccess the chip cannot run (ECDH with a DH parameter id) or
	// cannot parse is served as it is, and MSE:Set AT refuses it.
	for _, b := range []string{"3114300F060A04007F00070202040202020102", "31FF00"} {
		c := newPACEChip(t, hx(t, b), Config{})
		if got := tx(t, c, "0022C1A40F800A04007F00070202040202830101"); got != "6A80" {
			t.Errorf("CardAccess %s: MSE %s", b, got)
		}
	}
}

// pacePrefix runs PACE up to (not including) step n of 0..4 (MSE, GA1..GA4).
func pacePrefix(t *testing.T, pt *paceTerm, n int) {
	t.Helper()
	for i, step := range []func() uint16{pt.mse, pt.ga1, pt.ga2, pt.ga3, pt.ga4}[:n] {
		if sw := step(); sw != 0x9000 {
			t.Fatalf("step %d: %04X", i, sw)
		}
	}
}

func TestPACERefusals(t *testing.T) {
	gm := lds.PACEECDHGMAES128
	im := lds.PACEECDHIMAES128
	dhgm := lds.PACEDHGMAES128
	ca := cardAccess(t, paceInfo(gm, 13), paceInfo(im, 12), paceInfo(dhgm, 0),
		paceInfo(lds.PACEECDHGMAES256, 13), paceInfo(lds.PACEECDHGMAES256, 12))
	oid := func(p lds.Protocol) string { return up(oidValue(t, p)) }
	mse := func(data string) string {
		b := hx(t, data)
		return "0022C1A4" + up([]byte{byte(len(b))}) + data
	}
	d13, _ := pace.DomainByParameterID(13)
	d0, _ := pace.DomainByParameterID(0)
	offCurve := append([]byte{4}, bytes.Repeat([]byte{1}, 64)...)
	inf := append([]byte{4}, make([]byte, 64)...)
	dhOne := append(make([]byte, 127), 1)
	dhP := d0.Prime()
	dhPm1 := bytes.Clone(dhP)
	dhPm1[len(dhPm1)-1]--

	t.Run("MSE", func(t *testing.T) {
		c := newPACEChip(t, ca, Config{CAN: vecCAN})
		for _, tc := range []struct{ name, apdu, want string }{
			{"ok", mse("800A" + oid(gm) + "830101"), "9000"},
			{"ok CAN", mse("800A" + oid(gm) + "830102"), "9000"},
			{"ok with id", mse("800A" + oid(gm) + "83010184010D"), "9000"},
			{"unknown OID", mse("800A" + oid(lds.PACEDHIMAES128) + "830101"), "6A80"},
			{"CA OID", mse("800A" + oid(lds.CAECDHAES128) + "830101"), "6A80"},
			{"wrong id", mse("800A" + oid(gm) + "83010184010C"), "6A80"},
			{"unknown id", mse("800A" + oid(gm) + "830101840103"), "6A80"},
			{"long id", mse("800A" + oid(gm) + "8301018402000D"), "6A80"},
			{"ambiguous without id", mse("800A" + oid(lds.PACEECDHGMAES256) + "830101"), "6A80"},
			{"ambiguous with id", mse("800A" + oid(lds.PACEECDHGMAES256) + "83010184010C"), "9000"},
			{"PIN", mse("800A" + oid(gm) + "830103"), "6A80"},
			{"no password", mse("800A" + oid(gm) + "84010D"), "6A80"},
			{"no OID", mse("830101"), "6A80"},
			{"password twice", mse("800A" + oid(gm) + "830101830101"), "6A80"},
			{"two-byte password", mse("800A" + oid(gm) + "83020001"), "6A80"},
			{"unknown DO", mse("800A" + oid(gm) + "830101910100"), "6A80"},
			{"truncated", mse("800A" + oid(gm) + "8302"), "6A80"},
			{"no data", "0022C1A4", "6A80"},
			{"CHAT accepted", mse("800A" + oid(gm) + "8301017F4C0106"), "9000"},
			{"wrong P1P2", "0022C1A5" + mse("800A" + oid(gm) + "830101")[8:], "6A86"},
		} {
			if got := tx(t, c, tc.apdu); got != tc.want {
				t.Errorf("%s: %s → %s, want %s", tc.name, tc.apdu, got, tc.want)
			}
		}
		// No CAN configured: MSE with the CAN is refused.
		c2 := newPACEChip(t, ca, Config{})
		if got := tx(t, c2, mse("800A"+oid(gm)+"830102")); got != "6A80" {
			t.Errorf("CAN on a chip without one: %s", got)
		}
	})

	t.Run("order", func(t *testing.T) {
		c := newPACEChip(t, ca, Config{})
		if got := tx(t, c, "10860000027C0000"); got != "6985" {
			t.Errorf("GA before MSE: %s", got)
		}
		pt := newPACETerm(t, c, gm, 13, vecMRZInfo, 1)
		tm := pt.run()
		// After PACE, a protected GA is out of order; a plain one ends SM.
		if _, sw := tm.sm(t, c, "00860000", hx(t, "7C00"), 0); sw != 0x6985 {
			t.Errorf("protected GA after PACE: %04X", sw)
		}
		readAfterPACE(t, c, tm)
		// MSE under secure messaging: PACE runs in clear.
		if _, sw := tm.sm(t, c, "0022C1A4", hx(t, "800A"+oid(gm)+"830101"), -1); sw != 0x6985 {
			t.Errorf("MSE under SM: %04X", sw)
		}
	})

	// Each case runs PACE up to a step, sends a bad command there, expects
	// the status word, and checks that the run was aborted (the next GA is
	// 6985 out of order, and a fresh MSE restarts).
	type badStep struct {
		name  string
		p     lds.Protocol
		id    int
		step  int // 1..4: GA number
		apdu  func(pt *paceTerm) []byte
		sw    uint16
		setup func(pt *paceTerm)
	}
	ga := func(cla, tg byte, v []byte) func(*paceTerm) []byte {
		return func(pt *paceTerm) []byte { return gaAPDU(cla, tg, v, pt.ext) }
	}
	raw := func(s string) func(*paceTerm) []byte { return func(*paceTerm) []byte { return hx(t, s) } }
	cases := []badStep{
		{name: "GA1 not empty", p: gm, id: 13, step: 1, apdu: ga(0x10, 0x80, []byte{1}), sw: 0x6A80},
		{name: "GA1 no 7C", p: gm, id: 13, step: 1, apdu: raw("10860000028000" + "00"), sw: 0x6A80},
		{name: "GA1 truncated 7C", p: gm, id: 13, step: 1, apdu: raw("10860000027C05" + "00"), sw: 0x6A80},
		{name: "GA1 trailing data", p: gm, id: 13, step: 1, apdu: raw("10860000047C000000" + "00"), sw: 0x6A80},
		{name: "GA1 no Le", p: gm, id: 13, step: 1, apdu: raw("10860000027C00"), sw: 0x6700},
		{name: "GA1 P1P2", p: gm, id: 13, step: 1, apdu: raw("10860001027C0000"), sw: 0x6A86},
		{name: "GA1 unchained", p: gm, id: 13, step: 1, apdu: raw("00860000027C0000"), sw: 0x6985},
		{name: "GA2 wrong tag", p: gm, id: 13, step: 2, apdu: func(pt *paceTerm) []byte { return gaAPDU(0x10, 0x83, d13.Generator(), false) }, sw: 0x6A80},
		{name: "GA2 truncated 7C", p: gm, id: 13, step: 2, apdu: raw("10860000057C4381410400"), sw: 0x6A80},
		{name: "GA2 off curve", p: gm, id: 13, step: 2, apdu: ga(0x10, 0x81, offCurve), sw: 0x6A80},
		{name: "GA2 infinity", p: gm, id: 13, step: 2, apdu: ga(0x10, 0x81, inf), sw: 0x6A80},
		{name: "GA2 short point", p: gm, id: 13, step: 2, apdu: ga(0x10, 0x81, d13.Generator()[:33]), sw: 0x6A80},
		{name: "GA2 DH one", p: dhgm, id: 0, step: 2, apdu: ga(0x10, 0x81, dhOne), sw: 0x6A80},
		{name: "GA2 DH p-1", p: dhgm, id: 0, step: 2, apdu: ga(0x10, 0x81, dhPm1), sw: 0x6A80},
		{name: "GA2 DH p", p: dhgm, id: 0, step: 2, apdu: ga(0x10, 0x81, dhP), sw: 0x6A80},
		{name: "GA2 DH short", p: dhgm, id: 0, step: 2, apdu: ga(0x10, 0x81, d0.Generator()[1:]), sw: 0x6A80},
		{name: "GA2 IM short t", p: im, id: 12, step: 2, apdu: ga(0x10, 0x81, make([]byte, 15)), sw: 0x6A80},
		{name: "GA3 off curve", p: gm, id: 13, step: 3, apdu: ga(0x10, 0x83, offCurve), sw: 0x6A80},
		{name: "GA3 infinity", p: im, id: 12, step: 3, apdu: ga(0x10, 0x83, inf), sw: 0x6A80},
		{name: "GA3 DH one", p: dhgm, id: 0, step: 3, apdu: ga(0x10, 0x83, dhOne), sw: 0x6A80},
		{name: "GA3 DH not in subgroup", p: dhgm, id: 0, step: 3, apdu: ga(0x10, 0x83, func() []byte {
			b := make([]byte, 128)
			b[127] = 2 // 2 is not in the order-q subgroup of the RFC 5114 group
			return b
		}()), sw: 0x6A80},
		{name: "GA4 wrong token", p: gm, id: 13, step: 4, apdu: ga(0x00, 0x85, make([]byte, 8)), sw: 0x6300},
		{name: "GA4 short token", p: gm, id: 13, step: 4, apdu: ga(0x00, 0x85, make([]byte, 4)), sw: 0x6300},
		{name: "GA4 chained", p: gm, id: 13, step: 4, apdu: func(pt *paceTerm) []byte { return gaAPDU(0x10, 0x85, pt.tokenIFD(), false) }, sw: 0x6883},
		{name: "GA4 token over own key", p: dhgm, id: 0, step: 4, apdu: func(pt *paceTerm) []byte {
			tk, _ := pace.Token(pt.ci, pt.ksmac, pt.proto.OID(), pt.pkIFD, pt.d.KeyAgreement())
			return gaAPDU(0x00, 0x85, tk, false)
		}, sw: 0x6300},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newPACEChip(t, ca, Config{})
			pt := newPACETerm(t, c, tc.p, tc.id, vecMRZInfo, 1)
			pacePrefix(t, pt, tc.step)
			r := txb(t, c, tc.apdu(pt))
			if len(r) != 2 || swOf(r) != tc.sw {
				t.Fatalf("got %X, want %04X alone", r, tc.sw)
			}
			if got := tx(t, c, "10860000027C0000"); got != "6985" {
				t.Fatalf("PACE not aborted: next GA1 %s", got)
			}
			appLocked(t, c)
			// Start again: a new run completes.
			readAfterPACE(t, c, newPACETerm(t, c, tc.p, tc.id, vecMRZInfo, 1).run())
		})
	}

	// A terminal whose PK_map,IFD or PK_IFD equals the chip's key (the
	// chip's randomness is fed the terminal's private key) is refused.
	t.Run("equal keys", func(t *testing.T) {
		sk := hx(t, "A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595")
		s := "3F00C4D39D153F2B2A214A078D899B22"
		c := newPACEChip(t, ca, Config{}, WithRand(seqReader(t, s, up(sk))))
		pt := newPACETerm(t, c, gm, 13, vecMRZInfo, 1)
		pt.fixSKMap = sk
		pacePrefix(t, pt, 2)
		if sw := pt.ga2(); sw != 0x6A80 {
			t.Fatalf("PK_map,IFD = PK_map,IC: %04X", sw)
		}
		c = newPACEChip(t, ca, Config{}, WithRand(seqReader(t, s, "498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560", up(sk))))
		pt = newPACETerm(t, c, gm, 13, vecMRZInfo, 1)
		pt.fixSK = sk
		pacePrefix(t, pt, 3)
		if sw := pt.ga3(); sw != 0x6A80 {
			t.Fatalf("PK_IFD = PK_IC: %04X", sw)
		}
	})

	// A terminal with the wrong password learns nothing before step 4: the
	// chip answers every step, and T_IFD fails with 6300.
	t.Run("wrong password", func(t *testing.T) {
		for _, tc := range []struct {
			pw  string
			ref byte
		}{{"L898902C<369080619406237", 1}, {"654321", 2}, {vecMRZInfo, 2}} {
			c := newPACEChip(t, ca, Config{CAN: vecCAN})
			pt := newPACETerm(t, c, im, 12, tc.pw, tc.ref)
			pacePrefix(t, pt, 4)
			if sw := pt.ga4(); sw != 0x6300 {
				t.Fatalf("%s: %04X", tc.pw, sw)
			}
			appLocked(t, c)
		}
	})

	t.Run("chaining", func(t *testing.T) {
		c := newPACEChip(t, ca, Config{})
		if got := tx(t, c, "10A4040C07A0000002471001"); got != "6884" {
			t.Errorf("chained SELECT: %s", got)
		}
		if got := tx(t, c, "1084000008"); got != "6884" {
			t.Errorf("chained GET CHALLENGE: %s", got)
		}
	})
}

// The chip's faults apply to PACE's APDUs and to the session after it.
func TestPACEFaults(t *testing.T) {
	ca := cardAccess(t, paceInfo(lds.PACEECDHGMAES128, 13))
	t.Run("tear", func(t *testing.T) {
		c := newPACEChip(t, ca, Config{}, WithFaults(Faults{TearAfter: 3}))
		pt := newPACETerm(t, c, lds.PACEECDHGMAES128, 13, vecMRZInfo, 1)
		pacePrefix(t, pt, 3)
		_, err := c.Transmit(context.Background(), gaAPDU(0x10, 0x83, pt.pkMapIC, false))
		if !errors.Is(err, ErrTorn) {
			t.Fatalf("GA3 on a torn chip: %v", err)
		}
		c.Reset()
		if got := tx(t, c, "10860000027C0000"); got != "6985" {
			t.Fatalf("PACE survived the power cycle: %s", got)
		}
	})
	t.Run("corrupt MAC after PACE", func(t *testing.T) {
		c := newPACEChip(t, ca, Config{}, WithFaults(Faults{CorruptMACAt: 6}))
		tm := newPACETerm(t, c, lds.PACEECDHGMAES128, 13, vecMRZInfo, 1).run()
		r := txb(t, c, tm.protect(t, hx(t, "00A4040C"), hx(t, "A0000002471001"), -1, false))
		if _, _, err := tm.unprotect(r); !errors.Is(err, errMAC) {
			t.Fatalf("response 6 with a corrupted MAC: %v", err)
		}
	})
	t.Run("corrupt MAC on a PACE step", func(t *testing.T) {
		// PACE answers in clear: there is no MAC to corrupt, and the run
		// completes.
		c := newPACEChip(t, ca, Config{}, WithFaults(Faults{CorruptMACAt: 3}))
		readAfterPACE(t, c, newPACETerm(t, c, lds.PACEECDHGMAES128, 13, vecMRZInfo, 1).run())
	})
	t.Run("unprotected errors after PACE", func(t *testing.T) {
		c := newPACEChip(t, ca, Config{}, WithFaults(Faults{UnprotectedErrors: true}))
		tm := newPACETerm(t, c, lds.PACEECDHGMAES128, 13, vecMRZInfo, 1).run()
		r := txb(t, c, tm.protect(t, hx(t, "00A4020C"), hx(t, "0105"), -1, false))
		if up(r) != "6A82" {
			t.Fatalf("SELECT of an absent file: %X, want a bare 6A82", r)
		}
	})
	t.Run("unprotected errors in PACE", func(t *testing.T) {
		// PACE's refusals are unprotected anyway: same bytes with the fault.
		c := newPACEChip(t, ca, Config{}, WithFaults(Faults{UnprotectedErrors: true}))
		pt := newPACETerm(t, c, lds.PACEECDHGMAES128, 13, vecMRZInfo, 1)
		pacePrefix(t, pt, 4)
		if got := up(txb(t, c, gaAPDU(0x00, 0x85, make([]byte, 8), false))); got != "6300" {
			t.Fatalf("wrong token: %s", got)
		}
	})
	t.Run("cap Le after PACE", func(t *testing.T) {
		c := newPACEChip(t, ca, Config{}, WithFaults(Faults{CapLe: 3}))
		tm := newPACETerm(t, c, lds.PACEECDHGMAES128, 13, vecMRZInfo, 1).run()
		if d, sw := tm.sm(t, c, "00B09D00", nil, 8); sw != 0x9000 || len(d) != 3 {
			t.Fatalf("capped read: %X %04X", d, sw)
		}
	})
	t.Run("latency", func(t *testing.T) {
		c := newPACEChip(t, ca, Config{}, WithFaults(Faults{Latency: time.Second}))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		pt := newPACETerm(t, c, lds.PACEECDHGMAES128, 13, vecMRZInfo, 1)
		if _, err := c.Transmit(ctx, pt.mseAPDU()); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("MSE with latency and a deadline: %v", err)
		}
	})
	t.Run("drop SM after PACE", func(t *testing.T) {
		c := newPACEChip(t, ca, Config{}, WithFaults(Faults{DropSMAt: 6}))
		tm := newPACETerm(t, c, lds.PACEECDHGMAES128, 13, vecMRZInfo, 1).run()
		if got := up(txb(t, c, tm.protect(t, hx(t, "00B09D00"), nil, 4, false))); got != "6987" {
			t.Fatalf("dropped session: %s", got)
		}
		appLocked(t, c)
	})
}

// CAM on the CAM vector's curve with the CA_IC printed nowhere: the check
// KA(CA_IC, PK_IC) = PK_map,IC against the static key of EF.CardSecurity,
// and a different static key fails it.
func TestPACECAMCheck(t *testing.T) {
	der, pub := camKeyFor(t, 13)
	_, otherPub := camKeyFor(t, 13)
	ca := cardAccess(t, paceInfo(lds.PACEECDHCAMAES128, 13))
	c := newPACEChip(t, ca, Config{ChipAuthentication: &CAConfig{Key: der}})
	pt := newPACETerm(t, c, lds.PACEECDHCAMAES128, 13, vecMRZInfo, 1)
	pt.camPK = pub
	readAfterPACE(t, c, pt.run())
	if err := pace.VerifyCAM(pt.d, pt.caIC, otherPub, pt.pkMapIC); !errors.Is(err, pace.ErrCAM) {
		t.Fatalf("CAM with another static key: %v", err)
	}
	// Decrypting A_IC with the raw FF…FF IV (the known reader bug) gives
	// another first block: the chip used E(KSenc, FF…FF).
	raw, err := smcrypto.DecryptCBC(smcrypto.AES128, pt.ksenc, bytes.Repeat([]byte{0xFF}, 16), pt.aIC)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(raw[:16], pt.caIC[:16]) {
		t.Fatal("A_IC decrypts the same with the raw IV")
	}
}

// CVCA references go out in DO87/DO88 of step 4.
func TestPACECARs(t *testing.T) {
	ca := cardAccess(t, paceInfo(lds.PACEECDHGMAES128, 13))
	files := paceFiles(t, ca)
	cvca := append(appendDO(appendDO(nil, 0x42, []byte("UTCVCA00002")), 0x42, []byte("UTCVCA00001")), make([]byte, 10)...)
	files["CVCA"] = cvca
	id, err := NewIdentity(files, Config{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(id)
	if err != nil {
		t.Fatal(err)
	}
	pt := newPACETerm(t, c, lds.PACEECDHGMAES128, 13, vecMRZInfo, 1)
	pt.run()
	if len(pt.cars) != 2 || string(pt.cars[0]) != "UTCVCA00002" || string(pt.cars[1]) != "UTCVCA00001" {
		t.Fatalf("CARs %q", pt.cars)
	}
}

// Fixed-length public keys: DH values and coordinates with leading zero
// bytes go out at full length. The chip's keys are fed through WithRand
// until one has a zero top byte.
func TestPACEFixedLengthKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("searches for keys with a leading zero")
	}
	for _, tc := range []struct {
		p   lds.Protocol
		id  int
		top int // index of the first byte of x (ECDH) or of y (DH)
	}{{lds.PACEECDHGMAES128, 9, 1}, {lds.PACEDHGMAES128, 0, 0}} {
		ca := cardAccess(t, paceInfo(tc.p, tc.id))
		d, _ := pace.DomainByParameterID(tc.id)
		found := 0
		for i := 0; i < 3000 && found < 2; i++ {
			sk, pk, err := d.GenerateKey(randReader(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if pk[tc.top] != 0 {
				continue
			}
			found++
			s := bytes.Repeat([]byte{byte(i)}, 16)
			c := newPACEChip(t, ca, Config{}, WithRand(io.MultiReader(bytes.NewReader(append(s, sk...)), randReader())))
			pt := newPACETerm(t, c, tc.p, tc.id, vecMRZInfo, 1)
			pacePrefix(t, pt, 2)
			if sw := pt.ga2(); sw != 0x9000 {
				t.Fatalf("GA2: %04X", sw)
			}
			if !bytes.Equal(pt.pkMapIC, pk) {
				t.Fatalf("PK_map,IC %X, want %X with its leading zero", pt.pkMapIC, pk)
			}
			if sw := pt.ga3(); sw != 0x9000 {
				t.Fatalf("GA3: %04X", sw)
			}
			if sw := pt.ga4(); sw != 0x9000 {
				t.Fatalf("GA4: %04X", sw)
			}
		}
		if found == 0 {
			t.Fatalf("%v: no key with a zero top byte in 3000 tries", tc.p)
		}
	}
}

// FuzzPACE sends fuzzed APDUs to a chip in each PACE state: fresh, after
// MSE:Set AT, after each GENERAL AUTHENTICATE, and after PACE (where the
// fuzzer's bytes are a plain command the terminal protects). The chip must
// never panic, always answer a status word, and never let the
// application's files out in clear.
func FuzzPACE(f *testing.F) {
	for st := byte(0); st < 6; st++ {
		f.Add([]byte{st, 20, 0x00, 0x22, 0xC1, 0xA4, 0x0F, 0x80, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02, 0x83, 0x01, 0x01})
		f.Add([]byte{st, 8, 0x10, 0x86, 0x00, 0x00, 0x02, 0x7C, 0x00, 0x00})
		f.Add([]byte{st, 12, 0x10, 0x86, 0x00, 0x00, 0x06, 0x7C, 0x04, 0x81, 0x02, 0x04, 0x00, 0x00})
		f.Add([]byte{st, 18, 0x00, 0x86, 0x00, 0x00, 0x0C, 0x7C, 0x0A, 0x85, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00})
		f.Add([]byte{st, 5, 0x00, 0xB0, 0x9E, 0x00, 0x04})
	}
	ca := cardAccess(f, paceInfo(lds.PACEECDHGMAES128, 13), paceInfo(lds.PACEECDHIMAES128, 13), paceInfo(lds.PACEDHGM3DES, 0))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		state, in := int(in[0]%6), in[1:]
		p := lds.PACEECDHGMAES128
		if state%2 == 1 {
			p = lds.PACEECDHIMAES128
		}
		c := newPACEChip(t, ca, Config{CAN: vecCAN})
		pt := newPACETerm(t, c, p, 13, vecMRZInfo, 1)
		for i, step := range []func() uint16{pt.mse, pt.ga1, pt.ga2, pt.ga3, pt.ga4}[:min(state, 5)] {
			if sw := step(); sw != 0x9000 {
				t.Fatalf("step %d: %04X", i, sw)
			}
		}
		var tm *term
		if state == 5 {
			tm = pt.session()
		}
		for n := 0; len(in) > 0 && n < 16; n++ {
			l := min(int(in[0]), len(in)-1)
			apdu := in[1 : 1+l]
			in = in[1+l:]
			if tm != nil && len(apdu) >= 5 {
				apdu = tm.protect(t, apdu[:4], apdu[5:], int(apdu[4])-1, false)
			}
			r, err := c.Transmit(context.Background(), apdu)
			if err != nil {
				t.Fatalf("Transmit(%X): %v", apdu, err)
			}
			if len(r) < 2 {
				t.Fatalf("Transmit(%X) = %X: no status word", apdu, r)
			}
			if tm != nil && len(r) > 2 {
				tm.unprotect(r)
			}
			if c.st.sess == nil && len(r) > 2 && bytes.Contains(r, hx(t, vecEFCOM)[:4]) {
				t.Fatalf("EF.COM in clear without a session: %X", r)
			}
		}
	})
}

// BenchmarkPACEChip measures the chip's CPU for one PACE GM run: the
// terminal's commands are computed once (the chip's randomness is fixed),
// then replayed to the chip after each power cycle.
func BenchmarkPACEChip(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    lds.Protocol
		id   int
	}{
		{"GM/brainpoolP256r1", lds.PACEECDHGMAES128, 13},
		{"GM/P-256", lds.PACEECDHGMAES128, 12},
		{"GM/DH-2048-256", lds.PACEDHGMAES128, 2},
		{"IM/brainpoolP256r1", lds.PACEECDHIMAES128, 13},
		{"CAM/brainpoolP256r1", lds.PACEECDHCAMAES128, 13},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := Config{ExtendedLength: bc.id == 2}
			if bc.p.Mapping() == lds.MappingCAM {
				der, _ := camKeyFor(b, bc.id)
				cfg.ChipAuthentication = &CAConfig{Key: der}
			}
			d, _ := pace.DomainByParameterID(bc.id)
			chipRand := make([]byte, 16+2*d.ScalarLen())
			for i := range chipRand {
				chipRand[i] = byte(i*37 + 1)
			}
			chipRand[16] &= 0x7F // below the order
			chipRand[16+d.ScalarLen()] &= 0x7F
			rnd := bytes.NewReader(chipRand)
			c := newPACEChip(b, cardAccess(b, paceInfo(bc.p, bc.id)), cfg, WithRand(rnd))
			// Record the terminal's commands from one real run.
			pt := newPACETerm(b, c, bc.p, bc.id, vecMRZInfo, 1)
			pt.run()
			cmds := capturePACE(b, c, pt, rnd, chipRand)
			b.ResetTimer()
			for range b.N {
				c.Reset()
				rnd.Reset(chipRand)
				for _, cmd := range cmds {
					r, err := c.Transmit(context.Background(), cmd)
					if err != nil || swOf(r) != 0x9000 {
						b.Fatalf("replay: %X %v", r, err)
					}
				}
			}
		})
	}
}

// BenchmarkPACEDomainOp is the raw operation beside BenchmarkPACEChip: one
// scalar multiplication (modexp for DH) with a full-length secret scalar,
// of which a chip's PACE GM run does five (SK_map,IC·G, H, s·G, PK_IC,
// K) besides point validations.
func BenchmarkPACEDomainOp(b *testing.B) {
	for _, id := range []int{13, 12, 2} {
		d, _ := pace.DomainByParameterID(id)
		b.Run(d.Name(), func(b *testing.B) {
			sk, _, err := d.GenerateKey(randReader(), nil)
			if err != nil {
				b.Fatal(err)
			}
			g := d.Generator()
			b.ResetTimer()
			for range b.N {
				if _, err := d.PublicKey(sk, g); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// capturePACE runs PACE again with the chip's randomness of the first run
// and keeps the terminal's commands: the chip's answers depend only on its
// randomness and these commands, so they can be replayed.
func capturePACE(b *testing.B, c *Chip, pt *paceTerm, rnd *bytes.Reader, chipRand []byte) [][]byte {
	b.Helper()
	c.Reset()
	rnd.Reset(chipRand)
	var cmds [][]byte
	send := func(apdu []byte) []byte {
		cmds = append(cmds, apdu)
		return txb(b, c, apdu)
	}
	send(pt.mseAPDU())
	send(gaAPDU(0x10, 0, nil, pt.ext))
	if pt.proto.Mapping() != lds.MappingIM {
		send(gaAPDU(0x10, 0x81, pt.pkMapIFD, pt.ext))
		send(gaAPDU(0x10, 0x83, pt.pkIFD, pt.ext))
		send(gaAPDU(0x00, 0x85, pt.tokenIFD(), pt.ext))
		return cmds
	}
	tn := make([]byte, pt.ci.KeySize())
	send(gaAPDU(0x10, 0x81, tn, pt.ext))
	gen, err := pace.IntegratedGenerator(pt.d, pt.ci, pt.s, tn)
	if err != nil {
		b.Fatal(err)
	}
	sk, pk, err := pt.d.GenerateKey(randReader(), gen)
	if err != nil {
		b.Fatal(err)
	}
	resp := send(gaAPDU(0x10, 0x83, pk, pt.ext))
	pkIC := parseDynAuth(b, resp[:len(resp)-2])[0x84]
	k, err := pt.d.SharedSecret(sk, pkIC)
	if err != nil {
		b.Fatal(err)
	}
	_, kmac, _ := pace.SessionKeys(pt.ci, k)
	tk, _ := pace.Token(pt.ci, kmac, pt.proto.OID(), pkIC, pt.d.KeyAgreement())
	send(gaAPDU(0x00, 0x85, tk, pt.ext))
	return cmds
}

// chip.json's can and pace survive Save and LoadIdentity, and the loaded
// chip runs PACE with the CAN and refuses BAC.
func TestPACEConfigRoundTrip(t *testing.T) {
	ca := cardAccess(t, paceInfo(lds.PACEECDHIMAES256, 16))
	id, err := NewIdentity(paceFiles(t, ca), Config{CAN: "000042", PACE: &PACEConfig{BAC: new(false)}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := id.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.Config.CAN != "000042" || back.Config.PACE == nil || back.Config.PACE.BAC == nil || *back.Config.PACE.BAC {
		t.Fatalf("config after the round trip: %+v", back.Config)
	}
	c, err := New(back)
	if err != nil {
		t.Fatal(err)
	}
	if got := tx(t, c, "0084000008"); got != "6982" {
		t.Fatalf("GET CHALLENGE: %s", got)
	}
	readAfterPACE(t, c, newPACETerm(t, c, lds.PACEECDHIMAES256, 16, "000042", 2).run())
}
