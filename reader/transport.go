package reader

import "context"

// Transport moves one command APDU to a card and returns its complete
// response APDU (data followed by the two status bytes SW1 SW2).
//
// A PC/SC card (hardware/pcsc), the in-process software chip
// (hardware/chipsim) and test doubles all satisfy it. Implementations
// return an error only when no response was received (card removed,
// reader gone, context cancelled); a status word other than 9000 is a
// response, not an error.
type Transport interface {
	Transmit(ctx context.Context, apdu []byte) ([]byte, error)
}
