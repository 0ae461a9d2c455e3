package reader

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"

	"borderid/internal/smcrypto"
	"borderid/reader/lds"
)

// File access: SELECT (ISO/IEC 7816-4 §11.2.2) and READ BINARY (§11.3.3)
// as ICAO 9303-10 §3.10-3.11 and 9303-11 use them, with the length rules
// that keep protected answers inside a short APDU, use extended length only
// when the chip offers it, and learn each chip's real limits.

// aidEMRTD is the eMRTD application identifier (9303-10 §3.10).
const aidEMRTD = "\xA0\x00\x00\x02\x47\x10\x01"

// MaxFileSize bounds what the reader accepts as the length of one file,
// so a chip cannot make it allocate without limit. DG2 and DG3 with
// several images stay far below it.
const MaxFileSize = 1 << 20

// maxOffsetB0 is the first offset READ BINARY B0 cannot address (P1 b8
// selects SFI mode, leaving 15 bits, §11.3.3); beyond it the odd INS B1
// carries the offset in DO54.
const maxOffsetB0 = 0x8000

// ErrFileTooLarge: the chip announced a file larger than MaxFileSize.
var ErrFileTooLarge = errors.New("reader: file too large")

// ErrReadBinary: the chip's answers to READ BINARY cannot make up the file
// (no progress, more data than asked, a file shorter than its length).
var ErrReadBinary = errors.New("reader: READ BINARY")

// ErrUnprotectedStatus marks an *SWError whose status word the chip sent
// without secure messaging while a session was established
// (QuirkSMUnprotectedError). Nothing authenticates it: a 6A82 or 6982
// answered that way does not prove the file absent or refused, it is
// only what reached the reader. Read lists such files in
// Result.Unverified.
var ErrUnprotectedStatus = errors.New("reader: status word not protected by secure messaging")

// SelectApplication selects the eMRTD application by AID (9303-10 §3.10).
func (s *Session) SelectApplication(ctx context.Context) error {
	return s.selectBy(ctx, 0x04, []byte(aidEMRTD), "SELECT eMRTD application")
}

// SelectEF selects an elementary file by its file identifier under the
// current DF (P1 = 02).
func (s *Session) SelectEF(ctx context.Context, fid uint16) error {
	return s.selectBy(ctx, 0x02, []byte{byte(fid >> 8), byte(fid)}, fmt.Sprintf("SELECT EF %04X", fid))
}

// selectBy sends SELECT with P2 = 0C (no response data). A chip that
// refuses P2 = 0C (6A86, 6A81, 6700) gets P2 = 00 with Le, whose FCI may
// come through 61xx and GET RESPONSE; the FCI itself is not needed.
func (s *Session) selectBy(ctx context.Context, p1 byte, data []byte, name string) error {
	cmd := Command{CLA: 0x00, INS: insSelect, P1: p1, P2: 0x0C, Data: data}
	if s.selectFCI {
		cmd.P2, cmd.Ne = 0x00, MaxShortNe
	}
	r, err := s.Transmit(ctx, cmd)
	if err != nil {
		return err
	}
	if !s.selectFCI && (r.SW == SWIncorrectP1P2 || r.SW == SWFunctionNotSupported || r.SW == SWWrongLength) {
		s.selectFCI = true
		s.AddQuirk(QuirkSelectNeedsFCI)
		cmd.P2, cmd.Ne = 0x00, MaxShortNe
		if r, err = s.Transmit(ctx, cmd); err != nil {
			return err
		}
	}
	if !r.SW.OK() {
		return s.swErr(name, r.SW)
	}
	return nil
}

// swErr is the error for a command answered with sw: an *SWError, also
// matching ErrUnprotectedStatus when sw came unprotected under secure
// messaging.
func (s *Session) swErr(cmd string, sw StatusWord) error {
	e := &SWError{Cmd: cmd, SW: sw}
	if s.plainStatus {
		return fmt.Errorf("%w (%w)", e, ErrUnprotectedStatus)
	}
	return e
}

// limitNe is the largest Ne the next command may carry on the wire: 256
// with short APDUs, 65536 with extended ones, lowered to what the chip
// advertised (ExtendedLength.MaxNe, response data bytes; also when it is
// below 256) and to the reader's own cap.
func (s *Session) limitNe() (int, bool) {
	limit := MaxShortNe
	if s.ext.Supported {
		limit = MaxExtendedNe
	}
	if m := s.ext.MaxNe; m > 0 && m < limit {
		limit = m
	}
	if s.maxNe > 0 && s.maxNe < limit {
		limit = s.maxNe
	}
	return limit, limit > MaxShortNe
}

// plainLimit is the largest plain Ne whose answer fits in limitNe: under
// secure messaging with cipher c (0: plain) the protected answer must fit
// (231 bytes with 3DES and 223 with AES for short APDUs), and a plain Ne
// small enough for a short command gets a short protected command, whose
// answer must then fit a short response too.
func (s *Session) plainLimit(c smcrypto.Cipher, odd bool) int {
	limit, _ := s.limitNe()
	if c == 0 {
		return limit
	}
	n := maxPlainNe(c, limit, odd)
	if n <= MaxShortNe {
		n = min(n, maxPlainNe(c, min(limit, MaxShortNe), odd))
	}
	return n
}

// chunk is the largest number of file bytes one READ BINARY may ask for:
// plainLimit, less the DO53 header for B1, capped by what the chip taught.
func (s *Session) chunk(odd bool) int {
	n := s.plainLimit(s.cipher(), odd)
	if odd {
		n -= 1 + berLenSize(n) // DO53 tag and length
	}
	return s.capNe(n)
}

// capNe applies what the chip taught to a plain Ne n. stepCap is a
// confirmed limit (6Cxx or a short 9000 inside a file of known length).
// After a 6700 inside a file of known length (neBad) the next Ne is
// searched between the largest Ne served in full (neOK) and neBad, by
// bisection, so that the reader settles near the chip's real limit rather
// than at half of it; it stops within 1/64 of neOK, where one more
// refused APDU would save less than it costs.
func (s *Session) capNe(n int) int {
	if s.stepCap > 0 && n > s.stepCap {
		n = s.stepCap
	}
	if s.neBad > 0 && n >= s.neBad {
		lo := s.neOK // below neBad (noteBad keeps it so)
		if lo > 0 && s.neBad-lo <= max(1, lo/64) {
			n = lo
		} else {
			n = (lo + s.neBad) / 2
		}
	}
	return n
}

// noteBad records a 6700 to a READ BINARY of n bytes that lay inside a
// file of known length: the chip's limit is below n.
func (s *Session) noteBad(n int) {
	if s.neBad == 0 || n < s.neBad {
		s.neBad = n
	}
	if s.neOK >= s.neBad {
		s.neOK = 0 // the chip contradicts itself: search from the bottom
	}
}

// noteOK records a READ BINARY of n bytes answered in full.
func (s *Session) noteOK(n int) {
	if n > s.neOK && (s.neBad == 0 || n < s.neBad) {
		s.neOK = n
	}
}

// noteCap records a confirmed limit: the chip served (or, with 6Cxx,
// offered) only n bytes where more of the file remained.
func (s *Session) noteCap(n int) {
	if s.stepCap == 0 || n < s.stepCap {
		s.stepCap = n
	}
}

// MaxLe is the plain Ne the session now asks for in one READ BINARY: the
// length rules for the last secure messaging cipher, the chip's
// advertisement and what the chip taught by stepping down.
func (s *Session) MaxLe() int {
	return s.capNe(s.plainLimit(s.lastCipher, false))
}

// UsedExtendedLength reports whether an extended APDU was sent.
func (s *Session) UsedExtendedLength() bool { return s.usedExtended }

// fileRead is the state of one file being read, kept so that a read
// interrupted by the chip dropping secure messaging can resume.
type fileRead struct {
	f        lds.File
	buf      []byte
	total    int  // -1 until the TLV header is read (or always, unsized)
	selected bool // the file is the current EF
	sized    bool // the file is one TLV element

	// Step-down evidence gathered while the file's length was unknown: a
	// 6700 (bad at badOff) or 6Cxx (exact at exactOff) may then mean the
	// chip's limit or the file's end. It becomes session-wide only once
	// the length shows the request lay inside the file.
	bad, badOff     int
	exact, exactOff int
}

func newFileRead(f lds.File) *fileRead {
	// EF.ATR/INFO and EF.CVCA hold several data objects and padding, not
	// one element: they are read until the chip says the file ended.
	sized := f != lds.FileATRInfo && f != lds.FileCVCA
	return &fileRead{f: f, total: -1, sized: sized}
}

// ReadFile reads one file of the current DF: the eMRTD application's files
// after SelectApplication, the master file's (CardAccess, ATRInfo) before
// it. It returns the TLV element the file holds, without padding after it.
// A file the chip does not have gives an error matching ErrFileNotFound, a
// refused one ErrAccessDenied.
func (s *Session) ReadFile(ctx context.Context, f lds.File) ([]byte, error) {
	if !f.Valid() {
		return nil, fmt.Errorf("reader: unknown file %v", f)
	}
	fr := newFileRead(f)
	if err := s.readFile(ctx, fr); err != nil {
		return nil, err
	}
	return fr.buf, nil
}

// headerProbe is the Ne of the read that follows a 6700 to a file's first
// READ BINARY: enough for any TLV header (lds.ElementLength needs at most
// 8 bytes), so that the next refusal, if any, is judged against a known
// length.
const headerProbe = 8

// maxReadRounds bounds the READ BINARY loop of one file; maxStall the
// commands in a row that return no new data.
const (
	maxReadRounds = 8192
	maxStall      = 24
)

// readFile reads fr to its end.
//
// The first READ BINARY of a file asks for a full chunk although the
// file may be shorter: its length is unknown until its TLV header
// arrives, and ISO/IEC 7816-4 §11.3.3 lets a chip answer an Ne beyond the
// end with what remains (9000 or 6282). Reading a header first would cost
// one APDU per file on every chip; instead, once the length is known, no
// read reaches past the end (the last chunk is sized from the TLV length),
// and a 6700 or 6Cxx to a read whose end was unknown only steps that file
// down: it becomes the session's limit only when the file turns out to be
// longer than what was refused, because a chip may refuse an Ne beyond the
// end rather than its own limit.
func (s *Session) readFile(ctx context.Context, fr *fileRead) error {
	name := fr.f.String()
	next := 0 // a one-off Ne requested by the chip (6Cxx, plain 6282)
	stall, last := 0, -1
	for round := 0; ; round++ {
		off := len(fr.buf)
		if off == last {
			// Step-downs and retries make no progress; a chip that keeps
			// asking for them is not going to deliver the file.
			if stall++; stall > maxStall {
				return fmt.Errorf("%w %s: no progress at offset %d", ErrReadBinary, name, off)
			}
		} else {
			stall, last = 0, off
		}
		if fr.total >= 0 && off >= fr.total {
			break
		}
		if round >= maxReadRounds {
			return fmt.Errorf("%w %s: no end after %d commands", ErrReadBinary, name, round)
		}
		odd := off >= maxOffsetB0
		n := s.chunk(odd)
		if fr.total < 0 && fr.bad > 0 {
			// Refused with 6700 while the length is unknown: read a
			// header's worth, then halve if even that is refused.
			if fr.sized && fr.bad > headerProbe {
				n = min(n, headerProbe)
			} else {
				n = min(n, fr.bad/2)
			}
		}
		if next > 0 && next < n {
			n = next
		}
		next = 0
		if fr.total >= 0 && n > fr.total-off {
			n = fr.total - off // never read past the end
		}
		if n <= 0 {
			return fmt.Errorf("%w %s: no usable length", ErrReadBinary, name)
		}

		viaSFI := false
		if !fr.selected {
			if off == 0 && fr.f.SFI() != 0 && !s.sfiOff {
				viaSFI = true
			} else {
				if err := s.SelectEF(ctx, fr.f.FID()); err != nil {
					return fmt.Errorf("reader: %s: %w", name, err)
				}
				fr.selected = true
			}
		}
		data, sw, err := s.readBinary(ctx, fr.f, off, n, viaSFI)
		if err != nil {
			return fmt.Errorf("reader: %s at %d: %w", name, off, err)
		}
		if viaSFI {
			switch sw {
			case SWIncorrectP1P2, SWFunctionNotSupported, SWWrongParameters, SWCommandNotAllowed, SWInstructionNotSupported:
				// The chip does not read by SFI: select by FID from now on.
				s.sfiOff = true
				s.AddQuirk(QuirkSFIUnsupported)
				continue
			}
		}
		switch {
		case sw == SWSuccess:
		case sw == SWEndOfFile:
			// Data with 6282 counts only when MAC-protected: under secure
			// messaging Transmit returned it only after the MAC verified
			// (and DO99 carried the 6282).
			if s.sm == nil {
				if len(data) > 0 && len(data) < n {
					next = len(data) // ask again for exactly what is there
					continue
				}
				data = nil
			}
			if len(data) == 0 {
				if !fr.sized {
					return s.finish(fr)
				}
				return fmt.Errorf("%w %s: end of file at %d before the length %d", ErrReadBinary, name, off, fr.total)
			}
		case sw == SWWrongParameters && !fr.sized && off > 0:
			return s.finish(fr) // offset beyond the end of an unsized file
		case sw == SWWrongLength:
			if n <= 1 {
				return fmt.Errorf("reader: %s: %w", name, s.swErr("READ BINARY "+name, sw))
			}
			if fr.total >= 0 {
				s.noteBad(n) // inside the file: the chip's limit is below n
			} else if fr.bad == 0 || n < fr.bad {
				fr.bad, fr.badOff = n, off
			}
			s.log.Debug("step down", "file", name, "sw", sw.String(), "refused", n)
			continue
		default:
			if x, ok := sw.ExactLength(); ok {
				if odd {
					// For B1, Ne (and so 6Cxx) counts the whole DO53.
					x -= 1 + berLenSize(x)
				}
				if x <= 0 || x >= n {
					return fmt.Errorf("reader: %s: %w", name, s.swErr("READ BINARY "+name, sw))
				}
				next = x
				if fr.total >= 0 {
					s.noteCap(x) // off+x < off+n <= total: more remained
				} else if fr.exact == 0 || x < fr.exact {
					fr.exact, fr.exactOff = x, off
				}
				continue
			}
			return fmt.Errorf("reader: %s: %w", name, s.swErr("READ BINARY "+name, sw))
		}
		if viaSFI {
			fr.selected = true // READ BINARY with SFI made it the current EF
		}
		if len(data) > n {
			return fmt.Errorf("%w %s: %d bytes for Ne %d", ErrReadBinary, name, len(data), n)
		}
		if len(data) == 0 {
			if !fr.sized {
				return s.finish(fr)
			}
			return fmt.Errorf("%w %s: empty answer at %d", ErrReadBinary, name, off)
		}
		if len(data) == n {
			s.noteOK(n)
		}
		fr.buf = append(fr.buf, data...)
		if fr.sized && fr.total < 0 {
			total, err := lds.ElementLength(fr.buf)
			switch {
			case err == nil:
				if total > MaxFileSize {
					return fmt.Errorf("%w: %s announces %d bytes (limit %d)", ErrFileTooLarge, name, total, MaxFileSize)
				}
				fr.total = total
				if len(fr.buf) > total {
					fr.buf = fr.buf[:total] // padding after the element
				}
				// Refusals made while the length was unknown count for the
				// session only if they asked for bytes inside the file.
				if fr.bad > 0 && fr.badOff+fr.bad <= total {
					s.noteBad(fr.bad)
				}
				if fr.exact > 0 && fr.exactOff+fr.exact < total {
					s.noteCap(fr.exact)
				}
			case errors.Is(err, lds.ErrShortHeader):
			default:
				return fmt.Errorf("%w %s: not a TLV element: %w", ErrReadBinary, name, err)
			}
		}
		if len(fr.buf) > MaxFileSize {
			return fmt.Errorf("%w: %s exceeds %d bytes", ErrFileTooLarge, name, MaxFileSize)
		}
		if len(data) < n && (fr.total < 0 || len(fr.buf) < fr.total) {
			if !fr.sized {
				return s.finish(fr) // an unsized file ends with a short answer
			}
			if sw == SWSuccess && fr.total >= 0 {
				// A short 9000 before the known end: the chip's limit.
				s.noteCap(len(data))
				s.log.Debug("step down", "file", name, "ne", len(data))
			}
		}
		if s.prog != nil {
			s.prog(name, len(fr.buf), fr.total)
		}
	}
	if s.prog != nil {
		s.prog(name, len(fr.buf), len(fr.buf))
	}
	return nil
}

func (s *Session) finish(fr *fileRead) error {
	fr.total = len(fr.buf)
	if s.prog != nil {
		s.prog(fr.f.String(), len(fr.buf), fr.total)
	}
	return nil
}

// readBinary sends one READ BINARY for n bytes at off: B0 with the offset
// in P1-P2 (or the SFI in P1 for the first read), B1 with DO54 beyond
// 32767 (ISO/IEC 7816-4 §11.3.3; its answer is DO53, carried in DO85 under
// secure messaging).
func (s *Session) readBinary(ctx context.Context, f lds.File, off, n int, viaSFI bool) ([]byte, StatusWord, error) {
	var cmd Command
	switch {
	case viaSFI:
		cmd = Command{CLA: 0x00, INS: insReadBinary, P1: 0x80 | f.SFI()&0x1F, P2: byte(off), Ne: n}
	case off < maxOffsetB0:
		cmd = Command{CLA: 0x00, INS: insReadBinary, P1: byte(off >> 8), P2: byte(off), Ne: n}
	default:
		var o []byte
		if off > 0xFFFF {
			o = []byte{byte(off >> 16), byte(off >> 8), byte(off)}
		} else {
			o = []byte{byte(off >> 8), byte(off)}
		}
		// P1-P2 = 0000: the current EF.
		cmd = Command{CLA: 0x00, INS: insReadBinaryOdd, Data: appendTLV(nil, 0x54, o), Ne: n + 1 + berLenSize(n)}
	}
	r, err := s.Transmit(ctx, cmd)
	if err != nil {
		return nil, 0, err
	}
	if cmd.INS == insReadBinaryOdd && len(r.Data) > 0 {
		in := cryptobyte.String(r.Data)
		tag, v, _, ok := readTLV(&in)
		if !ok || tag != 0x53 || !in.Empty() {
			return nil, r.SW, fmt.Errorf("%w: odd-INS answer is not one DO53", ErrReadBinary)
		}
		return v, r.SW, nil
	}
	return r.Data, r.SW, nil
}
