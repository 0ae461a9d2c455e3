package specimen

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"time"

	"borderid/internal/cvc"
	"borderid/internal/ec"
	"borderid/reader/lds"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Extended Access Control data of the specimen state Utopia (CV
// certificate references use the two-letter code UT, CONTRACTS.md): a
// Terminal Authentication chain CVCA -> DV -> IS built with internal/cvc
// (BSI TR-03110-3 App. C), EF.CVCA naming the CVCA the chip trusts, and
// DG3 with synthetic ISO/IEC 19794-4 finger images (DG4 optional, an
// opaque iris-like record) that a chip serves only after Terminal
// Authentication (ICAO 9303-11 §7.1).

// EACOptions asks for EAC data. The zero value: brainpoolP256r1 with
// id-TA-ECDSA-SHA-256, no link certificate, CVCA and DV granting DG3 and
// DG4, the IS DG3 only, two fingers, no DG4.
type EACOptions struct {
	// Curve of the CVCA's domain (DV and IS keys inherit it); default
	// brainpoolP256r1. Algorithm: id-TA-ECDSA with the hash of the
	// curve's size (SHA-256 up to 256 bits, SHA-384, SHA-512 above).
	Curve *ec.Curve
	// Link adds a second CVCA (UTCVCA00002) with a link certificate
	// signed by the first; the DV is signed by the second while the chip
	// still trusts the first (EF.CVCA names UTCVCA00001), so a terminal
	// must send the link certificate.
	Link bool
	// DVRights and ISRights are the rights of the DV and IS
	// certificates (cvc.ReadDG3, cvc.ReadDG4). Zero means DG3|DG4 for
	// the DV and DG3 for the IS; NoRights gives none.
	DVRights, ISRights cvc.Rights
	// ISExpired makes the IS certificate expire the day before Now.
	ISExpired bool
	// Fingers is the number of finger images in DG3 (default 2, at most
	// 10).
	Fingers int
	// DG4 adds a DG4 with one opaque iris record.
	DG4 bool
}

// NoRights asks EACOptions for a certificate without any right.
const NoRights cvc.Rights = 0x80

// EAC is what GenerateEAC makes: the chip's side (EF.CVCA, DG3, DG4 and
// the trust point's certificate) and the terminal's (certificates and
// the IS key as the files of a `--terminal` folder).
type EAC struct {
	// CVCA is the self-signed certificate the chip trusts (the chip
	// identity's cvca.cvcert); Link the link certificate to the second
	// CVCA (nil without Options.Link), DV and IS the rest of the chain.
	CVCA, Link, DV, IS []byte
	// ISKey is the inspection system's private key; ISKeyPKCS8 the same
	// as PKCS#8 DER naming its curve (the folder's is.pkcs8).
	ISKey      *ec.PrivateKey
	ISKeyPKCS8 []byte
	// CVCAKey and DVKey sign the chain (tests build other chains with
	// them).
	CVCAKey, DVKey *ec.PrivateKey
	// NewCVCA is the second CVCA's self-signed certificate (same CHR as
	// Link, UTCVCA00002) and NewCVCAKey its key; nil without
	// Options.Link. It is not among TerminalFiles: a folder holding both
	// it and the link certificate is a case tests make themselves.
	NewCVCA    []byte
	NewCVCAKey *ec.PrivateKey
	// EFCVCA is EF.CVCA (TR-03110-3 A.6.2.2) naming the trusted CVCA.
	EFCVCA []byte
	// DG3 and DG4 (nil without Options.DG4).
	DG3, DG4 []byte
	// TerminalFiles are the files of a terminal folder: one
	// <CHR>.cvcert per certificate (with a link, the link certificate,
	// not the second CVCA's self-signed one: see NewCVCA) and is.pkcs8.
	TerminalFiles map[string][]byte
}

// GenerateEAC builds EAC data valid at now: the CVCA for three years,
// the DV for three months, the IS for one month (from now's day).
func GenerateEAC(r io.Reader, now time.Time, o EACOptions) (*EAC, error) {
	c := o.Curve
	if c == nil {
		c = ec.BrainpoolP256r1()
	}
	alg := cvc.ECDSASHA256
	switch {
	case c.BitSize() > 384:
		alg = cvc.ECDSASHA512
	case c.BitSize() > 256:
		alg = cvc.ECDSASHA384
	}
	dvRights, isRights := o.DVRights, o.ISRights
	if dvRights == 0 {
		dvRights = cvc.ReadDG3 | cvc.ReadDG4
	}
	if isRights == 0 {
		isRights = cvc.ReadDG3
	}
	dvRights &^= NoRights
	isRights &^= NoRights
	fingers := o.Fingers
	if fingers == 0 {
		fingers = 2
	}
	if fingers < 0 || fingers > 10 {
		return nil, fmt.Errorf("specimen: %d fingers (1 to 10)", fingers)
	}
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	out := &EAC{TerminalFiles: map[string][]byte{}}
	key := func() (*ec.PrivateKey, error) { return ec.GeneratePrivateKey(c, r) }
	var err error
	if out.CVCAKey, err = key(); err != nil {
		return nil, fmt.Errorf("specimen: CVCA key: %w", err)
	}
	domain := cvc.DomainOfCurve(c)
	pub := func(k *ec.PrivateKey, d *cvc.ECDomain) (*cvc.PublicKey, error) {
		return cvc.NewPublicKey(alg, k.Public(), d)
	}
	cvcaPub, err := pub(out.CVCAKey, domain)
	if err != nil {
		return nil, err
	}
	if out.CVCA, err = cvc.Create(r, cvc.Template{
		CHR: "UTCVCA00001", Role: cvc.RoleCVCA, Rights: cvc.ReadDG3 | cvc.ReadDG4,
		PublicKey: cvcaPub, Effective: day, Expiration: day.AddDate(3, 0, 0),
	}, cvc.Issuer{Key: out.CVCAKey}); err != nil {
		return nil, fmt.Errorf("specimen: CVCA: %w", err)
	}
	cvcaCert, err := cvc.Parse(out.CVCA)
	if err != nil {
		return nil, err
	}
	out.TerminalFiles["UTCVCA00001.cvcert"] = out.CVCA
	dvIssuer, dvIssuerKey := cvcaCert, out.CVCAKey
	var newCVCA cvc.Template
	if o.Link {
		k2, err := key()
		if err != nil {
			return nil, err
		}
		p2, err := pub(k2, domain)
		if err != nil {
			return nil, err
		}
		t2 := cvc.Template{CHR: "UTCVCA00002", Role: cvc.RoleCVCA, Rights: cvc.ReadDG3 | cvc.ReadDG4,
			PublicKey: p2, Effective: day, Expiration: day.AddDate(3, 0, 0)}
		if out.Link, err = cvc.Create(r, t2, cvc.Issuer{Cert: cvcaCert, Key: out.CVCAKey}); err != nil {
			return nil, fmt.Errorf("specimen: CVCA link: %w", err)
		}
		// The terminal holds the link certificate only: the second
		// CVCA's self-signed certificate has the same CHR.
		out.TerminalFiles["UTCVCA00002-link.cvcert"] = out.Link
		if dvIssuer, err = cvc.Parse(out.Link); err != nil {
			return nil, err
		}
		dvIssuerKey = k2
		out.NewCVCAKey = k2
		newCVCA = t2
	}
	if out.DVKey, err = key(); err != nil {
		return nil, err
	}
	dvPub, err := pub(out.DVKey, nil)
	if err != nil {
		return nil, err
	}
	if out.DV, err = cvc.Create(r, cvc.Template{
		CHR: "UTDVCA00001", Role: cvc.RoleDVDomestic, Rights: dvRights,
		PublicKey: dvPub, Effective: day, Expiration: day.AddDate(0, 3, 0),
	}, cvc.Issuer{Cert: dvIssuer, Key: dvIssuerKey}); err != nil {
		return nil, fmt.Errorf("specimen: DV: %w", err)
	}
	dvCert, err := cvc.Parse(out.DV)
	if err != nil {
		return nil, err
	}
	out.TerminalFiles["UTDVCA00001.cvcert"] = out.DV
	if out.ISKey, err = key(); err != nil {
		return nil, err
	}
	isPub, err := pub(out.ISKey, nil)
	if err != nil {
		return nil, err
	}
	isFrom, isTo := day, day.AddDate(0, 1, 0)
	if o.ISExpired {
		isFrom, isTo = day.AddDate(0, -1, 0), day.AddDate(0, 0, -1)
	}
	if out.IS, err = cvc.Create(r, cvc.Template{
		CHR: "UTIS00000001", Role: cvc.RoleIS, Rights: isRights,
		PublicKey: isPub, Effective: isFrom, Expiration: isTo,
	}, cvc.Issuer{Cert: dvCert, Key: out.DVKey, Domain: dvIssuer.PublicKey.Domain}); err != nil {
		return nil, fmt.Errorf("specimen: IS: %w", err)
	}
	out.TerminalFiles["UTIS00000001.cvcert"] = out.IS
	if out.ISKeyPKCS8, err = ecPKCS8(out.ISKey); err != nil {
		return nil, err
	}
	out.TerminalFiles["is.pkcs8"] = out.ISKeyPKCS8
	if out.EFCVCA, err = lds.EncodeCVCA("UTCVCA00001"); err != nil {
		return nil, fmt.Errorf("specimen: EF.CVCA: %w", err)
	}
	var imgs []lds.FingerImage
	for i := 0; i < fingers; i++ {
		img, err := fingerJPEG(r)
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, lds.FingerImage{
			Position: uint8(i + 1), Quality: 80, Compression: lds.FingerJPEG,
			Width: fingerW, Height: fingerH, Resolution: 500, Data: img,
		})
	}
	if out.DG3, err = lds.EncodeDG3(imgs); err != nil {
		return nil, fmt.Errorf("specimen: %w", err)
	}
	if o.DG4 {
		if out.DG4, err = irisDG4(r); err != nil {
			return nil, err
		}
	}
	// Last, so that the randomness drawn for everything above is what it
	// was before NewCVCA existed.
	if out.NewCVCAKey != nil {
		if out.NewCVCA, err = cvc.Create(r, newCVCA, cvc.Issuer{Key: out.NewCVCAKey}); err != nil {
			return nil, fmt.Errorf("specimen: second CVCA: %w", err)
		}
	}
	return out, nil
}

// ecPKCS8 encodes an EC private key as PKCS#8 (RFC 5208) holding an SEC 1
// ECPrivateKey (RFC 5915) with the curve named by OID and the public key.
func ecPKCS8(k *ec.PrivateKey) ([]byte, error) {
	oid, ok := curveOID(k.Curve().ID())
	if !ok {
		return nil, fmt.Errorf("specimen: no OID for %v", k.Curve())
	}
	pub := k.PublicKey().Bytes()
	return buildDER(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(0)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidECPublicKey)
				b.AddASN1ObjectIdentifier(oid)
			})
			b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1Int64(1)
					b.AddASN1OctetString(k.Bytes()) // fixed length, SEC 1 §C.4
					b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						addBitString(b, pub)
					})
				})
			})
		})
	})
}

// The synthetic finger image: 8-bit grey at 500 ppi, the size of a plain
// impression (about 13 x 18 mm).
const (
	fingerW = 256
	fingerH = 360
)

// fingerJPEG draws concentric ridges around a random core with a random
// ridge period and encodes them as a greyscale JPEG. It is no
// fingerprint anyone has, only bytes with the right shape.
func fingerJPEG(r io.Reader) ([]byte, error) {
	var seed [4]byte
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, fmt.Errorf("specimen: finger image: %w", err)
	}
	cx := float64(fingerW/3 + int(seed[0])%(fingerW/3))
	cy := float64(fingerH/3 + int(seed[1])%(fingerH/3))
	period := 8 + float64(seed[2]%5)
	tilt := float64(seed[3]) / 255 * math.Pi
	img := image.NewGray(image.Rect(0, 0, fingerW, fingerH))
	for y := 0; y < fingerH; y++ {
		for x := 0; x < fingerW; x++ {
			dx, dy := float64(x)-cx, (float64(y)-cy)*0.8
			d := math.Hypot(dx, dy) + 6*math.Sin(math.Atan2(dy, dx)*2+tilt)
			v := 128 + 110*math.Sin(2*math.Pi*d/period)
			// An elliptic contact area; white outside.
			ex, ey := (float64(x)-fingerW/2)/(fingerW/2), (float64(y)-fingerH/2)/(fingerH/2)
			if ex*ex+ey*ey > 1 {
				v = 255
			}
			img.SetGray(x, y, color.Gray{Y: uint8(v)})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75}); err != nil {
		return nil, fmt.Errorf("specimen: finger image: %w", err)
	}
	return buf.Bytes(), nil
}

// irisDG4 builds a DG4 with one template whose data block is random
// bytes under an "IIR\0" magic: enough to exercise reading and access
// control, not an ISO/IEC 19794-6 record anyone could match.
func irisDG4(r io.Reader) ([]byte, error) {
	data := make([]byte, 512)
	copy(data, "IIR\x00010\x00")
	if _, err := io.ReadFull(r, data[8:]); err != nil {
		return nil, fmt.Errorf("specimen: iris record: %w", err)
	}
	bht, err := lds.AppendElement(nil, 0x81, []byte{0x10}) // biometric type: iris
	if err != nil {
		return nil, err
	}
	bht, _ = lds.AppendElement(nil, lds.TagBHT, bht)
	bit := append([]byte(nil), bht...)
	if bit, err = lds.AppendElement(bit, lds.TagBDB, data); err != nil {
		return nil, err
	}
	group, _ := lds.AppendElement(nil, lds.TagInstanceCount, []byte{1})
	if group, err = lds.AppendElement(group, lds.TagBIT, bit); err != nil {
		return nil, err
	}
	inner, err := lds.AppendElement(nil, lds.TagBIGT, group)
	if err != nil {
		return nil, err
	}
	return lds.AppendElement(nil, lds.FileDG4.Tag(), inner)
}
