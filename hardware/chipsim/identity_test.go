package chipsim

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	files := specimenFiles(t)
	cfg := Config{DocumentNumber: "L898902C", DateOfBirth: "690806", DateOfExpiry: "940623",
		ATR: "3B8180018080", ExtendedLength: true, MaxResponse: 1000, RequireBAC: new(true), EOFWarning: true}
	id, err := NewIdentity(files, cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "chip")
	// A stale file of a known name, and a foreign one, already there.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "DG7"), []byte{1}, 0o600)
	os.WriteFile(filepath.Join(dir, "face.jpg"), []byte{2}, 0o600)
	if err := id.Save(dir); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("folder mode %v %v", st.Mode(), err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
		if e.Name() == "face.jpg" {
			continue
		}
		fi, _ := e.Info()
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", e.Name(), fi.Mode())
		}
	}
	sort.Strings(names)
	if got := strings.Join(names, " "); got != "COM CardAccess DG1 DG2 SOD chip.json face.jpg" {
		t.Fatalf("folder holds %s", got)
	}
	js, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	for _, want := range []string{`"version": 1`, `"document_number": "L898902C"`, `"atr": "3B8180018080"`,
		`"extended_length": true`, `"max_response": 1000`, `"require_bac": true`, `"eof_warning": true`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("chip.json lacks %s:\n%s", want, js)
		}
	}
	got, err := LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Files, files) {
		t.Errorf("files differ")
	}
	cfg.Version = ConfigVersion
	if !reflect.DeepEqual(got.Config, cfg) {
		t.Errorf("config %+v, want %+v", got.Config, cfg)
	}
	c, err := New(got)
	if err != nil {
		t.Fatal(err)
	}
	if up(c.ATR()) != "3B8180018080" {
		t.Errorf("ATR %X", c.ATR())
	}
}

func TestLoadIdentity(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		for n, v := range files {
			if err := os.WriteFile(filepath.Join(dir, n), []byte(v), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	d1 := string(dg1(specimenTD3))
	t.Run("no chip.json", func(t *testing.T) {
		id, err := LoadIdentity(write(t, map[string]string{"DG1": d1}))
		if err != nil {
			t.Fatal(err)
		}
		c, _ := New(id)
		if _, sw := bac(t, c, vecMRZInfo, make([]byte, 8), make([]byte, 16)); sw != 0x9000 {
			t.Fatalf("%04X", sw)
		}
	})
	for _, tt := range []struct {
		name  string
		files map[string]string
	}{
		{"unknown field", map[string]string{"DG1": d1, "chip.json": `{"pin": "123456"}`}},
		{"two objects", map[string]string{"DG1": d1, "chip.json": `{} {}`}},
		{"not JSON", map[string]string{"DG1": d1, "chip.json": `version: 1`}},
		{"oversized chip.json", map[string]string{"DG1": d1, "chip.json": `{"atr":"` + strings.Repeat("0", 70000) + `"}`}},
		{"no DG1 and no key", map[string]string{"COM": "x"}},
		{"version 2", map[string]string{"DG1": d1, "chip.json": `{"version": 2}`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := LoadIdentity(write(t, tt.files)); !errors.Is(err, ErrInvalidIdentity) {
				t.Fatalf("got %v", err)
			}
		})
	}
	t.Run("DG1 is a folder", func(t *testing.T) {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, "DG1"), 0o700)
		if _, err := LoadIdentity(dir); err == nil {
			t.Fatal("loaded")
		}
	})
	t.Run("missing folder", func(t *testing.T) {
		if _, err := LoadIdentity(filepath.Join(t.TempDir(), "nope")); err == nil {
			t.Fatal("loaded")
		}
	})
}

func TestNewIdentityRefusals(t *testing.T) {
	good := dg1(specimenTD3)
	bad := func(mrz string) map[string][]byte { return map[string][]byte{"DG1": dg1(mrz)} }
	// Break the date of birth check digit (position 19 of line 2).
	wrongCD := []byte(specimenTD3)
	wrongCD[44+19] = '2'
	tests := []struct {
		name  string
		files map[string][]byte
		cfg   Config
	}{
		{"unknown file", map[string][]byte{"DG1": good, "DG17": {1}}, Config{}},
		{"oversized file", map[string][]byte{"DG1": good, "DG3": make([]byte, 1<<24+1)}, Config{}},
		{"no key, no DG1", map[string][]byte{"COM": {1}}, Config{}},
		{"DG1 not DO61", map[string][]byte{"DG1": {0x62, 0x00}}, Config{}},
		{"DG1 trailing bytes", map[string][]byte{"DG1": append(bytes.Clone(good), 0)}, Config{}},
		{"DG1 without 5F1F", map[string][]byte{"DG1": {0x61, 0x03, 0x5F, 0x1E, 0x00}}, Config{}},
		{"MRZ of 80 characters", bad(strings.Repeat("<", 80)), Config{}},
		{"MRZ lower case", bad(strings.ToLower(specimenTD3)), Config{}},
		{"date check digit", map[string][]byte{"DG1": dg1(string(wrongCD))}, Config{}},
		{"document check digit", bad(strings.Replace(specimenTD3, "L898902C<3", "L898902C<4", 1)), Config{}},
		{"TD1 long number without digit", bad("I<UTOD23145890<<<<<<<<<<<<<<<<" + "7408122F1204159UTO<<<<<<<<<<<6" + strings.Repeat("<", 30)), Config{}},
		{"partial key", nil, Config{DocumentNumber: "L898902C"}},
		{"bad date", nil, Config{DocumentNumber: "L898902C", DateOfBirth: "6908A6", DateOfExpiry: "940623"}},
		{"short date", nil, Config{DocumentNumber: "L898902C", DateOfBirth: "69086", DateOfExpiry: "940623"}},
		{"lower-case number", nil, Config{DocumentNumber: "l898902c", DateOfBirth: "690806", DateOfExpiry: "940623"}},
		{"number too long", nil, Config{DocumentNumber: strings.Repeat("A", 23), DateOfBirth: "690806", DateOfExpiry: "940623"}},
		{"ATR not hex", map[string][]byte{"DG1": good}, Config{ATR: "3B8G"}},
		{"ATR too long", map[string][]byte{"DG1": good}, Config{ATR: strings.Repeat("3B", 34)}},
		{"MaxResponse over 256 without extended", map[string][]byte{"DG1": good}, Config{MaxResponse: 257}},
		{"MaxResponse over 65536", map[string][]byte{"DG1": good}, Config{MaxResponse: 65537, ExtendedLength: true}},
		{"MaxResponse negative", map[string][]byte{"DG1": good}, Config{MaxResponse: -1}},
		{"version 3", map[string][]byte{"DG1": good}, Config{Version: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewIdentity(tt.files, tt.cfg); !errors.Is(err, ErrInvalidIdentity) {
				t.Fatalf("got %v", err)
			}
		})
	}
	if _, err := New(nil); !errors.Is(err, ErrInvalidIdentity) {
		t.Errorf("New(nil): %v", err)
	}
	if _, err := New(&Identity{Files: map[string][]byte{"DG0": good}}); !errors.Is(err, ErrInvalidIdentity) {
		t.Errorf("New with a bad literal identity: %v", err)
	}
	if err := (&Identity{}).Save(t.TempDir()); !errors.Is(err, ErrInvalidIdentity) {
		t.Errorf("Save of an identity without a BAC key: %v", err)
	}
}

// The chip holds copies: changing the caller's bytes later changes nothing.
func TestIdentityCopies(t *testing.T) {
	files := specimenFiles(t)
	id, err := NewIdentity(files, Config{RequireBAC: new(false)})
	if err != nil {
		t.Fatal(err)
	}
	files["COM"][0] = 0xFF
	c, err := New(id)
	if err != nil {
		t.Fatal(err)
	}
	id.Files["COM"][1] = 0xFF
	tx(t, c, selectApp)
	tx(t, c, "00A4020C02011E")
	if got := tx(t, c, "00B0000002"); got != "60149000" {
		t.Fatal(got)
	}
}
