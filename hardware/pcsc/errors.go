package pcsc

import (
	"errors"
	"fmt"
)

// Error is a PC/SC return code (the SCARD_* values of the PC/SC Workgroup
// specification part 5, as defined by pcsc-lite's pcsclite.h). Callers
// normally branch on the sentinels below with errors.Is instead of on
// individual codes: several codes mean the same thing to a caller (a card
// that was removed, reset or unpowered under us is gone either way).
type Error uint32

// PC/SC return codes this package names. Others are reported by number.
const (
	ErrCodeInternal           Error = 0x80100001 // SCARD_F_INTERNAL_ERROR
	ErrCodeCancelled          Error = 0x80100002 // SCARD_E_CANCELLED
	ErrCodeInvalidHandle      Error = 0x80100003 // SCARD_E_INVALID_HANDLE
	ErrCodeInvalidParameter   Error = 0x80100004 // SCARD_E_INVALID_PARAMETER
	ErrCodeInvalidTarget      Error = 0x80100005 // SCARD_E_INVALID_TARGET
	ErrCodeNoMemory           Error = 0x80100006 // SCARD_E_NO_MEMORY
	ErrCodeInsufficientBuffer Error = 0x80100008 // SCARD_E_INSUFFICIENT_BUFFER
	ErrCodeUnknownReader      Error = 0x80100009 // SCARD_E_UNKNOWN_READER
	ErrCodeTimeout            Error = 0x8010000A // SCARD_E_TIMEOUT
	ErrCodeSharingViolation   Error = 0x8010000B // SCARD_E_SHARING_VIOLATION
	ErrCodeNoSmartcard        Error = 0x8010000C // SCARD_E_NO_SMARTCARD
	ErrCodeUnknownCard        Error = 0x8010000D // SCARD_E_UNKNOWN_CARD
	ErrCodeProtoMismatch      Error = 0x8010000F // SCARD_E_PROTO_MISMATCH
	ErrCodeNotReady           Error = 0x80100010 // SCARD_E_NOT_READY
	ErrCodeInvalidValue       Error = 0x80100011 // SCARD_E_INVALID_VALUE
	ErrCodeSystemCancelled    Error = 0x80100012 // SCARD_E_SYSTEM_CANCELLED
	ErrCodeCommError          Error = 0x80100013 // SCARD_F_COMM_ERROR
	ErrCodeUnknownError       Error = 0x80100014 // SCARD_F_UNKNOWN_ERROR
	ErrCodeInvalidATR         Error = 0x80100015 // SCARD_E_INVALID_ATR
	ErrCodeNotTransacted      Error = 0x80100016 // SCARD_E_NOT_TRANSACTED
	ErrCodeReaderUnavailable  Error = 0x80100017 // SCARD_E_READER_UNAVAILABLE
	ErrCodeNoService          Error = 0x8010001D // SCARD_E_NO_SERVICE
	ErrCodeServiceStopped     Error = 0x8010001E // SCARD_E_SERVICE_STOPPED
	ErrCodeNoReadersAvailable Error = 0x8010002E // SCARD_E_NO_READERS_AVAILABLE
	ErrCodeUnsupportedCard    Error = 0x80100065 // SCARD_W_UNSUPPORTED_CARD
	ErrCodeUnresponsiveCard   Error = 0x80100066 // SCARD_W_UNRESPONSIVE_CARD
	ErrCodeUnpoweredCard      Error = 0x80100067 // SCARD_W_UNPOWERED_CARD
	ErrCodeResetCard          Error = 0x80100068 // SCARD_W_RESET_CARD
	ErrCodeRemovedCard        Error = 0x80100069 // SCARD_W_REMOVED_CARD
)

// String returns the SCARD_* name of the code, or its hexadecimal value.
func (e Error) String() string {
	switch e {
	case ErrCodeInternal:
		return "SCARD_F_INTERNAL_ERROR"
	case ErrCodeCancelled:
		return "SCARD_E_CANCELLED"
	case ErrCodeInvalidHandle:
		return "SCARD_E_INVALID_HANDLE"
	case ErrCodeInvalidParameter:
		return "SCARD_E_INVALID_PARAMETER"
	case ErrCodeInvalidTarget:
		return "SCARD_E_INVALID_TARGET"
	case ErrCodeNoMemory:
		return "SCARD_E_NO_MEMORY"
	case ErrCodeInsufficientBuffer:
		return "SCARD_E_INSUFFICIENT_BUFFER"
	case ErrCodeUnknownReader:
		return "SCARD_E_UNKNOWN_READER"
	case ErrCodeTimeout:
		return "SCARD_E_TIMEOUT"
	case ErrCodeSharingViolation:
		return "SCARD_E_SHARING_VIOLATION"
	case ErrCodeNoSmartcard:
		return "SCARD_E_NO_SMARTCARD"
	case ErrCodeUnknownCard:
		return "SCARD_E_UNKNOWN_CARD"
	case ErrCodeProtoMismatch:
		return "SCARD_E_PROTO_MISMATCH"
	case ErrCodeNotReady:
		return "SCARD_E_NOT_READY"
	case ErrCodeInvalidValue:
		return "SCARD_E_INVALID_VALUE"
	case ErrCodeSystemCancelled:
		return "SCARD_E_SYSTEM_CANCELLED"
	case ErrCodeCommError:
		return "SCARD_F_COMM_ERROR"
	case ErrCodeUnknownError:
		return "SCARD_F_UNKNOWN_ERROR"
	case ErrCodeInvalidATR:
		return "SCARD_E_INVALID_ATR"
	case ErrCodeNotTransacted:
		return "SCARD_E_NOT_TRANSACTED"
	case ErrCodeReaderUnavailable:
		return "SCARD_E_READER_UNAVAILABLE"
	case ErrCodeNoService:
		return "SCARD_E_NO_SERVICE"
	case ErrCodeServiceStopped:
		return "SCARD_E_SERVICE_STOPPED"
	case ErrCodeNoReadersAvailable:
		return "SCARD_E_NO_READERS_AVAILABLE"
	case ErrCodeUnsupportedCard:
		return "SCARD_W_UNSUPPORTED_CARD"
	case ErrCodeUnresponsiveCard:
		return "SCARD_W_UNRESPONSIVE_CARD"
	case ErrCodeUnpoweredCard:
		return "SCARD_W_UNPOWERED_CARD"
	case ErrCodeResetCard:
		return "SCARD_W_RESET_CARD"
	case ErrCodeRemovedCard:
		return "SCARD_W_REMOVED_CARD"
	}
	return fmt.Sprintf("SCARD_0x%08X", uint32(e))
}

func (e Error) Error() string {
	return fmt.Sprintf("pcsc: %s (0x%08X)", e.String(), uint32(e))
}

// Is maps codes to the sentinels callers branch on, so that
// errors.Is(err, ErrCardRemoved) holds for a removed, reset or unpowered
// card alike.
func (e Error) Is(target error) bool {
	switch target {
	case ErrNoService:
		return e == ErrCodeNoService || e == ErrCodeServiceStopped
	case ErrNoReaders:
		return e == ErrCodeNoReadersAvailable
	case ErrReaderUnavailable:
		return e == ErrCodeReaderUnavailable || e == ErrCodeUnknownReader
	case ErrNoCard:
		return e == ErrCodeNoSmartcard
	case ErrCardRemoved:
		return e == ErrCodeRemovedCard || e == ErrCodeResetCard || e == ErrCodeUnpoweredCard
	case ErrSharingViolation:
		return e == ErrCodeSharingViolation
	case ErrTimeout:
		return e == ErrCodeTimeout
	case ErrCancelled:
		return e == ErrCodeCancelled || e == ErrCodeSystemCancelled
	}
	return false
}

// Sentinels for errors.Is. Every error this package returns for a PC/SC
// failure wraps an Error, which matches the sentinel of its class.
var (
	ErrNoService         = errors.New("pcsc: the PC/SC service (pcscd) is not running; start it with scripts/pcscd-up")
	ErrNoReaders         = errors.New("pcsc: no readers")
	ErrReaderUnavailable = errors.New("pcsc: reader unavailable or unknown")
	ErrNoCard            = errors.New("pcsc: no card in the reader")
	ErrCardRemoved       = errors.New("pcsc: card removed, reset or unpowered")
	ErrSharingViolation  = errors.New("pcsc: sharing violation (another connection holds the card)")
	ErrTimeout           = errors.New("pcsc: timeout")
	ErrCancelled         = errors.New("pcsc: cancelled")
	// ErrReleased is returned for calls on a Context or Card after
	// Release or Disconnect.
	ErrReleased = errors.New("pcsc: context released or card disconnected")
)
