package cvc

import (
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// Parse parses one CV certificate (TR-03110-3 C.1): exactly one 7F21
// element holding the body 7F4E and the signature 5F37, nothing after it.
// The body's data objects must come in the order of TR-03110-3 Table C.1;
// a data object this profile does not define is refused with
// ErrUnknownCritical, since a verifier cannot know what it would restrict.
// Parse does not verify anything cryptographic; see CheckSignatureFrom and
// Authorize.
func Parse(b []byte) (*Certificate, error) {
	s := cryptobyte.String(b)
	outer, err := readExpected(&s, tagCVCertificate)
	if err != nil {
		return nil, fmt.Errorf("cvc: %w", err)
	}
	if !s.Empty() {
		return nil, fmt.Errorf("cvc: %w: %d bytes after the certificate", ErrMalformed, len(s))
	}
	c := &Certificate{Raw: outer.raw}
	in := cryptobyte.String(outer.value)
	body, err := readExpected(&in, tagBody)
	if err != nil {
		return nil, fmt.Errorf("cvc: %w", err)
	}
	c.Body = body.raw
	sig, err := readExpected(&in, tagSignature)
	if err != nil {
		return nil, fmt.Errorf("cvc: %w", err)
	}
	if len(sig.value) == 0 {
		return nil, fmt.Errorf("cvc: %w: empty signature", ErrMalformed)
	}
	c.Signature = sig.value
	if !in.Empty() {
		e, err := readElement(&in)
		if err != nil {
			return nil, fmt.Errorf("cvc: after the signature: %w", err)
		}
		return nil, fmt.Errorf("cvc: %w: data object %s after the signature", ErrUnknownCritical, e.tag)
	}
	if err := c.parseBody(body.value); err != nil {
		return nil, fmt.Errorf("cvc: %w", err)
	}
	return c, nil
}

// parseBody reads the body's data objects in their fixed order.
func (c *Certificate) parseBody(v []byte) error {
	s := cryptobyte.String(v)

	e, err := readExpected(&s, tagProfileID)
	if err != nil {
		return err
	}
	if len(e.value) != 1 {
		return fmt.Errorf("%w: profile identifier of %d bytes", ErrMalformed, len(e.value))
	}
	if c.ProfileID = int(e.value[0]); c.ProfileID != ProfileV1 {
		// D.2.2.1: only version 1 is defined; another profile may mean
		// another body layout.
		return fmt.Errorf("%w: certificate profile identifier %d", ErrUnknownCritical, c.ProfileID)
	}

	if e, err = readExpected(&s, tagCAR); err != nil {
		return err
	}
	if c.CAR, err = parseReference(e.value); err != nil {
		return fmt.Errorf("CAR: %w", err)
	}

	if e, err = readExpected(&s, tagPublicKey); err != nil {
		return err
	}
	if c.PublicKey, err = parsePublicKey(e); err != nil {
		return err
	}

	if e, err = readExpected(&s, tagCHR); err != nil {
		return err
	}
	if c.CHR, err = parseReference(e.value); err != nil {
		return fmt.Errorf("CHR: %w", err)
	}

	if e, err = readExpected(&s, tagCHAT); err != nil {
		return err
	}
	if err := c.parseCHAT(e.value); err != nil {
		return err
	}

	if e, err = readExpected(&s, tagEffective); err != nil {
		return err
	}
	if c.Effective, err = parseDate(e.value); err != nil {
		return fmt.Errorf("effective date: %w", err)
	}
	if e, err = readExpected(&s, tagExpiration); err != nil {
		return err
	}
	if c.Expiration, err = parseDate(e.value); err != nil {
		return fmt.Errorf("expiration date: %w", err)
	}
	if c.Expiration.Before(c.Effective) {
		return fmt.Errorf("%w: expires %s before it takes effect %s", ErrMalformed,
			c.Expiration.Format(time.DateOnly), c.Effective.Format(time.DateOnly))
	}

	if s.Empty() {
		return nil
	}
	if e, err = readElement(&s); err != nil {
		return err
	}
	if e.tag != tagExtensions {
		return fmt.Errorf("%w: data object %s in the body", ErrUnknownCritical, e.tag)
	}
	if err := c.parseExtensions(e.value); err != nil {
		return err
	}
	if !s.Empty() {
		e, err := readElement(&s)
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: data object %s after the extensions", ErrUnknownCritical, e.tag)
	}
	return nil
}

// maxReference is the longest CAR/CHR: country code 2, holder mnemonic up
// to 9, sequence number 5 (TR-03110-3 A.6.1 / D.2.2.2); 7 the shortest.
const (
	minReference = 7
	maxReference = 16
)

// parseReference checks a CAR or CHR: ISO/IEC 8859-1 characters, of which
// only printable ASCII is accepted (every real reference uses it).
func parseReference(v []byte) (string, error) {
	if len(v) < minReference || len(v) > maxReference {
		return "", fmt.Errorf("%w: reference of %d characters", ErrMalformed, len(v))
	}
	for _, ch := range v {
		if ch < 0x20 || ch > 0x7E {
			return "", fmt.Errorf("%w: reference %X is not printable", ErrMalformed, v)
		}
	}
	return string(v), nil
}

// parseCHAT reads the certificate holder authorization template
// (TR-03110-3 C.1.5): the terminal type OID and the discretionary data
// whose first byte's top two bits are the role (C.4). For id-IS the low six
// bits are the access rights (C.4.1).
func (c *Certificate) parseCHAT(v []byte) error {
	s := cryptobyte.String(v)
	oidElem, err := readExpected(&s, tagOID)
	if err != nil {
		return fmt.Errorf("CHAT: %w", err)
	}
	raw := cryptobyte.String(oidElem.raw)
	if !raw.ReadASN1ObjectIdentifier(&c.TerminalType) {
		return fmt.Errorf("CHAT: %w: bad OID %X", ErrMalformed, oidElem.value)
	}
	d, err := readExpected(&s, tagDiscData)
	if err != nil {
		return fmt.Errorf("CHAT: %w", err)
	}
	if len(d.value) == 0 {
		return fmt.Errorf("CHAT: %w: empty discretionary data", ErrMalformed)
	}
	if !s.Empty() {
		return fmt.Errorf("CHAT: %w: data after the discretionary data", ErrMalformed)
	}
	c.CHATData = d.value
	c.Role = Role(d.value[0] >> 6)
	if c.TerminalType.Equal(OIDInspectionSystem()) {
		if len(d.value) != 1 {
			return fmt.Errorf("CHAT: %w: id-IS discretionary data of %d bytes", ErrMalformed, len(d.value))
		}
		c.Rights = Rights(d.value[0]) & rightsMask
	}
	return nil
}

// parseExtensions reads the certificate extensions (TR-03110-3 C.3):
// discretionary data templates 73, each opening with its OID.
func (c *Certificate) parseExtensions(v []byte) error {
	s := cryptobyte.String(v)
	for !s.Empty() {
		e, err := readExpected(&s, tagDiscretionary)
		if err != nil {
			return fmt.Errorf("extensions: %w", err)
		}
		in := cryptobyte.String(e.value)
		oidElem, err := readExpected(&in, tagOID)
		if err != nil {
			return fmt.Errorf("extension: %w", err)
		}
		var ext Extension
		raw := cryptobyte.String(oidElem.raw)
		if !raw.ReadASN1ObjectIdentifier(&ext.OID) {
			return fmt.Errorf("extension: %w: bad OID %X", ErrMalformed, oidElem.value)
		}
		for !in.Empty() {
			if _, err := readElement(&in); err != nil {
				return fmt.Errorf("extension %v: %w", ext.OID, err)
			}
		}
		ext.Raw = e.raw
		c.Extensions = append(c.Extensions, ext)
	}
	return nil
}

// parseDate reads a date of six unpacked BCD digits YYMMDD, one digit per
// byte (TR-03110-3 D.2.1.3), in the years 2000-2099.
func parseDate(v []byte) (time.Time, error) {
	if len(v) != 6 {
		return time.Time{}, fmt.Errorf("%w: date of %d bytes", ErrMalformed, len(v))
	}
	for _, d := range v {
		if d > 9 {
			return time.Time{}, fmt.Errorf("%w: date %X has a non-digit", ErrMalformed, v)
		}
	}
	y := 2000 + int(v[0])*10 + int(v[1])
	m := int(v[2])*10 + int(v[3])
	d := int(v[4])*10 + int(v[5])
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if m < 1 || m > 12 || d < 1 || t.Day() != d {
		return time.Time{}, fmt.Errorf("%w: no such date %X", ErrMalformed, v)
	}
	return t, nil
}

// encodeDate is the inverse of parseDate.
func encodeDate(t time.Time) ([]byte, error) {
	t = t.UTC()
	if t.Year() < 2000 || t.Year() > 2099 {
		return nil, fmt.Errorf("%w: year %d outside 2000-2099", ErrMalformed, t.Year())
	}
	y, m, d := t.Year()-2000, int(t.Month()), t.Day()
	return []byte{byte(y / 10), byte(y % 10), byte(m / 10), byte(m % 10), byte(d / 10), byte(d % 10)}, nil
}
