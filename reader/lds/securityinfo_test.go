package lds

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"borderid/internal/cms"
	"borderid/internal/smcrypto"
)

// Real SecurityInfos published as test data by other projects (used here as
// vectors only):
//   - siDG14AT: DG14 of an Austrian passport (gmrtd tests): TA v1,
//     id-CA-ECDH-AES-CBC-CMAC-128 v1, PACE ECDH GM AES-128 param 13 and an
//     id-PK-ECDH key with explicit brainpoolP256r1 parameters.
//   - siDG14MY: DG14 of a Malaysian passport (gmrtd tests), id-CA-ECDH-3DES.
//   - siCardAccessNPA: EF.CardAccess of a German eID test card (AusweisApp
//     tests): CA v2 with key ids, a CA domain parameter info, a
//     CardInfoLocator and a PrivilegedTerminalInfo (both unknown here).
//   - siCardAccessICAO: an eMRTD EF.CardAccess as printed in several readers.
const (
	siDG14AT = "6e82017e3182017a300d060804007f0007020202020101300f060a04007f000702020302020201013012060a04007f0007020204020202010202010d30820142060904007f000702020102308201333081ec06072a8648ce3d02013081e0020101302c06072a8648ce3d0101022100a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377304404207d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9042026dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b60441048bd2aeb9cb7e57cb2c4b482ffc81b7afb9de27e1e3bd23c23a4453bd9ace3262547ef835c3dac4fd97f8461a14611dc9c27745132ded8e545c1d54c72f046997022100a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7020101034200041983917269ac877c0b61544c2c022000d2a5aba723e2d80141e648b40911dc3459761f27480e4b57181a53d8fe1190ea86c939ac14363178caffc621f0f905c3"
	siDG14MY = "6e82016a3182016630820142060904007f000702020102308201333081ec06072a8648ce3d02013081e0020101302c06072a8648ce3d0101022100a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377304404207d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9042026dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b60441048bd2aeb9cb7e57cb2c4b482ffc81b7afb9de27e1e3bd23c23a4453bd9ace3262547ef835c3dac4fd97f8461a14611dc9c27745132ded8e545c1d54c72f046997022100a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a702010103420004a04f85afdfc316fb5e9f33f94ca45837d20d9d91ad5002307c3f124b6ef5b92565d018a6b7f69db73976bfbb4278757405c64e96104d161649e8a94078eaefce300f060a04007f00070202030201020101300d060804007f0007020202020101"

	siCardAccessNPA  = "3181c1300d060804007f00070202020201023012060a04007f000702020302020201020201413012060a04007f0007020204020202010202010d301c060904007f000702020302300c060704007f0007010202010d020141302a060804007f0007020206161e687474703a2f2f6273692e62756e642e64652f6369662f6e70612e786d6c303e060804007f000702020831323012060a04007f00070202030202020102020145301c060904007f000702020302300c060704007f0007010202010d020145"
	siCardAccessICAO = "3134300d060804007f0007020202020101300f060a04007f000702020302020201013012060a04007f0007020204020202010202010d"
	// 9303-11 App. G.1 / G.2 PACEInfos (../shared/vectors/icao9303.md).
	siPACEInfoG1 = "3012060a04007f0007020204020202010202010d"
	siPACEInfoG2 = "3012060a04007f00070202040102020102020100"
)

func TestProtocolOIDs(t *testing.T) {
	tests := []struct {
		p       Protocol
		oid     string
		name    string
		mapping Mapping
		ka      KeyAgreement
		cipher  smcrypto.Cipher
	}{
		{PACEDHGM3DES, "0.4.0.127.0.7.2.2.4.1.1", "id-PACE-DH-GM-3DES-CBC-CBC", MappingGM, KeyAgreementDH, smcrypto.TDES},
		{PACEDHGMAES128, "0.4.0.127.0.7.2.2.4.1.2", "id-PACE-DH-GM-AES-CBC-CMAC-128", MappingGM, KeyAgreementDH, smcrypto.AES128},
		{PACEECDHGMAES128, "0.4.0.127.0.7.2.2.4.2.2", "id-PACE-ECDH-GM-AES-CBC-CMAC-128", MappingGM, KeyAgreementECDH, smcrypto.AES128},
		{PACEECDHGMAES256, "0.4.0.127.0.7.2.2.4.2.4", "id-PACE-ECDH-GM-AES-CBC-CMAC-256", MappingGM, KeyAgreementECDH, smcrypto.AES256},
		{PACEDHIMAES192, "0.4.0.127.0.7.2.2.4.3.3", "id-PACE-DH-IM-AES-CBC-CMAC-192", MappingIM, KeyAgreementDH, smcrypto.AES192},
		{PACEECDHIMAES128, "0.4.0.127.0.7.2.2.4.4.2", "id-PACE-ECDH-IM-AES-CBC-CMAC-128", MappingIM, KeyAgreementECDH, smcrypto.AES128},
		{PACEECDHIM3DES, "0.4.0.127.0.7.2.2.4.4.1", "id-PACE-ECDH-IM-3DES-CBC-CBC", MappingIM, KeyAgreementECDH, smcrypto.TDES},
		{PACEECDHCAMAES128, "0.4.0.127.0.7.2.2.4.6.2", "id-PACE-ECDH-CAM-AES-CBC-CMAC-128", MappingCAM, KeyAgreementECDH, smcrypto.AES128},
		{PACEECDHCAMAES256, "0.4.0.127.0.7.2.2.4.6.4", "id-PACE-ECDH-CAM-AES-CBC-CMAC-256", MappingCAM, KeyAgreementECDH, smcrypto.AES256},
		{PACEECDHGM, "0.4.0.127.0.7.2.2.4.2", "id-PACE-ECDH-GM", MappingGM, KeyAgreementECDH, 0},
		{PACEECDHCAM, "0.4.0.127.0.7.2.2.4.6", "id-PACE-ECDH-CAM", MappingCAM, KeyAgreementECDH, 0},
		{CADH3DES, "0.4.0.127.0.7.2.2.3.1.1", "id-CA-DH-3DES-CBC-CBC", MappingNone, KeyAgreementDH, smcrypto.TDES},
		{CAECDHAES128, "0.4.0.127.0.7.2.2.3.2.2", "id-CA-ECDH-AES-CBC-CMAC-128", MappingNone, KeyAgreementECDH, smcrypto.AES128},
		{CAECDH, "0.4.0.127.0.7.2.2.3.2", "id-CA-ECDH", MappingNone, KeyAgreementECDH, 0},
		{PKDH, "0.4.0.127.0.7.2.2.1.1", "id-PK-DH", MappingNone, KeyAgreementDH, 0},
		{PKECDH, "0.4.0.127.0.7.2.2.1.2", "id-PK-ECDH", MappingNone, KeyAgreementECDH, 0},
		{ProtocolTA, "0.4.0.127.0.7.2.2.2", "id-TA", MappingNone, KeyAgreementNone, 0},
		{ProtocolAA, "2.23.136.1.1.5", "id-icao-mrtd-security-aaProtocolObject", MappingNone, KeyAgreementNone, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.OID().String(); got != tc.oid {
				t.Errorf("OID %s, want %s", got, tc.oid)
			}
			if tc.p.String() != tc.name || tc.p.Mapping() != tc.mapping || tc.p.KeyAgreement() != tc.ka || tc.p.Cipher() != tc.cipher {
				t.Errorf("%s %v %v %v", tc.p, tc.p.Mapping(), tc.p.KeyAgreement(), tc.p.Cipher())
			}
			p, ok := ProtocolForOID(tc.p.OID())
			if !ok || p != tc.p {
				t.Errorf("ProtocolForOID = %v, %v", p, ok)
			}
		})
	}
	// OIDs that are not protocols of a SecurityInfo.
	for _, oid := range []asn1.ObjectIdentifier{
		{0, 4, 0, 127, 0, 7, 2, 2, 4},       // id-PACE itself
		{0, 4, 0, 127, 0, 7, 2, 2, 4, 5},    // no family 5
		{0, 4, 0, 127, 0, 7, 2, 2, 4, 6, 1}, // CAM has no 3DES
		{0, 4, 0, 127, 0, 7, 2, 2, 4, 2, 5}, // no cipher 5
		{0, 4, 0, 127, 0, 7, 2, 2, 1, 2, 1}, // PK takes no cipher
		{0, 4, 0, 127, 0, 7, 2, 2, 2, 2, 1}, // id-TA-ECDSA-SHA-1: an algorithm, not an info
		{0, 4, 0, 127, 0, 7, 2, 2, 6},       // CardInfoLocator
		{0, 4, 0, 127, 0, 7, 2, 2},
		{1, 2, 3},
	} {
		if p, ok := ProtocolForOID(oid); ok {
			t.Errorf("ProtocolForOID(%v) = %v", oid, p)
		}
	}
	if s := Protocol(0x0705).String(); s != "Protocol(0x0705)" || Protocol(0x0705).OID() != nil || Protocol(0x0705).Cipher() != 0 {
		t.Errorf("invalid protocol: %q", s)
	}
	if MappingCAM.String() != "CAM" || KeyAgreementECDH.String() != "ECDH" {
		t.Error("String")
	}
}

func TestParseDG14Real(t *testing.T) {
	infos, err := ParseDG14(sodHex(t, siDG14AT))
	if err != nil {
		t.Fatal(err)
	}
	if len(infos.TerminalAuthentication) != 1 || infos.TerminalAuthentication[0].Version != 1 || infos.TerminalAuthentication[0].EFCVCA != nil {
		t.Errorf("TA %+v", infos.TerminalAuthentication)
	}
	if len(infos.ChipAuthentication) != 1 {
		t.Fatalf("CA %+v", infos.ChipAuthentication)
	}
	ca := infos.ChipAuthentication[0]
	if ca.Protocol != CAECDHAES128 || ca.Version != 1 || ca.KeyID.Present {
		t.Errorf("CA %+v", ca)
	}
	if len(infos.PACE) != 1 || infos.PACE[0].Protocol != PACEECDHGMAES128 || infos.PACE[0].Version != 2 ||
		infos.PACE[0].ParameterID != (OptionalInt{13, true}) {
		t.Errorf("PACE %+v", infos.PACE)
	}
	if len(infos.ChipAuthenticationPublicKeys) != 1 {
		t.Fatalf("PK %+v", infos.ChipAuthenticationPublicKeys)
	}
	pk := infos.ChipAuthenticationPublicKeys[0]
	if pk.Protocol != PKECDH || len(pk.SubjectPublicKeyInfo) != 0x137 || !bytes.HasPrefix(pk.SubjectPublicKeyInfo, sodHex(t, "308201333081ec06072a8648ce3d0201")) ||
		!bytes.HasSuffix(pk.SubjectPublicKeyInfo, sodHex(t, "caffc621f0f905c3")) {
		t.Errorf("PK SPKI %d bytes %x", len(pk.SubjectPublicKeyInfo), pk.SubjectPublicKeyInfo[:16])
	}
	if len(infos.Unknown) != 0 || len(infos.ActiveAuthentication) != 0 {
		t.Errorf("unexpected entries %+v", infos)
	}
	if !bytes.Equal(infos.Raw, sodHex(t, siDG14AT)[4:]) {
		t.Error("Raw is not the SET")
	}

	my, err := ParseDG14(sodHex(t, siDG14MY))
	if err != nil {
		t.Fatal(err)
	}
	if len(my.ChipAuthentication) != 1 || my.ChipAuthentication[0].Protocol != CAECDH3DES || my.ChipAuthentication[0].Protocol.Cipher() != smcrypto.TDES ||
		len(my.ChipAuthenticationPublicKeys) != 1 || len(my.TerminalAuthentication) != 1 || len(my.PACE) != 0 {
		t.Errorf("MY %+v", my)
	}
}

func TestParseCardAccessReal(t *testing.T) {
	infos, err := ParseCardAccess(sodHex(t, siCardAccessNPA))
	if err != nil {
		t.Fatal(err)
	}
	if len(infos.TerminalAuthentication) != 1 || infos.TerminalAuthentication[0].Version != 2 {
		t.Errorf("TA %+v", infos.TerminalAuthentication)
	}
	if len(infos.ChipAuthentication) != 1 || infos.ChipAuthentication[0].Version != 2 || infos.ChipAuthentication[0].KeyID != (OptionalInt{0x41, true}) {
		t.Errorf("CA %+v", infos.ChipAuthentication)
	}
	if len(infos.ChipAuthenticationDomainParameters) != 1 {
		t.Fatalf("CA DP %+v", infos.ChipAuthenticationDomainParameters)
	}
	dp := infos.ChipAuthenticationDomainParameters[0]
	if dp.Protocol != CAECDH || dp.DomainParameter.Algorithm.String() != "0.4.0.127.0.7.1.2" || hex.EncodeToString(dp.DomainParameter.Parameters) != "02010d" || dp.KeyID.Value != 0x41 {
		t.Errorf("CA DP %+v", dp)
	}
	if len(infos.PACE) != 1 || infos.PACE[0].ParameterID.Value != 13 {
		t.Errorf("PACE %+v", infos.PACE)
	}
	// CardInfoLocator and PrivilegedTerminalInfo are kept, not refused.
	if len(infos.Unknown) != 2 || infos.Unknown[0].Protocol.String() != "0.4.0.127.0.7.2.2.6" || infos.Unknown[1].Protocol.String() != "0.4.0.127.0.7.2.2.8" ||
		!strings.Contains(string(infos.Unknown[0].Raw), "http://bsi.bund.de/cif/npa.xml") {
		t.Errorf("unknown %+v", infos.Unknown)
	}

	icao, err := ParseCardAccess(sodHex(t, siCardAccessICAO))
	if err != nil {
		t.Fatal(err)
	}
	if len(icao.PACE) != 1 || icao.PACE[0].Protocol.Mapping() != MappingGM || len(icao.ChipAuthentication) != 1 || len(icao.TerminalAuthentication) != 1 {
		t.Errorf("%+v", icao)
	}

	g2, err := ParseCardAccess(sodHex(t, "3114"+siPACEInfoG2))
	if err != nil {
		t.Fatal(err)
	}
	if g2.PACE[0].Protocol != PACEDHGMAES128 || g2.PACE[0].ParameterID != (OptionalInt{0, true}) {
		t.Errorf("G.2 %+v", g2.PACE[0])
	}
}

// TestEncodeSecurityInfosReproducesReal re-encodes parsed real files: the
// encoder's DER SET OF order must give back the chip's bytes where the chip
// sorted them (the German card and the ICAO sample are DER-sorted).
func TestEncodeSecurityInfosReproducesReal(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		dg14 bool
	}{
		{"npa-card-access", siCardAccessNPA, false},
		{"icao-card-access", siCardAccessICAO, false},
		{"at-dg14", siDG14AT, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := sodHex(t, tc.in)
			var infos *SecurityInfos
			var err error
			if tc.dg14 {
				infos, err = ParseDG14(raw)
			} else {
				infos, err = ParseCardAccess(raw)
			}
			if err != nil {
				t.Fatal(err)
			}
			var out []byte
			if tc.dg14 {
				out, err = EncodeDG14(infos)
			} else {
				out, err = EncodeSecurityInfos(infos)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, raw) {
				t.Errorf("re-encoded\n got %x\nwant %x", out, raw)
			}
		})
	}
}

func TestEncodeSecurityInfosBuild(t *testing.T) {
	infos := &SecurityInfos{
		PACE:                 []PACEInfo{{Protocol: PACEECDHGMAES128, Version: 2, ParameterID: OptionalInt{13, true}}},
		ActiveAuthentication: []ActiveAuthenticationInfo{{Version: 1, SignatureAlgorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}}},
	}
	got, err := EncodeSecurityInfos(infos)
	if err != nil {
		t.Fatal(err)
	}
	// The ICAO G.1 PACEInfo byte for byte, and AA info sorted after it.
	want := "312b" + siPACEInfoG1 + "3015060667810801010502010106082a8648ce3d040302"
	if hex.EncodeToString(got) != want {
		t.Errorf("got %x\nwant %s", got, want)
	}
	back, err := ParseSecurityInfos(got)
	if err != nil {
		t.Fatal(err)
	}
	if back.ActiveAuthentication[0].SignatureAlgorithm.String() != "1.2.840.10045.4.3.2" || back.ActiveAuthentication[0].Version != 1 {
		t.Errorf("AA %+v", back.ActiveAuthentication)
	}
}

func TestEncodeSecurityInfosRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		infos *SecurityInfos
	}{
		{"nil", nil},
		{"empty", &SecurityInfos{}},
		{"pace-info-with-ca-protocol", &SecurityInfos{PACE: []PACEInfo{{Protocol: CAECDHAES128, Version: 2}}}},
		{"pace-info-without-cipher", &SecurityInfos{PACE: []PACEInfo{{Protocol: PACEECDHGM, Version: 2}}}},
		{"ca-info-with-domain-protocol", &SecurityInfos{ChipAuthentication: []ChipAuthenticationInfo{{Protocol: CAECDH, Version: 1}}}},
		{"pk-with-ca-protocol", &SecurityInfos{ChipAuthenticationPublicKeys: []ChipAuthenticationPublicKeyInfo{{Protocol: CAECDH, SubjectPublicKeyInfo: []byte{0x30, 0}}}}},
		{"pk-bad-spki", &SecurityInfos{ChipAuthenticationPublicKeys: []ChipAuthenticationPublicKeyInfo{{Protocol: PKECDH, SubjectPublicKeyInfo: []byte{0x04, 0}}}}},
		{"invalid-protocol", &SecurityInfos{PACE: []PACEInfo{{Protocol: Protocol(0x0909), Version: 2}}}},
		{"aa-without-algorithm", &SecurityInfos{ActiveAuthentication: []ActiveAuthenticationInfo{{Version: 1}}}},
		{"unknown-not-sequence", &SecurityInfos{Unknown: []UnknownSecurityInfo{{Raw: []byte{0x04, 0x00}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if b, err := EncodeSecurityInfos(tc.infos); err == nil {
				t.Fatalf("encoded %x", b)
			}
		})
	}
}

func TestParseSecurityInfosRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"not-set", "3000"},
		{"trailing", "3100" + "00"},
		{"entry-not-sequence", "31020500"},
		{"entry-without-oid", "310430020500"},
		{"pace-without-version", "310e300c060a04007f0007020204020202"},
		{"pace-version-not-int", "3111300f060a04007f00070202040202040102"},
		{"pace-extra-field", "3116" + "3014060a04007f0007020204020202010202010d0500"},
		{"pace-negative-param", "3114" + "3012060a04007f000702020402020201020201ff"},
		{"ca-dp-without-algid", "310f300d060904007f0007020203020500"},
		{"pk-without-spki", "310f300d060904007f0007020201020500"},
		{"ta-bad-fileid", "3111300f060804007f00070202020201010400"},
		{"aa-without-oid", "310d300b0606678108010105020101"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			infos, err := ParseSecurityInfos(sodHex(t, tc.in))
			if !errors.Is(err, ErrSecurityInfo) || infos != nil {
				t.Fatalf("got %+v, %v; want ErrSecurityInfo", infos, err)
			}
		})
	}
	tooMany := []byte{}
	for range securityInfosMaxEntries + 1 {
		tooMany = append(tooMany, sodHex(t, siPACEInfoG1)...)
	}
	big, err := AppendElement(nil, 0x31, tooMany)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSecurityInfos(big); !errors.Is(err, ErrSecurityInfo) {
		t.Errorf("too many entries: %v", err)
	}
	if _, err := ParseSecurityInfos(make([]byte, SecurityInfosMaxSize+1)); !errors.Is(err, ErrSecurityInfo) {
		t.Errorf("too large: %v", err)
	}
	if _, err := ParseDG14(sodHex(t, siCardAccessICAO)); !errors.Is(err, ErrSecurityInfo) {
		t.Errorf("DG14 without 6E: %v", err)
	}
	if _, err := ParseDG14(sodHex(t, "6e0131")); !errors.Is(err, ErrSecurityInfo) {
		t.Errorf("DG14 with bad content: %v", err)
	}
}

func TestCardSecurity(t *testing.T) {
	cert, key := sodTestSigner(t)
	ca, err := ParseCardAccess(sodHex(t, siCardAccessICAO))
	if err != nil {
		t.Fatal(err)
	}
	dg14, err := ParseDG14(sodHex(t, siDG14AT))
	if err != nil {
		t.Fatal(err)
	}
	infos := &SecurityInfos{
		PACE:                         ca.PACE,
		ChipAuthentication:           ca.ChipAuthentication,
		ChipAuthenticationPublicKeys: dg14.ChipAuthenticationPublicKeys,
		TerminalAuthentication:       ca.TerminalAuthentication,
	}
	when := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	b, err := EncodeCardSecurity(infos, cert, key, crypto.SHA256, when)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCardSecurity(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.SignedData.EContentType.Equal(cms.OIDSecurityObject()) || len(got.SecurityInfos.PACE) != 1 ||
		!bytes.Equal(got.SecurityInfos.ChipAuthenticationPublicKeys[0].SubjectPublicKeyInfo, dg14.ChipAuthenticationPublicKeys[0].SubjectPublicKeyInfo) {
		t.Errorf("%+v", got.SecurityInfos)
	}
	si := got.SignedData.SignerInfos[0]
	if err := cert.CheckSignature(x509.ECDSAWithSHA256, si.SignedAttrsForSignature(), si.Signature); err != nil {
		t.Error(err)
	}
	// An EF.SOD's SignedData is not an EF.CardSecurity.
	sod, err := EncodeSOD(crypto.SHA256, map[int][]byte{1: make([]byte, 32), 2: make([]byte, 32)}, cert, key, when)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseCardSecurity(sod[4:]); !errors.Is(err, ErrSecurityInfo) {
		t.Errorf("SOD as CardSecurity: %v", err)
	}
	if _, err := ParseCardSecurity([]byte{0x30, 0x00}); !errors.Is(err, ErrSecurityInfo) {
		t.Errorf("garbage CardSecurity: %v", err)
	}
	bad := signedSOD(t, []int{0, 4, 0, 127, 0, 7, 3, 2, 1}, []byte{0x31, 0x02, 0x05, 0x00})
	if _, err := ParseCardSecurity(bad[4:]); !errors.Is(err, ErrSecurityInfo) {
		t.Errorf("CardSecurity with bad SecurityInfos: %v", err)
	}
}

func FuzzParseSecurityInfos(f *testing.F) {
	for _, s := range []string{siCardAccessNPA, siCardAccessICAO, "3114" + siPACEInfoG2, siDG14AT[8:]} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		infos, err := ParseSecurityInfos(b)
		if err != nil {
			if infos != nil {
				t.Fatal("result with error")
			}
			return
		}
		// What parses re-encodes and parses to the same entries.
		if n := len(infos.PACE) + len(infos.PACEDomainParameters) + len(infos.ChipAuthentication) +
			len(infos.ChipAuthenticationDomainParameters) + len(infos.ChipAuthenticationPublicKeys) +
			len(infos.TerminalAuthentication) + len(infos.ActiveAuthentication) + len(infos.Unknown); n == 0 {
			return
		}
		enc, err := EncodeSecurityInfos(infos)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, err := ParseSecurityInfos(enc)
		if err != nil || len(back.PACE) != len(infos.PACE) || len(back.Unknown) != len(infos.Unknown) ||
			len(back.ChipAuthenticationPublicKeys) != len(infos.ChipAuthenticationPublicKeys) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzParseDG14(f *testing.F) {
	for _, s := range []string{siDG14AT, siDG14MY} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if infos, err := ParseDG14(b); err != nil && infos != nil {
			t.Fatal("result with error")
		}
	})
}

func FuzzParseCardSecurity(f *testing.F) {
	cert, key := sodTestSigner(f)
	ca, _ := hex.DecodeString(siCardAccessICAO)
	infos, err := ParseCardAccess(ca)
	if err != nil {
		f.Fatal(err)
	}
	b, err := EncodeCardSecurity(infos, cert, key, crypto.SHA256, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		if cs, err := ParseCardSecurity(b); err != nil && cs != nil {
			t.Fatal("result with error")
		}
	})
}

func TestSecurityInfoEnumStrings(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{MappingNone.String(), ""}, {MappingGM.String(), "GM"}, {MappingIM.String(), "IM"}, {MappingCAM.String(), "CAM"},
		{Mapping(9).String(), "Mapping(9)"},
		{KeyAgreementNone.String(), ""}, {KeyAgreementDH.String(), "DH"}, {KeyAgreementECDH.String(), "ECDH"},
		{KeyAgreement(7).String(), "KeyAgreement(7)"},
		{SODV0.String(), "v0"}, {SODV1.String(), "v1"}, {SODVersion(2).String(), "SODVersion(2)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
