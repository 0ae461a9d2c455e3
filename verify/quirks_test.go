package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"os"
	"slices"
	"testing"
	"time"

	"borderid/internal/cert"
	"borderid/reader/lds"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// resignWithout rebuilds the SignerInfo of the dsc-p256 SOD with the
// signed attributes whose type is not drop, signed again with the DSC's
// key, and returns the new EF.SOD. It lets a test make what OpenSSL will
// not: a SOD without signing-time.
func resignWithout(t *testing.T, p *pki, drop asn1.ObjectIdentifier) []byte {
	t.Helper()
	sod, err := lds.ParseSOD(p.sods["dsc-p256"])
	if err != nil {
		t.Fatal(err)
	}
	si := sod.SignedData.SignerInfos[0]
	keyDER, err := pemFile(p.dir, "dsc-p256.key")
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.ParseECPrivateKey(keyDER)
	if err != nil {
		t.Fatal(err)
	}
	var kept []byte
	for _, a := range si.SignedAttrs {
		if !a.Type.Equal(drop) {
			kept = append(kept, a.Raw...)
		}
	}
	set := cryptobyte.NewBuilder(nil)
	set.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(kept) })
	signed := set.BytesOrPanic()
	digest := sha256.Sum256(signed)
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(3)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(si.SID.SubjectKeyID) })
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(si.DigestAlgorithm.Algorithm)
		})
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(kept) })
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2})
		})
		b.AddASN1OctetString(sig)
	})
	out := replaceElement(p.sods["dsc-p256"], si.Raw, b.BytesOrPanic())
	if bytes.Equal(out, p.sods["dsc-p256"]) {
		t.Fatal("signer info not replaced")
	}
	return out
}

func TestQuirksAndAttributes(t *testing.T) {
	p := getPKI(t)
	ctx := context.Background()
	store := storeWith(t, p, "csca")
	store.AddCRL(p.crl)
	now := time.Now()

	noTime := resignWithout(t, p, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5})
	r := PassiveAuthentication(ctx, noTime, p.files, "UTO", store, now, Policy{})
	if r.Outcome != Pass || !slices.Contains(r.Quirks, QuirkNoSigningTime) || !r.SigningTime.IsZero() {
		t.Fatalf("no signing time: %v %v %s quirks %v", r.Outcome, r.Reason, r.Detail, r.Quirks)
	}
	// Without a signing time the DSC's validity is judged at now: a
	// verification after the DSC expired fails at "signing".
	r = PassiveAuthentication(ctx, noTime, p.files, "UTO", NewMemoryStoreWith(t, p, "csca"), now.AddDate(2, 0, 0), Policy{})
	if r.Outcome != Fail || r.Reason != ReasonDSCExpiredAtSigning {
		t.Fatalf("no signing time, later: %v %v %s", r.Outcome, r.Reason, r.Detail)
	}
	noCT := resignWithout(t, p, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3})
	r = PassiveAuthentication(ctx, noCT, p.files, "UTO", store, now, Policy{})
	if r.Outcome != Fail || r.Reason != ReasonContentTypeMismatch {
		t.Fatalf("no content type: %v %v %s", r.Outcome, r.Reason, r.Detail)
	}
	noMD := resignWithout(t, p, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4})
	r = PassiveAuthentication(ctx, noMD, p.files, "UTO", store, now, Policy{})
	if r.Outcome != Fail || r.Reason != ReasonSODMalformed {
		t.Fatalf("no message digest: %v %v %s", r.Outcome, r.Reason, r.Detail)
	}
}

// NewMemoryStoreWith is storeWith without CRLs, named for readability.
func NewMemoryStoreWith(t *testing.T, p *pki, names ...string) *MemoryStore {
	return storeWith(t, p, names...)
}

// TestFixtureIsWhatItClaims pins the properties the other tests rely on.
func TestFixtureIsWhatItClaims(t *testing.T) {
	p := getPKI(t)
	if !p.certs["csca"].ExplicitParameters || !p.certs["dsc-bp"].ExplicitParameters {
		t.Error("the brainpool CSCA or DSC lacks explicit parameters")
	}
	for name, scheme := range map[string]cert.SignatureScheme{"dsc-pss": cert.RSAPSS, "dsc-rsa": cert.RSAPKCS1v15, "dsc-bp": cert.ECDSA} {
		sod, err := lds.ParseSOD(p.sods[name])
		if err != nil {
			t.Fatal(err)
		}
		si := sod.SignedData.SignerInfos[0]
		alg, err := cert.CMSSignatureAlgorithm(si.SignatureAlgorithm.Algorithm, si.SignatureAlgorithm.Parameters, crypto.SHA256)
		if err != nil || alg.Scheme != scheme {
			t.Errorf("%s: %v %v", name, alg, err)
		}
		if name == "dsc-pss" && (alg.PSS == nil || alg.PSS.SaltLength != 32) {
			t.Errorf("PSS parameters %+v", alg.PSS)
		}
	}
	sod, _ := lds.ParseSOD(p.sods["dsc-p256"])
	if sod.SignedData.SignerInfos[0].SID.SubjectKeyID == nil {
		t.Error("dsc-p256's SOD does not identify its signer by SKI")
	}
	if _, revoked := p.crl.IsRevoked(p.certs["dsc-revoked"].SerialNumber); !revoked {
		t.Error("the CRL does not list dsc-revoked")
	}
}

// TestBERSOD: OpenSSL's -stream writes indefinite lengths and a chunked
// eContent, as several issuing states' SODs are; it verifies, with the
// quirk recorded.
func TestBERSOD(t *testing.T) {
	p := getPKI(t)
	tmp := t.TempDir()
	if err := openssl(p.dir, "cms", "-sign", "-binary", "-nodetach", "-stream", "-outform", "DER", "-econtent_type", "2.23.136.1.1.1",
		"-md", "sha256", "-signer", "dsc-bp.pem", "-inkey", "dsc-bp.key", "-in", "so.der", "-nosmimecap", "-out", tmp+"/ber.der"); err != nil {
		t.Fatal(err)
	}
	ber, err := os.ReadFile(tmp + "/ber.der")
	if err != nil {
		t.Fatal(err)
	}
	if len(ber) < 2 || ber[1] != 0x80 {
		t.Skipf("OpenSSL wrote definite lengths (% x)", ber[:2])
	}
	sod, err := lds.AppendElement(nil, lds.SODTag, ber)
	if err != nil {
		t.Fatal(err)
	}
	store := storeWith(t, p, "csca")
	store.AddCRL(p.crl)
	r := PassiveAuthentication(context.Background(), sod, p.files, "UTO", store, time.Now(), Policy{})
	if r.Outcome != Pass || !slices.Contains(r.Quirks, QuirkBER) {
		t.Fatalf("%v %v %s quirks %v", r.Outcome, r.Reason, r.Detail, r.Quirks)
	}
}
