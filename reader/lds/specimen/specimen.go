// Package specimen generates complete, self-consistent eMRTD chip data for
// tests and demonstrations: EF.COM, DG1, DG2 (a synthetic portrait), DG11,
// DG12 and an EF.SOD (ICAO 9303-10 §4.6.2) holding the SHA-256 hash of
// every data group, signed by a Document Signer whose certificate is issued
// by a self-signed CSCA of the ICAO specimen state Utopia (UTO, C=UT).
//
// Typical use:
//
//	doc, err := specimen.Generate(specimen.Options{})
//	sod := doc.Files["SOD"] // serve doc.Files from a software chip
//	trust := doc.CSCA       // what a test trust store must hold
//
// With a fixed Options.Rand and Options.Now the output is byte for byte
// reproducible: keys are derived from Rand (never crypto/rand when Rand is
// set), certificates and the SOD are signed with deterministic ECDSA
// (RFC 6979), and the portrait's texture comes from Rand.
//
// The package deliberately does not model a real issuing state: its keys
// are throwaway P-256 keys held in memory (a real Document Signer key sits
// in an HSM; issuance with PKCS #11 is a later issue), there is no CRL or
// master list. Chip Authentication data (DG14, EF.CardSecurity and the
// chip's key, see ChipOptions), Extended Access Control data (EACOptions)
// and an Active Authentication key (DG15, AAOptions) are made only when
// Options.Chip, Options.EAC and Options.AA ask for them.
package specimen

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"borderid/reader/lds"
	"borderid/reader/mrz"
)

// Limits on the synthetic portrait's target size.
const (
	DefaultFaceBytes = 20_000
	MinFaceBytes     = 2_000
	MaxFaceBytes     = 1 << 20
)

// Options configures Generate. The zero value gives the default specimen.
type Options struct {
	// MRZ is the document's machine readable zone (lines, or 88/72/90
	// characters), used as given: its check digits are not corrected, so a
	// test can carry a wrong one. Empty means DefaultMRZ(Now).
	MRZ string
	// FaceBytes is the target size of the portrait (default
	// DefaultFaceBytes); the JPEG lands within a few percent of it.
	FaceBytes int
	// Face, when set, is the portrait's image (JPEG or JPEG 2000) used
	// instead of a synthetic one; FaceBytes is then ignored.
	Face []byte
	// Rand is the source of every key and of the portrait's texture;
	// default crypto/rand.Reader.
	Rand io.Reader
	// Now is the issuing time (certificates' validity, signing time, DG12
	// date of issue); default time.Now().
	Now time.Time
	// Chip, when set, adds the chip-security data of chip.go: DG14 (in
	// EF.COM and EF.SOD), EF.CardSecurity and a Chip Authentication key
	// (Document.CAKey). Nil leaves the specimen exactly as without it.
	Chip *ChipOptions
	// EAC, when set, adds Extended Access Control data (eac.go): DG3
	// (and DG4) in EF.COM and EF.SOD, EF.CVCA, and the Terminal
	// Authentication chain in Document.EAC. Nil leaves the specimen
	// exactly as without it.
	EAC *EACOptions
	// AA, when set, adds an Active Authentication key (aa.go): DG15 in
	// EF.COM and EF.SOD, the key in Document.AA and, for ECDSA, an
	// ActiveAuthenticationInfo in DG14 (Options.Chip's, or a DG14 holding
	// only that). Nil leaves the specimen exactly as without it.
	AA *AAOptions
}

// Document is a generated chip image with the keys and certificates
// behind its EF.SOD.
type Document struct {
	MRZ string
	// Files maps "COM", "DG1", "DG2", "DG11", "DG12", "SOD" to the raw
	// files, named as in a chip identity folder (CONTRACTS.md).
	Files   map[string][]byte
	CSCA    *x509.Certificate
	CSCAKey crypto.Signer
	DSC     *x509.Certificate
	DSKey   crypto.Signer
	// CAKey is the Chip Authentication private key as PKCS#8 DER (an SEC 1
	// ECPrivateKey naming its curve, or an X9.42 DH key), the chip's
	// ca.key; CAPublicKey is its public key in the domain's fixed-length
	// encoding (04‖X‖Y, or y as long as p). Both nil without
	// Options.Chip.
	CAKey       []byte
	CAPublicKey []byte
	// EAC is the Extended Access Control data (Options.EAC), nil without.
	EAC *EAC
	// AA is the Active Authentication key (Options.AA), nil without.
	AA *AAKey
}

// DefaultMRZ returns the TD3 specimen of ICAO 9303-3 Appendix (Anna Maria
// Eriksson, Utopia, document L898902C3, born 1974-08-12) with an expiry in
// 2034 and every check digit computed.
func DefaultMRZ() string {
	const (
		line1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
		doc   = "L898902C3"
		dob   = "740812"
		doe   = "340811"
		pers  = "ZE184226B<<<<<"
	)
	cd := func(s string) string {
		c, err := mrz.CheckDigit(s)
		if err != nil { // constants above are in the MRZ character set
			return "<"
		}
		return string(c)
	}
	docF := doc + cd(doc)
	dobF := dob + cd(dob)
	doeF := doe + cd(doe)
	persF := pers + cd(pers)
	// 9303-4 §4.2.2.2: the composite covers document number, birth date,
	// expiry date and personal number, each with its check digit.
	composite := cd(docF + dobF + doeF + persF)
	return line1 + "\n" + docF + "UTO" + dobF + "F" + doeF + persF + composite
}

// Generate builds a Document.
func Generate(opts Options) (*Document, error) {
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	// Certificates and UTCTime carry whole seconds; truncating here keeps
	// what is signed equal to what is parsed back.
	now := opts.Now.UTC().Truncate(time.Second)
	if opts.MRZ == "" {
		opts.MRZ = DefaultMRZ()
	}
	if opts.FaceBytes == 0 {
		opts.FaceBytes = DefaultFaceBytes
	}

	var aaOpts AAOptions
	if opts.AA != nil {
		var err error
		if aaOpts, err = opts.AA.check(); err != nil {
			return nil, err
		}
		if info := aaOpts.info(); info != nil && opts.Chip != nil && opts.Chip.ActiveAuthentication == nil {
			co := *opts.Chip
			co.ActiveAuthentication = info
			opts.Chip = &co
		}
	}

	face, err := portrait(opts)
	if err != nil {
		return nil, err
	}
	format, w, h, err := lds.ImageInfo(face)
	if err != nil {
		return nil, fmt.Errorf("specimen: face image: %w", err)
	}

	dg1, err := lds.EncodeDG1(opts.MRZ)
	if err != nil {
		return nil, fmt.Errorf("specimen: %w", err)
	}
	m, err := mrz.Parse(opts.MRZ)
	if err != nil {
		return nil, fmt.Errorf("specimen: %w", err)
	}
	dg2, err := lds.EncodeDG2([]lds.FaceImage{{Format: format, Width: w, Height: h, Data: face}})
	if err != nil {
		return nil, fmt.Errorf("specimen: %w", err)
	}
	dg11, err := lds.EncodeDG11(&lds.DG11{
		FullName:        nameField(m.Surname, m.GivenNames),
		FullDateOfBirth: fullDate(m.BirthDate(now)),
		PlaceOfBirth:    "ZENITH,UTOPIA",
	})
	if err != nil {
		return nil, fmt.Errorf("specimen: %w", err)
	}
	dg12, err := lds.EncodeDG12(&lds.DG12{
		IssuingAuthority: "UTOPIA PASSPORT OFFICE",
		DateOfIssue:      now.Format("20060102"),
	})
	if err != nil {
		return nil, fmt.Errorf("specimen: %w", err)
	}
	cscaKey, err := deriveKey(opts.Rand)
	if err != nil {
		return nil, err
	}
	dsKey, err := deriveKey(opts.Rand)
	if err != nil {
		return nil, err
	}
	csca, dsc, err := certificates(opts.Rand, now, cscaKey, dsKey)
	if err != nil {
		return nil, err
	}

	dgs := map[int][]byte{1: dg1, 2: dg2, 11: dg11, 12: dg12}
	listed := []lds.File{lds.FileDG1, lds.FileDG2, lds.FileDG11, lds.FileDG12}
	var chip map[string][]byte
	var caKey *caKeyPair
	if opts.Chip != nil {
		// Drawn after every default key, so the rest of the specimen is
		// the same with or without chip data.
		chip, caKey, err = chipFiles(opts.Rand, opts.Chip, func(infos *lds.SecurityInfos) ([]byte, error) {
			return lds.EncodeCardSecurity(infos, dsc, deterministic{dsKey}, crypto.SHA256, now)
		})
		if err != nil {
			return nil, err
		}
		dgs[14] = chip[lds.FileDG14.String()]
		listed = append(listed, lds.FileDG14)
	}
	var eac *EAC
	if opts.EAC != nil {
		// Drawn after every other key, like the chip data.
		if eac, err = GenerateEAC(opts.Rand, now, *opts.EAC); err != nil {
			return nil, err
		}
		dgs[3] = eac.DG3
		listed = append(listed, lds.FileDG3)
		if eac.DG4 != nil {
			dgs[4] = eac.DG4
			listed = append(listed, lds.FileDG4)
		}
	}
	var aaKey *AAKey
	var aaDG14 []byte // DG14 holding only the ActiveAuthenticationInfo
	if opts.AA != nil {
		// Drawn last, so the rest is the same with or without it.
		if aaKey, err = generateAAKey(opts.Rand, aaOpts); err != nil {
			return nil, err
		}
		if dgs[15], err = lds.EncodeDG15(aaKey.SubjectPublicKeyInfo); err != nil {
			return nil, fmt.Errorf("specimen: %w", err)
		}
		listed = append(listed, lds.FileDG15)
		if info := aaOpts.info(); info != nil && opts.Chip == nil {
			if aaDG14, err = lds.EncodeDG14(&lds.SecurityInfos{ActiveAuthentication: []lds.ActiveAuthenticationInfo{*info}}); err != nil {
				return nil, fmt.Errorf("specimen: DG14: %w", err)
			}
			dgs[14] = aaDG14
			listed = append(listed, lds.FileDG14)
		}
	}
	if eac != nil || aaKey != nil {
		slices.Sort(listed)
	}
	com, err := lds.EncodeCOM("0107", "040000", listed)
	if err != nil {
		return nil, fmt.Errorf("specimen: %w", err)
	}
	hashes := map[int][]byte{}
	for n, b := range dgs {
		sum := sha256.Sum256(b)
		hashes[n] = sum[:]
	}
	sod, err := lds.EncodeSOD(crypto.SHA256, hashes, dsc, deterministic{dsKey}, now)
	if err != nil {
		return nil, fmt.Errorf("specimen: %w", err)
	}
	doc := &Document{
		MRZ: opts.MRZ,
		Files: map[string][]byte{
			lds.FileCOM.String():  com,
			lds.FileDG1.String():  dg1,
			lds.FileDG2.String():  dg2,
			lds.FileDG11.String(): dg11,
			lds.FileDG12.String(): dg12,
			lds.FileSOD.String():  sod,
		},
		CSCA: csca, CSCAKey: cscaKey,
		DSC: dsc, DSKey: dsKey,
	}
	for name, b := range chip {
		doc.Files[name] = b
	}
	if caKey != nil {
		doc.CAKey, doc.CAPublicKey = caKey.pkcs8, caKey.pub
	}
	if eac != nil {
		doc.EAC = eac
		doc.Files[lds.FileDG3.String()] = eac.DG3
		if eac.DG4 != nil {
			doc.Files[lds.FileDG4.String()] = eac.DG4
		}
		doc.Files[lds.FileCVCA.String()] = eac.EFCVCA
	}
	if aaKey != nil {
		doc.AA = aaKey
		doc.Files[lds.FileDG15.String()] = dgs[15]
		if aaDG14 != nil {
			doc.Files[lds.FileDG14.String()] = aaDG14
		}
	}
	return doc, nil
}

// nameField writes DG11's full name as 9303-10 §4.7.11 prints it:
// primary and secondary identifiers separated by "<<", components by "<".
func nameField(surname, given string) string {
	repl := func(s string) string { return strings.ReplaceAll(s, " ", "<") }
	return repl(surname) + "<<" + repl(given)
}

// fullDate formats an MRZ date as DG11's YYYYMMDD; unknown parts are 00
// (9303-10 §4.7.11 allows them).
func fullDate(d mrz.Date) string {
	return fmt.Sprintf("%04d%02d%02d", d.Year, d.Month, d.Day)
}

// deterministic signs with RFC 6979 nonces, ignoring the random source it
// is handed, so that a fixed Options.Rand gives fixed signatures.
// (crypto/ecdsa's Sign is deterministic exactly when its rand is nil.)
type deterministic struct{ k *ecdsa.PrivateKey }

func (d deterministic) Public() crypto.PublicKey { return d.k.Public() }
func (d deterministic) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return d.k.Sign(nil, digest, opts)
}

// deriveKey reads a P-256 private scalar from r. Go 1.26's GenerateKey
// ignores its reader, so the scalar is read here; a value outside [1, n-1]
// (probability about 2^-32) is redrawn.
func deriveKey(r io.Reader) (*ecdsa.PrivateKey, error) {
	buf := make([]byte, 32)
	for range 16 {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("specimen: reading key material: %w", err)
		}
		k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), buf)
		if err == nil {
			return k, nil
		}
	}
	return nil, errors.New("specimen: no valid P-256 scalar in 16 draws")
}

func serial(r io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("specimen: reading serial: %w", err)
	}
	b[0] &= 0x7f // positive
	b[0] |= 0x40 // and full length, RFC 5280 §4.1.2.2 allows up to 20 octets
	return new(big.Int).SetBytes(b), nil
}

// keyID is RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey.
func keyID(k *ecdsa.PrivateKey) ([]byte, error) {
	pub, err := k.PublicKey.ECDH()
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(pub.Bytes())
	return sum[:], nil
}

// certificates issues the CSCA (self-signed, 9303-12 §7.1.1 profile
// essentials: CA, path length 0, keyCertSign and cRLSign) and the DSC
// (digitalSignature only).
func certificates(r io.Reader, now time.Time, cscaKey, dsKey *ecdsa.PrivateKey) (*x509.Certificate, *x509.Certificate, error) {
	return rootAndLeaf(r, now, cscaKey, dsKey, "CSCA Utopia", "CSCA", &x509.Certificate{
		Subject:  pkix.Name{Country: []string{"UT"}, Organization: []string{"Utopia"}, CommonName: "Document Signer Utopia"},
		NotAfter: now.AddDate(10, 3, 0), // passport validity plus the signing period
	}, "DS")
}

// rootAndLeaf issues a self-signed C=UT root CA named rootCN (15 years,
// path length 0, keyCertSign and cRLSign) and under it one leaf from
// leaf's Subject, NotAfter and extra fields (valid from an hour ago,
// digitalSignature). Serials and key identifiers are drawn from r in a
// fixed order, so the output is reproducible for a fixed r. The names
// say which certificate an error is about.
func rootAndLeaf(r io.Reader, now time.Time, rootKey, leafKey *ecdsa.PrivateKey, rootCN, rootWhat string, leaf *x509.Certificate, leafWhat string) (*x509.Certificate, *x509.Certificate, error) {
	rootSerial, err := serial(r)
	if err != nil {
		return nil, nil, err
	}
	leafSerial, err := serial(r)
	if err != nil {
		return nil, nil, err
	}
	rootSKI, err := keyID(rootKey)
	if err != nil {
		return nil, nil, err
	}
	leafSKI, err := keyID(leafKey)
	if err != nil {
		return nil, nil, err
	}
	rootTmpl := &x509.Certificate{
		SerialNumber:          rootSerial,
		Subject:               pkix.Name{Country: []string{"UT"}, Organization: []string{"Utopia"}, CommonName: rootCN},
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.AddDate(15, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		SubjectKeyId:          rootSKI,
	}
	rootDER, err := x509.CreateCertificate(r, rootTmpl, rootTmpl, rootKey.Public(), deterministic{rootKey})
	if err != nil {
		return nil, nil, fmt.Errorf("specimen: %s certificate: %w", rootWhat, err)
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, nil, fmt.Errorf("specimen: %s certificate: %w", rootWhat, err)
	}
	tmpl := *leaf
	tmpl.SerialNumber = leafSerial
	tmpl.NotBefore = now.Add(-time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.SubjectKeyId = leafSKI
	leafDER, err := x509.CreateCertificate(r, &tmpl, root, leafKey.Public(), deterministic{rootKey})
	if err != nil {
		return nil, nil, fmt.Errorf("specimen: %s certificate: %w", leafWhat, err)
	}
	out, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, nil, fmt.Errorf("specimen: %s certificate: %w", leafWhat, err)
	}
	return root, out, nil
}

// portrait returns opts.Face, or draws and encodes a synthetic one.
func portrait(opts Options) ([]byte, error) {
	if opts.Face != nil {
		if len(opts.Face) > MaxFaceBytes*4 {
			return nil, fmt.Errorf("specimen: face image of %d bytes", len(opts.Face))
		}
		return opts.Face, nil
	}
	if opts.FaceBytes < MinFaceBytes || opts.FaceBytes > MaxFaceBytes {
		return nil, fmt.Errorf("specimen: FaceBytes %d outside %d..%d", opts.FaceBytes, MinFaceBytes, MaxFaceBytes)
	}
	var seed [32]byte
	if _, err := io.ReadFull(opts.Rand, seed[:]); err != nil {
		return nil, fmt.Errorf("specimen: reading texture seed: %w", err)
	}
	target := opts.FaceBytes
	// Start from a size that typically lands near the target at medium
	// quality (about 0.12 bytes per pixel with this texture), then search
	// the quality; rescale when the quality range cannot reach the target.
	width := 120
	for width < 1200 && width*width*4/3*12/100 < target {
		width += 30
	}
	var best []byte
	for range 6 {
		img := draw(width, width*4/3, seed)
		b, err := closestQuality(img, target)
		if err != nil {
			return nil, err
		}
		if best == nil || absDiff(len(b), target) < absDiff(len(best), target) {
			best = b
		}
		switch {
		case absDiff(len(b), target)*20 <= target: // within 5 %
			return b, nil
		case len(b) < target:
			width = width * 5 / 4
		default:
			width = width * 4 / 5
		}
		width -= width % 3
		if width < 60 {
			width = 60
		}
	}
	return best, nil
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}

// closestQuality binary-searches the JPEG quality whose output is closest
// to target bytes (size grows with quality).
func closestQuality(img image.Image, target int) ([]byte, error) {
	lo, hi := 5, 95
	var best []byte
	for lo <= hi {
		q := (lo + hi) / 2
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
			return nil, fmt.Errorf("specimen: encoding portrait: %w", err)
		}
		b := buf.Bytes()
		if best == nil || absDiff(len(b), target) < absDiff(len(best), target) {
			best = b
		}
		if len(b) < target {
			lo = q + 1
		} else {
			hi = q - 1
		}
	}
	return best, nil
}

// draw paints a 3:4 portrait: plain background, shoulders, hair, an oval
// face with eyes and mouth, plus seeded noise as skin and fabric texture so
// that JPEG has detail to keep.
func draw(w, h int, seed [32]byte) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := mrand.New(mrand.NewChaCha8(seed))
	fw, fh := float64(w), float64(h)
	cx, cy := fw/2, fh*0.42
	inEllipse := func(x, y, ex, ey, rx, ry float64) bool {
		dx, dy := (x-ex)/rx, (y-ey)/ry
		return dx*dx+dy*dy <= 1
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			c := color.RGBA{R: 196, G: 206, B: 218, A: 255} // background
			noise := 6
			switch {
			case inEllipse(fx, fy, cx, fh*1.08, fw*0.48, fh*0.36): // shoulders
				c, noise = color.RGBA{R: 40, G: 52, B: 84, A: 255}, 14
			case inEllipse(fx, fy, cx, cy-fh*0.05, fw*0.27, fh*0.27) && !inEllipse(fx, fy, cx, cy+fh*0.02, fw*0.22, fh*0.25): // hair
				c, noise = color.RGBA{R: 92, G: 62, B: 38, A: 255}, 22
			case inEllipse(fx, fy, cx-fw*0.08, cy-fh*0.03, fw*0.035, fh*0.015),
				inEllipse(fx, fy, cx+fw*0.08, cy-fh*0.03, fw*0.035, fh*0.015): // eyes
				c, noise = color.RGBA{R: 50, G: 40, B: 35, A: 255}, 8
			case inEllipse(fx, fy, cx, cy+fh*0.12, fw*0.07, fh*0.018): // mouth
				c, noise = color.RGBA{R: 170, G: 80, B: 80, A: 255}, 8
			case inEllipse(fx, fy, cx, cy+fh*0.02, fw*0.22, fh*0.25): // face
				shade := int(20 * (fx - cx) / fw) // -10..10: light from the left
				c, noise = color.RGBA{R: clamp(226 - shade), G: clamp(184 - shade), B: clamp(156 - shade), A: 255}, 12
			case inEllipse(fx, fy, cx, cy+fh*0.25, fw*0.08, fh*0.1): // neck
				c, noise = color.RGBA{R: 210, G: 168, B: 140, A: 255}, 12
			}
			n := rng.IntN(2*noise+1) - noise
			img.SetRGBA(x, y, color.RGBA{R: clamp(int(c.R) + n), G: clamp(int(c.G) + n), B: clamp(int(c.B) + n), A: 255})
		}
	}
	return img
}

func clamp(v int) uint8 {
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return uint8(v)
}
