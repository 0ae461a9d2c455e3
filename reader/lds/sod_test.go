package lds

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"borderid/internal/cms"
)

// icaoRefSOD is EF_SOD.bin of the ICAO/HJP reference data set (as printed
// in the tests of the ZeroPass port project, used here as a vector only):
// SHA-256, data groups 1, 2, 3, 14 and 4 (in that order), a Document
// Signer with an RSASSA-PSS key and signature, signed attributes
// content-type and message-digest only (no signing-time).
const icaoRefSOD = "7782078A3082078606092A864886F70D010702A082077730820773020103310F300D0609608648016503040201050030" +
	"81E90606678108010101A081DE0481DB3081D8020100300D060960864801650304020105003081C33025020101042041" +
	"70CA879FCE6A22FFEF1567FF88079F415C66EAD250AB5F23781AC2CDBF42B630250201020420A9A1B09DFD598087AB3F" +
	"CE4AE2EC65B1A1525BD258BFC27DF4419F8A65E5474530250201030420403E4D17C26EBC832411898161D8FD5D99C58E" +
	"E865CB3759B529AA782C7EDE00302502010E0420CF5004FFCCD64E1A8BD3A42FD53814EC3D4481640BE1906D0ECFEB01" +
	"6EF6A6AE302502010404204C7A0F0DDAA473123834F1B0713ED9453D1D1D58BCE447FB1736D40A0761C17BA082046530" +
	"82046130820295A00302010202060142FD5CF927304106092A864886F70D01010A3034A00F300D060960864801650304" +
	"02010500A11C301A06092A864886F70D010108300D06096086480165030402010500A2030201203053310B3009060355" +
	"04061302444531173015060355040A0C0E484A5020436F6E73756C74696E6731173015060355040B0C0E436F756E7472" +
	"79205369676E65723112301006035504030C09484A50205042204353301E170D3133313231363231343331385A170D31" +
	"34313231313231343331385A3054310B300906035504061302444531173015060355040A0C0E484A5020436F6E73756C" +
	"74696E6731183016060355040B0C0F446F63756D656E74205369676E65723112301006035504030C09484A5020504220" +
	"445330820122300D06092A864886F70D01010105000382010F003082010A02820101009E7CBB065377041232915A044D" +
	"D3ADC2199AD4C14BC8E58C24A899DBD62A984EEAE2A0006C1D53439246A67A9964D759BC7B9426CE6C4C078363306CF6" +
	"6645F12F39D950FE2C04100E6FF53C310B52F74CD1ED89931496F376D384AB604A570129445F015FCC3595E161B7C591" +
	"CB5206BC16477D8CDEC09480DBF6262696F62970DA0978807DBA330EE777BF54D471AE1EB257090F1379E198A2D15033" +
	"44847347BE46764FA00C4E93BACD32143B2E04C6C369CECE7943FD414521849533F9CDB985E42767F1DD792E7EFED365" +
	"1E3C75DF868FA2101DF45CD5D3D955B23A88DD30A752F4FB9F4E84B518E0CA0F8F2BACE65D61F98115A0EA88DD3A3416" +
	"017CA30203010001A3523050301F0603551D230418301680141E4D57560C12902366A8FDE11408A37F70EB7D65301D06" +
	"03551D0E04160414831C30BE878FDF57273010E5B38950E576F7B08A300E0603551D0F0101FF04040302078030410609" +
	"2A864886F70D01010A3034A00F300D06096086480165030402010500A11C301A06092A864886F70D010108300D060960" +
	"86480165030402010500A20302012003820181002984DC43028839BB24786A4C9C9C37E76368FF6264707970E5B00F79" +
	"34840904ED90E34B018D5D634D7536E49AFE7B0E872F5D093E6D11BF31C910686A9106F9F773F59C57AEFF983DE6335B" +
	"5CB403E0FF7D3055F09948878F8BE1BC184F2A03C82C14097FC19DEDDCCF61A2EAE6F8BF1A64BE4C0253CE0BC35AD41E" +
	"10D6FF08C1EE872349E8D02A722F48144CAB665D0FADF9DB3B36BFB2B15AE4A3B13DC4CF64133B599CDB3AF8A365AC62" +
	"28096899FEA8D56A24F90DA72B3E95B97FD82C4B8EF9CBB499C3D9F09053A5FDDD51E94A13A004530D74F7DD1B0C8816" +
	"3F9BFA098923DC81D247D75E33CAC3C7E27AEAC627B99AB18E6B03D38260E2DCCFA1D638D17614773BC13EBA0D53E2E3" +
	"E9A202E0742C25DF471072CDA2A88BA2B25648970BC31132DE84F702ABBC98740B4FEE7C66CD149755A763B801DCF9DC" +
	"1B52191A3ACC514244C51D297F35E5AEA328B8641B33D54DC7C50D2466F9DDDCE98A75F276D48D614B6C4FA675C20178" +
	"24BED7CC27B46FCBE5B82CE4B433E34AAED2EBEE3182020630820202020101305D3053310B3009060355040613024445" +
	"31173015060355040A0C0E484A5020436F6E73756C74696E6731173015060355040B0C0E436F756E747279205369676E" +
	"65723112301006035504030C09484A5020504220435302060142FD5CF927300D06096086480165030402010500A04830" +
	"1506092A864886F70D01090331080606678108010101302F06092A864886F70D01090431220420B46A0D05E280F398EF" +
	"EEEBFF67E78C736ADD15E75670B1AD4C6C534E8187B9D6304106092A864886F70D01010A3034A00F300D060960864801" +
	"65030402010500A11C301A06092A864886F70D010108300D06096086480165030402010500A203020120048201007611" +
	"06E9FBD2ED1B2F75027DAF13975A4C7ADFC54D675D2DD2BBA762BC073D9288AF4B1B87BA7987D53FA1D321D1943F5857" +
	"3F4913424E2BCDD080C2D8927A985BE2BDCAF6B8FE21EC99D8227F052ED118B7EAE6029F57889CA72391207691635506" +
	"8EBBCF46F19C3FBB49DCF1E9F3B10DF11E270FAC11BC6D1E3C5ADF68E0E46381A45F737E91EE9F889DB6D418AA2C6C32" +
	"13C47FBC2787F0134384B343CC921A9A03878EBA79BA00901115495942C3E7B0E4DA09E0916C172228AD28D9DBEC915F" +
	"32E58D7431480443030C2C3D1DEF840223FED41A92C5B30AA2CE9ED346CBB8BB172A2EFF73E0B8CFEC89071A07DC6262" +
	"7421F808DA541A58A1A572E7583F"

func sodTestSigner(t testing.TB) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(77),
		Subject:      pkix.Name{Country: []string{"UT"}, CommonName: "SOD test DS"},
		NotBefore:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func sodHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncodeParseSOD(t *testing.T) {
	cert, key := sodTestSigner(t)
	when := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	dg1 := sha256.Sum256([]byte("DG1"))
	dg2 := sha256.Sum256([]byte("DG2"))
	dg14 := sha256.Sum256([]byte("DG14"))
	hashes := map[int][]byte{2: dg2[:], 1: dg1[:], 14: dg14[:]}
	sod, err := EncodeSOD(crypto.SHA256, hashes, cert, key, when)
	if err != nil {
		t.Fatal(err)
	}
	if sod[0] != 0x77 {
		t.Fatalf("tag %02X", sod[0])
	}
	got, err := ParseSOD(sod)
	if err != nil {
		t.Fatal(err)
	}
	so := got.SecurityObject
	if so.Version != SODV0 || so.Hash != crypto.SHA256 || so.HashAlgorithm.Algorithm.String() != "2.16.840.1.101.3.4.2.1" || so.HashAlgorithm.Parameters != nil {
		t.Errorf("version %v hash %v alg %v", so.Version, so.Hash, so.HashAlgorithm)
	}
	if dgs := so.DataGroups(); len(dgs) != 3 || dgs[0] != 1 || dgs[1] != 2 || dgs[2] != 14 {
		t.Errorf("data groups %v", dgs)
	}
	for n, h := range hashes {
		if !bytes.Equal(so.DataGroupHashes[n], h) {
			t.Errorf("DG%d hash %x, want %x", n, so.DataGroupHashes[n], h)
		}
	}
	// The LDSSecurityObject bytes are pinned: ascending data group numbers,
	// SHA-256 without parameters.
	want := "308187" + "020100" + "300b0609608648016503040201" + "3075" +
		"3025020101" + "0420" + hex.EncodeToString(dg1[:]) +
		"3025020102" + "0420" + hex.EncodeToString(dg2[:]) +
		"302502010e" + "0420" + hex.EncodeToString(dg14[:])
	if hex.EncodeToString(so.Raw) != want {
		t.Errorf("LDSSecurityObject\n got %x\nwant %s", so.Raw, want)
	}
	if !bytes.Equal(got.Raw, sod) || !bytes.Equal(got.SignedData.EContent, so.Raw) {
		t.Error("raw bytes not kept")
	}
	si := got.SignedData.SignerInfos[0]
	md := sha256.Sum256(so.Raw)
	if !bytes.Equal(si.MessageDigest, md[:]) || !si.SigningTime.Equal(when) {
		t.Errorf("message digest %x time %v", si.MessageDigest, si.SigningTime)
	}
	if err := cert.CheckSignature(x509.ECDSAWithSHA256, si.SignedAttrsForSignature(), si.Signature); err != nil {
		t.Errorf("signature: %v", err)
	}
}

func TestEncodeSODSHA512(t *testing.T) {
	cert, key := sodTestSigner(t)
	a, b := sha512.Sum512([]byte("a")), sha512.Sum512([]byte("b"))
	sod, err := EncodeSOD(crypto.SHA512, map[int][]byte{1: a[:], 2: b[:]}, cert, key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSOD(sod)
	if err != nil {
		t.Fatal(err)
	}
	if got.SecurityObject.Hash != crypto.SHA512 || !bytes.Equal(got.SecurityObject.DataGroupHashes[2], b[:]) {
		t.Errorf("hash %v", got.SecurityObject.Hash)
	}
}

func TestEncodeSODRefusals(t *testing.T) {
	cert, key := sodTestSigner(t)
	h32 := make([]byte, 32)
	tests := []struct {
		name   string
		h      crypto.Hash
		hashes map[int][]byte
		msg    string
	}{
		{"one-hash", crypto.SHA256, map[int][]byte{1: h32}, "needs 2 to 16"},
		{"dg0", crypto.SHA256, map[int][]byte{0: h32, 1: h32}, "data group number 0"},
		{"dg17", crypto.SHA256, map[int][]byte{17: h32, 1: h32}, "data group number 17"},
		{"short-hash", crypto.SHA256, map[int][]byte{1: h32, 2: h32[:20]}, "DG2 hash is 20 bytes"},
		{"md5", crypto.MD5, map[int][]byte{1: h32, 2: h32}, "unsupported hash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := EncodeSOD(tc.h, tc.hashes, cert, key, time.Now())
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %q", err, tc.msg)
			}
		})
	}
}

// signedSOD wraps an arbitrary eContent as an EF.SOD, so tests can put
// malformed LDSSecurityObjects behind a valid signature.
func signedSOD(t testing.TB, eContentType []int, eContent []byte) []byte {
	t.Helper()
	cert, key := sodTestSigner(t)
	sd, err := cms.Sign(eContentType, eContent, cert, key, crypto.SHA256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, err := AppendElement(nil, SODTag, sd)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSODSecurityObjectShapes(t *testing.T) {
	h := "0420" + strings.Repeat("ab", 32)
	dgh := func(n string) string { return "3025" + "0201" + n + h }
	alg := "300b0609608648016503040201"
	algNull := "300d06096086480165030402010500"
	seq := func(parts ...string) string {
		body := strings.Join(parts, "")
		b, _ := AppendElement(nil, 0x30, sodHex(t, body))
		return hex.EncodeToString(b)
	}
	ldsOID := []int{2, 23, 136, 1, 1, 1}
	tests := []struct {
		name  string
		so    string
		ok    bool
		check func(t *testing.T, so LDSSecurityObject)
	}{
		{"v1-with-version-info", seq("020101", alg, seq(dgh("01"), dgh("02")), seq("1304"+hex.EncodeToString([]byte("0108")), "1306"+hex.EncodeToString([]byte("040000")))), true,
			func(t *testing.T, so LDSSecurityObject) {
				if so.Version != SODV1 || so.LDSVersion != "0108" || so.UnicodeVersion != "040000" {
					t.Errorf("%v %q %q", so.Version, so.LDSVersion, so.UnicodeVersion)
				}
			}},
		{"null-params", seq("020100", algNull, seq(dgh("01"), dgh("02"))), true,
			func(t *testing.T, so LDSSecurityObject) {
				if so.Hash != crypto.SHA256 || hex.EncodeToString(so.HashAlgorithm.Parameters) != "0500" {
					t.Errorf("%v %x", so.Hash, so.HashAlgorithm.Parameters)
				}
			}},
		{"unknown-hash-kept", seq("020100", "3006060455060708", seq(dgh("01"))), true,
			func(t *testing.T, so LDSSecurityObject) {
				if so.Hash != 0 || so.HashAlgorithm.Algorithm.String() != "2.5.6.7.8" || len(so.DataGroupHashes[1]) != 32 {
					t.Errorf("%v %v", so.Hash, so.HashAlgorithm.Algorithm)
				}
			}},
		{"version-2", seq("020102", alg, seq(dgh("01"))), false, nil},
		{"dg-zero", seq("020100", alg, seq(dgh("00"))), false, nil},
		{"dg-17", seq("020100", alg, seq(dgh("11"))), false, nil},
		{"duplicate-dg", seq("020100", alg, seq(dgh("01"), dgh("01"))), false, nil},
		{"wrong-hash-length", seq("020100", alg, seq("3015020101"+"0410"+strings.Repeat("ab", 16))), false, nil},
		{"no-hashes", seq("020100", alg, seq()), false, nil},
		{"seventeen-hashes", seq("020100", alg, seq(strings.Repeat(dgh("01"), 17))), false, nil},
		{"bad-version-info", seq("020101", alg, seq(dgh("01")), seq("0c0130")), false, nil},
		{"trailing", seq("020100", alg, seq(dgh("01"))) + "00", false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSOD(signedSOD(t, ldsOID, sodHex(t, tc.so)))
			if !tc.ok {
				if !errors.Is(err, ErrSOD) {
					t.Fatalf("err = %v, want ErrSOD", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, got.SecurityObject)
		})
	}
}

func TestParseSODRefusals(t *testing.T) {
	cert, key := sodTestSigner(t)
	h := make([]byte, 32)
	good, err := EncodeSOD(crypto.SHA256, map[int][]byte{1: h, 2: h}, cert, key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"wrong-tag", append([]byte{0x6E}, good[1:]...)},
		{"truncated", good[:len(good)-1]},
		{"trailing", append(append([]byte{}, good...), 0x00)},
		{"too-large", append([]byte{0x77, 0x84, 0x00, 0x10, 0x00, 0x00}, make([]byte, SODMaxSize)...)},
		{"not-cms", sodHex(t, "7703020101")},
		{"master-list-content-type", signedSOD(t, []int{2, 23, 136, 1, 1, 2}, sodHex(t, "3000"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSOD(tc.in)
			if !errors.Is(err, ErrSOD) || got != nil {
				t.Fatalf("got %v, %v; want ErrSOD", got, err)
			}
		})
	}
}

func FuzzParseSOD(f *testing.F) {
	cert, key := sodTestSigner(f)
	h := sha256.Sum256(nil)
	good, err := EncodeSOD(crypto.SHA256, map[int][]byte{1: h[:], 2: h[:], 15: h[:]}, cert, key, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:100])
	f.Add(sodHex(f, icaoRefSOD))
	f.Fuzz(func(t *testing.T, b []byte) {
		sod, err := ParseSOD(b)
		if err != nil {
			if sod != nil {
				t.Fatal("result with error")
			}
			return
		}
		so := sod.SecurityObject
		if len(so.DataGroupHashes) == 0 || len(so.DataGroupHashes) > 16 || len(so.DataGroups()) != len(so.DataGroupHashes) {
			t.Fatalf("invalid result %+v", so)
		}
		for n, v := range so.DataGroupHashes {
			if n < 1 || n > 16 || len(v) == 0 {
				t.Fatalf("DG%d hash %x", n, v)
			}
		}
	})
}

func TestParseSODReference(t *testing.T) {
	b := sodHex(t, icaoRefSOD)
	sod, err := ParseSOD(b)
	if err != nil {
		t.Fatal(err)
	}
	so := sod.SecurityObject
	if so.Version != SODV0 || so.Hash != crypto.SHA256 || hex.EncodeToString(so.HashAlgorithm.Parameters) != "0500" {
		t.Errorf("version %v hash %v params %x", so.Version, so.Hash, so.HashAlgorithm.Parameters)
	}
	if got := so.DataGroups(); len(got) != 5 || got[0] != 1 || got[3] != 4 || got[4] != 14 {
		t.Errorf("data groups %v", got)
	}
	for n, prefix := range map[int]string{1: "4170ca87", 2: "a9a1b09d", 3: "403e4d17", 14: "cf5004ff", 4: "4c7a0f0d"} {
		if !strings.HasPrefix(hex.EncodeToString(so.DataGroupHashes[n]), prefix) {
			t.Errorf("DG%d hash %x", n, so.DataGroupHashes[n])
		}
	}
	sd := sod.SignedData
	if sd.BER || len(sd.Certificates) != 1 || len(sd.SignerInfos) != 1 || !bytes.Equal(sod.Raw, b) {
		t.Fatalf("BER %v, %d certs, %d signer infos", sd.BER, len(sd.Certificates), len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]
	if si.Version != 1 || si.SID.SerialNumber.Text(16) != "142fd5cf927" || !si.SigningTime.IsZero() || len(si.SignedAttrs) != 2 {
		t.Errorf("signer %d %v %v %d", si.Version, si.SID.SerialNumber, si.SigningTime, len(si.SignedAttrs))
	}
	if si.SignatureAlgorithm.Algorithm.String() != "1.2.840.113549.1.1.10" || si.SignatureAlgorithm.Parameters == nil {
		t.Errorf("signature algorithm %v", si.SignatureAlgorithm.Algorithm)
	}
	md := sha256.Sum256(so.Raw)
	if !bytes.Equal(md[:], si.MessageDigest) {
		t.Errorf("message digest %x, eContent hashes to %x", si.MessageDigest, md)
	}
	dsc, err := x509.ParseCertificate(sd.Certificates[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dsc.RawIssuer, si.SID.IssuerRaw) || dsc.SerialNumber.Cmp(si.SID.SerialNumber) != 0 {
		t.Error("SID does not name the embedded DSC")
	}
	// RSASSA-PSS, SHA-256, salt 32: the signature covers the re-tagged
	// signed attributes.
	if err := dsc.CheckSignature(x509.SHA256WithRSAPSS, si.SignedAttrsForSignature(), si.Signature); err != nil {
		t.Errorf("reference SOD signature: %v", err)
	}
	if err := dsc.CheckSignature(x509.SHA256WithRSAPSS, si.SignedAttrsRaw, si.Signature); err == nil {
		t.Error("signature also verifies over the [0]-tagged bytes")
	}
}

func BenchmarkParseSOD(b *testing.B) {
	sod := sodHex(b, icaoRefSOD)
	b.SetBytes(int64(len(sod)))
	for b.Loop() {
		if _, err := ParseSOD(sod); err != nil {
			b.Fatal(err)
		}
	}
}
