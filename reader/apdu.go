// Package reader is the terminal side of ICAO Doc 9303 eMRTD access: command
// and response APDUs (ISO/IEC 7816-4 §5), status words, Basic Access Control
// (ICAO 9303-11 §4.3), secure messaging with 3DES and AES (9303-11 §9.8) and
// reading the files of the LDS (9303-10 §3 and §4) with the length rules
// real chips need.
//
// The common case is one call:
//
//	res, err := reader.Read(ctx, card, reader.ReadOptions{
//		BACKeyInfo: keySeedInfo, // from reader/mrz: document number, birth, expiry with check digits
//		Rand:       rand.Reader,
//		ATR:        atr,         // lets the reader use extended length when the chip offers it
//	})
//
// which reads EF.CardAccess and EF.ATR/INFO plainly, selects the eMRTD
// application, runs BAC, then reads EF.COM, the data groups it lists and
// EF.SOD under secure messaging. A Session gives the same machinery one
// step at a time (SELECT, BAC, ReadFile) to callers that need it, and
// NewSM builds a secure messaging channel from keys agreed elsewhere
// (PACE).
//
// Secure messaging is strict: response data is returned only when its MAC
// verifies, and an unprotected success under secure messaging is treated as
// a downgrade. Known deviations of real chips (an unprotected error status,
// a missing DO99, a chip that drops secure messaging) are accepted only in
// the narrow form described on each Quirk constant, and every quirk taken is
// recorded by name for the inspection report.
//
// The package deliberately does not verify what it reads (passive
// authentication lives in verify), does not parse the LDS beyond what
// reading needs (reader/lds does), does not speak PC/SC (any Transport
// will do) and does not yet implement PACE, Chip Authentication or
// Terminal Authentication: DG3 and DG4 are reported as not authorised
// instead of being requested.
package reader

import (
	"errors"
	"fmt"
)

// Length limits of ISO/IEC 7816-4 §5.1 (Table 1).
const (
	MaxShortNc    = 255   // largest command data field in a short APDU
	MaxShortNe    = 256   // largest expected response length in a short APDU (Le = 00)
	MaxExtendedNc = 65535 // largest command data field in an extended APDU
	MaxExtendedNe = 65536 // largest expected response length in an extended APDU (Le = 0000)
)

// ErrInvalidCommand reports a command that has no ISO/IEC 7816-4 encoding
// (negative or oversized Ne, oversized data).
var ErrInvalidCommand = errors.New("reader: invalid command APDU")

// ErrMalformedResponse reports a response APDU shorter than its two status
// bytes or longer than any response ISO/IEC 7816-4 allows.
var ErrMalformedResponse = errors.New("reader: malformed response APDU")

// Command is a command APDU (ISO/IEC 7816-4 §5.1). Ne is the maximum number
// of response data bytes expected, 0 for none; it becomes the Le field.
type Command struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	Ne               int
}

// Extended reports whether the command needs the extended length encoding:
// more than 255 data bytes or more than 256 expected bytes (§5.1).
func (c Command) Extended() bool {
	return len(c.Data) > MaxShortNc || c.Ne > MaxShortNe
}

// Bytes encodes the command, in the short form when Nc <= 255 and
// Ne <= 256 and in the extended form otherwise (ISO/IEC 7816-4 §5.1: the
// four cases, Le = 00 for Ne = 256 short and 0000 for Ne = 65536 extended).
func (c Command) Bytes() ([]byte, error) {
	nc := len(c.Data)
	if nc > MaxExtendedNc {
		return nil, fmt.Errorf("%w: %d data bytes (at most %d)", ErrInvalidCommand, nc, MaxExtendedNc)
	}
	if c.Ne < 0 || c.Ne > MaxExtendedNe {
		return nil, fmt.Errorf("%w: Ne %d (0..%d)", ErrInvalidCommand, c.Ne, MaxExtendedNe)
	}
	out := make([]byte, 0, 4+3+nc+3)
	out = append(out, c.CLA, c.INS, c.P1, c.P2)
	if !c.Extended() {
		if nc > 0 {
			out = append(out, byte(nc))
			out = append(out, c.Data...)
		}
		if c.Ne > 0 {
			out = append(out, byte(c.Ne)) // 256 encodes as 00
		}
		return out, nil
	}
	// Extended: Lc is 00 followed by two bytes; Le is two bytes when Lc is
	// present and 00 followed by two bytes when it is not (§5.1, cases 2E-4E).
	if nc > 0 {
		out = append(out, 0x00, byte(nc>>8), byte(nc))
		out = append(out, c.Data...)
		if c.Ne > 0 {
			out = append(out, byte(c.Ne>>8), byte(c.Ne)) // 65536 encodes as 0000
		}
		return out, nil
	}
	out = append(out, 0x00, byte(c.Ne>>8), byte(c.Ne))
	return out, nil
}

// String names the command for logs and errors; it never includes data.
func (c Command) String() string {
	return fmt.Sprintf("%s (%02X %02X %02X %02X, Nc=%d, Ne=%d)", insName(c.INS), c.CLA, c.INS, c.P1, c.P2, len(c.Data), c.Ne)
}

// Instruction bytes used by this package (ISO/IEC 7816-4 §11, 9303-11 §4.3).
const (
	insSelect        = 0xA4
	insReadBinary    = 0xB0
	insReadBinaryOdd = 0xB1
	insGetChallenge  = 0x84
	insExternalAuth  = 0x82
	insGetResponse   = 0xC0
	insManageSecEnv  = 0x22
	insGeneralAuth   = 0x86
	insInternalAuth  = 0x88
)

func insName(ins byte) string {
	switch ins {
	case insSelect:
		return "SELECT"
	case insReadBinary, insReadBinaryOdd:
		return "READ BINARY"
	case insGetChallenge:
		return "GET CHALLENGE"
	case insExternalAuth:
		return "EXTERNAL AUTHENTICATE"
	case insGetResponse:
		return "GET RESPONSE"
	case insManageSecEnv:
		return "MANAGE SECURITY ENVIRONMENT"
	case insGeneralAuth:
		return "GENERAL AUTHENTICATE"
	case insInternalAuth:
		return "INTERNAL AUTHENTICATE"
	}
	return fmt.Sprintf("INS %02X", ins)
}

// Response is a response APDU: the data field and the status word.
type Response struct {
	Data []byte
	SW   StatusWord
}

// ParseResponse splits a response APDU into data and status word. The data
// is copied. A response needs at least SW1 SW2 and carries at most 65536
// data bytes (ISO/IEC 7816-4 §5.1).
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, fmt.Errorf("%w: %d bytes, need the two status bytes", ErrMalformedResponse, len(b))
	}
	if len(b) > MaxExtendedNe+2 {
		return Response{}, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformedResponse, len(b), MaxExtendedNe+2)
	}
	n := len(b) - 2
	r := Response{SW: StatusWord(uint16(b[n])<<8 | uint16(b[n+1]))}
	if n > 0 {
		r.Data = append([]byte(nil), b[:n]...)
	}
	return r, nil
}
