package reader

import (
	"errors"
	"fmt"
)

// StatusWord is SW1 SW2 of a response APDU (ISO/IEC 7816-4 §5.6).
type StatusWord uint16

// Status words a reader of eMRTDs meets (ISO/IEC 7816-4 §5.6 Tables 5-6,
// ICAO 9303-11 §4.3 and §9.8).
const (
	SWSuccess                 StatusWord = 0x9000
	SWEndOfFile               StatusWord = 0x6282 // end of file reached before reading Ne bytes
	SWAuthenticationFailed    StatusWord = 0x6300 // verification failed (BAC with a wrong MRZ)
	SWMemoryFailure           StatusWord = 0x6581
	SWWrongLength             StatusWord = 0x6700
	SWSecureMessagingNotSupp  StatusWord = 0x6882
	SWSecurityNotSatisfied    StatusWord = 0x6982 // access rights not granted (DG3/DG4 without TA, DG1 before BAC)
	SWAuthMethodBlocked       StatusWord = 0x6983
	SWReferenceDataNotUsable  StatusWord = 0x6984
	SWConditionsNotSatisfied  StatusWord = 0x6985
	SWCommandNotAllowed       StatusWord = 0x6986 // no current EF
	SWSMDataObjectsMissing    StatusWord = 0x6987 // expected secure messaging data objects missing
	SWSMDataObjectsIncorrect  StatusWord = 0x6988 // incorrect secure messaging data objects
	SWIncorrectData           StatusWord = 0x6A80
	SWFunctionNotSupported    StatusWord = 0x6A81
	SWFileNotFound            StatusWord = 0x6A82
	SWIncorrectP1P2           StatusWord = 0x6A86
	SWReferencedDataNotFound  StatusWord = 0x6A88
	SWWrongParameters         StatusWord = 0x6B00 // offset outside the EF
	SWInstructionNotSupported StatusWord = 0x6D00
	SWClassNotSupported       StatusWord = 0x6E00
	SWNoPreciseDiagnosis      StatusWord = 0x6F00
)

// SW1 is the first status byte.
func (sw StatusWord) SW1() byte { return byte(sw >> 8) }

// SW2 is the second status byte.
func (sw StatusWord) SW2() byte { return byte(sw) }

// OK reports 9000.
func (sw StatusWord) OK() bool { return sw == SWSuccess }

// BytesAvailable reports a 61xx status: xx more response bytes can be
// fetched with GET RESPONSE (ISO/IEC 7816-4 §5.6; 00 means 256 or more).
func (sw StatusWord) BytesAvailable() (int, bool) {
	if sw.SW1() != 0x61 {
		return 0, false
	}
	if sw.SW2() == 0 {
		return 256, true
	}
	return int(sw.SW2()), true
}

// ExactLength reports a 6Cxx status: the command should be repeated with
// Ne = xx (ISO/IEC 7816-4 §5.6; 00 means 256).
func (sw StatusWord) ExactLength() (int, bool) {
	if sw.SW1() != 0x6C {
		return 0, false
	}
	if sw.SW2() == 0 {
		return 256, true
	}
	return int(sw.SW2()), true
}

// Warning reports 62xx and 63xx: processed with a warning, response data
// may be present (ISO/IEC 7816-4 §5.6).
func (sw StatusWord) Warning() bool { return sw.SW1() == 0x62 || sw.SW1() == 0x63 }

// String gives the status word in hex with its meaning, e.g.
// "6982 security status not satisfied".
func (sw StatusWord) String() string {
	var m string
	switch sw {
	case SWSuccess:
		m = "success"
	case SWEndOfFile:
		m = "end of file reached before reading Ne bytes"
	case SWAuthenticationFailed:
		m = "authentication failed"
	case SWMemoryFailure:
		m = "memory failure"
	case SWWrongLength:
		m = "wrong length"
	case SWSecureMessagingNotSupp:
		m = "secure messaging not supported"
	case SWSecurityNotSatisfied:
		m = "security status not satisfied"
	case SWAuthMethodBlocked:
		m = "authentication method blocked"
	case SWReferenceDataNotUsable:
		m = "reference data not usable"
	case SWConditionsNotSatisfied:
		m = "conditions of use not satisfied"
	case SWCommandNotAllowed:
		m = "command not allowed (no current EF)"
	case SWSMDataObjectsMissing:
		m = "expected secure messaging data objects missing"
	case SWSMDataObjectsIncorrect:
		m = "incorrect secure messaging data objects"
	case SWIncorrectData:
		m = "incorrect parameters in the data field"
	case SWFunctionNotSupported:
		m = "function not supported"
	case SWFileNotFound:
		m = "file not found"
	case SWIncorrectP1P2:
		m = "incorrect parameters P1-P2"
	case SWReferencedDataNotFound:
		m = "referenced data not found"
	case SWWrongParameters:
		m = "wrong parameters P1-P2 (offset outside the EF)"
	case SWInstructionNotSupported:
		m = "instruction not supported"
	case SWClassNotSupported:
		m = "class not supported"
	case SWNoPreciseDiagnosis:
		m = "no precise diagnosis"
	default:
		switch sw.SW1() {
		case 0x61:
			n, _ := sw.BytesAvailable()
			m = fmt.Sprintf("%d response bytes available", n)
		case 0x6C:
			n, _ := sw.ExactLength()
			m = fmt.Sprintf("wrong Le, exact length %d", n)
		case 0x62, 0x63:
			m = "warning"
		default:
			m = "error"
		}
	}
	return fmt.Sprintf("%04X %s", uint16(sw), m)
}

// Sentinel errors a caller branches on. An *SWError matches them with
// errors.Is according to its status word.
var (
	// ErrAccessDenied: the chip refused access (6982 security status not
	// satisfied), e.g. DG3/DG4 without Terminal Authentication.
	ErrAccessDenied = errors.New("reader: access denied by the chip")
	// ErrFileNotFound: 6A82.
	ErrFileNotFound = errors.New("reader: file not found")
	// ErrWrongLength: 6700 or 6Cxx.
	ErrWrongLength = errors.New("reader: wrong length")
)

// SWError is a command that the chip answered with an unexpected status word.
type SWError struct {
	Cmd string // the command's name, e.g. "READ BINARY DG2"
	SW  StatusWord
}

func (e *SWError) Error() string {
	return fmt.Sprintf("reader: %s: %v", e.Cmd, e.SW)
}

// Is maps the status word to the package's sentinel errors.
func (e *SWError) Is(target error) bool {
	switch target {
	case ErrAccessDenied:
		return e.SW == SWSecurityNotSatisfied
	case ErrFileNotFound:
		return e.SW == SWFileNotFound
	case ErrWrongLength:
		_, exact := e.SW.ExactLength()
		return e.SW == SWWrongLength || exact
	}
	return false
}
