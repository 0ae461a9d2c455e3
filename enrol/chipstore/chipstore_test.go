package chipstore

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"borderid/internal/envelope"
	"borderid/internal/envelope/envelopetest"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
)

// sampleFiles is an identity folder's worth of files with a real JPEG
// face and a real MRZ, for checks that neither shows in the sealed file.
func sampleFiles(t testing.TB) (files map[string][]byte, face []byte, mrz string) {
	img := image.NewRGBA(image.Rect(0, 0, 120, 160))
	for y := 0; y < 160; y++ {
		for x := 0; x < 120; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 2), uint8(y), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	face = buf.Bytes()
	mrz = specimen.DefaultMRZ()
	dg1, err := lds.EncodeDG1(strings.ReplaceAll(mrz, "\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	dg2, err := lds.EncodeDG2([]lds.FaceImage{{Format: lds.ImageJPEG, Width: 120, Height: 160, Data: face}})
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"DG1": dg1, "DG2": dg2, "chip.json": []byte("{\"version\": 1}\n"), "ca.key": bytes.Repeat([]byte{7}, 138),
		"empty": {},
	}, face, mrz
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	kw := envelopetest.NewWrapper(t)
	files, face, mrz := sampleFiles(t)
	id, err := Save(ctx, home, files, kw)
	if err != nil {
		t.Fatal(err)
	}
	if !ValidID(id) {
		t.Fatalf("id %q", id)
	}
	id2, err := Save(ctx, home, files, kw)
	if err != nil || id2 == id {
		t.Fatalf("second save: %q %v", id2, err)
	}
	ids, err := List(home)
	if err != nil || !slices.Equal(ids, slices.Sorted(slices.Values([]string{id, id2}))) {
		t.Errorf("List %v %v", ids, err)
	}
	got, err := Load(ctx, home, id, kw)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(got, files, bytes.Equal) {
		t.Error("loaded files differ")
	}

	dir := filepath.Join(home, Dir, id)
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("folder %v %v", st.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != SealedFile {
		t.Errorf("folder holds %v", entries)
	}
	st, err = os.Stat(filepath.Join(dir, SealedFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("sealed file %v %v", st.Mode(), err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, SealedFile))
	if err != nil {
		t.Fatal(err)
	}
	// Nothing of the face or the MRZ is in clear: no 16-byte piece of the
	// JPEG, no MRZ line, no document number.
	for i := 0; i+16 <= len(face); i += 8 {
		if bytes.Contains(raw, face[i:i+16]) {
			t.Fatalf("sealed file holds JPEG bytes %d-%d", i, i+16)
		}
	}
	for _, s := range append(strings.Split(mrz, "\n"), "L898902C3", "ERIKSSON", "DG2", "chip.json") {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("sealed file holds %q", s)
		}
	}
	if !bytes.HasPrefix(raw, []byte(fileMagic)) {
		t.Error("no header")
	}
}

func TestTamper(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	kw := envelopetest.NewWrapper(t)
	files, _, _ := sampleFiles(t)
	id, err := Save(ctx, home, files, kw)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(home, Dir, id, SealedFile)
	orig, _ := os.ReadFile(path)
	// A flipped bit anywhere: the header, the KEK version, the wrapped
	// key, the nonce, the ciphertext, the tag.
	for _, i := range []int{0, len(fileMagic), len(fileMagic) + 4, len(fileMagic) + 10, len(fileMagic) + 80, len(orig) / 2, len(orig) - 1} {
		b := bytes.Clone(orig)
		b[i] ^= 0x01
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(ctx, home, id, kw)
		if !errors.Is(err, envelope.ErrDecrypt) && !errors.Is(err, ErrFormat) {
			t.Errorf("byte %d flipped: %v", i, err)
		}
	}
	if err := os.WriteFile(path, orig[:len(orig)-1], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, home, id, kw); !errors.Is(err, ErrFormat) {
		t.Errorf("truncated: %v", err)
	}
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, home, id, kw); err != nil {
		t.Fatalf("restored: %v", err)
	}
	// The folder renamed to another chip's id: the associated data no
	// longer matches.
	other := strings.Repeat("ab", 16)
	if err := os.Rename(filepath.Join(home, Dir, id), filepath.Join(home, Dir, other)); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, home, other, kw); !errors.Is(err, envelope.ErrDecrypt) {
		t.Errorf("renamed: %v", err)
	}
	if err := Rewrap(ctx, home, other, kw); !errors.Is(err, envelope.ErrDecrypt) {
		t.Errorf("rewrap renamed: %v", err)
	}
	if _, err := Load(ctx, home, id, kw); !errors.Is(err, ErrNotFound) {
		t.Errorf("old id: %v", err)
	}
	// Another KEK (another home's HSM).
	if err := os.Rename(filepath.Join(home, Dir, other), filepath.Join(home, Dir, id)); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, home, id, envelopetest.NewWrapper(t)); !errors.Is(err, envelope.ErrDecrypt) {
		t.Errorf("other KEK: %v", err)
	}
}

func TestInvalidIDs(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	kw := envelopetest.NewWrapper(t)
	// A file where a traversal would land, to be sure it is never read.
	if err := os.WriteFile(filepath.Join(home, SealedFile), []byte(fileMagic), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", "..", "../", "../../etc/passwd", "/etc/passwd", strings.Repeat("a", 31), strings.Repeat("a", 33),
		strings.Repeat("A", 32), strings.Repeat("g", 32), strings.Repeat("a", 30) + "/.", "0123456789abcdef0123456789abcde\x00",
		"..\\..\\0123456789abcdef0123456789a"} {
		if _, err := Load(ctx, home, id, kw); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Load(%q): %v", id, err)
		}
		if err := Rewrap(ctx, home, id, kw); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Rewrap(%q): %v", id, err)
		}
		if _, err := KEKVersion(home, id); !errors.Is(err, ErrInvalidID) {
			t.Errorf("KEKVersion(%q): %v", id, err)
		}
	}
	if _, err := Load(ctx, home, strings.Repeat("0", 32), kw); !errors.Is(err, ErrNotFound) {
		t.Errorf("absent: %v", err)
	}
	// List ignores what is not a chip folder.
	os.MkdirAll(filepath.Join(home, Dir, "not-a-chip"), 0o700)
	os.WriteFile(filepath.Join(home, Dir, strings.Repeat("1", 32)), nil, 0o600)
	if ids, err := List(home); err != nil || len(ids) != 0 {
		t.Errorf("List %v %v", ids, err)
	}
	if ids, err := List(filepath.Join(home, "nowhere")); err != nil || ids != nil {
		t.Errorf("List of no folder %v %v", ids, err)
	}
}

func TestSaveRefusals(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	kw := envelopetest.NewWrapper(t)
	many := map[string][]byte{}
	for i := range MaxFiles + 1 {
		many[strings.Repeat("f", i+1)] = nil
	}
	for name, files := range map[string]map[string][]byte{
		"no files":     {},
		"traversal":    {"../DG1": {1}},
		"slash":        {"a/b": {1}},
		"hidden":       {".chip.json": {1}},
		"dot":          {".": {1}},
		"space":        {"DG 1": {1}},
		"non-ASCII":    {"DGé": {1}},
		"empty name":   {"": {1}},
		"long name":    {strings.Repeat("a", 65): {1}},
		"too many":     many,
		"file too big": {"DG2": make([]byte, MaxFileSize+1)},
	} {
		if _, err := Save(ctx, home, files, kw); !errors.Is(err, ErrBundle) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if ids, _ := List(home); len(ids) != 0 {
		t.Errorf("refusals left chips %v", ids)
	}
}

func TestRewrap(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	kw := envelopetest.NewWrapper(t)
	files, _, _ := sampleFiles(t)
	id, err := Save(ctx, home, files, kw)
	if err != nil {
		t.Fatal(err)
	}
	stay, err := Save(ctx, home, files, kw)
	if err != nil {
		t.Fatal(err)
	}
	before, err := readSealed(home, id)
	if err != nil || before.KEKVersion != 1 {
		t.Fatalf("%v %v", before.KEKVersion, err)
	}
	kw.Rotate()
	if err := Rewrap(ctx, home, id, kw); err != nil {
		t.Fatal(err)
	}
	after, err := readSealed(home, id)
	if err != nil {
		t.Fatal(err)
	}
	if after.KEKVersion != 2 || bytes.Equal(after.WrappedKey, before.WrappedKey) ||
		!bytes.Equal(after.Ciphertext, before.Ciphertext) || !bytes.Equal(after.Nonce, before.Nonce) {
		t.Errorf("rewrap: version %d, ciphertext kept %v", after.KEKVersion, bytes.Equal(after.Ciphertext, before.Ciphertext))
	}
	if v, err := KEKVersion(home, id); err != nil || v != 2 {
		t.Errorf("KEKVersion %d %v", v, err)
	}
	entries, _ := os.ReadDir(filepath.Join(home, Dir, id))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	// Once version 1 is destroyed, the rewrapped identity opens and the
	// other does not.
	kw.Destroy(1)
	got, err := Load(ctx, home, id, kw)
	if err != nil || !maps.EqualFunc(got, files, bytes.Equal) {
		t.Errorf("rewrapped: %v", err)
	}
	if _, err := Load(ctx, home, stay, kw); !errors.Is(err, envelope.ErrDecrypt) || !errors.Is(err, envelope.ErrKEKNotFound) {
		t.Errorf("not rewrapped after destroy: %v", err)
	}
}

func TestBundle(t *testing.T) {
	files, _, _ := sampleFiles(t)
	a, err := encodeBundle(files)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := encodeBundle(maps.Clone(files))
	if !bytes.Equal(a, b) {
		t.Error("bundle not deterministic")
	}
	got, err := decodeBundle(a)
	if err != nil || !maps.EqualFunc(got, files, bytes.Equal) {
		t.Fatalf("decode: %v", err)
	}
	small, _ := encodeBundle(map[string][]byte{"A": {1}, "B": {2}})
	want := append([]byte(bundleMagic), 0, 2, 1, 'A', 0, 0, 0, 1, 1, 1, 'B', 0, 0, 0, 1, 2)
	if !bytes.Equal(small, want) {
		t.Errorf("bundle %x, want %x", small, want)
	}
	swapped := append([]byte(bundleMagic), 0, 2, 1, 'B', 0, 0, 0, 1, 2, 1, 'A', 0, 0, 0, 1, 1)
	dup := append([]byte(bundleMagic), 0, 2, 1, 'A', 0, 0, 0, 1, 1, 1, 'A', 0, 0, 0, 1, 2)
	for name, bad := range map[string][]byte{
		"empty":        nil,
		"bad magic":    append([]byte("borderid-chip-bundle-v2"), small[len(bundleMagic):]...),
		"no files":     append([]byte(bundleMagic), 0, 0),
		"out of order": swapped,
		"duplicate":    dup,
		"trailing":     append(bytes.Clone(small), 0),
		"truncated":    small[:len(small)-1],
		"count high":   append(append([]byte(bundleMagic), 0, 3), small[len(bundleMagic)+2:]...),
		"bad name":     append([]byte(bundleMagic), 0, 1, 2, '.', '.', 0, 0, 0, 0),
		"huge size":    append([]byte(bundleMagic), 0, 1, 1, 'A', 0xFF, 0xFF, 0xFF, 0xFF),
	} {
		if _, err := decodeBundle(bad); !errors.Is(err, ErrBundle) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzDecodeBundle(f *testing.F) {
	files, _, _ := sampleFiles(f)
	seed, _ := encodeBundle(files)
	f.Add(seed)
	small, _ := encodeBundle(map[string][]byte{"A": {1}, "B": {2}, "chip.json": []byte("{}")})
	f.Add(small)
	f.Add([]byte(bundleMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := decodeBundle(b)
		if err != nil {
			if !errors.Is(err, ErrBundle) {
				t.Fatalf("error not ErrBundle: %v", err)
			}
			return
		}
		// One encoding per bundle: what decodes re-encodes to the input.
		again, err := encodeBundle(files)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs: %v", err)
		}
	})
}
