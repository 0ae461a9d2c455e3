package chipsim

import "fmt"

// statusWord is an ISO/IEC 7816-4 §5.6 status word SW1 SW2.
type statusWord uint16

// Status words the chip answers with.
const (
	swOK                 statusWord = 0x9000
	swMoreData           statusWord = 0x6100 // 61xx: xx bytes wait for GET RESPONSE
	swEndOfFile          statusWord = 0x6282
	swVerifyFailed       statusWord = 0x6300
	swWrongLength        statusWord = 0x6700
	swSMNotSupported     statusWord = 0x6882
	swSecurityStatus     statusWord = 0x6982
	swConditionsOfUse    statusWord = 0x6985
	swNoCurrentEF        statusWord = 0x6986
	swSMObjectsMissing   statusWord = 0x6987
	swSMObjectsIncorrect statusWord = 0x6988
	swWrongData          statusWord = 0x6A80
	swFileNotFound       statusWord = 0x6A82
	swWrongP1P2          statusWord = 0x6A86
	swWrongOffset        statusWord = 0x6B00
	swINSNotSupported    statusWord = 0x6D00
	swCLANotSupported    statusWord = 0x6E00
	swNoDiagnosis        statusWord = 0x6F00
)

func (s statusWord) String() string {
	switch s {
	case swOK:
		return "9000 ok"
	case swEndOfFile:
		return "6282 end of file"
	case swVerifyFailed:
		return "6300 authentication failed"
	case swWrongLength:
		return "6700 wrong length"
	case swSMNotSupported:
		return "6882 secure messaging not supported"
	case swSecurityStatus:
		return "6982 security status not satisfied"
	case swConditionsOfUse:
		return "6985 conditions of use not satisfied"
	case swNoCurrentEF:
		return "6986 no current EF"
	case swSMObjectsMissing:
		return "6987 SM data objects missing"
	case swSMObjectsIncorrect:
		return "6988 SM data objects incorrect"
	case swWrongData:
		return "6A80 wrong data"
	case swFileNotFound:
		return "6A82 file not found"
	case swWrongP1P2:
		return "6A86 wrong P1-P2"
	case swWrongOffset:
		return "6B00 offset out of file"
	case swINSNotSupported:
		return "6D00 INS not supported"
	case swCLANotSupported:
		return "6E00 CLA not supported"
	case swNoDiagnosis:
		return "6F00 no precise diagnosis"
	}
	if s&0xFF00 == swMoreData {
		return fmt.Sprintf("%04X more data", uint16(s))
	}
	return fmt.Sprintf("%04X", uint16(s))
}

// isError reports whether s is an error rather than success or a warning
// (ISO/IEC 7816-4 §5.6: 62xx and 63xx are warnings, 64xx-6Fxx errors).
func (s statusWord) isError() bool {
	sw1 := byte(s >> 8)
	return sw1 >= 0x64 && sw1 <= 0x6F
}

func (s statusWord) append(b []byte) []byte { return append(b, byte(s>>8), byte(s)) }

// instruction is an INS byte.
type instruction byte

// Instructions the chip knows (ISO/IEC 7816-4 §11, 9303-11 §4.3).
const (
	insExternalAuthenticate instruction = 0x82
	insGetChallenge         instruction = 0x84
	insSelect               instruction = 0xA4
	insReadBinary           instruction = 0xB0
	insReadBinaryOdd        instruction = 0xB1
	insGetResponse          instruction = 0xC0
	// PERFORM SECURITY OPERATION (ISO/IEC 7816-8 §11): Verify
	// Certificate (P1-P2 00BE) of Terminal Authentication (ta.go).
	insPerformSecurityOperation instruction = 0x2A
)

func (i instruction) String() string {
	switch i {
	case insExternalAuthenticate:
		return "EXTERNAL AUTHENTICATE"
	case insGetChallenge:
		return "GET CHALLENGE"
	case insSelect:
		return "SELECT"
	case insReadBinary:
		return "READ BINARY"
	case insReadBinaryOdd:
		return "READ BINARY (odd)"
	case insGetResponse:
		return "GET RESPONSE"
	case insPerformSecurityOperation:
		return "PERFORM SECURITY OPERATION"
	}
	return fmt.Sprintf("INS %02X", byte(i))
}

// Class bytes (ISO/IEC 7816-4 §5.4.1): interindustry, no chaining, basic
// logical channel, with or without SM "header authenticated" (b4 b3 = 11).
const (
	claPlain byte = 0x00
	claSM    byte = 0x0C
)

// command is a parsed command APDU.
type command struct {
	cla, p1, p2 byte
	ins         instruction
	data        []byte // nil when there is no data field (cases 1 and 2)
	ne          int    // expected response length; 0 when Le is absent
	extended    bool
}

func (c command) header() []byte { return []byte{c.cla, byte(c.ins), c.p1, c.p2} }

// maxAPDU is the longest well-formed command: case 4 extended.
const maxAPDU = 4 + 3 + 0xFFFF + 2

// parseCommand splits a command APDU into its fields by the length rules of
// ISO/IEC 7816-4 §5.1 (cases 1, 2S, 3S, 4S, 2E, 3E, 4E). Any other length
// is 6700, as is an extended APDU when extOK is false. The class byte is
// checked by the caller.
func parseCommand(b []byte, extOK bool) (command, statusWord) {
	if len(b) < 4 || len(b) > maxAPDU {
		return command{}, swWrongLength
	}
	c := command{cla: b[0], ins: instruction(b[1]), p1: b[2], p2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
	case len(body) == 1: // case 2S
		c.ne = shortNe(body[0])
	case body[0] != 0: // case 3S or 4S
		lc := int(body[0])
		switch len(body) {
		case 1 + lc:
			c.data = body[1:]
		case 2 + lc:
			c.data = body[1 : 1+lc]
			c.ne = shortNe(body[1+lc])
		default:
			return command{}, swWrongLength
		}
	case len(body) == 3: // case 2E
		c.extended = true
		c.ne = extendedNe(body[1], body[2])
	case len(body) > 3: // case 3E or 4E
		c.extended = true
		lc := int(body[1])<<8 | int(body[2])
		if lc == 0 {
			return command{}, swWrongLength
		}
		switch len(body) {
		case 3 + lc:
			c.data = body[3:]
		case 5 + lc:
			c.data = body[3 : 3+lc]
			c.ne = extendedNe(body[3+lc], body[4+lc])
		default:
			return command{}, swWrongLength
		}
	default:
		return command{}, swWrongLength
	}
	if c.extended && !extOK {
		return command{}, swWrongLength
	}
	return c, 0
}

func shortNe(le byte) int {
	if le == 0 {
		return maxShortNe
	}
	return int(le)
}

func extendedNe(hi, lo byte) int {
	n := int(hi)<<8 | int(lo)
	if n == 0 {
		return maxExtendedNe
	}
	return n
}
