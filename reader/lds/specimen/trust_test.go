package specimen

import (
	"bytes"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"borderid/internal/cert"
	"borderid/internal/cms"
	"borderid/verify"
)

func trustDoc(t *testing.T) *Document {
	t.Helper()
	doc, err := Generate(Options{Rand: seeded(20), Now: testNow, FaceBytes: MinFaceBytes})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func parseRoot(t *testing.T, rootPEM []byte) *cert.Certificate {
	t.Helper()
	roots, err := cert.ParsePEMCertificates(rootPEM)
	if err != nil {
		t.Fatal(err)
	}
	if len(roots) != 1 {
		t.Fatalf("root PEM holds %d certificates, want 1", len(roots))
	}
	return roots[0]
}

func TestTrustSnapshotVerifies(t *testing.T) {
	doc := trustDoc(t)
	ml, rootPEM, err := TrustSnapshot(doc, seeded(21), testNow)
	if err != nil {
		t.Fatal(err)
	}
	root := parseRoot(t, rootPEM)
	if !root.IsCA || root.Subject.Country != "UT" || !root.Subject.Equal(root.Issuer) {
		t.Errorf("ML root: IsCA %v, subject %v, issuer %v", root.IsCA, root.Subject, root.Issuer)
	}
	got, err := verify.VerifyMasterList(ml, []*cert.Certificate{root})
	if err != nil {
		t.Fatalf("VerifyMasterList: %v", err)
	}
	if len(got) != 1 || !bytes.Equal(got[0].Raw, doc.CSCA.Raw) {
		t.Fatalf("master list holds %d certificates, want exactly doc.CSCA", len(got))
	}

	// The CMS carries the master list content type, the signing time and
	// one embedded certificate: the signer, with its EKU and key usage.
	sd, err := cms.ParseSignedData(ml)
	if err != nil {
		t.Fatal(err)
	}
	if !sd.EContentType.Equal(cms.OIDCscaMasterList()) {
		t.Errorf("eContentType %v", sd.EContentType)
	}
	if len(sd.Certificates) != 1 {
		t.Fatalf("%d embedded certificates, want the signer only", len(sd.Certificates))
	}
	signer, err := cert.ParseCertificate(sd.Certificates[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(signer.ExtKeyUsage) != 1 || !signer.ExtKeyUsage[0].Equal(cert.OIDMasterListSigner()) {
		t.Errorf("signer EKU %v", signer.ExtKeyUsage)
	}
	if signer.IsCA || signer.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("signer IsCA %v, key usage %v", signer.IsCA, signer.KeyUsage)
	}
	if err := signer.CheckSignatureFrom(root); err != nil {
		t.Errorf("signer not issued by the root: %v", err)
	}
	if len(sd.SignerInfos) != 1 || !sd.SignerInfos[0].SigningTime.Equal(testNow) {
		t.Errorf("signing time: %+v", sd.SignerInfos)
	}
}

func TestTrustSnapshotOtherRootFails(t *testing.T) {
	doc := trustDoc(t)
	ml, _, err := TrustSnapshot(doc, seeded(21), testNow)
	if err != nil {
		t.Fatal(err)
	}
	_, otherPEM, err := TrustSnapshot(doc, seeded(22), testNow)
	if err != nil {
		t.Fatal(err)
	}
	for name, roots := range map[string][]*cert.Certificate{
		"other-root": {parseRoot(t, otherPEM)},
		"csca-only":  {mustCert(t, doc.CSCA.Raw)},
		"none":       nil,
	} {
		_, err := verify.VerifyMasterList(ml, roots)
		var ve *verify.Error
		if !errors.Is(err, verify.ErrMasterList) || !errors.As(err, &ve) || ve.Reason != verify.ReasonUnknownCSCA {
			t.Errorf("%s: err %v, want %s", name, err, verify.ReasonUnknownCSCA)
		}
	}
}

func TestTrustSnapshotTampered(t *testing.T) {
	doc := trustDoc(t)
	ml, rootPEM, err := TrustSnapshot(doc, seeded(21), testNow)
	if err != nil {
		t.Fatal(err)
	}
	root := parseRoot(t, rootPEM)
	// Flip a byte inside the CSCA's encoding within the eContent: the
	// message digest no longer matches.
	i := bytes.Index(ml, doc.CSCA.Raw)
	if i < 0 {
		t.Fatal("CSCA not found in the master list")
	}
	bad := bytes.Clone(ml)
	bad[i+len(doc.CSCA.Raw)-5] ^= 1
	if _, err := verify.VerifyMasterList(bad, []*cert.Certificate{root}); !errors.Is(err, verify.ErrMasterList) {
		t.Errorf("tampered master list: err %v", err)
	}
}

func TestTrustSnapshotDeterministic(t *testing.T) {
	doc := trustDoc(t)
	ml1, root1, err := TrustSnapshot(doc, seeded(21), testNow)
	if err != nil {
		t.Fatal(err)
	}
	ml2, root2, err := TrustSnapshot(doc, seeded(21), testNow.Add(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ml1, ml2) || !bytes.Equal(root1, root2) {
		t.Error("same reader and second give different snapshots")
	}
	ml3, root3, err := TrustSnapshot(doc, seeded(22), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(ml1, ml3) || bytes.Equal(root1, root3) {
		t.Error("another reader gives the same snapshot")
	}
}

func TestTrustSnapshotRefusals(t *testing.T) {
	doc := trustDoc(t)
	for _, tc := range []struct {
		name string
		doc  *Document
		r    *failingReader
		now  time.Time
		want string
	}{
		{"no-document", nil, &failingReader{n: 1 << 10}, testNow, "CSCA"},
		{"no-csca", &Document{}, &failingReader{n: 1 << 10}, testNow, "CSCA"},
		{"no-time", doc, &failingReader{n: 1 << 10}, time.Time{}, "signing time"},
		{"no-entropy", doc, &failingReader{}, testNow, "key material"},
		{"entropy-runs-out-at-serials", doc, &failingReader{n: 64}, testNow, "serial"},
	} {
		_, _, err := TrustSnapshot(tc.doc, tc.r, tc.now)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
	if _, _, err := TrustSnapshot(doc, nil, testNow); err == nil {
		t.Error("nil reader accepted")
	}
}

// TestCscaMasterListEncoding checks the exact DER of the eContent and the
// SET OF ordering (X.690 §11.6) with two toy "certificates".
func TestCscaMasterListEncoding(t *testing.T) {
	a := []byte{0x30, 0x01, 0x02}
	b := []byte{0x30, 0x01, 0x01}
	got, err := cscaMasterList([][]byte{a, b})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x30, 0x0b, 0x02, 0x01, 0x00, 0x31, 0x06, 0x30, 0x01, 0x01, 0x30, 0x01, 0x02}
	if !bytes.Equal(got, want) {
		t.Errorf("got % x\nwant % x", got, want)
	}
}

func mustCert(t *testing.T, der []byte) *cert.Certificate {
	t.Helper()
	c, err := cert.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
