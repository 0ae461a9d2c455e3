package reader

import (
	"crypto/subtle"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"

	"borderid/internal/smcrypto"
)

// Secure messaging, ICAO 9303-11 §9.8 (with ISO/IEC 7816-4 §10): every
// command after access control is sent as CLA|0C with its data encrypted in
// DO87 (even INS; padding-content indicator 01 then the ciphertext) or DO85
// (odd INS; the ciphertext alone, since the plain value is BER-TLV), the
// expected length in DO97, and a MAC in DO8E over SSC || padded header ||
// data objects. Responses carry DO87/DO85, DO99 (the status word) and DO8E.
// The send sequence counter (SSC) is incremented before each command and
// before each response (9303-11 §9.8), and for AES it also yields the CBC IV as
// E(KSenc, SSC) (§9.8.6.2); for 3DES the IV is zero (§9.8.6.1).

// Secure messaging data object tags (ISO/IEC 7816-4 §10.2, 9303-11 §9.8).
const (
	tagDO85 = 0x85 // cryptogram, plain value BER-TLV encoded (odd INS)
	tagDO87 = 0x87 // padding-content indicator + cryptogram (even INS)
	tagDO8E = 0x8E // cryptographic checksum (MAC)
	tagDO97 = 0x97 // Le
	tagDO99 = 0x99 // processing status (SW1 SW2)

	paddingIndicator = 0x01 // ISO/IEC 9797-1 method 2 padding applied
	macLen           = 8
)

var (
	// ErrSecureMessaging: a secure messaging response could not be
	// authenticated or decoded. It always wraps one of the causes below.
	// The channel is unusable afterwards.
	ErrSecureMessaging = errors.New("reader: secure messaging")
	// ErrSMDropped: the chip answered 6987/6988 without protection, meaning
	// it terminated secure messaging. The errors returned are
	// *SMDroppedError values, which match ErrSMDropped with errors.Is.
	ErrSMDropped = errors.New("reader: chip dropped secure messaging")

	// Causes wrapped together with ErrSecureMessaging.
	ErrBadMAC      = errors.New("MAC does not verify")
	ErrMissingMAC  = errors.New("response data without MAC")
	ErrDowngrade   = errors.New("unprotected success under secure messaging")
	ErrMalformedSM = errors.New("malformed secure messaging data objects")
	ErrSWMismatch  = errors.New("status in DO99 differs from the status word")
	ErrSMState     = errors.New("secure messaging used out of sequence")
	// ErrUntrustedStatus: the chip dropped secure messaging, or a MAC
	// failed, after an unprotected error status had been accepted in the
	// same session (QuirkSMUnprotectedError). An attacker who replaces a
	// protected answer with an unprotected 6A82 makes the two send
	// sequence counters drift, and the chip's next answer is exactly such
	// a failure; so the earlier unprotected status cannot be trusted and
	// the session is not re-established behind it.
	ErrUntrustedStatus = errors.New("an earlier unprotected status word cannot be trusted")
)

// SMDroppedError reports the unprotected 6987/6988 with which a chip left
// secure messaging.
type SMDroppedError struct{ SW StatusWord }

func (e *SMDroppedError) Error() string {
	return fmt.Sprintf("reader: chip dropped secure messaging (unprotected %v)", e.SW)
}

// Is makes errors.Is(err, ErrSMDropped) true.
func (e *SMDroppedError) Is(target error) bool { return target == ErrSMDropped }

// SecureMessaging protects commands and unprotects responses for one
// secure messaging session. Each Protect must be followed by exactly one
// Unprotect of the chip's answer to that command. After any error from
// Unprotect the session is finished and every later call fails.
type SecureMessaging interface {
	// Protect returns the encoded protected command APDU for cmd.
	Protect(cmd Command) ([]byte, error)
	// Unprotect verifies and decodes the complete response APDU (data ||
	// SW1 SW2) to the last protected command. Data is returned only when
	// its MAC verifies.
	Unprotect(resp []byte) (Response, error)
	// Cipher is the session's cipher; it decides the length rules.
	Cipher() smcrypto.Cipher
	// Quirks lists, in order first seen, the quirks this session took.
	Quirks() []Quirk
}

// NewSM returns a secure messaging session with the given session keys and
// initial send sequence counter (9303-11 §9.8): BAC derives them in
// §4.3.3, PACE in §4.4. kenc and kmac must have the cipher's key size,
// ssc its block size; they are copied.
func NewSM(c smcrypto.Cipher, kenc, kmac, ssc []byte) (SecureMessaging, error) {
	bs := c.BlockSize()
	if bs == 0 {
		return nil, fmt.Errorf("reader: secure messaging: %w", smcrypto.ErrCipher)
	}
	if len(kenc) != c.KeySize() || len(kmac) != c.KeySize() {
		return nil, fmt.Errorf("reader: secure messaging %v needs %d-byte keys: %w", c, c.KeySize(), smcrypto.ErrCipher)
	}
	if len(ssc) != bs {
		return nil, fmt.Errorf("reader: secure messaging %v needs a %d-byte SSC: %w", c, bs, smcrypto.ErrCipher)
	}
	// Fail now rather than on the first command if the key is unusable.
	if _, err := smcrypto.NewBlock(c, kenc); err != nil {
		return nil, fmt.Errorf("reader: secure messaging: %w", err)
	}
	return &sm{
		c:    c,
		kenc: append([]byte(nil), kenc...),
		kmac: append([]byte(nil), kmac...),
		ssc:  append([]byte(nil), ssc...),
	}, nil
}

type sm struct {
	c          smcrypto.Cipher
	kenc, kmac []byte
	ssc        []byte
	pending    bool
	failed     error
	quirks     []Quirk
	// unprotected: an unprotected error status was accepted in this
	// session (QuirkSMUnprotectedError); a later drop or MAC failure then
	// fails with ErrUntrustedStatus.
	unprotected bool
}

func (s *sm) Cipher() smcrypto.Cipher { return s.c }

func (s *sm) Quirks() []Quirk { return append([]Quirk(nil), s.quirks...) }

func (s *sm) addQuirk(q Quirk) {
	for _, have := range s.quirks {
		if have == q {
			return
		}
	}
	s.quirks = append(s.quirks, q)
}

// incSSC increments a big-endian counter in place.
func incSSC(ssc []byte) {
	for i := len(ssc) - 1; i >= 0; i-- {
		ssc[i]++
		if ssc[i] != 0 {
			return
		}
	}
}

// appendTLV appends a one-byte tag, a BER length (ISO/IEC 7816-4 §6.3) and
// the value. Callers keep values below 65536 bytes.
func appendTLV(b []byte, tag byte, v []byte) []byte {
	b = append(b, tag)
	switch n := len(v); {
	case n < 0x80:
		b = append(b, byte(n))
	case n < 0x100:
		b = append(b, 0x81, byte(n))
	default:
		b = append(b, 0x82, byte(n>>8), byte(n))
	}
	return append(b, v...)
}

// berLenSize is the size of the BER length field for n.
func berLenSize(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n < 0x100:
		return 2
	case n < 0x10000:
		return 3
	}
	return 4
}

// readTLV reads one data object with a single-byte tag and a BER length
// of at most three bytes (81 xx, 82 xxxx). Non-minimal length encodings
// are accepted: BER allows them and some chips use them; the MAC covers
// the bytes as received. raw is the whole object.
func readTLV(s *cryptobyte.String) (tag byte, value, raw []byte, ok bool) {
	start := *s
	var l0 uint8
	if !s.ReadUint8(&tag) || !s.ReadUint8(&l0) {
		return 0, nil, nil, false
	}
	n := int(l0)
	switch {
	case l0 < 0x80:
	case l0 == 0x81:
		var l uint8
		if !s.ReadUint8(&l) {
			return 0, nil, nil, false
		}
		n = int(l)
	case l0 == 0x82:
		var l uint16
		if !s.ReadUint16(&l) {
			return 0, nil, nil, false
		}
		n = int(l)
	default:
		return 0, nil, nil, false
	}
	if !s.ReadBytes(&value, n) {
		return 0, nil, nil, false
	}
	raw = start[:len(start)-len(*s)]
	return tag, value, raw, true
}

// encodeLe is the content of DO97: Ne as a short (one byte, 256 = 00) or
// extended (two bytes, 65536 = 0000) Le field (9303-11 §9.8, printed in
// App. D.4 as 97 01 04).
func encodeLe(ne int, extended bool) []byte {
	if extended {
		return []byte{byte(ne >> 8), byte(ne)}
	}
	return []byte{byte(ne)}
}

func (s *sm) Protect(cmd Command) ([]byte, error) {
	if s.failed != nil {
		return nil, fmt.Errorf("%w: session ended: %w", ErrSecureMessaging, s.failed)
	}
	if s.pending {
		return nil, fmt.Errorf("%w: %w: command protected before the previous response was processed", ErrSecureMessaging, ErrSMState)
	}
	if cmd.CLA&0x0C != 0 || cmd.CLA&0x80 != 0 {
		return nil, fmt.Errorf("%w: CLA %02X cannot be protected", ErrInvalidCommand, cmd.CLA)
	}
	if _, err := cmd.Bytes(); err != nil {
		return nil, err
	}
	bs := s.c.BlockSize()
	ssc := append([]byte(nil), s.ssc...)
	incSSC(ssc)

	cla := cmd.CLA | 0x0C // 9303-11 §9.8, ISO/IEC 7816-4 §5.4.1: CLA b4-b3 = 11 indicates secure messaging with an authenticated header
	var dos []byte
	if len(cmd.Data) > 0 {
		iv, err := smcrypto.SSCIV(s.c, s.kenc, ssc)
		if err != nil {
			return nil, err
		}
		ct, err := smcrypto.EncryptCBC(s.c, s.kenc, iv, smcrypto.Pad(cmd.Data, bs))
		if err != nil {
			return nil, err
		}
		if cmd.INS&1 == 1 {
			// Odd INS: the plain data is BER-TLV, so it goes in DO85
			// without a padding-content indicator.
			dos = appendTLV(dos, tagDO85, ct)
		} else {
			dos = appendTLV(dos, tagDO87, append([]byte{paddingIndicator}, ct...))
		}
	}
	extended := cmd.Extended()
	if cmd.Ne > 0 {
		dos = appendTLV(dos, tagDO97, encodeLe(cmd.Ne, extended))
	}
	// Command MAC (9303-11 §9.8): over SSC || pad(CLA INS P1 P2) || DOs, padded.
	macIn := make([]byte, 0, len(ssc)+bs+len(dos))
	macIn = append(macIn, ssc...)
	macIn = append(macIn, smcrypto.Pad([]byte{cla, cmd.INS, cmd.P1, cmd.P2}, bs)...)
	macIn = append(macIn, dos...)
	mac, err := smcrypto.MAC(s.c, s.kmac, macIn)
	if err != nil {
		return nil, err
	}
	dos = appendTLV(dos, tagDO8E, mac)

	// The protected command always expects a response (DO99, DO8E). With
	// short APDUs Le is 00 (9303-11 §9.8, App. D.4). In the extended form
	// (the plain command or the protected data needs it) Le is the size of
	// the protected answer to the plain Ne, not 0000: a chip that
	// advertised a smaller maximum in EF.ATR/INFO (ISO/IEC 7816-4
	// §12.7.1) must not be asked for more than it takes, and the reader's
	// chunk keeps that size within the advertised maximum.
	pc := Command{CLA: cla, INS: cmd.INS, P1: cmd.P1, P2: cmd.P2, Data: dos, Ne: MaxShortNe}
	if extended || len(dos) > MaxShortNc {
		pc.Ne = min(protectedSize(s.c, cmd.Ne, cmd.INS&1 == 1), MaxExtendedNe)
	}
	out, err := pc.Bytes()
	if err != nil {
		return nil, err
	}
	s.ssc = ssc
	s.pending = true
	return out, nil
}

func (s *sm) fail(err error) error {
	s.failed = err
	return err
}

func (s *sm) Unprotect(resp []byte) (Response, error) {
	if s.failed != nil {
		return Response{}, fmt.Errorf("%w: session ended: %w", ErrSecureMessaging, s.failed)
	}
	if !s.pending {
		return Response{}, fmt.Errorf("%w: %w: response without a protected command", ErrSecureMessaging, ErrSMState)
	}
	s.pending = false
	r, err := ParseResponse(resp)
	if err != nil {
		return Response{}, s.fail(fmt.Errorf("%w: %w: %w", ErrSecureMessaging, ErrMalformedSM, err))
	}
	if len(r.Data) == 0 {
		switch {
		case (r.SW == SWSMDataObjectsMissing || r.SW == SWSMDataObjectsIncorrect) && s.unprotected:
			// After an unprotected error was taken, a drop is what an
			// injected status produces (the counters drifted): fail
			// rather than let the caller redo access control behind it.
			return Response{}, s.fail(fmt.Errorf("%w: %w: chip dropped secure messaging (unprotected %v) after an unprotected error status was accepted",
				ErrSecureMessaging, ErrUntrustedStatus, r.SW))
		case r.SW == SWSMDataObjectsMissing || r.SW == SWSMDataObjectsIncorrect:
			// 9303-11 §9.8 (SM errors): the chip aborts secure
			// messaging and answers in plain.
			return Response{}, s.fail(&SMDroppedError{SW: r.SW})
		case r.SW == SWSuccess || r.SW.Warning():
			return Response{}, s.fail(fmt.Errorf("%w: %w: %v", ErrSecureMessaging, ErrDowngrade, r.SW))
		case r.SW.SW1() == 0x61:
			// Session.Transmit fetches 61xx remainders with GET RESPONSE
			// before unprotecting; one here is out of place.
			return Response{}, s.fail(fmt.Errorf("%w: %w: unprotected %v", ErrSecureMessaging, ErrMalformedSM, r.SW))
		}
		// Quirk: an error answered in plain (6Cxx included: the caller
		// steps down). The chip did not count a response, so neither do
		// we. No data is returned. The status is not authenticated: the
		// caller must not take it as proof (Session records it apart),
		// and a later drop or MAC failure ends the session for good.
		s.addQuirk(QuirkSMUnprotectedError)
		s.unprotected = true
		return Response{SW: r.SW}, nil
	}

	// Parse DO85/DO87, DO99, DO8E in that order, each at most once; DO8E last.
	var (
		crypto, status, mac []byte
		cryptoTag           byte
		macIn               []byte
	)
	in := cryptobyte.String(r.Data)
	for !in.Empty() {
		tag, v, raw, ok := readTLV(&in)
		if !ok {
			return Response{}, s.fail(s.unprotectedOr(r.SW, fmt.Errorf("%w: %w: truncated data object", ErrSecureMessaging, ErrMalformedSM)))
		}
		switch {
		case (tag == tagDO87 || tag == tagDO85) && crypto == nil && status == nil && mac == nil:
			crypto, cryptoTag = v, tag
			macIn = append(macIn, raw...)
		case tag == tagDO99 && status == nil && mac == nil:
			if len(v) != 2 {
				return Response{}, s.fail(fmt.Errorf("%w: %w: DO99 of %d bytes", ErrSecureMessaging, ErrMalformedSM, len(v)))
			}
			status = v
			macIn = append(macIn, raw...)
		case tag == tagDO8E && mac == nil:
			if len(v) != macLen {
				return Response{}, s.fail(fmt.Errorf("%w: %w: DO8E of %d bytes", ErrSecureMessaging, ErrMalformedSM, len(v)))
			}
			mac = v
		default:
			err := fmt.Errorf("%w: %w: unexpected data object %02X", ErrSecureMessaging, ErrMalformedSM, tag)
			if mac == nil {
				// Nothing here looks protected: classify as a downgrade
				// when the status claims success.
				err = s.unprotectedOr(r.SW, err)
			}
			return Response{}, s.fail(err)
		}
	}
	if mac == nil {
		return Response{}, s.fail(s.unprotectedOr(r.SW, fmt.Errorf("%w: %w", ErrSecureMessaging, ErrMissingMAC)))
	}

	ssc := append([]byte(nil), s.ssc...)
	incSSC(ssc)
	// Response MAC (9303-11 §9.8): over SSC || DO85/87 || DO99, padded.
	want, err := smcrypto.MAC(s.c, s.kmac, append(append([]byte(nil), ssc...), macIn...))
	if err != nil {
		return Response{}, s.fail(fmt.Errorf("%w: %w", ErrSecureMessaging, err))
	}
	if subtle.ConstantTimeCompare(want, mac) != 1 {
		if s.unprotected {
			return Response{}, s.fail(fmt.Errorf("%w: %w after an unprotected error status was accepted: %w", ErrSecureMessaging, ErrBadMAC, ErrUntrustedStatus))
		}
		return Response{}, s.fail(fmt.Errorf("%w: %w", ErrSecureMessaging, ErrBadMAC))
	}
	s.ssc = ssc

	out := Response{SW: r.SW}
	if status != nil {
		if sw := StatusWord(uint16(status[0])<<8 | uint16(status[1])); sw != r.SW {
			return Response{}, s.fail(fmt.Errorf("%w: %w: DO99 %04X, trailer %04X", ErrSecureMessaging, ErrSWMismatch, uint16(sw), uint16(r.SW)))
		}
	} else {
		// Without DO99 the MAC does not cover the status word, and the
		// trailer drives file logic (6A82 absent, 6982 refused, 6Cxx and
		// 6700 step-downs, 6282 end of file): an attacker could rewrite it
		// to hide a file. Only 9000 is taken; any other status needs DO99.
		if r.SW != SWSuccess {
			return Response{}, s.fail(fmt.Errorf("%w: %w: trailer %v without DO99 is not authenticated", ErrSecureMessaging, ErrSWMismatch, r.SW))
		}
		s.addQuirk(QuirkSMNoDO99)
	}
	if crypto != nil {
		ct := crypto
		if cryptoTag == tagDO87 {
			if len(ct) == 0 || ct[0] != paddingIndicator {
				return Response{}, s.fail(fmt.Errorf("%w: %w: DO87 without padding indicator 01", ErrSecureMessaging, ErrMalformedSM))
			}
			ct = ct[1:]
		}
		bs := s.c.BlockSize()
		if len(ct) == 0 || len(ct)%bs != 0 {
			return Response{}, s.fail(fmt.Errorf("%w: %w: cryptogram of %d bytes", ErrSecureMessaging, ErrMalformedSM, len(ct)))
		}
		iv, err := smcrypto.SSCIV(s.c, s.kenc, ssc)
		if err != nil {
			return Response{}, s.fail(fmt.Errorf("%w: %w", ErrSecureMessaging, err))
		}
		pt, err := smcrypto.DecryptCBC(s.c, s.kenc, iv, ct)
		if err != nil {
			return Response{}, s.fail(fmt.Errorf("%w: %w", ErrSecureMessaging, err))
		}
		pt, err = smcrypto.Unpad(pt)
		if err != nil {
			return Response{}, s.fail(fmt.Errorf("%w: %w: %w", ErrSecureMessaging, ErrMalformedSM, err))
		}
		out.Data = pt
	}
	return out, nil
}

// unprotectedOr classifies response data that is not a protected answer:
// with 9000 or a warning it is a downgrade; otherwise err stands.
func (s *sm) unprotectedOr(sw StatusWord, err error) error {
	if sw == SWSuccess || sw.Warning() {
		return fmt.Errorf("%w: %w: %v with unprotected data", ErrSecureMessaging, ErrDowngrade, sw)
	}
	return err
}

// protectedSize is the size of the protected answer (DO87, or DO85 for
// odd INS, with up to ne plain bytes; DO99; DO8E) to a command with plain
// Ne ne (9303-11 §9.8): the outer Ne of an extended protected command.
func protectedSize(c smcrypto.Cipher, ne int, odd bool) int {
	const trailer = 4 + 2 + macLen // DO99 (4) and DO8E (10)
	bs := c.BlockSize()
	if ne <= 0 || bs == 0 {
		return trailer
	}
	v := (ne/bs + 1) * bs // padding method 2 always adds at least one byte
	if !odd {
		v++ // padding-content indicator
	}
	return 1 + berLenSize(v) + v + trailer
}

// maxPlainNe is the largest plain Ne whose protected answer (cryptogram in
// DO87, or DO85 for odd INS, plus DO99 and DO8E) fits in limit bytes:
// 231 for 3DES and 223 for AES with short APDUs (limit 256).
func maxPlainNe(c smcrypto.Cipher, limit int, odd bool) int {
	bs := c.BlockSize()
	if bs == 0 || limit <= 0 {
		return 0
	}
	const trailer = 4 + 2 + macLen // DO99 (4) and DO8E (10)
	best := 0
	// The protected size only grows with n; find the largest n that fits
	// by stepping whole blocks, then fill the last block.
	for blocks := 1; ; blocks++ {
		ct := blocks * bs
		v := ct
		if !odd {
			v++ // padding-content indicator
		}
		if 1+berLenSize(v)+v+trailer > limit {
			break
		}
		best = ct - 1 // padding method 2 always adds at least one byte
	}
	return best
}
