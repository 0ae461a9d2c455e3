package lds

import (
	"reflect"
	"testing"
)

func TestFiles(t *testing.T) {
	tests := []struct {
		f    File
		name string
		fid  uint16
		sfi  byte
		tag  Tag
		mf   bool
	}{
		{FileCOM, "COM", 0x011E, 0x1E, 0x60, false},
		{FileDG1, "DG1", 0x0101, 0x01, 0x61, false},
		{FileDG2, "DG2", 0x0102, 0x02, 0x75, false},
		{FileDG3, "DG3", 0x0103, 0x03, 0x63, false},
		{FileDG4, "DG4", 0x0104, 0x04, 0x76, false},
		{FileDG11, "DG11", 0x010B, 0x0B, 0x6B, false},
		{FileDG12, "DG12", 0x010C, 0x0C, 0x6C, false},
		{FileDG14, "DG14", 0x010E, 0x0E, 0x6E, false},
		{FileDG15, "DG15", 0x010F, 0x0F, 0x6F, false},
		{FileDG16, "DG16", 0x0110, 0x10, 0x70, false},
		{FileSOD, "SOD", 0x011D, 0x1D, 0x77, false},
		{FileCVCA, "CVCA", 0x011C, 0x1C, 0, false},
		{FileCardAccess, "CardAccess", 0x011C, 0x1C, 0, true},
		{FileCardSecurity, "CardSecurity", 0x011D, 0x1D, 0, true},
		{FileATRInfo, "ATRInfo", 0x2F01, 0x01, 0, true},
	}
	for _, tt := range tests {
		if tt.f.String() != tt.name || tt.f.FID() != tt.fid || tt.f.SFI() != tt.sfi || tt.f.Tag() != tt.tag || tt.f.InMF() != tt.mf {
			t.Errorf("%v: got %s %04X %02X %s %v", tt.name, tt.f, tt.f.FID(), tt.f.SFI(), tt.f.Tag(), tt.f.InMF())
		}
		if f, ok := FileByName(tt.name); !ok || f != tt.f {
			t.Errorf("FileByName(%q) = %v, %v", tt.name, f, ok)
		}
		if tt.tag != 0 {
			if f, ok := FileByTag(tt.tag); !ok || f != tt.f {
				t.Errorf("FileByTag(%s) = %v, %v", tt.tag, f, ok)
			}
		}
	}
	for _, bad := range []Tag{0, 0x31, 0x30, 0x5F1F, 0x71} {
		if f, ok := FileByTag(bad); ok {
			t.Errorf("FileByTag(%s) = %v", bad, f)
		}
	}
	if f, ok := FileByName("DG17"); ok {
		t.Errorf("FileByName(DG17) = %v", f)
	}
	if File(0).String() != "File(0)" || File(0).FID() != 0 || File(0).Valid() || fileEnd.Valid() || !FileATRInfo.Valid() {
		t.Error("invalid File accepted")
	}
	if FileDG7.DataGroup() != 7 || FileSOD.DataGroup() != 0 || FileCOM.IsDataGroup() {
		t.Error("DataGroup wrong")
	}
	if n := len(AllFiles()); n != 22 {
		t.Errorf("AllFiles has %d", n)
	}
}

func TestFilesNames(t *testing.T) {
	fs := Files{FileCardAccess: nil, FileSOD: nil, FileDG2: nil, FileCOM: nil, FileDG11: nil, FileDG1: nil}
	want := []File{FileCOM, FileDG1, FileDG2, FileDG11, FileSOD, FileCardAccess}
	if got := fs.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names = %v, want %v", got, want)
	}
	if got := fs.DataGroups(); !reflect.DeepEqual(got, []File{FileDG1, FileDG2, FileDG11}) {
		t.Errorf("DataGroups = %v", got)
	}
}
