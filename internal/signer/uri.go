package signer

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrURI: the text is not a PKCS#11 URI of RFC 7512 §2.3, or breaks one
// of its rules (an attribute given twice, a malformed percent-encoding, a
// character outside the component's set, a standard attribute in the
// wrong component).
var ErrURI = errors.New("signer: invalid PKCS#11 URI")

// maxURILen bounds the input: real URIs are a few hundred bytes.
const maxURILen = 4096

// ObjectType is the `type` path attribute (RFC 7512 §2.3): the PKCS#11
// object class the URI names.
type ObjectType uint8

// Object types; TypeAny when the URI has no type attribute.
const (
	TypeAny ObjectType = iota
	TypePublic
	TypePrivate
	TypeCert
	TypeSecretKey
	TypeData
)

var objectTypeNames = [...]string{
	TypeAny:       "",
	TypePublic:    "public",
	TypePrivate:   "private",
	TypeCert:      "cert",
	TypeSecretKey: "secret-key",
	TypeData:      "data",
}

// String returns the attribute value ("private"...), "any" for TypeAny.
func (t ObjectType) String() string {
	if t == TypeAny {
		return "any"
	}
	if int(t) < len(objectTypeNames) {
		return objectTypeNames[t]
	}
	return "ObjectType(" + strconv.Itoa(int(t)) + ")"
}

// URI is a parsed PKCS#11 URI (RFC 7512). Values are percent-decoded; an
// attribute written with an empty value ("serial=") reads as absent,
// which is what an empty value means for matching (§3.3 compares only
// the attributes that carry something).
type URI struct {
	// Token attributes (CK_TOKEN_INFO): label, manufacturerID,
	// serialNumber, model.
	Token, Manufacturer, Serial, Model string
	// Library attributes (CK_INFO); LibraryVersion as written:
	// "major" or "major.minor".
	LibraryManufacturer, LibraryDescription, LibraryVersion string
	// Slot attributes (CK_SLOT_INFO, CK_SLOT_ID). HasSlotID tells a
	// slot-id of 0 from none.
	SlotDescription, SlotManufacturer string
	SlotID                            uint64
	HasSlotID                         bool
	// Object attributes: CKA_LABEL, CKA_ID (raw bytes, nil when
	// absent) and the object class.
	Object string
	ID     []byte
	Type   ObjectType
	// Query attributes (§2.4). ModulePath is absolute. PINValue is the
	// PIN written in the URI itself: anyone who can read the file has
	// it, so a PIN passed in from elsewhere (an environment variable
	// set at start) is the better choice and wins over it.
	ModulePath, ModuleName, PINSource, PINValue string
	// VendorPath and VendorQuery hold the vendor-specific attributes
	// (§2.3 pk11-v-pattr, pk11-v-qattr: any other name of letters,
	// digits, "-" and "_") of each component, name to decoded value.
	VendorPath, VendorQuery map[string]string
}

// Character sets of RFC 7512 §2.3: RFC 3986 unreserved plus the
// reserved characters each component may carry unencoded. "&" may
// appear in path values, "/", "?" and "|" in query values; ";" only
// separates path attributes and "&" query attributes.
const (
	unreservedChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
	resAvailChars   = ":[]@!$'()*+,="
	pathChars       = unreservedChars + resAvailChars + "&"
	queryChars      = unreservedChars + resAvailChars + "/?|"
)

type component uint8

const (
	pathComponent component = iota
	queryComponent
)

func (c component) String() string {
	if c == pathComponent {
		return "path"
	}
	return "query"
}

// Attribute kinds: how a value is checked after decoding.
type attrKind uint8

const (
	kindText    attrKind = iota // UTF-8 without NUL (CK_UTF8CHAR strings)
	kindBytes                   // any bytes (CKA_ID)
	kindType                    // one of objectTypeNames
	kindVersion                 // 1*DIGIT ["." 1*DIGIT]
	kindDigits                  // 1*DIGIT, a CK_SLOT_ID
	kindPath                    // an absolute file system path
)

type attrSpec struct {
	comp component
	kind attrKind
	set  func(u *URI, raw string, v []byte)
}

// attrSpecs returns the standard attributes of RFC 7512 §2.3 and §2.4
// (a fresh table: no package-level mutable state).
func attrSpecs() map[string]attrSpec {
	text := func(f func(u *URI) *string) func(*URI, string, []byte) {
		return func(u *URI, _ string, v []byte) { *f(u) = string(v) }
	}
	return map[string]attrSpec{
		"token":                {pathComponent, kindText, text(func(u *URI) *string { return &u.Token })},
		"manufacturer":         {pathComponent, kindText, text(func(u *URI) *string { return &u.Manufacturer })},
		"serial":               {pathComponent, kindText, text(func(u *URI) *string { return &u.Serial })},
		"model":                {pathComponent, kindText, text(func(u *URI) *string { return &u.Model })},
		"library-manufacturer": {pathComponent, kindText, text(func(u *URI) *string { return &u.LibraryManufacturer })},
		"library-description":  {pathComponent, kindText, text(func(u *URI) *string { return &u.LibraryDescription })},
		"library-version":      {pathComponent, kindVersion, text(func(u *URI) *string { return &u.LibraryVersion })},
		"slot-description":     {pathComponent, kindText, text(func(u *URI) *string { return &u.SlotDescription })},
		"slot-manufacturer":    {pathComponent, kindText, text(func(u *URI) *string { return &u.SlotManufacturer })},
		"slot-id": {pathComponent, kindDigits, func(u *URI, _ string, v []byte) {
			u.SlotID, _ = strconv.ParseUint(string(v), 10, 64) // checked by kindDigits
			u.HasSlotID = true
		}},
		"object": {pathComponent, kindText, text(func(u *URI) *string { return &u.Object })},
		"id": {pathComponent, kindBytes, func(u *URI, _ string, v []byte) {
			if len(v) > 0 {
				u.ID = v
			}
		}},
		"type": {pathComponent, kindType, func(u *URI, _ string, v []byte) {
			for i, n := range objectTypeNames {
				if i != int(TypeAny) && n == string(v) {
					u.Type = ObjectType(i)
				}
			}
		}},
		"pin-source":  {queryComponent, kindText, text(func(u *URI) *string { return &u.PINSource })},
		"pin-value":   {queryComponent, kindText, text(func(u *URI) *string { return &u.PINValue })},
		"module-name": {queryComponent, kindText, text(func(u *URI) *string { return &u.ModuleName })},
		"module-path": {queryComponent, kindPath, text(func(u *URI) *string { return &u.ModulePath })},
	}
}

// ParseURI parses a PKCS#11 URI (RFC 7512 §2.3):
//
//	pkcs11:token=borderid;object=is;id=%01%02;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so
//
// It is strict: the scheme (case-insensitive) then path attributes split
// by ";" and, after "?", query attributes split by "&"; each attribute
// name=value once at most; only the characters §2.3 allows in each
// component, every other byte percent-encoded as "%" and two hex digits;
// text values valid UTF-8 without NUL; type one of public, private,
// cert, secret-key, data; slot-id and library-version digits;
// module-path absolute; pin-source and pin-value not both. Other
// attribute names are vendor-specific (§2.3) and kept in VendorPath or
// VendorQuery; Open refuses vendor path attributes, since it cannot
// match them, so a misspelt "objet=" never silently widens a key
// search.
func ParseURI(s string) (*URI, error) {
	if len(s) > maxURILen {
		return nil, fmt.Errorf("%w: %d bytes (at most %d)", ErrURI, len(s), maxURILen)
	}
	const scheme = "pkcs11:"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return nil, fmt.Errorf("%w: no %q scheme", ErrURI, scheme)
	}
	rest := s[len(scheme):]
	// The path cannot hold "?", so the first one starts the query.
	path, query, hasQuery := strings.Cut(rest, "?")
	u := &URI{}
	specs := attrSpecs()
	seen := make(map[string]bool)
	if path != "" {
		for _, a := range strings.Split(path, ";") {
			if err := u.parseAttr(a, pathComponent, specs, seen); err != nil {
				return nil, err
			}
		}
	}
	if hasQuery && query != "" {
		for _, a := range strings.Split(query, "&") {
			if err := u.parseAttr(a, queryComponent, specs, seen); err != nil {
				return nil, err
			}
		}
	}
	if u.PINSource != "" && u.PINValue != "" {
		return nil, fmt.Errorf("%w: both pin-source and pin-value", ErrURI)
	}
	return u, nil
}

// parseAttr reads one attribute. Its errors name the attribute but never
// quote its value: pin-value is a PIN, and these errors reach stderr and
// logs (so do the other values, which need not be secret, for one rule
// that cannot be got wrong).
func (u *URI) parseAttr(a string, comp component, specs map[string]attrSpec, seen map[string]bool) error {
	name, raw, ok := strings.Cut(a, "=")
	if !ok {
		// Not quoted: without "=" there is no telling a name from a
		// value, and a value may be a PIN.
		return fmt.Errorf("%w: a %s attribute without \"=\"", ErrURI, comp)
	}
	if name == "" {
		return fmt.Errorf("%w: empty %s attribute name", ErrURI, comp)
	}
	for i := 0; i < len(name); i++ {
		// pk11-v-attr-nm-char; the standard names are made of it too.
		if c := name[i]; !isAlnum(c) && c != '-' && c != '_' {
			return fmt.Errorf("%w: %s attribute name %q", ErrURI, comp, truncate(name))
		}
	}
	if seen[name] {
		// §2.3: an attribute may appear at most once in a URI.
		return fmt.Errorf("%w: attribute %s given twice", ErrURI, name)
	}
	seen[name] = true
	chars := pathChars
	if comp == queryComponent {
		chars = queryChars
	}
	v, err := pctDecode(raw, chars)
	if err != nil {
		return fmt.Errorf("%w: attribute %s: %v", ErrURI, name, err)
	}
	spec, known := specs[name]
	if !known {
		// A vendor-specific attribute (§2.3): kept for the caller.
		if !utf8.Valid(v) {
			return fmt.Errorf("%w: attribute %s: not UTF-8", ErrURI, name)
		}
		if len(v) == 0 {
			return nil // empty reads as absent, as for the standard ones
		}
		m := &u.VendorPath
		if comp == queryComponent {
			m = &u.VendorQuery
		}
		if *m == nil {
			*m = make(map[string]string)
		}
		(*m)[name] = string(v)
		return nil
	}
	if spec.comp != comp {
		return fmt.Errorf("%w: %s is a %s attribute, found in the %s", ErrURI, name, spec.comp, comp)
	}
	switch spec.kind {
	case kindText, kindPath:
		if !utf8.Valid(v) || bytes.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("%w: attribute %s: not UTF-8 text", ErrURI, name)
		}
		if spec.kind == kindPath && len(v) > 0 && !filepath.IsAbs(string(v)) {
			return fmt.Errorf("%w: module-path is not absolute", ErrURI)
		}
	case kindType:
		known := false
		for i, n := range objectTypeNames {
			known = known || (i != int(TypeAny) && n == string(v))
		}
		if !known {
			return fmt.Errorf("%w: type is not public, private, cert, secret-key or data", ErrURI)
		}
	case kindDigits:
		if !allDigits(v) {
			return fmt.Errorf("%w: %s is not a decimal number", ErrURI, name)
		}
		if _, err := strconv.ParseUint(string(v), 10, 64); err != nil {
			return fmt.Errorf("%w: %s out of range", ErrURI, name)
		}
	case kindVersion:
		major, minor, dot := bytes.Cut(v, []byte("."))
		if !allDigits(major) || (dot && !allDigits(minor)) {
			return fmt.Errorf("%w: %s is not major[.minor]", ErrURI, name)
		}
	}
	spec.set(u, raw, v)
	return nil
}

// pctDecode decodes a value whose literal bytes must be in allowed and
// whose other bytes are "%" HEXDIG HEXDIG (RFC 3986 §2.1, either case).
// Its errors give a position, never a character: the value may be a PIN.
func pctDecode(s, allowed string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) {
				return nil, fmt.Errorf("truncated percent-encoding at byte %d", i)
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("malformed percent-encoding at byte %d", i)
			}
			out = append(out, hi<<4|lo)
			i += 2
			continue
		}
		if strings.IndexByte(allowed, c) < 0 {
			return nil, fmt.Errorf("byte %d must be percent-encoded", i)
		}
		out = append(out, c)
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// truncate keeps error messages short whatever the input.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// String encodes the URI in the attribute order of RFC 7512 §2.3,
// percent-encoding every byte outside the component's unreserved set.
// The pin-value is never written (so a URI can be logged); ParseURI of
// the result gives the same URI without it.
func (u *URI) String() string {
	var path, query []string
	add := func(dst *[]string, name, v string, chars string) {
		if v != "" {
			*dst = append(*dst, name+"="+pctEncode([]byte(v), chars))
		}
	}
	// Values are encoded with the unreserved set only: "&" and "=" stay
	// readable as separators.
	p := unreservedChars + ":@!$'()*+,"
	q := unreservedChars + ":@!$'()*+,/|"
	add(&path, "token", u.Token, p)
	add(&path, "manufacturer", u.Manufacturer, p)
	add(&path, "serial", u.Serial, p)
	add(&path, "model", u.Model, p)
	add(&path, "library-manufacturer", u.LibraryManufacturer, p)
	add(&path, "library-description", u.LibraryDescription, p)
	add(&path, "library-version", u.LibraryVersion, p)
	add(&path, "slot-description", u.SlotDescription, p)
	add(&path, "slot-manufacturer", u.SlotManufacturer, p)
	if u.HasSlotID {
		path = append(path, "slot-id="+strconv.FormatUint(u.SlotID, 10))
	}
	add(&path, "object", u.Object, p)
	if len(u.ID) > 0 {
		// CKA_ID is binary: every byte encoded, as §2.3 recommends.
		path = append(path, "id="+pctEncode(u.ID, ""))
	}
	if u.Type != TypeAny {
		path = append(path, "type="+u.Type.String())
	}
	// Vendor attributes follow the standard ones, sorted for a stable
	// string.
	vendor := func(dst *[]string, m map[string]string, chars string) {
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			add(dst, n, m[n], chars)
		}
	}
	vendor(&path, u.VendorPath, p)
	add(&query, "module-name", u.ModuleName, q)
	add(&query, "module-path", u.ModulePath, q)
	add(&query, "pin-source", u.PINSource, q)
	vendor(&query, u.VendorQuery, q)
	s := "pkcs11:" + strings.Join(path, ";")
	if len(query) > 0 {
		s += "?" + strings.Join(query, "&")
	}
	return s
}

func pctEncode(b []byte, keep string) string {
	const hexDigits = "0123456789ABCDEF"
	var sb strings.Builder
	for _, c := range b {
		if strings.IndexByte(keep, c) >= 0 {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte(hexDigits[c>>4])
		sb.WriteByte(hexDigits[c&15])
	}
	return sb.String()
}
