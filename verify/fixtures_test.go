package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"borderid/internal/cert"
	"borderid/reader/lds"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The PKI and SODs of these tests are made by OpenSSL, an independent
// signer: nothing here shares code with internal/cms's Sign or with the
// specimen, so a bug in reading what OpenSSL writes cannot hide behind a
// matching bug in writing it.

const caConf = `
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = .
database = index.txt
new_certs_dir = newcerts
serial = serial
crlnumber = crlnumber
certificate = csca.pem
private_key = csca.key
default_md = sha256
default_days = 365
default_crl_days = 30
policy = policy_any
unique_subject = no
email_in_dn = no
[ policy_any ]
countryName = supplied
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
[ csca ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ link ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ dsc ]
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ dsc_badku ]
keyUsage = critical, keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ dsc_crit ]
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
1.3.6.1.4.1.99999.1 = critical, DER:0500
`

// pki is everything the OpenSSL fixture made.
type pki struct {
	dir   string
	certs map[string]*cert.Certificate // csca, csca2, link, cscaNL, dsc-*
	crl   *cert.RevocationList
	files map[lds.File][]byte
	so    []byte            // LDSSecurityObject DER
	sods  map[string][]byte // EF.SOD (77-wrapped) by DSC name
	cs    []byte            // EF.CardSecurity signed by dsc-p256
}

var (
	pkiOnce sync.Once
	pkiVal  *pki
	pkiErr  error
)

func openssl(dir string, args ...string) error {
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("openssl %v: %v\n%s", args, err, out)
	}
	return nil
}

// getPKI builds the fixture once per test binary.
func getPKI(t testing.TB) *pki {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	pkiOnce.Do(func() { pkiVal, pkiErr = cachedPKI() })
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pkiVal
}

// cachedPKI reuses a fixture made in the last 12 hours by another test
// process (fuzzing workers each start afresh, and RSA key generation is
// slow on two shared cores); the fixture is built in a fresh folder and
// renamed into place, so concurrent builders never see a partial one.
func cachedPKI() (*pki, error) {
	sum := sha256.Sum256([]byte(caConf + fixtureVersion))
	cache := filepath.Join(os.TempDir(), fmt.Sprintf("borderid-verify-pki-%x", sum[:6]))
	if st, err := os.Stat(filepath.Join(cache, "done")); err == nil && time.Since(st.ModTime()) < 12*time.Hour {
		return makePKI(cache, false)
	}
	dir, err := os.MkdirTemp("", "verify-pki-")
	if err != nil {
		return nil, err
	}
	p, err := makePKI(dir, true)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "done"), nil, 0o600); err != nil {
		return nil, err
	}
	os.RemoveAll(cache + ".old")
	os.Rename(cache, cache+".old") // a stale fixture
	if os.Rename(dir, cache) == nil {
		p.dir = cache
	}
	return p, nil
}

// fixtureVersion changes the cache key when makePKI changes.
const fixtureVersion = "1"

func makePKI(dir string, build bool) (*pki, error) {
	p := &pki{dir: dir, certs: map[string]*cert.Certificate{}, sods: map[string][]byte{}}
	write := func(name string, b []byte) error { return os.WriteFile(filepath.Join(dir, name), b, 0o600) }
	if build {
		if err := write("ca.cnf", []byte(caConf)); err != nil {
			return nil, err
		}
		if err := os.Mkdir(filepath.Join(dir, "newcerts"), 0o700); err != nil {
			return nil, err
		}
		for name, content := range map[string]string{"index.txt": "", "serial": "1000\n", "crlnumber": "01\n"} {
			if err := write(name, []byte(content)); err != nil {
				return nil, err
			}
		}
	}
	run := func(args ...string) error { return openssl(dir, args...) }
	ecKey := func(out, curve string, explicit bool) error {
		a := []string{"ecparam", "-name", curve, "-genkey", "-noout", "-out", out}
		if explicit {
			a = append(a, "-param_enc", "explicit")
		}
		return run(a...)
	}
	steps := []func() error{
		// CSCA of Utopia: brainpoolP256r1 with explicit domain
		// parameters, as 9303-12 §7.1.1 requires.
		func() error { return ecKey("csca.key", "brainpoolP256r1", true) },
		func() error {
			return run("req", "-config", "ca.cnf", "-x509", "-new", "-key", "csca.key", "-subj", "/C=UT/O=Utopia/CN=CSCA Utopia",
				"-days", "3650", "-set_serial", "1", "-extensions", "csca", "-out", "csca.pem")
		},
		// A second Utopian CSCA key, reachable only through a link
		// certificate signed by the first, and a CSCA of the Netherlands.
		func() error { return ecKey("csca2.key", "brainpoolP256r1", true) },
		func() error {
			return run("req", "-config", "ca.cnf", "-x509", "-new", "-key", "csca2.key", "-subj", "/C=UT/O=Utopia/CN=CSCA Utopia",
				"-days", "3650", "-set_serial", "2", "-extensions", "csca", "-out", "csca2.pem")
		},
		func() error {
			return run("req", "-config", "ca.cnf", "-new", "-key", "csca2.key", "-subj", "/C=UT/O=Utopia/CN=CSCA Utopia", "-out", "link.csr")
		},
		func() error {
			return run("ca", "-config", "ca.cnf", "-batch", "-notext", "-days", "3000", "-extensions", "link", "-in", "link.csr", "-out", "link.pem")
		},
		func() error { return ecKey("cscaNL.key", "prime256v1", true) },
		func() error {
			return run("req", "-config", "ca.cnf", "-x509", "-new", "-key", "cscaNL.key", "-subj", "/C=NL/O=Kingdom of the Netherlands/CN=CSCA NL",
				"-days", "3650", "-set_serial", "3", "-extensions", "csca", "-out", "cscaNL.pem")
		},
	}
	type dsc struct {
		name, key, ext, issuer string // issuer: "" (csca via openssl ca), "csca2", "cscaNL"
		country                string
		start, end             string
		rsa                    bool
		curve                  string
		explicit               bool
	}
	dscs := []dsc{
		{name: "dsc-bp", curve: "brainpoolP256r1", explicit: true},
		{name: "dsc-p256", curve: "prime256v1"},
		{name: "dsc-pss", rsa: true},
		{name: "dsc-rsa", rsa: true},
		{name: "dsc-expired", curve: "prime256v1", start: "20200101000000Z", end: "20210101000000Z"},
		{name: "dsc-revoked", curve: "prime256v1"},
		{name: "dsc-badku", curve: "prime256v1", ext: "dsc_badku"},
		{name: "dsc-crit", curve: "prime256v1", ext: "dsc_crit"},
		{name: "dsc-link", curve: "brainpoolP256r1", explicit: true, issuer: "csca2"},
		{name: "dsc-nl", curve: "prime256v1", issuer: "cscaNL", country: "NL"},
	}
	for _, d := range dscs {
		d := d
		steps = append(steps, func() error {
			if d.rsa {
				return run("genrsa", "-out", d.name+".key", "2048")
			}
			return ecKey(d.name+".key", d.curve, d.explicit)
		}, func() error {
			c := d.country
			if c == "" {
				c = "UT"
			}
			return run("req", "-config", "ca.cnf", "-new", "-key", d.name+".key", "-subj", "/C="+c+"/O=Test/CN="+d.name, "-out", d.name+".csr")
		}, func() error {
			ext := d.ext
			if ext == "" {
				ext = "dsc"
			}
			if d.issuer != "" {
				return run("x509", "-req", "-in", d.name+".csr", "-CA", d.issuer+".pem", "-CAkey", d.issuer+".key",
					"-days", "365", "-set_serial", "77", "-extfile", "ca.cnf", "-extensions", ext, "-sha256", "-out", d.name+".pem")
			}
			a := []string{"ca", "-config", "ca.cnf", "-batch", "-notext", "-extensions", ext, "-in", d.name + ".csr", "-out", d.name + ".pem"}
			if d.start != "" {
				a = append(a, "-startdate", d.start, "-enddate", d.end)
			} else {
				a = append(a, "-days", "365")
			}
			return run(a...)
		})
	}
	steps = append(steps,
		func() error {
			return run("ca", "-config", "ca.cnf", "-batch", "-revoke", "dsc-revoked.pem", "-crl_reason", "keyCompromise")
		},
		func() error {
			return run("ca", "-config", "ca.cnf", "-batch", "-gencrl", "-crldays", "30", "-out", "crl.pem")
		},
	)
	for _, s := range steps {
		if !build {
			break
		}
		if err := s(); err != nil {
			return nil, err
		}
	}
	for _, n := range []string{"csca", "csca2", "link", "cscaNL"} {
		c, err := loadCert(dir, n)
		if err != nil {
			return nil, err
		}
		p.certs[n] = c
	}
	for _, d := range dscs {
		c, err := loadCert(dir, d.name)
		if err != nil {
			return nil, err
		}
		p.certs[d.name] = c
	}
	crlDER, err := pemFile(dir, "crl.pem")
	if err != nil {
		return nil, err
	}
	if p.crl, err = cert.ParseRevocationList(crlDER); err != nil {
		return nil, fmt.Errorf("CRL: %w", err)
	}

	// The data groups and the LDSSecurityObject (9303-10 §4.6.2.2) over
	// their SHA-256 hashes.
	dg2 := make([]byte, 3000)
	for i := range dg2 {
		dg2[i] = byte(i * 7)
	}
	p.files = map[lds.File][]byte{
		lds.FileDG1:  append([]byte{0x61, 0x5b, 0x5f, 0x1f, 0x58}, []byte("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10")...),
		lds.FileDG2:  append([]byte{0x75, 0x82, 0x0b, 0xb8}, dg2...),
		lds.FileDG14: {0x6e, 0x03, 0x31, 0x01, 0x00},
	}
	p.so = ldsSecurityObject(p.files)
	if !build {
		for _, d := range dscs {
			b, err := os.ReadFile(filepath.Join(dir, d.name+".sod.der"))
			if err != nil {
				return nil, err
			}
			if p.sods[d.name], err = lds.AppendElement(nil, lds.SODTag, b); err != nil {
				return nil, err
			}
		}
		p.cs, err = os.ReadFile(filepath.Join(dir, "cs.der"))
		return p, err
	}
	if err := write("so.der", p.so); err != nil {
		return nil, err
	}
	sign := func(signer, ctype, in, out string, extra ...string) error {
		a := []string{"cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-econtent_type", ctype, "-md", "sha256",
			"-signer", signer + ".pem", "-inkey", signer + ".key", "-in", in, "-nosmimecap", "-out", out}
		return run(append(a, extra...)...)
	}
	for _, d := range dscs {
		var extra []string
		switch d.name {
		case "dsc-pss":
			extra = []string{"-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_pss_saltlen:32"}
		case "dsc-p256":
			extra = []string{"-keyid"} // SignerIdentifier by subject key identifier
		}
		if err := sign(d.name, "2.23.136.1.1.1", "so.der", d.name+".sod.der", extra...); err != nil {
			return nil, err
		}
		b, err := os.ReadFile(filepath.Join(dir, d.name+".sod.der"))
		if err != nil {
			return nil, err
		}
		if p.sods[d.name], err = lds.AppendElement(nil, lds.SODTag, b); err != nil {
			return nil, err
		}
	}
	// EF.CardSecurity: SecurityInfos (here one ChipAuthenticationInfo-like
	// SET) under id-SecurityObject, no 77 wrapper (TR-03110-3 A.1.2.2).
	if err := write("si.der", []byte{0x31, 0x0f, 0x30, 0x0d, 0x06, 0x08, 0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02, 0x01, 0x01}); err != nil {
		return nil, err
	}
	if err := sign("dsc-p256", "0.4.0.127.0.7.3.2.1", "si.der", "cs.der"); err != nil {
		return nil, err
	}
	if p.cs, err = os.ReadFile(filepath.Join(dir, "cs.der")); err != nil {
		return nil, err
	}
	return p, nil
}

func pemFile(dir, name string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", name)
	}
	return blk.Bytes, nil
}

func loadCert(dir, name string) (*cert.Certificate, error) {
	der, err := pemFile(dir, name+".pem")
	if err != nil {
		return nil, err
	}
	c, err := cert.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

func ldsSecurityObject(files map[lds.File][]byte) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier([]int{2, 16, 840, 1, 101, 3, 4, 2, 1})
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for f := lds.FileDG1; f <= lds.FileDG16; f++ {
				data, ok := files[f]
				if !ok {
					continue
				}
				h := sha256.Sum256(data)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1Int64(int64(f.DataGroup()))
					b.AddASN1OctetString(h[:])
				})
			}
		})
	})
	return b.BytesOrPanic()
}

// replaceElement re-encodes DER in with the element old replaced by new,
// fixing the lengths of every enclosing element. Only constructed
// elements are descended into; DER re-encodes byte for byte.
func replaceElement(in, old, new []byte) []byte {
	if bytes.Equal(in, old) {
		return new
	}
	s := cryptobyte.String(in)
	var out []byte
	for !s.Empty() {
		var el cryptobyte.String
		var tag cbasn1.Tag
		var hdr int
		if !s.ReadAnyASN1Element(&el, &tag) {
			return in
		}
		if bytes.Equal(el, old) {
			out = append(out, new...)
			continue
		}
		if tag&0x20 == 0 {
			out = append(out, el...)
			continue
		}
		c := cryptobyte.String(el)
		var content cryptobyte.String
		if !c.ReadAnyASN1(&content, &tag) {
			return in
		}
		hdr = len(el) - len(content)
		_ = hdr
		inner := replaceElement(content, old, new)
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes(inner) })
		out = append(out, b.BytesOrPanic()...)
	}
	return out
}

func sha256New() interface {
	Write([]byte) (int, error)
	Sum([]byte) []byte
} {
	return sha256.New()
}
