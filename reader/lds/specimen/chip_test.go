package specimen

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"testing"

	"borderid/internal/pace"
	"borderid/reader/lds"
)

// TestGenerateChip: with Options.Chip the specimen gains DG14 (listed in
// EF.COM, hashed in EF.SOD), EF.CardSecurity signed by the DS, and the CA
// key; everything else is byte for byte the default specimen.
func TestGenerateChip(t *testing.T) {
	plain, err := Generate(Options{Rand: seeded(7), Now: testNow, FaceBytes: MinFaceBytes})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		co   ChipOptions
	}{
		{"brainpoolP256r1 named", ChipOptions{CAParameterID: 13}},
		{"brainpoolP256r1 explicit, key id, two protocols", ChipOptions{CAParameterID: 13, ExplicitParameters: true,
			KeyID: lds.OptionalInt{Value: 3, Present: true}, CAProtocols: []lds.Protocol{lds.CAECDHAES256, lds.CAECDH3DES}}},
		{"P-384 with PACE and AA info", ChipOptions{CAParameterID: 15,
			PACE:                 []lds.PACEInfo{{Protocol: lds.PACEECDHGMAES128, Version: 2, ParameterID: lds.OptionalInt{Value: 13, Present: true}}},
			ActiveAuthentication: &lds.ActiveAuthenticationInfo{Version: 1, SignatureAlgorithm: []int{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 3}}}},
		{"DH-2048/256", ChipOptions{CAParameterID: 2, CAProtocols: []lds.Protocol{lds.CADH3DES}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			co := tc.co
			doc, err := Generate(Options{Rand: seeded(7), Now: testNow, FaceBytes: MinFaceBytes, Chip: &co})
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"DG1", "DG2", "DG11", "DG12"} {
				if !bytes.Equal(doc.Files[name], plain.Files[name]) {
					t.Errorf("%s differs from the default specimen", name)
				}
			}
			if !bytes.Equal(doc.DSC.Raw, plain.DSC.Raw) || !bytes.Equal(doc.CSCA.Raw, plain.CSCA.Raw) {
				t.Error("certificates differ from the default specimen")
			}
			com, err := lds.ParseCOM(doc.Files["COM"])
			if err != nil || com.Files[len(com.Files)-1] != lds.FileDG14 {
				t.Fatalf("EF.COM: %v %v", com, err)
			}
			sod, err := lds.ParseSOD(doc.Files["SOD"])
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(doc.Files["DG14"])
			if !bytes.Equal(sod.SecurityObject.DataGroupHashes[14], sum[:]) {
				t.Fatal("EF.SOD does not hash DG14")
			}
			dg14, err := lds.ParseDG14(doc.Files["DG14"])
			if err != nil {
				t.Fatal(err)
			}
			cs, err := lds.ParseCardSecurity(doc.Files["CardSecurity"])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(cs.SecurityInfos.Raw, dg14.Raw) {
				t.Error("EF.CardSecurity and DG14 hold different SecurityInfos")
			}
			si := cs.SignedData.SignerInfos[0]
			if err := doc.DSC.CheckSignature(x509.ECDSAWithSHA256, si.SignedAttrsForSignature(), si.Signature); err != nil {
				t.Errorf("EF.CardSecurity signature: %v", err)
			}
			want := co.CAProtocols
			if len(want) == 0 {
				want = []lds.Protocol{lds.CAECDHAES128}
			}
			if len(dg14.ChipAuthentication) != len(want) || len(dg14.ChipAuthenticationPublicKeys) != 1 {
				t.Fatalf("DG14: %d CA infos, %d keys", len(dg14.ChipAuthentication), len(dg14.ChipAuthenticationPublicKeys))
			}
			// DG14 is a DER SET OF: its order is the encodings', not ours.
			for _, p := range want {
				ok := false
				for _, e := range dg14.ChipAuthentication {
					ok = ok || (e.Protocol == p && e.Version == 1 && e.KeyID == co.KeyID)
				}
				if !ok {
					t.Errorf("no CA info for %v: %+v", p, dg14.ChipAuthentication)
				}
			}
			if len(dg14.PACE) != len(co.PACE) || (co.ActiveAuthentication != nil) != (len(dg14.ActiveAuthentication) == 1) {
				t.Error("DG14 PACE or AA infos")
			}
			_, hasCA := doc.Files["CardAccess"]
			if hasCA != (len(co.PACE) > 0) {
				t.Error("EF.CardAccess present without PACE or absent with it")
			}
			d, _ := pace.DomainByParameterID(co.CAParameterID)
			if len(doc.CAPublicKey) != d.ElementLen() || d.ValidatePublic(doc.CAPublicKey) != nil || len(doc.CAKey) == 0 {
				t.Fatalf("CA public key %X", doc.CAPublicKey)
			}
		})
	}
	if plain.CAKey != nil || plain.Files["DG14"] != nil || plain.Files["CardSecurity"] != nil {
		t.Error("default specimen has chip data")
	}
}

func TestGenerateChipRefusals(t *testing.T) {
	for name, co := range map[string]ChipOptions{
		"reserved id":         {CAParameterID: 5},
		"DH protocol, EC key": {CAParameterID: 13, CAProtocols: []lds.Protocol{lds.CADHAES128}},
		"PACE protocol":       {CAParameterID: 13, CAProtocols: []lds.Protocol{lds.PACEECDHGMAES128}},
		"no cipher":           {CAParameterID: 13, CAProtocols: []lds.Protocol{lds.CAECDH}},
	} {
		if _, err := Generate(Options{Rand: seeded(1), Now: testNow, FaceBytes: MinFaceBytes, Chip: &co}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
