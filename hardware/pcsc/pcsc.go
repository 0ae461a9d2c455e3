// Package pcsc is a small cgo binding to pcsc-lite (libpcsclite), the
// PC/SC middleware of Linux: the SCard* API of the PC/SC Workgroup
// specification part 5, as implemented by pcscd.
//
// A caller establishes a Context, finds a reader, waits for a card and
// connects:
//
//	pc, err := pcsc.EstablishContext()      // fails with ErrNoService when pcscd is not running
//	defer pc.Release()
//	readers, err := pc.ListReaders()        // ErrNoReaders when there is none
//	name, err := pc.WaitForCard(ctx, readers)
//	card, err := pc.Connect(name, pcsc.ShareExclusive, pcsc.ProtocolT0|pcsc.ProtocolT1)
//	defer card.Disconnect(pcsc.LeaveCard)
//	resp, err := card.Transmit(ctx, apdu)   // resp = data || SW1 SW2; *Card is a reader.Transport
//
// Errors wrap a typed Error (the SCARD_* code); callers branch on the
// sentinels (ErrNoService, ErrNoReaders, ErrReaderUnavailable, ErrNoCard,
// ErrCardRemoved, ErrSharingViolation, ErrTimeout, ErrCancelled) with
// errors.Is.
//
// Concurrency: a Context and the Cards connected through it are used by one
// goroutine at a time. The one exception is cancellation: a GetStatusChange
// (and so WaitForCard/WaitForRemoval) blocked in pcscd is interrupted from
// another goroutine through SCardCancel when its context.Context is done.
// Separate Contexts may be used from separate goroutines freely.
//
// The package holds no global state: each Context owns its pcsc-lite
// handle and each Card its receive buffer.
//
// Deliberately not done: SCardControl (reader escape commands, PIN pads),
// transactions (SCardBeginTransaction), attributes (SCardGetAttrib),
// reconnect, and the raw protocol. A transmit that is in progress cannot be
// cancelled: pcsc-lite has no way to interrupt it (the context is checked
// before sending).
package pcsc

/*
#cgo pkg-config: libpcsclite
#include <stdlib.h>
#include <string.h>
#include <winscard.h>
#include <reader.h>

// Accessors: cgo cannot take the address of pcsc-lite's PCI globals
// portably through the SCARD_PCI_* macros.
static const SCARD_IO_REQUEST *pci_t0(void) { return SCARD_PCI_T0; }
static const SCARD_IO_REQUEST *pci_t1(void) { return SCARD_PCI_T1; }
*/
import "C"

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"
)

// ShareMode is the dwShareMode of SCardConnect.
type ShareMode uint32

// Share modes (pcsclite.h).
const (
	ShareExclusive ShareMode = 0x0001 // SCARD_SHARE_EXCLUSIVE: no other connection to the card
	ShareShared    ShareMode = 0x0002 // SCARD_SHARE_SHARED
	ShareDirect    ShareMode = 0x0003 // SCARD_SHARE_DIRECT: the reader, no card needed
)

func (s ShareMode) String() string {
	switch s {
	case ShareExclusive:
		return "exclusive"
	case ShareShared:
		return "shared"
	case ShareDirect:
		return "direct"
	}
	return fmt.Sprintf("ShareMode(%d)", uint32(s))
}

// Protocol is a set of transmission protocols (SCARD_PROTOCOL_*).
type Protocol uint32

// Protocols (pcsclite.h). Connect takes a set; Card.Protocol is the one
// negotiated.
const (
	ProtocolUndefined Protocol = 0x0000
	ProtocolT0        Protocol = 0x0001 // ISO/IEC 7816-3 T=0
	ProtocolT1        Protocol = 0x0002 // ISO/IEC 7816-3 T=1
	ProtocolRaw       Protocol = 0x0004
)

func (p Protocol) String() string {
	switch p {
	case ProtocolUndefined:
		return "undefined"
	case ProtocolT0:
		return "T=0"
	case ProtocolT1:
		return "T=1"
	case ProtocolT0 | ProtocolT1:
		return "T=0|T=1"
	case ProtocolRaw:
		return "raw"
	}
	return fmt.Sprintf("Protocol(0x%x)", uint32(p))
}

// Disposition says what happens to the card at Disconnect.
type Disposition uint32

// Dispositions (pcsclite.h).
const (
	LeaveCard   Disposition = 0x0000 // SCARD_LEAVE_CARD
	ResetCard   Disposition = 0x0001 // SCARD_RESET_CARD: warm reset, the chip's session state is lost
	UnpowerCard Disposition = 0x0002 // SCARD_UNPOWER_CARD
	EjectCard   Disposition = 0x0003 // SCARD_EJECT_CARD
)

func (d Disposition) String() string {
	switch d {
	case LeaveCard:
		return "leave"
	case ResetCard:
		return "reset"
	case UnpowerCard:
		return "unpower"
	case EjectCard:
		return "eject"
	}
	return fmt.Sprintf("Disposition(%d)", uint32(d))
}

// StateFlag is a reader state bit set (SCARD_STATE_*), as used in
// ReaderState.
type StateFlag uint32

// Reader state flags (pcsclite.h). The high 16 bits of an event state hold
// pcsc-lite's event counter; pass EventState back as CurrentState to wait
// for the next change.
const (
	StateUnaware     StateFlag = 0x0000
	StateIgnore      StateFlag = 0x0001
	StateChanged     StateFlag = 0x0002
	StateUnknown     StateFlag = 0x0004
	StateUnavailable StateFlag = 0x0008
	StateEmpty       StateFlag = 0x0010
	StatePresent     StateFlag = 0x0020
	StateAtrMatch    StateFlag = 0x0040
	StateExclusive   StateFlag = 0x0080
	StateInUse       StateFlag = 0x0100
	StateMute        StateFlag = 0x0200
	StateUnpowered   StateFlag = 0x0400
)

func (s StateFlag) String() string {
	names := []struct {
		f StateFlag
		n string
	}{
		{StateIgnore, "ignore"}, {StateChanged, "changed"}, {StateUnknown, "unknown"},
		{StateUnavailable, "unavailable"}, {StateEmpty, "empty"}, {StatePresent, "present"},
		{StateAtrMatch, "atrmatch"}, {StateExclusive, "exclusive"}, {StateInUse, "inuse"},
		{StateMute, "mute"}, {StateUnpowered, "unpowered"},
	}
	var b bytes.Buffer
	for _, x := range names {
		if s&x.f != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(x.n)
		}
	}
	if b.Len() == 0 {
		b.WriteString("unaware")
	}
	if c := uint32(s) >> 16; c != 0 {
		fmt.Fprintf(&b, "(events=%d)", c)
	}
	return b.String()
}

// ReaderState is one entry of SCardGetStatusChange: the reader, the state
// the caller knows about, and (filled in) the current state and ATR.
type ReaderState struct {
	Reader       string
	CurrentState StateFlag
	EventState   StateFlag
	ATR          []byte
}

// Infinite as a GetStatusChange timeout waits until a change happens or
// the context is done.
const Infinite time.Duration = -1

// Limits that protect the C calls.
const (
	maxReaders       = 64        // SCardGetStatusChange entries per call (PCSCLITE_MAX_READERS_CONTEXTS is 16)
	maxReaderListLen = 64 * 1024 // bytes of the multi-string returned by SCardListReaders
	maxCommandLen    = 65536 + 9 // extended APDU: header 4 + Lc 3 + 65535 data + Le 2
	recvBufferLen    = 65536 + 2 // extended response: 65536 data + SW1 SW2
	atrMaxLen        = C.MAX_ATR_SIZE
)

// Context is a pcsc-lite application context (SCardEstablishContext).
type Context struct {
	h        C.SCARDCONTEXT
	released bool
}

func scardErr(op string, rv C.LONG) error {
	return fmt.Errorf("pcsc: %s: %w", op, Error(uint32(rv)))
}

// EstablishContext connects to pcscd. It fails with an error matching
// ErrNoService when pcscd is not running.
func EstablishContext() (*Context, error) {
	var h C.SCARDCONTEXT
	rv := C.SCardEstablishContext(C.SCARD_SCOPE_SYSTEM, nil, nil, &h)
	if rv != C.SCARD_S_SUCCESS {
		return nil, scardErr("SCardEstablishContext", rv)
	}
	return &Context{h: h}, nil
}

// Release releases the context (SCardReleaseContext). Cards connected
// through it become unusable. Releasing twice is a no-op.
func (c *Context) Release() error {
	if c == nil || c.released {
		return nil
	}
	c.released = true
	if rv := C.SCardReleaseContext(c.h); rv != C.SCARD_S_SUCCESS {
		return scardErr("SCardReleaseContext", rv)
	}
	return nil
}

// ListReaders returns the names of the readers pcscd knows, in its order.
// It fails with an error matching ErrNoReaders when there is none.
func (c *Context) ListReaders() ([]string, error) {
	if c.released {
		return nil, ErrReleased
	}
	var n C.DWORD
	rv := C.SCardListReaders(c.h, nil, nil, &n)
	if rv != C.SCARD_S_SUCCESS {
		return nil, scardErr("SCardListReaders", rv)
	}
	if n == 0 || n > maxReaderListLen {
		return nil, fmt.Errorf("pcsc: SCardListReaders: implausible list length %d", n)
	}
	buf := (*C.char)(C.calloc(C.size_t(n), 1))
	if buf == nil {
		return nil, scardErr("SCardListReaders", C.LONG(ErrCodeNoMemory))
	}
	defer C.free(unsafe.Pointer(buf))
	rv = C.SCardListReaders(c.h, nil, buf, &n)
	if rv != C.SCARD_S_SUCCESS {
		return nil, scardErr("SCardListReaders", rv)
	}
	if n > maxReaderListLen {
		return nil, fmt.Errorf("pcsc: SCardListReaders: implausible list length %d", n)
	}
	names := parseMultiString(C.GoBytes(unsafe.Pointer(buf), C.int(n)))
	if len(names) == 0 {
		return nil, scardErr("SCardListReaders", C.LONG(ErrCodeNoReadersAvailable))
	}
	return names, nil
}

// parseMultiString splits a PC/SC multi-string ("a\0b\0\0").
func parseMultiString(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			i = len(b) // unterminated: take the rest
		}
		if i == 0 {
			break // the empty string ends the list
		}
		out = append(out, string(b[:i]))
		if i == len(b) {
			break
		}
		b = b[i+1:]
	}
	return out
}

// GetStatusChange waits until the state of one of the readers differs
// from its CurrentState (SCardGetStatusChange), then fills in EventState
// and ATR of every entry. timeout bounds the wait (Infinite: no bound; 0:
// return the current states at once); when it expires the error matches
// ErrTimeout. When ctx is done first, the wait is cancelled with
// SCardCancel and the error wraps ctx.Err() and matches ErrCancelled.
func (c *Context) GetStatusChange(ctx context.Context, states []ReaderState, timeout time.Duration) error {
	if c.released {
		return ErrReleased
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pcsc: SCardGetStatusChange: %w", err)
	}
	if len(states) == 0 || len(states) > maxReaders {
		return fmt.Errorf("pcsc: SCardGetStatusChange: %d reader states (want 1..%d)", len(states), maxReaders)
	}
	// The wait is cut into slices of at most waitSlice: SCardCancel only
	// interrupts a call already waiting, so a cancellation that lands just
	// before the call starts would otherwise be lost and an infinite wait
	// would never end (seen as a hang of `read --wait 1s`).
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	// The array and the reader names live in C memory: cgo forbids
	// passing Go memory that holds Go pointers.
	size := C.size_t(len(states)) * C.size_t(unsafe.Sizeof(C.SCARD_READERSTATE{}))
	arr := (*C.SCARD_READERSTATE)(C.calloc(1, size))
	if arr == nil {
		return scardErr("SCardGetStatusChange", C.LONG(ErrCodeNoMemory))
	}
	defer C.free(unsafe.Pointer(arr))
	rs := unsafe.Slice(arr, len(states))
	for i := range states {
		name := C.CString(states[i].Reader)
		defer C.free(unsafe.Pointer(name))
		rs[i].szReader = name
		rs[i].dwCurrentState = C.DWORD(states[i].CurrentState)
	}

	// Cancellation: SCardCancel is the one call pcsc-lite allows on a
	// context from another thread while it waits. The watcher is stopped
	// and joined before returning, so it can never cancel a later call.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			C.SCardCancel(c.h)
		case <-stop:
		}
	}()
	var rv C.LONG
	for {
		slice := waitSlice
		if !deadline.IsZero() {
			slice = min(slice, max(time.Until(deadline), 0))
		}
		rv = C.SCardGetStatusChange(c.h, C.DWORD(slice.Milliseconds()), arr, C.DWORD(len(states)))
		if Error(uint32(rv)) != ErrCodeTimeout || ctx.Err() != nil || !deadline.IsZero() && !time.Now().Before(deadline) {
			break
		}
	}
	close(stop)
	wg.Wait()

	for i := range states {
		states[i].EventState = StateFlag(rs[i].dwEventState)
		n := int(rs[i].cbAtr)
		if n > atrMaxLen {
			n = atrMaxLen
		}
		states[i].ATR = C.GoBytes(unsafe.Pointer(&rs[i].rgbAtr[0]), C.int(n))
	}
	if rv != C.SCARD_S_SUCCESS {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("pcsc: SCardGetStatusChange: %w (%w)", err, ErrCodeCancelled)
		}
		return scardErr("SCardGetStatusChange", rv)
	}
	return nil
}

// waitSlice bounds one SCardGetStatusChange call (see GetStatusChange).
const waitSlice = 250 * time.Millisecond

// WaitForCard waits until one of readers holds a (responsive) card and
// returns the first such reader in the order given. With no readers it
// watches every reader pcscd knows now. It fails with ErrReaderUnavailable
// when every reader has disappeared.
func (c *Context) WaitForCard(ctx context.Context, readers []string) (string, error) {
	if len(readers) == 0 {
		var err error
		if readers, err = c.ListReaders(); err != nil {
			return "", err
		}
	}
	states := make([]ReaderState, len(readers))
	for i, r := range readers {
		states[i] = ReaderState{Reader: r, CurrentState: StateUnaware}
	}
	for {
		if err := c.GetStatusChange(ctx, states, Infinite); err != nil {
			return "", err
		}
		gone := 0
		for i := range states {
			ev := states[i].EventState
			if ev&StatePresent != 0 && ev&StateMute == 0 {
				return states[i].Reader, nil
			}
			if ev&(StateUnknown|StateUnavailable) != 0 {
				gone++
			}
			states[i].CurrentState = ev &^ StateChanged
		}
		if gone == len(states) {
			return "", fmt.Errorf("pcsc: WaitForCard: %w", Error(ErrCodeReaderUnavailable))
		}
	}
}

// WaitForRemoval waits until reader holds no card (or the reader itself is
// gone).
func (c *Context) WaitForRemoval(ctx context.Context, reader string) error {
	states := []ReaderState{{Reader: reader, CurrentState: StateUnaware}}
	for {
		if err := c.GetStatusChange(ctx, states, Infinite); err != nil {
			return err
		}
		ev := states[0].EventState
		if ev&(StateEmpty|StateUnknown|StateUnavailable) != 0 {
			return nil
		}
		states[0].CurrentState = ev &^ StateChanged
	}
}

// Card is a connection to the card in one reader (SCardConnect). It
// satisfies reader.Transport.
type Card struct {
	h        C.SCARDHANDLE
	reader   string
	protocol Protocol
	atr      []byte
	recv     []byte // receive buffer, reused; a Card is used by one goroutine at a time
	gone     bool
}

// Connect connects to the card in reader with the given share mode,
// accepting any of protocols (ProtocolT1, ProtocolT0 or both). The ATR is
// read once here.
func (c *Context) Connect(reader string, share ShareMode, protocols Protocol) (*Card, error) {
	if c.released {
		return nil, ErrReleased
	}
	name := C.CString(reader)
	defer C.free(unsafe.Pointer(name))
	var h C.SCARDHANDLE
	var active C.DWORD
	rv := C.SCardConnect(c.h, name, C.DWORD(share), C.DWORD(protocols), &h, &active)
	if rv != C.SCARD_S_SUCCESS {
		return nil, fmt.Errorf("pcsc: SCardConnect %q: %w", reader, Error(uint32(rv)))
	}
	card := &Card{h: h, reader: reader, protocol: Protocol(active)}
	st, err := card.status()
	if err != nil {
		C.SCardDisconnect(h, C.SCARD_LEAVE_CARD)
		return nil, err
	}
	card.atr = st.atr
	return card, nil
}

type cardStatus struct {
	state    uint32
	protocol Protocol
	atr      []byte
}

// status wraps SCardStatus (the reader name is not asked for).
func (k *Card) status() (cardStatus, error) {
	var atr [atrMaxLen]C.uchar
	var atrLen C.DWORD = atrMaxLen
	var state, proto C.DWORD
	var nameLen C.DWORD = 0
	rv := C.SCardStatus(k.h, nil, &nameLen, &state, &proto, (*C.uchar)(&atr[0]), &atrLen)
	if rv != C.SCARD_S_SUCCESS {
		return cardStatus{}, scardErr("SCardStatus", rv)
	}
	n := int(atrLen)
	if n > atrMaxLen {
		n = atrMaxLen
	}
	return cardStatus{
		state:    uint32(state),
		protocol: Protocol(proto),
		atr:      C.GoBytes(unsafe.Pointer(&atr[0]), C.int(n)),
	}, nil
}

// ATR returns the card's Answer To Reset as read at Connect.
func (k *Card) ATR() []byte { return bytes.Clone(k.atr) }

// Protocol returns the protocol negotiated at Connect.
func (k *Card) Protocol() Protocol { return k.protocol }

// Reader returns the name of the reader the card is in.
func (k *Card) Reader() string { return k.reader }

// Transmit sends one command APDU (short or extended) and returns the
// response APDU, data followed by SW1 SW2 (SCardTransmit with the PCI of
// the negotiated protocol). ctx is checked before sending: pcsc-lite
// cannot interrupt a transmission in progress. A card removed, reset or
// unpowered under us gives an error matching ErrCardRemoved.
func (k *Card) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if k.gone {
		return nil, ErrReleased
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pcsc: transmit: %w", err)
	}
	if len(apdu) < 4 || len(apdu) > maxCommandLen {
		return nil, fmt.Errorf("pcsc: transmit: command APDU of %d bytes (want 4..%d)", len(apdu), maxCommandLen)
	}
	var pci *C.SCARD_IO_REQUEST
	switch k.protocol {
	case ProtocolT0:
		pci = C.pci_t0()
	case ProtocolT1:
		pci = C.pci_t1()
	default:
		return nil, fmt.Errorf("pcsc: transmit: no PCI for protocol %v", k.protocol)
	}
	if k.recv == nil {
		k.recv = make([]byte, recvBufferLen)
	}
	n := C.DWORD(len(k.recv))
	rv := C.SCardTransmit(k.h, pci,
		(*C.uchar)(unsafe.Pointer(&apdu[0])), C.DWORD(len(apdu)),
		nil, (*C.uchar)(unsafe.Pointer(&k.recv[0])), &n)
	if rv != C.SCARD_S_SUCCESS {
		err := Error(uint32(rv))
		if errors.Is(err, ErrCardRemoved) {
			return nil, fmt.Errorf("pcsc: transmit: %w", err)
		}
		return nil, k.removedOr(ctx, fmt.Errorf("pcsc: transmit: %w", err))
	}
	if int(n) < 2 || int(n) > len(k.recv) {
		return nil, k.removedOr(ctx, fmt.Errorf("pcsc: transmit: response of %d bytes (want 2..%d)", n, len(k.recv)))
	}
	return bytes.Clone(k.recv[:n]), nil
}

// removalGrace is how long a failed transmission waits for pcscd to say
// whether the card left: pcscd polls readers about every 400 ms, and
// until then a card pulled mid-exchange shows only as a communication
// failure (SCARD_E_NOT_TRANSACTED) or an empty response.
const removalGrace = time.Second

// removedOr returns an error matching ErrCardRemoved if pcscd reports the
// card gone within removalGrace, else err.
func (k *Card) removedOr(ctx context.Context, err error) error {
	deadline := time.Now().Add(removalGrace)
	for {
		if _, serr := k.status(); serr != nil && errors.Is(serr, ErrCardRemoved) {
			return fmt.Errorf("%w (%w)", err, errors.Unwrap(serr))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// Disconnect ends the connection (SCardDisconnect), leaving, resetting,
// unpowering or ejecting the card. Disconnecting twice is a no-op.
func (k *Card) Disconnect(d Disposition) error {
	if k == nil || k.gone {
		return nil
	}
	k.gone = true
	if rv := C.SCardDisconnect(k.h, C.DWORD(d)); rv != C.SCARD_S_SUCCESS {
		return scardErr("SCardDisconnect", rv)
	}
	return nil
}
