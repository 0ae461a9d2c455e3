package chipsim

// defaultATR builds the ATR a chip sends when its configuration names
// none: TS 3B, T0 with TD1 and the number of historical bytes, TD1 = T=0
// with TD2, TD2 = T=1, the historical bytes, and TCK (ISO/IEC 7816-3
// §8.2). The historical bytes (ISO/IEC 7816-4 §8.1.1) are the category
// indicator 80 (compact-TLV objects follow) and a card capabilities object
// 73 (§8.1.1.2.7): selection by full DF name, by file identifier and by
// short EF identifier; one-byte data units; and, in the third byte, b7
// "extended Lc and Le fields" exactly when ext is true. Readers decide from
// that bit whether to send extended-length APDUs.
func defaultATR(ext bool) []byte {
	third := byte(0x00)
	if ext {
		third = 0x40
	}
	hist := []byte{0x80, 0x73, 0x94, 0x01, third}
	atr := []byte{0x3B, 0x80 | byte(len(hist)), 0x80, 0x01}
	atr = append(atr, hist...)
	var tck byte
	for _, b := range atr[1:] {
		tck ^= b
	}
	return append(atr, tck)
}

// defaultATRInfo builds EF.ATR/INFO for a chip with extended length whose
// identity does not bring its own: DO7F66, extended length information
// (ISO/IEC 7816-4 §12.7.1), whose two DO02 integers are whole-APDU sizes:
// the longest command APDU the chip takes (header, Lc, data and Le: the
// extended case 4 with maxCommandData data bytes, 4 + 3 + n + 2) and the
// longest response APDU it sends (maxResponseData data bytes, under
// secure messaging the protected data objects, plus SW1 SW2). A reader
// subtracts the overheads to get the data limits; one that took the
// figures for data bytes would ask for 2 bytes more than the chip sends,
// which a READ BINARY answer that is 2 bytes short absorbs.
func defaultATRInfo(maxCommandData, maxResponseData int) []byte {
	ints := appendTLV(nil, tagInteger, derUint(4+3+maxCommandData+2))
	ints = appendTLV(ints, tagInteger, derUint(maxResponseData+2))
	return appendTLV(nil, tagExtendedLengthInfo, ints)
}

// derUint is the minimal two's complement encoding of a non-negative n.
func derUint(n int) []byte {
	var b []byte
	for {
		b = append([]byte{byte(n)}, b...)
		n >>= 8
		if n == 0 {
			break
		}
	}
	if b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b
}
