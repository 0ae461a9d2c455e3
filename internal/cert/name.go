package cert

import (
	"encoding/asn1"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// AttributeTypeAndValue is one attribute of a distinguished name, its value
// decoded to a string (RFC 5280 §4.1.2.4).
type AttributeTypeAndValue struct {
	Type  asn1.ObjectIdentifier
	Value string
}

// Name is an X.501 Name (RDNSequence). Raw is the DER as received: compare
// names by Raw (or by the parsed fields), never by String.
type Name struct {
	Raw []byte
	// The first value of the usual attributes (X.520). ICAO 9303-12 §7.1.1
	// requires C= in CSCA and DS names.
	Country, Organization, OrganizationalUnit, CommonName, SerialNumber string
	Locality, Province                                                  string
	// Attributes are all attributes in encoding order.
	Attributes []AttributeTypeAndValue
}

// attribute short names for String (RFC 4514 §3 plus serialNumber).
func attrShortName(oid asn1.ObjectIdentifier) string {
	if len(oid) == 4 && oid[0] == 2 && oid[1] == 5 && oid[2] == 4 {
		switch oid[3] {
		case 3:
			return "CN"
		case 5:
			return "SERIALNUMBER"
		case 6:
			return "C"
		case 7:
			return "L"
		case 8:
			return "ST"
		case 10:
			return "O"
		case 11:
			return "OU"
		}
	}
	return oid.String()
}

// String renders the name as "C=DE, O=bund, CN=csca-germany" in encoding
// order, for people and logs; ',', '+', '"', '\' and '=' in values are
// escaped.
func (n Name) String() string {
	parts := make([]string, 0, len(n.Attributes))
	esc := strings.NewReplacer(`\`, `\\`, `,`, `\,`, `+`, `\+`, `"`, `\"`, `=`, `\=`)
	for _, a := range n.Attributes {
		parts = append(parts, attrShortName(a.Type)+"="+esc.Replace(a.Value))
	}
	return strings.Join(parts, ", ")
}

// parseName reads a Name element from s.
func parseName(s *cryptobyte.String, q *quirks) (Name, error) {
	var raw, seq cryptobyte.String
	if !s.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
		return Name{}, fmt.Errorf("%w: Name", ErrMalformed)
	}
	n := Name{Raw: raw}
	seq = raw
	seq.ReadASN1(&seq, cbasn1.SEQUENCE) // cannot fail: ReadASN1Element checked it
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, cbasn1.SET) || set.Empty() {
			return Name{}, fmt.Errorf("%w: RelativeDistinguishedName", ErrMalformed)
		}
		for !set.Empty() {
			var atv cryptobyte.String
			var oid asn1.ObjectIdentifier
			var val cryptobyte.String
			var tag cbasn1.Tag
			if !set.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&oid) ||
				!atv.ReadAnyASN1(&val, &tag) || !atv.Empty() {
				return Name{}, fmt.Errorf("%w: AttributeTypeAndValue", ErrMalformed)
			}
			v, ok := decodeString(tag, val, q)
			if !ok {
				return Name{}, fmt.Errorf("%w: value of %v (tag %v)", ErrMalformed, oid, tag)
			}
			n.Attributes = append(n.Attributes, AttributeTypeAndValue{Type: oid, Value: v})
			var dst *string
			switch attrShortName(oid) {
			case "C":
				dst = &n.Country
			case "O":
				dst = &n.Organization
			case "OU":
				dst = &n.OrganizationalUnit
			case "CN":
				dst = &n.CommonName
			case "SERIALNUMBER":
				dst = &n.SerialNumber
			case "L":
				dst = &n.Locality
			case "ST":
				dst = &n.Province
			}
			if dst != nil && *dst == "" {
				*dst = v
			}
		}
	}
	return n, nil
}

// Equal reports whether n and m have the same attributes in the same
// order with the same decoded values: a PrintableString and a UTF8String
// of the same text are equal (RFC 5280 §7.1 asks at least for this; its
// full RFC 4518 case folding is not done). Grouping into multi-valued
// RDNs is not compared. Names decide nothing about trust in borderid;
// this serves display, search and statistics.
func (n Name) Equal(m Name) bool {
	if len(n.Attributes) != len(m.Attributes) {
		return false
	}
	for i, a := range n.Attributes {
		b := m.Attributes[i]
		if !a.Type.Equal(b.Type) || a.Value != b.Value {
			return false
		}
	}
	return true
}
