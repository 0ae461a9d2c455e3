package lds

import "fmt"

// File names an elementary file of the eMRTD (ICAO 9303-10 §3: the files
// of the master file and of the eMRTD application; §4.6, §4.7: their
// contents).
type File uint8

// The files, in the stable order of Files.Names: the common file, the
// data groups, the document security object, EF.CVCA, then the master
// file's files.
const (
	FileCOM File = iota + 1
	FileDG1
	FileDG2
	FileDG3
	FileDG4
	FileDG5
	FileDG6
	FileDG7
	FileDG8
	FileDG9
	FileDG10
	FileDG11
	FileDG12
	FileDG13
	FileDG14
	FileDG15
	FileDG16
	FileSOD
	FileCVCA         // EF.CVCA, in the eMRTD application (9303-10 §3)
	FileCardAccess   // EF.CardAccess, in the MF (9303-10 §3)
	FileCardSecurity // EF.CardSecurity, in the MF (9303-10 §3)
	FileATRInfo      // EF.ATR/INFO, in the MF (9303-10 §3, ISO/IEC 7816-4 §12.7)
	fileEnd
)

type fileInfo struct {
	name string
	fid  uint16
	sfi  byte
	tag  Tag
	mf   bool
}

// info is the file table of 9303-10 §3 (a switch, not a table variable: no
// package-level mutable state). EF.CVCA's FID 011C is the default; a
// chip may announce another one in its TerminalAuthenticationInfo (EAC).
// EF.ATR/INFO's SFI is 01 in the MF, distinct from DG1's SFI 01 in the
// application.
func (f File) info() (fileInfo, bool) {
	switch f {
	case FileCOM:
		return fileInfo{"COM", 0x011E, 0x1E, 0x60, false}, true
	case FileDG1:
		return fileInfo{"DG1", 0x0101, 0x01, 0x61, false}, true
	case FileDG2:
		return fileInfo{"DG2", 0x0102, 0x02, 0x75, false}, true
	case FileDG3:
		return fileInfo{"DG3", 0x0103, 0x03, 0x63, false}, true
	case FileDG4:
		return fileInfo{"DG4", 0x0104, 0x04, 0x76, false}, true
	case FileDG5:
		return fileInfo{"DG5", 0x0105, 0x05, 0x65, false}, true
	case FileDG6:
		return fileInfo{"DG6", 0x0106, 0x06, 0x66, false}, true
	case FileDG7:
		return fileInfo{"DG7", 0x0107, 0x07, 0x67, false}, true
	case FileDG8:
		return fileInfo{"DG8", 0x0108, 0x08, 0x68, false}, true
	case FileDG9:
		return fileInfo{"DG9", 0x0109, 0x09, 0x69, false}, true
	case FileDG10:
		return fileInfo{"DG10", 0x010A, 0x0A, 0x6A, false}, true
	case FileDG11:
		return fileInfo{"DG11", 0x010B, 0x0B, 0x6B, false}, true
	case FileDG12:
		return fileInfo{"DG12", 0x010C, 0x0C, 0x6C, false}, true
	case FileDG13:
		return fileInfo{"DG13", 0x010D, 0x0D, 0x6D, false}, true
	case FileDG14:
		return fileInfo{"DG14", 0x010E, 0x0E, 0x6E, false}, true
	case FileDG15:
		return fileInfo{"DG15", 0x010F, 0x0F, 0x6F, false}, true
	case FileDG16:
		return fileInfo{"DG16", 0x0110, 0x10, 0x70, false}, true
	case FileSOD:
		return fileInfo{"SOD", 0x011D, 0x1D, 0x77, false}, true
	case FileCVCA:
		return fileInfo{"CVCA", 0x011C, 0x1C, 0, false}, true
	case FileCardAccess:
		return fileInfo{"CardAccess", 0x011C, 0x1C, 0, true}, true
	case FileCardSecurity:
		return fileInfo{"CardSecurity", 0x011D, 0x1D, 0, true}, true
	case FileATRInfo:
		return fileInfo{"ATRInfo", 0x2F01, 0x01, 0, true}, true
	}
	return fileInfo{}, false
}

// Valid reports whether f is one of the named files.
func (f File) Valid() bool { _, ok := f.info(); return ok }

// String gives the file's name as in CONTRACTS.md ("COM", "DG2",
// "CardAccess"), which is also its file name in a chip-identity folder.
func (f File) String() string {
	if i, ok := f.info(); ok {
		return i.name
	}
	return fmt.Sprintf("File(%d)", uint8(f))
}

// FID is the file identifier for SELECT (9303-10 §3).
func (f File) FID() uint16 { i, _ := f.info(); return i.fid }

// SFI is the short file identifier for READ BINARY with P1 b8 set.
func (f File) SFI() byte { i, _ := f.info(); return i.sfi }

// Tag is the LDS tag the file's content starts with (9303-10 §4.6,
// 60 for EF.COM, 61 for DG1, 75 for DG2, 77 for EF.SOD), or 0
// for files that are not LDS data objects (EF.CVCA, the MF's files).
func (f File) Tag() Tag { i, _ := f.info(); return i.tag }

// InMF reports whether the file lives in the master file rather than the
// eMRTD application (select the MF, not the application, to read it).
func (f File) InMF() bool { i, _ := f.info(); return i.mf }

// IsDataGroup reports whether f is DG1..DG16.
func (f File) IsDataGroup() bool { return f >= FileDG1 && f <= FileDG16 }

// DataGroup returns n for DGn, 0 otherwise.
func (f File) DataGroup() int {
	if !f.IsDataGroup() {
		return 0
	}
	return int(f-FileDG1) + 1
}

// FileByTag returns the file whose content starts with LDS tag t.
func FileByTag(t Tag) (File, bool) {
	if t == 0 {
		return 0, false
	}
	for f := FileCOM; f < fileEnd; f++ {
		if f.Tag() == t {
			return f, true
		}
	}
	return 0, false
}

// FileByName returns the file with the given name (as String gives it).
func FileByName(name string) (File, bool) {
	for f := FileCOM; f < fileEnd; f++ {
		if f.String() == name {
			return f, true
		}
	}
	return 0, false
}

// AllFiles lists every named file in the stable order.
func AllFiles() []File {
	out := make([]File, 0, fileEnd-1)
	for f := FileCOM; f < fileEnd; f++ {
		out = append(out, f)
	}
	return out
}
