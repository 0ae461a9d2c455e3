package specimen

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"slices"
	"testing"

	"borderid/internal/ec"
	"borderid/reader/lds"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ecKeyMatches reads the PKCS#8 ECPrivateKey of k (RFC 5208, RFC 5915)
// and checks that its scalar, on c, gives the point of the
// SubjectPublicKeyInfo, and that both name c.
func ecKeyMatches(k *AAKey, c *ec.Curve) error {
	oid, _ := curveOID(c.ID())
	spki := cryptobyte.String(k.SubjectPublicKeyInfo)
	var seq, alg cryptobyte.String
	var algOID, curve asn1.ObjectIdentifier
	var bits asn1.BitString
	if !spki.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&algOID) || !alg.ReadASN1ObjectIdentifier(&curve) ||
		!seq.ReadASN1BitString(&bits) || !algOID.Equal(oidECPublicKey) || !curve.Equal(oid) {
		return fmt.Errorf("SubjectPublicKeyInfo %x", k.SubjectPublicKeyInfo)
	}
	p8 := cryptobyte.String(k.Key)
	var v int64
	var inner, ecpk cryptobyte.String
	var d []byte
	if !p8.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(&v) || !seq.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&algOID) || !alg.ReadASN1ObjectIdentifier(&curve) || !curve.Equal(oid) ||
		!seq.ReadASN1(&inner, cbasn1.OCTET_STRING) || !inner.ReadASN1(&ecpk, cbasn1.SEQUENCE) ||
		!ecpk.ReadASN1Integer(&v) || !ecpk.ReadASN1Bytes(&d, cbasn1.OCTET_STRING) {
		return fmt.Errorf("PKCS#8 %x", k.Key)
	}
	if len(d) != c.ScalarLen() {
		return fmt.Errorf("private key of %d bytes, want %d", len(d), c.ScalarLen())
	}
	priv, err := ec.NewPrivateKey(c, d)
	if err != nil {
		return err
	}
	if !bytes.Equal(priv.PublicKey().Bytes(), bits.Bytes) {
		return fmt.Errorf("DG15 holds another key")
	}
	return nil
}

// filesDigest hashes every file (name, length, bytes, in name order) and
// the CA key.
func filesDigest(doc *Document) string {
	h := sha256.New()
	names := make([]string, 0, len(doc.Files))
	for n := range doc.Files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(h, "%s %d\n", n, len(doc.Files[n]))
		h.Write(doc.Files[n])
	}
	h.Write(doc.CAKey)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// Adding Options.AA changed nothing for callers without it: these digests
// were taken from the specimen package before aa.go existed (seed 9,
// testNow), without and with ChipOptions.
func TestGenerateDefaultUnchanged(t *testing.T) {
	for _, tc := range []struct {
		chip *ChipOptions
		want string
	}{
		{nil, "2efd10d4cde2984a2ca4b3be4d944601c1bd3d717441a9b1c7343f00c6f44374"},
		{&ChipOptions{CAParameterID: 13}, "79e4ea9c8d6fbedb44e792868f712187c1aa81686403296a4bac46a048209b95"},
	} {
		doc, err := Generate(Options{Rand: seeded(9), Now: testNow, Chip: tc.chip})
		if err != nil {
			t.Fatal(err)
		}
		if got := filesDigest(doc); got != tc.want {
			t.Errorf("chip %v: digest %s, want %s", tc.chip != nil, got, tc.want)
		}
		if doc.AA != nil || doc.Files["DG15"] != nil {
			t.Error("DG15 without Options.AA")
		}
	}
}

func TestGenerateAA(t *testing.T) {
	plainOID := func(n int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, n} }
	tests := []struct {
		name     string
		aa       AAOptions
		chip     bool
		trailer  string
		hash     crypto.Hash
		info     asn1.ObjectIdentifier // DG14's ActiveAuthenticationInfo
		slow     bool
		keyBytes int // RSA modulus bytes
	}{
		{name: "RSA-1024", aa: AAOptions{RSABits: 1024}, trailer: "BC", keyBytes: 128},
		{name: "RSA-1024 with chip", aa: AAOptions{RSABits: 1024, Trailer: "35cc"}, chip: true, trailer: "35CC", keyBytes: 128},
		{name: "RSA-2048", aa: AAOptions{RSABits: 2048, Trailer: "34CC"}, trailer: "34CC", slow: true, keyBytes: 256},
		{name: "P-256", aa: AAOptions{Curve: ec.P256()}, hash: crypto.SHA256, info: plainOID(3)},
		{name: "brainpoolP256r1 with chip", aa: AAOptions{Curve: ec.BrainpoolP256r1(), Hash: crypto.SHA1}, chip: true, hash: crypto.SHA1, info: plainOID(1)},
		{name: "P-384", aa: AAOptions{Curve: ec.P384()}, hash: crypto.SHA384, info: plainOID(4)},
		{name: "brainpoolP512r1", aa: AAOptions{Curve: ec.BrainpoolP512r1()}, hash: crypto.SHA512, info: plainOID(5)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.slow && testing.Short() {
				t.Skip("RSA-2048 generation in -short")
			}
			var co *ChipOptions
			if tc.chip {
				co = &ChipOptions{CAParameterID: 13}
			}
			plain, err := Generate(Options{Rand: seeded(5), Now: testNow, Chip: co})
			if err != nil {
				t.Fatal(err)
			}
			aa := tc.aa
			doc, err := Generate(Options{Rand: seeded(5), Now: testNow, Chip: co, AA: &aa})
			if err != nil {
				t.Fatal(err)
			}
			if aa != tc.aa {
				t.Error("Generate changed the caller's AAOptions")
			}
			if co != nil && co.ActiveAuthentication != nil {
				t.Error("Generate changed the caller's ChipOptions")
			}
			k := doc.AA
			if k == nil || k.Trailer != tc.trailer || k.Hash != tc.hash {
				t.Fatalf("AA %+v", k)
			}
			dg15, err := lds.ParseDG15(doc.Files["DG15"])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dg15.PublicKeyInfo, k.SubjectPublicKeyInfo) {
				t.Error("DG15 does not hold the key's SubjectPublicKeyInfo")
			}
			// The private key is the public key's other half.
			if tc.keyBytes != 0 {
				priv, err := x509.ParsePKCS8PrivateKey(k.Key)
				if err != nil {
					t.Fatal(err)
				}
				pub, err := x509.ParsePKIXPublicKey(k.SubjectPublicKeyInfo)
				if err != nil {
					t.Fatal(err)
				}
				rk := priv.(*rsa.PrivateKey)
				if !rk.PublicKey.Equal(pub) || rk.Size() != tc.keyBytes || rk.E != 65537 {
					t.Errorf("RSA key: %d bytes, e %d, matches DG15 %v", rk.Size(), rk.E, rk.PublicKey.Equal(pub))
				}
			} else if err := ecKeyMatches(k, tc.aa.Curve); err != nil {
				t.Error(err)
			}
			// Unchanged files: everything but EF.COM, EF.SOD and, for
			// an ECDSA key, DG14 and EF.CardSecurity.
			for name, b := range plain.Files {
				switch name {
				case "COM", "SOD":
					continue
				case "DG14", "CardSecurity":
					if tc.info != nil {
						continue
					}
				}
				if !bytes.Equal(b, doc.Files[name]) {
					t.Errorf("%s changed", name)
				}
			}
			com, err := lds.ParseCOM(doc.Files["COM"])
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range com.Files {
				names = append(names, f.String())
			}
			want := "DG1 DG2 DG11 DG12 DG15"
			if tc.chip || tc.info != nil {
				want = "DG1 DG2 DG11 DG12 DG14 DG15"
			}
			if got := fmtList(names); got != want {
				t.Errorf("EF.COM lists %s, want %s", got, want)
			}
			sod, err := lds.ParseSOD(doc.Files["SOD"])
			if err != nil {
				t.Fatal(err)
			}
			for n, f := range map[int]string{14: "DG14", 15: "DG15"} {
				b, ok := doc.Files[f]
				sum := sha256.Sum256(b)
				if h, listed := sod.SecurityObject.DataGroupHashes[n]; ok != listed || ok && !bytes.Equal(h, sum[:]) {
					t.Errorf("EF.SOD and %s disagree", f)
				}
			}
			dg14b, ok := doc.Files["DG14"]
			if !ok {
				if tc.info != nil {
					t.Fatal("no DG14 for an ECDSA key")
				}
				return
			}
			dg14, err := lds.ParseDG14(dg14b)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.info == nil && len(dg14.ActiveAuthentication) != 0:
				t.Error("ActiveAuthenticationInfo for an RSA key")
			case tc.info != nil && (len(dg14.ActiveAuthentication) != 1 || !dg14.ActiveAuthentication[0].SignatureAlgorithm.Equal(tc.info) ||
				dg14.ActiveAuthentication[0].Version != 1):
				t.Errorf("ActiveAuthenticationInfo %+v, want %v", dg14.ActiveAuthentication, tc.info)
			}
			if tc.chip != (len(dg14.ChipAuthentication) == 1) {
				t.Errorf("DG14 CA infos %d", len(dg14.ChipAuthentication))
			}
			if tc.chip {
				cs, err := lds.ParseCardSecurity(doc.Files["CardSecurity"])
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(cs.SecurityInfos.Raw, dg14.Raw) {
					t.Error("EF.CardSecurity and DG14 hold different SecurityInfos")
				}
			}
		})
	}
}

// The key comes from Options.Rand alone: the same seed, the same key.
func TestGenerateAADeterministic(t *testing.T) {
	for _, o := range []AAOptions{{RSABits: 1024}, {Curve: ec.BrainpoolP256r1()}} {
		a, err := Generate(Options{Rand: seeded(6), Now: testNow, AA: &o})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Generate(Options{Rand: seeded(6), Now: testNow, AA: &o})
		if err != nil {
			t.Fatal(err)
		}
		c, err := Generate(Options{Rand: seeded(7), Now: testNow, AA: &o})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.AA.Key, b.AA.Key) || filesDigest(a) != filesDigest(b) {
			t.Error("same seed, different key")
		}
		if bytes.Equal(a.AA.Key, c.AA.Key) {
			t.Error("different seeds, same key")
		}
	}
}

func TestGenerateAARefusals(t *testing.T) {
	tests := []struct {
		name string
		aa   AAOptions
	}{
		{"neither", AAOptions{}},
		{"both", AAOptions{RSABits: 1024, Curve: ec.P256()}},
		{"RSA too small", AAOptions{RSABits: 768}},
		{"RSA too large", AAOptions{RSABits: 8192}},
		{"RSA odd size", AAOptions{RSABits: 1028}},
		{"RSA unknown trailer", AAOptions{RSABits: 1024, Trailer: "37CC"}},
		{"RSA with a hash", AAOptions{RSABits: 1024, Hash: crypto.SHA256}},
		{"ECDSA with a trailer", AAOptions{Curve: ec.P256(), Trailer: "BC"}},
		{"ECDSA with MD5", AAOptions{Curve: ec.P256(), Hash: crypto.MD5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Generate(Options{Rand: seeded(1), Now: testNow, AA: &tc.aa}); err == nil {
				t.Error("accepted")
			}
		})
	}
	// A source that runs dry while drawing the primes is an error.
	if _, err := generateRSAKey(bytes.NewReader(make([]byte, 100)), 1024); err == nil {
		t.Error("RSA key from 100 bytes")
	}
}

func BenchmarkGenerateRSAKey1024(b *testing.B) {
	r := seeded(1)
	for b.Loop() {
		if _, err := generateRSAKey(r, 1024); err != nil {
			b.Fatal(err)
		}
	}
}
