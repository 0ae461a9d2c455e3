package reader

import (
	"errors"
	"fmt"

	"borderid/reader/lds"
)

// Extended length advertisement. A chip may take extended Lc/Le fields
// only when it says so (ISO/IEC 7816-4 §5.1): in the card capabilities of
// the ATR historical bytes (§8.1.1.2.7, third software function table,
// b7 "extended Lc and Le fields") or in EF.ATR/INFO, DO 7F66 "extended
// length information" (§12.7.1), which also gives the maximum lengths.

// ErrATR reports an ATR or historical bytes that cannot be parsed.
var ErrATR = errors.New("reader: malformed ATR")

// ExtendedLength is what a chip advertises about extended length.
type ExtendedLength struct {
	Supported bool
	// MaxNc and MaxNe are the advertised maxima of the command data field
	// (Nc) and of the response data field (Ne, under secure messaging the
	// protected data objects), in bytes; 0 when not advertised (the card
	// capabilities byte carries no numbers). Below 256 they still bind.
	MaxNc, MaxNe int
	// Source is "ATR" or "EF.ATR/INFO", empty when nothing was advertised.
	Source string
}

// Merge combines two advertisements: supported if either says so, with
// the maxima of whichever gives them (EF.ATR/INFO is the one with numbers).
func (e ExtendedLength) Merge(o ExtendedLength) ExtendedLength {
	out := e
	if o.Supported {
		out.Supported = true
		if out.Source == "" {
			out.Source = o.Source
		}
	}
	if o.MaxNe != 0 {
		out.MaxNe, out.Source = o.MaxNe, o.Source
	}
	if o.MaxNc != 0 {
		out.MaxNc = o.MaxNc
	}
	return out
}

// maxATR is the longest ATR ISO/IEC 7816-3 §8.2.1 allows.
const maxATR = 33

// HistoricalBytes returns the historical bytes T1..TK of an ATR (ISO/IEC
// 7816-3 §8.2): TS, T0 (whose low nibble is K), the interface bytes chained
// by the TDi indicators, then K historical bytes and TCK when any protocol
// other than T=0 is indicated.
func HistoricalBytes(atr []byte) ([]byte, error) {
	if len(atr) < 2 || len(atr) > maxATR {
		return nil, fmt.Errorf("%w: %d bytes", ErrATR, len(atr))
	}
	if atr[0] != 0x3B && atr[0] != 0x3F {
		return nil, fmt.Errorf("%w: TS %02X", ErrATR, atr[0])
	}
	k := int(atr[1] & 0x0F)
	y := atr[1] >> 4
	i := 2
	tck := false
	for {
		// TAi, TBi, TCi, TDi are present as bits 1..4 of Y; each round
		// consumes at least TDi, so the loop ends within the 33 bytes.
		for bit := byte(1); bit <= 8; bit <<= 1 {
			if y&bit != 0 {
				i++
			}
		}
		if i > len(atr) {
			return nil, fmt.Errorf("%w: truncated interface bytes", ErrATR)
		}
		if y&8 == 0 {
			break
		}
		td := atr[i-1]
		if td&0x0F != 0 {
			tck = true
		}
		y = td >> 4
	}
	end := i + k
	if tck {
		end++
	}
	if end > len(atr) {
		return nil, fmt.Errorf("%w: %d bytes, structure needs %d", ErrATR, len(atr), end)
	}
	return atr[i : i+k], nil
}

// ExtendedLengthFromHistorical reads the card capabilities (compact-TLV
// tag 7) from historical bytes in the category 00 or 80 format (ISO/IEC
// 7816-4 §8.1.1). Other categories carry no card capabilities and give the
// zero value.
func ExtendedLengthFromHistorical(hist []byte) (ExtendedLength, error) {
	if len(hist) == 0 {
		return ExtendedLength{}, nil
	}
	var objs []byte
	switch hist[0] {
	case 0x00:
		// Compact-TLV objects, then a three-byte status indicator.
		if len(hist) < 4 {
			return ExtendedLength{}, fmt.Errorf("%w: category 00 without status indicator", ErrATR)
		}
		objs = hist[1 : len(hist)-3]
	case 0x80:
		objs = hist[1:]
	default:
		return ExtendedLength{}, nil
	}
	for len(objs) > 0 {
		tag, n := objs[0]>>4, int(objs[0]&0x0F)
		if 1+n > len(objs) {
			return ExtendedLength{}, fmt.Errorf("%w: compact-TLV %X with %d bytes, %d left", ErrATR, objs[0], n, len(objs)-1)
		}
		v := objs[1 : 1+n]
		objs = objs[1+n:]
		if tag == 0x7 && n >= 3 {
			// Third software function table, b7.
			if v[2]&0x40 != 0 {
				return ExtendedLength{Supported: true, Source: "ATR"}, nil
			}
		}
	}
	return ExtendedLength{}, nil
}

// ExtendedLengthFromATR combines HistoricalBytes and
// ExtendedLengthFromHistorical.
func ExtendedLengthFromATR(atr []byte) (ExtendedLength, error) {
	h, err := HistoricalBytes(atr)
	if err != nil {
		return ExtendedLength{}, err
	}
	return ExtendedLengthFromHistorical(h)
}

// ExtendedLengthFromATRInfo reads DO 7F66 (extended length information:
// two INTEGERs) and DO 47 (card capabilities, b7 of the third byte) from
// the top level of EF.ATR/INFO (ISO/IEC 7816-4 §12.7.1), parsed by
// lds.ParseATRInfo.
//
// ISO/IEC 7816-4 §12.7.1 gives whole-APDU sizes: the maximum length of a
// command APDU (header included) and of a response APDU (SW1 SW2
// included). The data limits are those less the overheads: MaxNe is the
// response size less 2, MaxNc the command size less 9 (header, a
// three-byte Lc and a two-byte Le: the extended case 4 that carries the
// most). Reading them this way never asks a chip for more than it said;
// a chip that meant data bytes only loses 2 (or 9) bytes per APDU.
// hardware/chipsim writes the sizes the same way. lds reads the integers
// as unsigned, so 02 02 FF FF is 65535. Data limits above MaxExtendedNe
// (MaxExtendedNc) are capped to it; a size that leaves no data byte is
// malformed. An empty file, or one of padding only, advertises nothing.
func ExtendedLengthFromATRInfo(b []byte) (ExtendedLength, error) {
	if onlyPadding(b) {
		return ExtendedLength{}, nil
	}
	info, err := lds.ParseATRInfo(b)
	if err != nil {
		return ExtendedLength{}, fmt.Errorf("%w: %w", ErrATR, err)
	}
	var out ExtendedLength
	if info.MaxCommandLength != 0 || info.MaxResponseLength != 0 {
		const cmdOverhead, respOverhead = 4 + 3 + 2, 2
		if info.MaxCommandLength <= cmdOverhead || info.MaxResponseLength <= respOverhead {
			return ExtendedLength{}, fmt.Errorf("%w: DO7F66 maxima %d (command APDU) and %d (response APDU) leave no data byte",
				ErrATR, info.MaxCommandLength, info.MaxResponseLength)
		}
		out.MaxNc = min(info.MaxCommandLength-cmdOverhead, MaxExtendedNc)
		out.MaxNe = min(info.MaxResponseLength-respOverhead, MaxExtendedNe)
		out.Source = "EF.ATR/INFO"
		out.Supported = out.MaxNc > MaxShortNc || out.MaxNe > MaxShortNe
	}
	if cc := info.CardCapabilities; len(cc) >= 3 && cc[2]&0x40 != 0 {
		// Third software function table, b7 "extended Lc and Le fields"
		// (ISO/IEC 7816-4 §8.1.1.2.7), as in the ATR's historical bytes.
		out.Supported = true
		out.Source = "EF.ATR/INFO"
	}
	return out, nil
}

// onlyPadding reports whether b is empty or all 00 or all FF: an
// EF.ATR/INFO that holds no data object.
func onlyPadding(b []byte) bool {
	for _, c := range b {
		if c != b[0] || (c != 0x00 && c != 0xFF) {
			return false
		}
	}
	return true
}
