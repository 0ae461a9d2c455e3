package chipsim

import (
	"bytes"
	"strconv"
)

// The eMRTD application identifier, 9303-10 §3.1.1 (LDS1 eMRTD
// application).
var emrtdAID = [...]byte{0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01}

// Master file identifier, ISO/IEC 7816-4 §7.1.1.
const fidMF uint16 = 0x3F00

// elementaryFile is one transparent EF.
type elementaryFile struct {
	name string
	fid  uint16
	sfi  byte
	data []byte
}

// dedicatedFile is the master file or the eMRTD application.
type dedicatedFile struct {
	app   bool // files of the eMRTD application need access control
	files []*elementaryFile
}

func (d *dedicatedFile) byFID(fid uint16) *elementaryFile {
	for _, f := range d.files {
		if f.fid == fid {
			return f
		}
	}
	return nil
}

func (d *dedicatedFile) bySFI(sfi byte) *elementaryFile {
	for _, f := range d.files {
		if f.sfi == sfi {
			return f
		}
	}
	return nil
}

// buildFileSystem places the identity's files: EF.CardAccess, EF.CardSecurity
// and EF.ATR/INFO in the master file (9303-10 §3.11, §3.12, ISO/IEC 7816-4
// §8.2.1.1), EF.COM, EF.SOD, EF.CVCA and DG1..DG16 in the eMRTD application
// (9303-10 §3.6, §4.6: FIDs 011E, 011D, 011C, 0101..0110; SFI = low byte).
func buildFileSystem(files map[string][]byte, atrInfo []byte) (mf, app *dedicatedFile) {
	mf, app = &dedicatedFile{}, &dedicatedFile{app: true}
	add := func(d *dedicatedFile, name string, fid uint16, sfi byte, data []byte) {
		if data != nil {
			d.files = append(d.files, &elementaryFile{name: name, fid: fid, sfi: sfi, data: data})
		}
	}
	add(mf, "CardAccess", 0x011C, 0x1C, files["CardAccess"])
	add(mf, "CardSecurity", 0x011D, 0x1D, files["CardSecurity"])
	info := files["ATRInfo"]
	if info == nil {
		info = atrInfo
	}
	add(mf, "ATRInfo", 0x2F01, 0x01, info)
	add(app, "COM", 0x011E, 0x1E, files["COM"])
	add(app, "SOD", 0x011D, 0x1D, files["SOD"])
	add(app, "CVCA", 0x011C, 0x1C, files["CVCA"])
	for i := 1; i <= 16; i++ {
		name := "DG" + strconv.Itoa(i)
		add(app, name, 0x0100+uint16(i), byte(i), files[name])
	}
	return mf, app
}

// result is what executing a command produces before secure messaging
// wraps it.
type result struct {
	data []byte
	sw   statusWord
	// fcp marks a SELECT that returned its FCP; with
	// Faults.SelectGetResponse its response goes through GET RESPONSE.
	fcp bool
}

func status(sw statusWord) result { return result{sw: sw} }

// authorised reports whether the application's files may be accessed now.
func (c *Chip) authorised() bool { return !c.requireBAC || c.st.sess != nil }

// selectFile is SELECT (ISO/IEC 7816-4 §11.2.2) as 9303-10 §3.10 uses it:
// P1 04 by DF name (the eMRTD AID only), P1 00 or 02 by file identifier
// within the current DF (P1 00 with no data or 3F00 selects the master
// file). P2 0C asks for no data; P2 00 or 04 for the FCP.
func (c *Chip) selectFile(cmd command) result {
	var wantFCP bool
	switch cmd.p2 {
	case 0x0C:
	case 0x00, 0x04:
		wantFCP = true
	default:
		return status(swWrongP1P2)
	}
	if !wantFCP && c.faults.SelectNeedsFCI {
		return status(swWrongP1P2) // before anything is selected
	}
	switch cmd.p1 {
	case 0x04:
		if len(cmd.data) == 0 {
			return status(swWrongLength)
		}
		if !bytes.Equal(cmd.data, emrtdAID[:]) {
			return status(swFileNotFound)
		}
		c.st.df, c.st.ef = c.app, nil
		if !wantFCP {
			return status(swOK)
		}
		// FCP of a DF: descriptor 38 (DF), DF name 84.
		fcp := appendTLV(nil, tagDescriptor, []byte{0x38})
		fcp = appendTLV(fcp, tagDFName, emrtdAID[:])
		return c.fcp(cmd, appendTLV(nil, tagFCP, fcp))
	case 0x00, 0x02:
	default:
		return status(swWrongP1P2)
	}
	if cmd.p1 == 0x00 && (len(cmd.data) == 0 || bytes.Equal(cmd.data, []byte{0x3F, 0x00})) {
		c.st.df, c.st.ef = c.mf, nil
		if !wantFCP {
			return status(swOK)
		}
		fcp := appendTLV(nil, tagDescriptor, []byte{0x38})
		fcp = appendTLV(fcp, tagFileID, []byte{0x3F, 0x00})
		return c.fcp(cmd, appendTLV(nil, tagFCP, fcp))
	}
	if len(cmd.data) != 2 {
		return status(swWrongLength)
	}
	f := c.st.df.byFID(uint16(cmd.data[0])<<8 | uint16(cmd.data[1]))
	if f == nil {
		return status(swFileNotFound)
	}
	if c.st.df.app && !c.authorised() {
		return status(swSecurityStatus)
	}
	c.st.ef = f
	if !wantFCP {
		return status(swOK)
	}
	// FCP of a transparent EF (ISO/IEC 7816-4 §7.4.3): size 80, descriptor
	// 82 = 01 (working EF, transparent), identifier 83.
	fcp := appendTLV(nil, tagFileSize, derUint(len(f.data)))
	fcp = appendTLV(fcp, tagDescriptor, []byte{0x01})
	fcp = appendTLV(fcp, tagFileID, []byte{byte(f.fid >> 8), byte(f.fid)})
	return c.fcp(cmd, appendTLV(nil, tagFCP, fcp))
}

// fcp answers a SELECT's FCP, no longer than Ne when Le was given.
func (c *Chip) fcp(cmd command, fcp []byte) result {
	if cmd.ne > 0 && cmd.ne < len(fcp) {
		fcp = fcp[:cmd.ne]
	}
	return result{data: fcp, sw: swOK, fcp: true}
}

// readBinary is READ BINARY (ISO/IEC 7816-4 §11.3.3). Even INS B0: P1 b8 set
// means P1 b5-b1 is a short EF identifier and P2 the offset (0-255), else
// P1-P2 is a 15-bit offset into the current EF. Odd INS B1: P1-P2 is 0000
// (current EF), a short EF identifier or a file identifier, and the offset
// comes in DO54 of the data field, so it can pass 32767 (9303-10 §3.10.2);
// the data is answered in DO53. respLimit is the largest response data
// that still fits once secure messaging wraps it.
func (c *Chip) readBinary(cmd command, respLimit int) result {
	odd := cmd.ins == insReadBinaryOdd
	if cmd.ne == 0 {
		return status(swWrongLength)
	}
	var f *elementaryFile
	var off int
	if !odd {
		if cmd.data != nil {
			return status(swWrongLength)
		}
		if cmd.p1&0x80 != 0 {
			if cmd.p1&0x60 != 0 || cmd.p1&0x1F == 0 {
				return status(swWrongP1P2)
			}
			sfi := cmd.p1 & 0x1F
			if f = c.st.df.bySFI(sfi); f == nil {
				return status(swFileNotFound)
			}
			off = int(cmd.p2)
		} else {
			off = int(cmd.p1)<<8 | int(cmd.p2)
		}
	} else {
		t, v, rest, ok := readTLV(cmd.data)
		if !ok || t != tagOffset || len(rest) != 0 || len(v) < 1 || len(v) > 3 {
			return status(swWrongData)
		}
		for _, b := range v {
			off = off<<8 | int(b)
		}
		p := uint16(cmd.p1)<<8 | uint16(cmd.p2)
		switch {
		case p == 0:
		case p&0xFFE0 == 0 && p&0x1F != 0x1F:
			if f = c.st.df.bySFI(byte(p)); f == nil {
				return status(swFileNotFound)
			}
		default:
			if f = c.st.df.byFID(p); f == nil {
				return status(swFileNotFound)
			}
		}
	}
	if f != nil {
		if c.st.df.app && !c.authorised() {
			return status(swSecurityStatus)
		}
		c.st.ef = f // a short EF identifier or FID selects the file
	}
	f = c.st.ef
	if f == nil {
		return status(swNoCurrentEF)
	}
	if c.st.df.app && !c.authorised() {
		return status(swSecurityStatus)
	}
	// DG3 and DG4 need Terminal Authentication (9303-11 §7.1, ta.go).
	if c.st.df.app && !c.taAllows(f) {
		return status(swSecurityStatus)
	}
	if w := c.faults.WrongLengthAbove; w > 0 && cmd.ne > w {
		return status(swWrongLength)
	}
	if off >= len(f.data) {
		return status(swWrongOffset)
	}
	remaining := len(f.data) - off
	if x := c.faults.ExactLengthAbove; x > 0 && cmd.ne > x && remaining >= x {
		return status(statusWord(0x6C00 | x&0xFF))
	}
	// Response data limit: Ne, the chip's maximum, the fault cap and what
	// fits under secure messaging. For B1 it bounds the whole DO53.
	limit := min(cmd.ne, c.maxResponse, respLimit)
	if c.faults.CapLe > 0 {
		limit = min(limit, c.faults.CapLe)
	}
	want := cmd.ne
	if odd {
		limit, want = tlvFit(limit), tlvFit(cmd.ne)
	}
	n := min(remaining, limit)
	if n <= 0 {
		return status(swWrongLength)
	}
	data := f.data[off : off+n]
	sw := swOK
	if c.eofWarning && remaining < want && n == remaining {
		sw = swEndOfFile
	}
	if odd {
		return result{data: appendTLV(nil, tagDiscData, data), sw: sw}
	}
	return result{data: bytes.Clone(data), sw: sw}
}
