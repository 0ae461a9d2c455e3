package chipstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/cryptobyte"
)

// The bundle is the plaintext sealed in identity.sealed: every file of the
// identity folder in one deterministic byte string, so that equal folders
// give equal plaintexts and a decoder has exactly one way to read it:
//
//	magic   "borderid-chip-bundle-v1" (23 bytes)
//	count   uint16 (big-endian), 1 .. MaxFiles
//	count × {
//	  name  uint8-length-prefixed, a plain file name (ValidName)
//	  data  uint32-length-prefixed, at most MaxFileSize bytes
//	}
//
// with names in strictly ascending byte order (so no duplicates) and
// nothing after the last file.
const bundleMagic = "borderid-chip-bundle-v1"

// Limits of a bundle: an identity folder holds about twenty files; chipsim
// takes files up to 16 MiB.
const (
	MaxFiles    = 64
	MaxFileSize = 16 << 20
	// MaxBundleSize bounds what Load reads and decrypts.
	MaxBundleSize = 64 << 20
)

// ErrBundle: the decrypted bytes are not a bundle of the format above, or
// files given to Save cannot be bundled.
var ErrBundle = errors.New("chipstore: malformed identity bundle")

// ValidName reports whether name may be a file of a bundle: 1 to 64
// characters of A-Z a-z 0-9 '.' '_' '-', not starting with '.'. That
// covers the LDS names, chip.json and the key files, and nothing that
// could leave a folder when the files are written out (`chip export`).
func ValidName(name string) bool {
	if len(name) == 0 || len(name) > 64 || name[0] == '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// encodeBundle writes files as a bundle.
func encodeBundle(files map[string][]byte) ([]byte, error) {
	if len(files) == 0 || len(files) > MaxFiles {
		return nil, fmt.Errorf("%w: %d files, want 1 to %d", ErrBundle, len(files), MaxFiles)
	}
	names := make([]string, 0, len(files))
	size := len(bundleMagic) + 2
	for name, b := range files {
		if !ValidName(name) {
			return nil, fmt.Errorf("%w: file name %q is not a plain file name", ErrBundle, name)
		}
		if len(b) > MaxFileSize {
			return nil, fmt.Errorf("%w: %s is %d bytes, over %d", ErrBundle, name, len(b), MaxFileSize)
		}
		names = append(names, name)
		size += 1 + len(name) + 4 + len(b)
	}
	if size > MaxBundleSize {
		return nil, fmt.Errorf("%w: %d bytes, over %d", ErrBundle, size, MaxBundleSize)
	}
	slices.Sort(names)
	b := cryptobyte.NewFixedBuilder(make([]byte, 0, size))
	b.AddBytes([]byte(bundleMagic))
	b.AddUint16(uint16(len(names)))
	for _, name := range names {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(name)) })
		b.AddUint32LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(files[name]) })
	}
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBundle, err)
	}
	return out, nil
}

// decodeBundle reads a bundle strictly: the magic, a count within limits,
// valid names in strictly ascending order, sizes within limits, nothing
// after. The files are copies, not slices of b.
func decodeBundle(b []byte) (map[string][]byte, error) {
	if len(b) > MaxBundleSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrBundle, len(b))
	}
	s := cryptobyte.String(b)
	var magic []byte
	var count uint16
	if !s.ReadBytes(&magic, len(bundleMagic)) || string(magic) != bundleMagic || !s.ReadUint16(&count) {
		return nil, fmt.Errorf("%w: no bundle header", ErrBundle)
	}
	if count == 0 || count > MaxFiles {
		return nil, fmt.Errorf("%w: %d files", ErrBundle, count)
	}
	files := make(map[string][]byte, count)
	prev := ""
	for i := 0; i < int(count); i++ {
		var name cryptobyte.String
		var size uint32
		var data []byte
		if !s.ReadUint8LengthPrefixed(&name) || !s.ReadUint32(&size) || size > MaxFileSize || !s.ReadBytes(&data, int(size)) {
			return nil, fmt.Errorf("%w: file %d truncated or too large", ErrBundle, i+1)
		}
		n := string(name)
		if !ValidName(n) {
			return nil, fmt.Errorf("%w: file %d has an invalid name", ErrBundle, i+1)
		}
		if i > 0 && strings.Compare(prev, n) >= 0 {
			return nil, fmt.Errorf("%w: file names out of order or repeated", ErrBundle)
		}
		files[n] = append([]byte{}, data...)
		prev = n
	}
	if !s.Empty() {
		return nil, fmt.Errorf("%w: %d bytes after the last file", ErrBundle, len(s))
	}
	return files, nil
}
