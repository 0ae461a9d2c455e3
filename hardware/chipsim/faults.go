package chipsim

import (
	"time"

	"borderid/hardware/vpcd"
)

// ErrTorn is the error (wrapped) that Transmit returns once the chip has
// been torn from the field by Faults.TearAfter. It is vpcd.ErrCardRemoved,
// so a chip served through vpcd leaves the virtual reader at that moment.
var ErrTorn = vpcd.ErrCardRemoved

// Faults makes the chip misbehave the way real chips do, so that readers
// can be tested against it. The zero value is a perfect chip. Fields that
// name an APDU count the chip's APDUs from 1 since the last power-on
// (New or Reset), GET RESPONSE included.
type Faults struct {
	// TearAfter: after this many APDUs every Transmit fails with an error
	// wrapping ErrTorn (the card left the field) until Reset.
	TearAfter int

	// CorruptMACAt: flip a bit of the DO8E of the response to this APDU
	// (when that response is MAC-protected).
	CorruptMACAt int

	// UnprotectedErrors: under secure messaging, answer error status
	// words (64xx-6Fxx) without DO99/DO8E and without counting the
	// response in the SSC; the command was counted. The most common
	// real-chip behaviour.
	UnprotectedErrors bool

	// DropSMAt: answer this APDU with an unprotected 6987 and end the
	// secure messaging session without executing it.
	DropSMAt int

	// PlainSuccessAt: execute this APDU (verifying its MAC when under
	// secure messaging) and answer its data in clear with 9000, no DO8E:
	// a downgrade that a reader must refuse.
	PlainSuccessAt int

	// OmitDO99: protected responses carry no DO99; the MAC then covers
	// the SSC and DO87/DO85 only.
	OmitDO99 bool

	// SelectGetResponse: a SELECT that asks for the FCP (P2 00 or 04) is
	// answered 61xx, and the response (protected, if under secure
	// messaging) is then served by GET RESPONSE (00 C0 00 00 Le), as T=0
	// chips do.
	SelectGetResponse bool

	// SelectNeedsFCI: every SELECT with P2 0C (no response data) is
	// answered 6A86 (incorrect P1-P2) and selects nothing, as on chips
	// that only know P2 00/04: the reader must select again with P2 00
	// and Le and take the FCP it gets. It covers SELECT by DF name and
	// of the master file too, not only of EFs, because a reader that reads
	// by short file identifier never selects an EF. Together with
	// SelectGetResponse the FCP then comes through 61xx and GET RESPONSE.
	SelectNeedsFCI bool

	// CapLe: READ BINARY never returns more than this many data bytes,
	// whatever Le asks, and says 9000.
	CapLe int

	// WrongLengthAbove: READ BINARY answers 6700 when Ne exceeds this.
	WrongLengthAbove int

	// ExactLengthAbove: READ BINARY answers 6C<n> (n = ExactLengthAbove,
	// 6C00 for 256; ISO/IEC 7816-4 §5.6 "wrong Le field, SW2 encodes the
	// exact number of available data bytes") when Ne exceeds n and at
	// least n bytes remain from the offset; with fewer left it serves
	// them as usual. Under secure messaging Ne is the plain command's,
	// and the 6C<n> is protected, or unprotected with UnprotectedErrors.
	// At most 256.
	ExactLengthAbove int

	// Latency: every APDU takes at least this long (the wait ends early
	// with the context's error when it is cancelled).
	Latency time.Duration

	// CAMShortCAIC: in PACE-CAM the chip picks its mapping key so that
	// CA_IC has a leading zero byte and sends CA_IC without it, as a
	// chip that encodes it as a minimal integer would (the reader's
	// quirk "cam_short_ca_ic").
	CAMShortCAIC bool

	// CAEmptyAnswer: Chip Authentication's GENERAL AUTHENTICATE (AES)
	// answers 9000 without data instead of 7C00 (the reader's quirk
	// "ca_empty_response").
	CAEmptyAnswer bool
}
