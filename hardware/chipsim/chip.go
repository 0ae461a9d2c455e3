package chipsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"borderid/hardware/vpcd"
	"borderid/internal/smcrypto"
)

// *Chip is what vpcd serves in a virtual reader.
var _ vpcd.Card = (*Chip)(nil)

// Chip is a software eMRTD chip. Its methods are safe to call from several
// goroutines (a mutex serialises them), but like a real card it holds one
// conversation: APDUs from two terminals would interleave.
type Chip struct {
	mu sync.Mutex

	// Fixed at New.
	atr            []byte
	mf, app        *dedicatedFile
	bacEnc, bacMAC []byte // 9303-11 §4.3.2 document basic access keys
	rand           io.Reader
	faults         Faults
	log            *slog.Logger
	ext            bool
	maxResponse    int
	requireBAC     bool
	eofWarning     bool
	keepOnPlain    bool
	aa             *aaSigner        // Active Authentication key (aa.go), nil without
	ca             *caKey           // Chip Authentication key (ca.go), nil without
	pace           *paceCard        // PACE passwords and offers (pace.go), never nil
	ta             *taAnchor        // Terminal Authentication trust point (ta.go), nil without
	clock          func() time.Time // the chip's date when the configuration gives none (ta.go)

	st    powerState
	stats Stats
}

// powerState is everything a chip forgets when it loses power.
type powerState struct {
	apdus     int // since power-on, for Faults
	torn      bool
	df        *dedicatedFile
	ef        *elementaryFile
	challenge []byte   // RND.IC of the last GET CHALLENGE, valid for the next command
	sess      *session // established secure messaging, nil without
	pending   []byte   // response data waiting for GET RESPONSE
	pendingSW statusWord
	pace      *paceState // PACE in progress (pace.go), nil without
	ca        caState    // Chip Authentication (ca.go)
	ta        taState    // Terminal Authentication (ta.go)
}

// Stats counts what the chip has seen since New.
type Stats struct {
	APDUs    int   // APDUs received (a torn chip's refused ones excluded)
	PowerOns int   // Reset calls
	BytesIn  int64 // command APDU bytes
	BytesOut int64 // response APDU bytes, status words included
}

// Option configures New.
type Option func(*Chip)

// WithRand sets the source of RND.IC and K.IC (default crypto/rand). Tests
// feed the worked examples' values through it.
func WithRand(r io.Reader) Option { return func(c *Chip) { c.rand = r } }

// WithFaults makes the chip misbehave as f says.
func WithFaults(f Faults) Option { return func(c *Chip) { c.faults = f } }

// WithLogger logs one debug line per APDU (number, INS, status word; never
// data or keys). Default: no logging.
func WithLogger(l *slog.Logger) Option { return func(c *Chip) { c.log = l } }

// New makes a powered-on chip holding a copy of id's files.
func New(id *Identity, opts ...Option) (*Chip, error) {
	r, err := id.resolve()
	if err != nil {
		return nil, err
	}
	c := &Chip{
		atr:         r.atr,
		rand:        rand.Reader,
		log:         slog.New(slog.DiscardHandler),
		ext:         id.Config.ExtendedLength,
		maxResponse: id.Config.maxResponse(),
		requireBAC:  id.Config.requireBAC(),
		eofWarning:  id.Config.EOFWarning,
		keepOnPlain: id.Config.KeepSessionOnPlain,
		aa:          r.aa,
		pace:        r.pace,
		ca:          r.ca,
		ta:          r.ta,
	}
	for _, o := range opts {
		o(c)
	}
	if c.rand == nil || c.log == nil {
		return nil, fmt.Errorf("chipsim: nil random source or logger")
	}
	// 9303-11 §9.7.2: Kseed = first 16 bytes of SHA-1(MRZ_information).
	sum := sha1.Sum([]byte(r.mrzInfo))
	if c.bacEnc, err = smcrypto.DeriveKey(smcrypto.TDES, sum[:16], smcrypto.CounterEnc); err != nil {
		return nil, err
	}
	if c.bacMAC, err = smcrypto.DeriveKey(smcrypto.TDES, sum[:16], smcrypto.CounterMAC); err != nil {
		return nil, err
	}
	var atrInfo []byte
	if c.ext {
		atrInfo = defaultATRInfo(0xFFFF, min(c.maxResponse, maxResponseData))
	}
	files := make(map[string][]byte, len(id.Files))
	for k, v := range id.Files {
		files[k] = bytes.Clone(v)
	}
	c.mf, c.app = buildFileSystem(files, atrInfo)
	c.st = powerState{df: c.mf}
	return c, nil
}

// ATR returns the Answer To Reset.
func (c *Chip) ATR() []byte { return bytes.Clone(c.atr) }

// Reset is a power cycle: the secure messaging session, the selected
// application and file, a pending challenge and the fault counters are
// gone, and a torn chip is back in the field.
func (c *Chip) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st = powerState{df: c.mf}
	c.stats.PowerOns++
}

// Stats returns the counters.
func (c *Chip) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Transmit answers one command APDU with a response APDU (data || SW1 SW2).
// It returns an error only when there is no response: the context is done,
// or the chip was torn from the field (an error wrapping ErrTorn).
func (c *Chip) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if d := c.faults.Latency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.torn {
		return nil, fmt.Errorf("chipsim: chip has left the field: %w", ErrTorn)
	}
	c.st.apdus++
	n := c.st.apdus
	if t := c.faults.TearAfter; t > 0 && n > t {
		c.st = powerState{df: c.mf, torn: true}
		return nil, fmt.Errorf("chipsim: torn before APDU %d: %w", n, ErrTorn)
	}
	c.stats.APDUs++
	c.stats.BytesIn += int64(len(apdu))
	resp := c.process(apdu, n)
	c.stats.BytesOut += int64(len(resp))
	if c.log.Enabled(ctx, slog.LevelDebug) {
		var ins instruction
		if len(apdu) > 1 {
			ins = instruction(apdu[1])
		}
		sw := statusWord(resp[len(resp)-2])<<8 | statusWord(resp[len(resp)-1])
		c.log.LogAttrs(ctx, slog.LevelDebug, "chipsim apdu", slog.Int("n", n),
			slog.String("ins", ins.String()), slog.String("sw", sw.String()),
			slog.Bool("sm", c.st.sess != nil))
	}
	return resp, nil
}

// process answers one APDU; the response always ends in a status word.
func (c *Chip) process(apdu []byte, n int) []byte {
	pending, pendingSW := c.st.pending, c.st.pendingSW
	c.st.pending = nil
	cmd, sw := parseCommand(apdu, c.ext)
	if sw != 0 {
		return c.unprotected(sw)
	}
	// claChain: PACE's GENERAL AUTHENTICATE steps 1-3 (pace.go).
	if cmd.cla != claPlain && cmd.cla != claSM && cmd.cla != claChain {
		return c.unprotected(swCLANotSupported)
	}
	if n == c.faults.DropSMAt {
		c.st.sess = nil
		return swSMObjectsMissing.append(nil)
	}
	// GET RESPONSE is a transport-level command (ISO/IEC 7816-3 T=0): it
	// is never protected and does not count in the SSC.
	if cmd.cla == claPlain && cmd.ins == insGetResponse && pending != nil {
		return c.getResponse(cmd, pending, pendingSW)
	}
	if c.st.sess == nil {
		if cmd.cla == claSM {
			return swSMNotSupported.append(nil)
		}
		r := c.execute(cmd, maxResponseData)
		return c.viaGetResponse(r, r.sw.append(r.data))
	}
	// 9303-11 §9.8: once secure messaging is established every command
	// must be protected; a plain one ends the session (real chips do).
	if cmd.cla != claSM {
		if !c.keepOnPlain {
			c.st.sess = nil
		}
		return swSecurityStatus.append(nil)
	}
	s := c.st.sess
	inner, sw := s.unwrap(cmd)
	if sw != 0 {
		c.st.sess = nil
		return sw.append(nil)
	}
	outerNe := cmd.ne
	if outerNe == 0 {
		outerNe = maxShortNe
		if cmd.extended {
			outerNe = maxExtendedNe
		}
	}
	// max_response bounds the response data field, here the protected
	// data objects, as EF.ATR/INFO advertises it (atr.go).
	outerNe = min(outerNe, maxResponseData, c.maxResponse)
	odd := inner.ins&1 == 1
	do99 := !c.faults.OmitDO99
	var r result
	if inner.ne > maxShortNe && !c.ext {
		r = status(swWrongLength)
	} else {
		r = c.execute(inner, s.maxPlain(outerNe, odd, do99))
	}
	if n == c.faults.PlainSuccessAt {
		return swOK.append(r.data)
	}
	if c.faults.UnprotectedErrors && r.sw.isError() {
		return r.sw.append(nil)
	}
	resp, err := s.wrap(r.data, r.sw, odd, do99)
	if err != nil {
		c.st.sess = nil
		return swNoDiagnosis.append(nil)
	}
	if n == c.faults.CorruptMACAt {
		resp[len(resp)-3] ^= 0x01 // last byte of the DO8E value
	}
	return c.viaGetResponse(r, resp)
}

// unprotected answers a status word alone. During a session this ends it:
// the chip answered without a MAC, so the terminal can no longer trust
// the session's SSC.
func (c *Chip) unprotected(sw statusWord) []byte {
	c.st.sess = nil
	return sw.append(nil)
}

// execute runs a plain (or unwrapped) command. respLimit is the largest
// response data that fits once wrapped.
func (c *Chip) execute(cmd command, respLimit int) result {
	if cmd.ins != insExternalAuthenticate {
		c.st.challenge = nil // a challenge is good for the next command only
	}
	if cmd.cla == claChain && cmd.ins != insGeneralAuthenticate {
		return status(swChainingNotSupported) // only PACE chains (pace.go)
	}
	if !c.pace.bac && c.st.sess == nil &&
		(cmd.ins == insGetChallenge || cmd.ins == insExternalAuthenticate) {
		return status(swSecurityStatus) // a PACE-only chip refuses BAC (pace.go)
	}
	switch cmd.ins {
	case insSelect:
		return c.selectFile(cmd)
	case insReadBinary, insReadBinaryOdd:
		return c.readBinary(cmd, respLimit)
	case insGetChallenge:
		return c.getChallenge(cmd)
	case insExternalAuthenticate:
		return c.externalAuthenticate(cmd)
	case insManageSE:
		return c.manageSecurityEnvironment(cmd)
	case insGeneralAuthenticate:
		if c.caPending() && cmd.cla != claChain { // after MSE:Set AT 41A4 (ca.go)
			return c.caGeneralAuthenticate(cmd)
		}
		return c.generalAuthenticate(cmd)
	case insInternalAuthenticate:
		return c.internalAuthenticate(cmd, respLimit)
	case insGetResponse:
		return status(swConditionsOfUse) // nothing is pending
	case insPerformSecurityOperation:
		return c.performSecurityOperation(cmd)
	}
	return status(swINSNotSupported)
}

// manageSecurityEnvironment routes MANAGE SECURITY ENVIRONMENT (ISO/IEC
// 7816-4 §11.5.11) by P1-P2 to the protocol that owns it: one case per
// protocol, each in its own file.
func (c *Chip) manageSecurityEnvironment(cmd command) result {
	switch uint16(cmd.p1)<<8 | uint16(cmd.p2) {
	case 0xC1A4: // Set AT for PACE (9303-11 §4.4.4.1)
		return c.paceSetAT(cmd)
	case 0x41A4: // Set AT for Chip Authentication (ca.go)
		return c.caSetAT(cmd)
	case 0x41A6: // Set KAT for Chip Authentication with 3DES (ca.go)
		return c.caSetKAT(cmd)
	case taP1P2SetDST, taP1P2SetAT: // Terminal Authentication (ta.go)
		return c.manageSecurityEnvironmentTA(cmd)
	}
	return status(swWrongP1P2)
}

// viaGetResponse applies Faults.SelectGetResponse: the complete response
// of a SELECT with FCP is kept for GET RESPONSE and 61xx goes out instead
// (ISO/IEC 7816-3 §12.2.2 case 4 under T=0).
func (c *Chip) viaGetResponse(r result, resp []byte) []byte {
	if !r.fcp || !c.faults.SelectGetResponse || len(resp) <= 2 {
		return resp
	}
	c.st.pending = resp[:len(resp)-2]
	c.st.pendingSW = statusWord(resp[len(resp)-2])<<8 | statusWord(resp[len(resp)-1])
	return []byte{0x61, byte(min(len(c.st.pending), 256))} // 6100: 256 or more
}

// getResponse is GET RESPONSE (ISO/IEC 7816-4 §11.7.1): up to Ne bytes of
// what is pending, then 61xx while more remains or the original status
// word at the end.
func (c *Chip) getResponse(cmd command, pending []byte, sw statusWord) []byte {
	if cmd.p1 != 0 || cmd.p2 != 0 {
		return swWrongP1P2.append(nil)
	}
	if cmd.data != nil || cmd.ne == 0 {
		return swWrongLength.append(nil)
	}
	n := min(cmd.ne, len(pending))
	out := bytes.Clone(pending[:n])
	if rest := pending[n:]; len(rest) > 0 {
		c.st.pending, c.st.pendingSW = rest, sw
		return append(out, 0x61, byte(min(len(rest), 256)))
	}
	return sw.append(out)
}

// SetSecureMessaging puts the chip into an established secure messaging
// session with the given keys and send sequence counter (the value before
// the next command's increment), as if access control had just succeeded.
// Tests of AES secure messaging use it before PACE exists; PACE will end
// the same way. The application is not selected by this call.
func (c *Chip) SetSecureMessaging(ci smcrypto.Cipher, kenc, kmac, ssc []byte) error {
	s, err := newSession(ci, kenc, kmac, ssc)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.sess = s
	return nil
}
