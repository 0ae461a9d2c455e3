package chipsim

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"

	"borderid/internal/smcrypto"
)

// Secure messaging, card side: ICAO 9303-11 §9.8 over ISO/IEC 7816-4 §10.
// A protected command is CLA 0C, INS, P1, P2, then DO87 (01 || cryptogram
// of the padded data; DO85 without the 01 for odd INS), DO97 (Le) and DO8E
// (MAC over SSC || padded header || DO87/DO85 || DO97). The answer is
// DO87/DO85, DO99 (status word), DO8E (MAC over SSC || DO87/DO85 || DO99)
// and the status word. The SSC is incremented before each command and
// before each response.

// ErrInvalidSession reports keys or an SSC that SetSecureMessaging cannot
// use.
var ErrInvalidSession = errors.New("chipsim: invalid secure messaging parameters")

// session is an established secure messaging session.
type session struct {
	ci         smcrypto.Cipher
	kenc, kmac []byte
	ssc        []byte // big-endian counter, one block long
	bs         int
}

func newSession(ci smcrypto.Cipher, kenc, kmac, ssc []byte) (*session, error) {
	bs := ci.BlockSize()
	if bs == 0 {
		return nil, fmt.Errorf("%w: cipher %v", ErrInvalidSession, ci)
	}
	if _, err := smcrypto.NewBlock(ci, kenc); err != nil {
		return nil, fmt.Errorf("%w: KSenc: %w", ErrInvalidSession, err)
	}
	// The MAC key length is what MAC accepts: 16 bytes for the retail
	// MAC, the cipher's key size for CMAC.
	if len(kmac) != ci.KeySize() {
		return nil, fmt.Errorf("%w: KSmac of %d bytes for %v", ErrInvalidSession, len(kmac), ci)
	}
	if len(ssc) != bs {
		return nil, fmt.Errorf("%w: SSC of %d bytes for %v, want %d", ErrInvalidSession, len(ssc), ci, bs)
	}
	return &session{ci: ci, kenc: bytes.Clone(kenc), kmac: bytes.Clone(kmac), ssc: bytes.Clone(ssc), bs: bs}, nil
}

// inc increments the SSC, wrapping at 2^(8*len) (§9.8.2).
func (s *session) inc() {
	for i := len(s.ssc) - 1; i >= 0; i-- {
		s.ssc[i]++
		if s.ssc[i] != 0 {
			return
		}
	}
}

// unwrap checks and decrypts a protected command and returns the plain
// command it carries (CLA 00). The status word is nonzero when the command
// is not acceptable: 6987 when DO8E is missing, 6988 for any malformed or
// misplaced object, a wrong MAC or bad padding. The caller then ends the
// session: a chip cannot answer under a MAC it could not verify.
func (s *session) unwrap(cmd command) (command, statusWord) {
	var (
		crypt       []byte
		cryptTag    tag
		le          []byte
		haveLe      bool
		mac         []byte
		coveredSize int
	)
	rest := cmd.data
	for len(rest) > 0 {
		t, v, r, ok := readTLV(rest)
		if !ok || mac != nil {
			return command{}, swSMObjectsIncorrect // 8E must come last
		}
		switch t {
		case tagCryptoBER, tagCryptoPad:
			if cryptTag != 0 || haveLe {
				return command{}, swSMObjectsIncorrect
			}
			cryptTag, crypt = t, v
		case tagLe:
			if haveLe {
				return command{}, swSMObjectsIncorrect
			}
			haveLe, le = true, v
		case tagMAC:
			mac = v
		default:
			return command{}, swSMObjectsIncorrect
		}
		if t != tagMAC {
			coveredSize = len(cmd.data) - len(r)
		}
		rest = r
	}
	if mac == nil {
		return command{}, swSMObjectsMissing
	}
	if len(mac) != 8 {
		return command{}, swSMObjectsIncorrect
	}
	s.inc()
	msg := make([]byte, 0, len(s.ssc)+2*s.bs+coveredSize)
	msg = append(msg, s.ssc...)
	msg = append(msg, smcrypto.Pad(cmd.header(), s.bs)...)
	msg = append(msg, cmd.data[:coveredSize]...)
	want, err := smcrypto.MAC(s.ci, s.kmac, msg)
	if err != nil || subtle.ConstantTimeCompare(want, mac) != 1 {
		return command{}, swSMObjectsIncorrect
	}
	inner := command{cla: claPlain, ins: cmd.ins, p1: cmd.p1, p2: cmd.p2}
	if haveLe {
		switch len(le) {
		case 1:
			inner.ne = shortNe(le[0])
		case 2:
			inner.ne = extendedNe(le[0], le[1])
		default:
			return command{}, swSMObjectsIncorrect
		}
	}
	if cryptTag != 0 {
		if cryptTag == tagCryptoPad {
			if len(crypt) < 1 || crypt[0] != 0x01 { // padding-content indicator
				return command{}, swSMObjectsIncorrect
			}
			crypt = crypt[1:]
		}
		if len(crypt) == 0 || len(crypt)%s.bs != 0 {
			return command{}, swSMObjectsIncorrect
		}
		iv, err := smcrypto.SSCIV(s.ci, s.kenc, s.ssc)
		if err != nil {
			return command{}, swSMObjectsIncorrect
		}
		p, err := smcrypto.DecryptCBC(s.ci, s.kenc, iv, crypt)
		if err != nil {
			return command{}, swSMObjectsIncorrect
		}
		if inner.data, err = smcrypto.Unpad(p); err != nil {
			return command{}, swSMObjectsIncorrect
		}
		if inner.data == nil {
			inner.data = []byte{} // a present but empty data field
		}
	}
	inner.extended = inner.ne > maxShortNe || len(inner.data) > 0xFF
	return inner, 0
}

// wrap protects a response: DO87 (DO85 for odd INS) when there is data,
// DO99 unless do99 is false (Faults.OmitDO99), DO8E, status word.
func (s *session) wrap(data []byte, sw statusWord, odd, do99 bool) ([]byte, error) {
	s.inc()
	out := make([]byte, 0, s.wrappedSize(len(data), odd, do99)+2)
	if len(data) > 0 {
		iv, err := smcrypto.SSCIV(s.ci, s.kenc, s.ssc)
		if err != nil {
			return nil, err
		}
		ct, err := smcrypto.EncryptCBC(s.ci, s.kenc, iv, smcrypto.Pad(data, s.bs))
		if err != nil {
			return nil, err
		}
		if odd {
			out = appendTLV(out, tagCryptoBER, ct)
		} else {
			out = appendTLV(out, tagCryptoPad, append([]byte{0x01}, ct...))
		}
	}
	if do99 {
		out = appendTLV(out, tagStatus, []byte{byte(sw >> 8), byte(sw)})
	}
	msg := make([]byte, 0, len(s.ssc)+len(out))
	msg = append(append(msg, s.ssc...), out...)
	mac, err := smcrypto.MAC(s.ci, s.kmac, msg)
	if err != nil {
		return nil, err
	}
	out = appendTLV(out, tagMAC, mac)
	return sw.append(out), nil
}

// wrappedSize is the length of the protected response data for n plain
// bytes.
func (s *session) wrappedSize(n int, odd, do99 bool) int {
	size := 10 // DO8E
	if do99 {
		size += 4
	}
	if n > 0 {
		v := (n/s.bs + 1) * s.bs
		if !odd {
			v++
		}
		size += 1 + lengthSize(v) + v
	}
	return size
}

// maxPlain is the largest plain response whose protected form fits in
// outerNe bytes: with short APDUs 231 bytes for 3DES and 223 for AES.
func (s *session) maxPlain(outerNe int, odd, do99 bool) int {
	n := outerNe
	for n > 0 && s.wrappedSize(n, odd, do99) > outerNe {
		n--
	}
	return n
}
