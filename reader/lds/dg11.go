package lds

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// DG11 and DG12 tags (9303-10 §4.7.11, §4.7.12).
const (
	TagOtherNamesTemplate Tag = 0xA0   // DG11 other names, DG12 other persons: 02 count + entries
	TagCount              Tag = 0x02   // number of entries in an A0 template
	TagFullName           Tag = 0x5F0E // DG11
	TagOtherName          Tag = 0x5F0F // DG11, inside A0
	TagPersonalNumber     Tag = 0x5F10 // DG11
	TagPlaceOfBirth       Tag = 0x5F11 // DG11
	TagTelephone          Tag = 0x5F12 // DG11
	TagProfession         Tag = 0x5F13 // DG11
	TagTitle              Tag = 0x5F14 // DG11
	TagPersonalSummary    Tag = 0x5F15 // DG11
	TagProofOfCitizenship Tag = 0x5F16 // DG11, an image
	TagOtherTDNumbers     Tag = 0x5F17 // DG11
	TagCustodyInformation Tag = 0x5F18 // DG11
	TagFullDateOfBirth    Tag = 0x5F2B // DG11, YYYYMMDD
	TagPermanentAddress   Tag = 0x5F42 // DG11
	TagIssuingAuthority   Tag = 0x5F19 // DG12
	TagOtherPerson        Tag = 0x5F1A // DG12, inside A0
	TagEndorsements       Tag = 0x5F1B // DG12
	TagTaxExit            Tag = 0x5F1C // DG12
	TagImageFront         Tag = 0x5F1D // DG12
	TagImageRear          Tag = 0x5F1E // DG12
	TagDateOfIssue        Tag = 0x5F26 // DG12, YYYYMMDD
	TagPersonalisedAt     Tag = 0x5F55 // DG12, YYYYMMDDhhmmss
	TagPersonalisationSN  Tag = 0x5F56 // DG12
)

// DG11 is data group 11, additional personal details (9303-10 §4.7.11).
// Text is kept as recorded (names with '<' separators, as the standard
// prints them); an absent element is an empty field.
type DG11 struct {
	TagList            []Tag
	FullName           string
	OtherNames         []string
	PersonalNumber     string
	FullDateOfBirth    string // YYYYMMDD
	PlaceOfBirth       string
	PermanentAddress   string
	Telephone          string
	Profession         string
	Title              string
	PersonalSummary    string
	ProofOfCitizenship []byte
	OtherTDNumbers     string
	CustodyInformation string
	Raw                []byte
}

// DG12 is data group 12, additional document details (9303-10 §4.7.12).
type DG12 struct {
	TagList             []Tag
	IssuingAuthority    string
	DateOfIssue         string // YYYYMMDD
	OtherPersons        []string
	Endorsements        string
	TaxExit             string
	ImageFront          []byte
	ImageRear           []byte
	PersonalisedAt      string // YYYYMMDDhhmmss
	PersonalisationSNum string
	Raw                 []byte
}

// maxListEntries bounds the entries of a tag list or A0 template.
const maxListEntries = 64

// parseTagList reads the 5C element: concatenated BER tags.
func parseTagList(b []byte) ([]Tag, error) {
	s := cryptobyte.String(b)
	var tags []Tag
	for !s.Empty() {
		if len(tags) == maxListEntries {
			return nil, fmt.Errorf("%w: more than %d tags in the tag list", ErrTLV, maxListEntries)
		}
		t, err := readTag(&s)
		if err != nil {
			return nil, fmt.Errorf("tag list: %w", err)
		}
		tags = append(tags, t)
	}
	return tags, nil
}

// parseTemplateList reads an A0 template: a count (02) and that many
// elements with tag entry.
func parseTemplateList(b []byte, entry Tag) ([]string, error) {
	elems, err := ParseElements(b)
	if err != nil {
		return nil, err
	}
	var out []string
	count := -1
	for _, e := range elems {
		switch e.Tag {
		case TagCount:
			v, ok := uintValue(e.Value)
			if !ok {
				return nil, fmt.Errorf("%w: count %X", ErrTLV, e.Value)
			}
			count = v
		case entry:
			out = append(out, string(e.Value))
		}
	}
	if len(out) > maxListEntries || (count >= 0 && count != len(out)) {
		return nil, fmt.Errorf("%w: template count %d, %d entries", ErrTLV, count, len(out))
	}
	return out, nil
}

// parsePersonalDetails opens the outer element and the tag list of DG11
// or DG12.
func parseDetails(b []byte, f File) (Element, []Element, []Tag, error) {
	outer, err := ParseSingle(b, f.Tag())
	if err != nil {
		return Element{}, nil, nil, fmt.Errorf("%v: %w", f, err)
	}
	elems, err := ParseElements(outer.Value)
	if err != nil {
		return Element{}, nil, nil, fmt.Errorf("%v: %w", f, err)
	}
	tl, ok := Find(elems, TagTagList)
	if !ok {
		return Element{}, nil, nil, fmt.Errorf("%v: %w: no tag list (5C)", f, ErrTLV)
	}
	tags, err := parseTagList(tl.Value)
	if err != nil {
		return Element{}, nil, nil, fmt.Errorf("%v: %w", f, err)
	}
	return outer, elems, tags, nil
}

// ParseDG11 parses DG11. Elements not named in the standard are skipped.
func ParseDG11(b []byte) (*DG11, error) {
	outer, elems, tags, err := parseDetails(b, FileDG11)
	if err != nil {
		return nil, err
	}
	d := &DG11{TagList: tags, Raw: outer.Raw}
	for _, e := range elems {
		v := string(e.Value)
		switch e.Tag {
		case TagFullName:
			d.FullName = v
		case TagOtherNamesTemplate:
			if d.OtherNames, err = parseTemplateList(e.Value, TagOtherName); err != nil {
				return nil, fmt.Errorf("DG11: other names: %w", err)
			}
		case TagOtherName: // some issuers omit the A0 template
			d.OtherNames = append(d.OtherNames, v)
		case TagPersonalNumber:
			d.PersonalNumber = v
		case TagFullDateOfBirth:
			d.FullDateOfBirth = v
		case TagPlaceOfBirth:
			d.PlaceOfBirth = v
		case TagPermanentAddress:
			d.PermanentAddress = v
		case TagTelephone:
			d.Telephone = v
		case TagProfession:
			d.Profession = v
		case TagTitle:
			d.Title = v
		case TagPersonalSummary:
			d.PersonalSummary = v
		case TagProofOfCitizenship:
			d.ProofOfCitizenship = e.Value
		case TagOtherTDNumbers:
			d.OtherTDNumbers = v
		case TagCustodyInformation:
			d.CustodyInformation = v
		}
	}
	return d, nil
}

// ParseDG12 parses DG12. Elements not named in the standard are skipped.
func ParseDG12(b []byte) (*DG12, error) {
	outer, elems, tags, err := parseDetails(b, FileDG12)
	if err != nil {
		return nil, err
	}
	d := &DG12{TagList: tags, Raw: outer.Raw}
	for _, e := range elems {
		v := string(e.Value)
		switch e.Tag {
		case TagIssuingAuthority:
			d.IssuingAuthority = v
		case TagDateOfIssue:
			d.DateOfIssue = v
		case TagOtherNamesTemplate:
			if d.OtherPersons, err = parseTemplateList(e.Value, TagOtherPerson); err != nil {
				return nil, fmt.Errorf("DG12: other persons: %w", err)
			}
		case TagEndorsements:
			d.Endorsements = v
		case TagTaxExit:
			d.TaxExit = v
		case TagImageFront:
			d.ImageFront = e.Value
		case TagImageRear:
			d.ImageRear = e.Value
		case TagPersonalisedAt:
			d.PersonalisedAt = v
		case TagPersonalisationSN:
			d.PersonalisationSNum = v
		}
	}
	return d, nil
}

// detailsEncoder collects the present elements and their tags for the
// tag list that must precede them.
type detailsEncoder struct {
	tags []byte
	body tlvBuilder
}

func (e *detailsEncoder) text(t Tag, v string) { e.bytes(t, []byte(v)) }

func (e *detailsEncoder) bytes(t Tag, v []byte) {
	if len(v) == 0 {
		return
	}
	e.tags = t.appendBytes(e.tags)
	e.body.add(t, v)
}

func (e *detailsEncoder) list(entry Tag, vs []string) {
	if len(vs) == 0 {
		return
	}
	var tmpl tlvBuilder
	tmpl.add(TagCount, []byte{byte(len(vs))})
	for _, v := range vs {
		tmpl.add(entry, []byte(v))
	}
	if tmpl.err != nil {
		e.body.err = tmpl.err
		return
	}
	// The tag list names the entries' tag, not the template's (9303-10
	// §4.7.11 lists 5F0F for DG11's other names).
	e.tags = entry.appendBytes(e.tags)
	e.body.add(TagOtherNamesTemplate, tmpl.b)
}

func (e *detailsEncoder) finish(f File) ([]byte, error) {
	if len(e.tags) == 0 {
		return nil, fmt.Errorf("%v: no element to encode", f)
	}
	if len(e.tags) > 2*maxListEntries {
		return nil, fmt.Errorf("%v: too many elements", f)
	}
	if e.body.err != nil {
		return nil, fmt.Errorf("%v: %w", f, e.body.err)
	}
	var all tlvBuilder
	all.add(TagTagList, e.tags)
	all.b = append(all.b, e.body.b...)
	if all.err != nil {
		return nil, fmt.Errorf("%v: %w", f, all.err)
	}
	return AppendElement(nil, f.Tag(), all.b)
}

// EncodeDG11 builds DG11 from the non-empty fields of d (TagList and Raw
// are ignored; the tag list is computed).
func EncodeDG11(d *DG11) ([]byte, error) {
	if len(d.OtherNames) > maxListEntries {
		return nil, fmt.Errorf("DG11: %d other names", len(d.OtherNames))
	}
	var e detailsEncoder
	e.text(TagFullName, d.FullName)
	e.list(TagOtherName, d.OtherNames)
	e.text(TagPersonalNumber, d.PersonalNumber)
	e.text(TagFullDateOfBirth, d.FullDateOfBirth)
	e.text(TagPlaceOfBirth, d.PlaceOfBirth)
	e.text(TagPermanentAddress, d.PermanentAddress)
	e.text(TagTelephone, d.Telephone)
	e.text(TagProfession, d.Profession)
	e.text(TagTitle, d.Title)
	e.text(TagPersonalSummary, d.PersonalSummary)
	e.bytes(TagProofOfCitizenship, d.ProofOfCitizenship)
	e.text(TagOtherTDNumbers, d.OtherTDNumbers)
	e.text(TagCustodyInformation, d.CustodyInformation)
	return e.finish(FileDG11)
}

// EncodeDG12 builds DG12 from the non-empty fields of d.
func EncodeDG12(d *DG12) ([]byte, error) {
	if len(d.OtherPersons) > maxListEntries {
		return nil, fmt.Errorf("DG12: %d other persons", len(d.OtherPersons))
	}
	var e detailsEncoder
	e.text(TagIssuingAuthority, d.IssuingAuthority)
	e.text(TagDateOfIssue, d.DateOfIssue)
	e.list(TagOtherPerson, d.OtherPersons)
	e.text(TagEndorsements, d.Endorsements)
	e.text(TagTaxExit, d.TaxExit)
	e.bytes(TagImageFront, d.ImageFront)
	e.bytes(TagImageRear, d.ImageRear)
	e.text(TagPersonalisedAt, d.PersonalisedAt)
	e.text(TagPersonalisationSN, d.PersonalisationSNum)
	return e.finish(FileDG12)
}
