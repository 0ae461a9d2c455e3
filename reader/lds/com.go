package lds

import (
	"fmt"

	"borderid/reader/mrz"
)

// LDS tags inside the files (9303-10 §4.6, §4.7).
const (
	TagLDSVersion     Tag = 0x5F01 // EF.COM: LDS version "aabb"
	TagUnicodeVersion Tag = 0x5F36 // EF.COM: Unicode version "aabbcc"
	TagTagList        Tag = 0x5C   // EF.COM, DG11, DG12: list of tags present
	TagMRZ            Tag = 0x5F1F // DG1: the MRZ
)

// COM is EF.COM (9303-10 §4.6.1): the LDS and Unicode versions and the
// list of data groups present.
type COM struct {
	LDSVersion     string // "0107" for LDS 1.7
	UnicodeVersion string // "040000" for Unicode 4.0.0
	Tags           []Tag  // the tag list as recorded
	Files          []File // the data groups the tags name
	Quirks         []string
	Raw            []byte
}

// Quirks recorded by the parsers. Each is a stable snake_case code for the
// report's "quirks".
const (
	QuirkUnknownTagInCOM     = "com_unknown_tag"           // EF.COM lists a tag that is no data group
	QuirkImageFormatMismatch = "dg2_image_format_mismatch" // the face record names another format than the image is
	QuirkImageSizeMismatch   = "dg2_image_size_mismatch"   // the face record gives another size than the image has
	QuirkImageUnrecognised   = "dg2_image_unrecognised"    // the image is neither JPEG nor JPEG 2000
	QuirkFaceRecordLength    = "dg2_record_length"         // a 19794-5 length field disagrees with the data
	QuirkCVCAFFPadding       = "cvca_ff_padding"           // EF.CVCA padded with FF instead of 00
	QuirkATRInfoPadding      = "atrinfo_padding"           // EF.ATR/INFO has padding after its data objects
)

func digits(b []byte, n int) bool {
	if len(b) != n {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ParseCOM parses EF.COM. Tags in the list that name no data group are
// kept in Tags and recorded as a quirk.
func ParseCOM(b []byte) (*COM, error) {
	outer, err := ParseSingle(b, FileCOM.Tag())
	if err != nil {
		return nil, fmt.Errorf("EF.COM: %w", err)
	}
	elems, err := ParseElements(outer.Value)
	if err != nil {
		return nil, fmt.Errorf("EF.COM: %w", err)
	}
	c := &COM{Raw: outer.Raw}
	lv, ok1 := Find(elems, TagLDSVersion)
	uv, ok2 := Find(elems, TagUnicodeVersion)
	tl, ok3 := Find(elems, TagTagList)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("EF.COM: %w: needs 5F01, 5F36 and 5C", ErrTLV)
	}
	if !digits(lv.Value, 4) || !digits(uv.Value, 6) {
		return nil, fmt.Errorf("EF.COM: %w: versions %q, %q are not 4 and 6 digits", ErrTLV, lv.Value, uv.Value)
	}
	c.LDSVersion, c.UnicodeVersion = string(lv.Value), string(uv.Value)
	for _, t := range tl.Value {
		c.Tags = append(c.Tags, Tag(t))
		if f, ok := FileByTag(Tag(t)); ok && f.IsDataGroup() {
			c.Files = append(c.Files, f)
		} else if !contains(c.Quirks, QuirkUnknownTagInCOM) {
			c.Quirks = append(c.Quirks, QuirkUnknownTagInCOM)
		}
	}
	return c, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// EncodeCOM builds EF.COM for the given versions ("0107", "040000") and
// data groups.
func EncodeCOM(ldsVersion, unicodeVersion string, files []File) ([]byte, error) {
	if !digits([]byte(ldsVersion), 4) || !digits([]byte(unicodeVersion), 6) {
		return nil, fmt.Errorf("EF.COM: versions %q, %q must be 4 and 6 digits", ldsVersion, unicodeVersion)
	}
	tags := make([]byte, 0, len(files))
	for _, f := range files {
		if !f.IsDataGroup() {
			return nil, fmt.Errorf("EF.COM: %v is not a data group", f)
		}
		tags = append(tags, byte(f.Tag()))
	}
	var w tlvBuilder
	w.add(TagLDSVersion, []byte(ldsVersion))
	w.add(TagUnicodeVersion, []byte(unicodeVersion))
	w.add(TagTagList, tags)
	if w.err != nil {
		return nil, w.err
	}
	return AppendElement(nil, FileCOM.Tag(), w.b)
}

// DG1 is data group 1 (9303-10 §4.7.1): the MRZ.
type DG1 struct {
	MRZ *mrz.MRZ
	Raw []byte
}

// ParseDG1 parses DG1. The MRZ inside is 88 (TD3, MRV-A), 72 (TD2, MRV-B)
// or 90 (TD1) characters without separators; its check digits are not
// enforced here (DG1.MRZ.Verify reports them).
func ParseDG1(b []byte) (*DG1, error) {
	outer, err := ParseSingle(b, FileDG1.Tag())
	if err != nil {
		return nil, fmt.Errorf("DG1: %w", err)
	}
	s, err := ParseSingle(outer.Value, TagMRZ)
	if err != nil {
		return nil, fmt.Errorf("DG1: %w", err)
	}
	switch len(s.Value) {
	case 72, 88, 90:
	default:
		return nil, fmt.Errorf("DG1: MRZ of %d characters: %w", len(s.Value), mrz.ErrFormat)
	}
	m, err := mrz.Parse(string(s.Value))
	if err != nil {
		return nil, fmt.Errorf("DG1: %w", err)
	}
	return &DG1{MRZ: m, Raw: outer.Raw}, nil
}

// EncodeDG1 builds DG1 from an MRZ given as mrz.Parse accepts it (lines or
// concatenated). The MRZ's shape is checked; its check digits are not, so
// a test chip can carry a wrong one.
func EncodeDG1(mrzText string) ([]byte, error) {
	m, err := mrz.Parse(mrzText)
	if err != nil {
		return nil, fmt.Errorf("DG1: %w", err)
	}
	inner, err := AppendElement(nil, TagMRZ, []byte(m.Raw))
	if err != nil {
		return nil, err
	}
	return AppendElement(nil, FileDG1.Tag(), inner)
}
