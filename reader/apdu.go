// Package reader is the terminal side of ICAO Doc 9303 eMRTD access:
// access control (BAC, 9303-11 §4.3; PACE, §4.4), secure messaging with
// 3DES and AES (§9.8), reading the files of the LDS (9303-10 §3, §4) with
// the length rules real chips need, and the chip's and the terminal's
// authentication protocols (Active Authentication §6.1, Chip
// Authentication v1 §6.2, Terminal Authentication v1 §7.1 with BSI
// TR-03110). APDUs are ISO/IEC 7816-4 §5, short or extended length.
//
// The common case is one call:
//
//	res, err := reader.Read(ctx, card, reader.ReadOptions{
//		BACKeyInfo: keySeedInfo, // from reader/mrz: document number, birth, expiry with check digits
//		CAN:        can,         // optional: PACE with the card access number instead of the MRZ
//		Rand:       rand.Reader,
//		ATR:        atr,         // lets the reader use extended length when the chip offers it
//		Terminal:   term,        // optional: LoadTerminal(dir), for DG3/DG4
//	})
//
// Read goes in this order:
//
//  1. EF.CardAccess and EF.ATR/INFO in plain from the master file.
//  2. Access control. PACE when EF.CardAccess offers it (ChoosePACE:
//     CAM, then ECDH before DH, the larger domain, the stronger cipher),
//     with the MRZ or the CAN, generic, integrated or chip authentication
//     mapping, over every standardized domain (parameter ids 0-2, 8-18);
//     PACE-CAM also checks the chip's static key from EF.CardSecurity
//     (§4.4.3.5.2). Otherwise BAC. PACE fails closed: a failed PACE fails the read
//     unless ReadOptions.AllowBACFallback allows BAC (never after a wrong
//     password), and the fallback is recorded as a quirk.
//  3. Under secure messaging: EF.COM, the data groups it lists, EF.SOD.
//     DG3 and DG4 are left for step 5.
//  4. Active Authentication (DG15) under the access-control keys, then
//     Chip Authentication (DG14), which replaces the session keys and
//     passes only when an answer under the new keys verifies.
//  5. With a Terminal and a passed Chip Authentication: EF.CVCA, Terminal
//     Authentication (signed by any crypto.Signer), then DG3 and DG4.
//
// A refusal or a wrong signature in step 4 or 5 is recorded in the Result
// (AAErr, CAErr, TAErr), not returned: the files were read and the report
// says what was proved. Each protocol is also a function on a Session
// (PACE, BAC, ActiveAuthenticate, ChipAuthenticate, TerminalAuthenticate)
// for callers that need one step at a time.
//
// Secure messaging is strict: response data is returned only when its MAC
// verifies, and an unprotected success under secure messaging is treated as
// a downgrade. Known deviations of real chips (an unprotected error status,
// a missing DO99, a chip that drops secure messaging, a DER-encoded ECDSA
// signature) are accepted only in the narrow form described on each Quirk
// constant, and every quirk taken is recorded by name for the report.
//
// The package deliberately does not verify what it reads (passive
// authentication lives in verify: a passed Chip or Active Authentication
// over an unverified DG14 or DG15 proves nothing), does not parse the LDS
// beyond what reading needs (reader/lds does) and does not speak PC/SC (any
// Transport will do). Not implemented: EAC version 2 (Chip Authentication
// v2, Terminal Authentication v2, Restricted Identification), PACE with a
// PIN or PUK or with explicit domain parameters, PKCS#11 terminal keys
// (is.uri is refused with ErrPKCS11Unsupported; any crypto.Signer passed
// to NewTerminal works), and command chaining for Terminal Authentication
// certificates (a certificate too long for a short protected APDU needs a
// chip that accepts extended length).
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
