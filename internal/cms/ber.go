package cms

import (
	"errors"
	"fmt"
)

// ErrBER reports input that is neither DER nor BER this package can
// normalise (for example a constructed BIT STRING, or nesting deeper than
// maxBERDepth).
var ErrBER = errors.New("cms: unsupported BER encoding")

// maxBERDepth bounds recursion in berToDER. CMS SignedData as used by ICAO
// nests about a dozen levels; certificates add another dozen.
const maxBERDepth = 48

// berToDER rewrites a BER encoding into definite-length form (X.690 §10.1)
// and turns constructed OCTET STRINGs into primitive ones (§10.2), which is
// all that real EF.SODs and master lists need: several issuers write the
// outer ContentInfo with indefinite lengths and the eContent as a chunked
// OCTET STRING.
//
// It deliberately does not re-sort SET OF elements or rewrite primitive
// contents (BOOLEAN, INTEGER padding): elements that are already DER come out
// byte for byte the same, so certificates and signed attributes keep the
// bytes their signatures cover. The output is never larger than the input
// plus a few bytes per element, and every length is checked against the
// bytes present before use.
func berToDER(in []byte) ([]byte, error) {
	out, rest, err := berElement(in, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBER, len(rest))
	}
	return out, nil
}

// berHeader reads one identifier and length. length is -1 for the
// indefinite form.
func berHeader(in []byte) (tag []byte, constructed bool, length int, hdrLen int, err error) {
	if len(in) < 2 {
		return nil, false, 0, 0, fmt.Errorf("%w: truncated header", ErrBER)
	}
	i := 1
	if in[0]&0x1f == 0x1f { // high tag number form, X.690 §8.1.2.4
		for {
			if i >= len(in) || i > 4 {
				return nil, false, 0, 0, fmt.Errorf("%w: bad high tag number", ErrBER)
			}
			b := in[i]
			i++
			if b&0x80 == 0 {
				break
			}
		}
	}
	tag = in[:i]
	constructed = in[0]&0x20 != 0
	if i >= len(in) {
		return nil, false, 0, 0, fmt.Errorf("%w: truncated length", ErrBER)
	}
	lb := in[i]
	i++
	switch {
	case lb < 0x80:
		length = int(lb)
		if length > len(in)-i {
			return nil, false, 0, 0, fmt.Errorf("%w: length %d exceeds the %d bytes left", ErrBER, length, len(in)-i)
		}
	case lb == 0x80:
		if !constructed {
			return nil, false, 0, 0, fmt.Errorf("%w: indefinite length on a primitive element", ErrBER)
		}
		length = -1
	default:
		n := int(lb & 0x7f)
		if n > 4 || i+n > len(in) {
			return nil, false, 0, 0, fmt.Errorf("%w: bad length of length", ErrBER)
		}
		length = 0
		for _, b := range in[i : i+n] {
			length = length<<8 | int(b)
		}
		i += n
		if length < 0 || length > len(in)-i {
			return nil, false, 0, 0, fmt.Errorf("%w: length %d exceeds the %d bytes left", ErrBER, length, len(in)-i)
		}
	}
	return tag, constructed, length, i, nil
}

// berElement converts the first element of in and returns it with the bytes
// that follow it.
func berElement(in []byte, depth int) (out, rest []byte, err error) {
	if depth > maxBERDepth {
		return nil, nil, fmt.Errorf("%w: nesting deeper than %d", ErrBER, maxBERDepth)
	}
	tag, constructed, length, hl, err := berHeader(in)
	if err != nil {
		return nil, nil, err
	}
	if !constructed {
		content := in[hl : hl+length]
		return appendElement(nil, tag, content), in[hl+length:], nil
	}
	// The end-of-contents octets are only legal inside an indefinite element.
	if tag[0] == 0 {
		return nil, nil, fmt.Errorf("%w: misplaced end-of-contents", ErrBER)
	}
	var body, after []byte
	if length >= 0 {
		body, after = in[hl:hl+length], in[hl+length:]
	} else {
		body = in[hl:]
	}
	octetString := len(tag) == 1 && tag[0] == 0x24 // constructed universal OCTET STRING
	if len(tag) == 1 && (tag[0] == 0x23 || (tag[0] >= 0x2c && tag[0] <= 0x3e && tag[0] != 0x30 && tag[0] != 0x31)) {
		// Constructed BIT STRING and character strings never occur in CMS
		// as used by ICAO; refusing them keeps this function small.
		return nil, nil, fmt.Errorf("%w: constructed string with tag %#x", ErrBER, tag[0])
	}
	var content []byte
	for {
		if length < 0 {
			if len(body) >= 2 && body[0] == 0 && body[1] == 0 {
				after = body[2:]
				break
			}
			if len(body) == 0 {
				return nil, nil, fmt.Errorf("%w: missing end-of-contents", ErrBER)
			}
		} else if len(body) == 0 {
			break
		}
		child, r, err := berElement(body, depth+1)
		if err != nil {
			return nil, nil, err
		}
		body = r
		if octetString {
			// §8.7.3.2: each segment is itself an OCTET STRING; after
			// conversion every segment is primitive.
			if len(child) < 2 || child[0] != 0x04 {
				return nil, nil, fmt.Errorf("%w: OCTET STRING segment is not an OCTET STRING", ErrBER)
			}
			_, _, l, h, err := berHeader(child)
			if err != nil {
				return nil, nil, err
			}
			content = append(content, child[h:h+l]...)
			continue
		}
		content = append(content, child...)
	}
	if octetString {
		return appendElement(nil, []byte{0x04}, content), after, nil
	}
	return appendElement(nil, tag, content), after, nil
}

// appendElement writes tag, a minimal definite length and content.
func appendElement(dst, tag, content []byte) []byte {
	dst = append(dst, tag...)
	n := len(content)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n <= 0xff:
		dst = append(dst, 0x81, byte(n))
	case n <= 0xffff:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	case n <= 0xffffff:
		dst = append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, content...)
}
