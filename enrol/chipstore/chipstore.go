// Package chipstore keeps issued chip identities encrypted at rest under
// <home>/chips (CONTRACTS.md "The home folder"): one folder per chip,
// named by an opaque random id, holding one file, identity.sealed, that is
// the whole identity folder (enrol/issue's Output.Files: LDS files with
// the face and fingerprints, chip.json, the chip's private keys) sealed
// with envelope encryption (internal/envelope): a fresh data key per
// identity, XChaCha20-Poly1305, the data key wrapped by the HSM's
// key-encryption key, associated data envelope.AD(chipID, "chip-identity")
// so that a sealed file moved to another chip's folder does not open.
//
// Common use:
//
//	id, err := chipstore.Save(ctx, home, out.Files, token.KeyWrapper())
//	files, err := chipstore.Load(ctx, home, id, token.KeyWrapper()) // in memory only
//	identity, err := chipsim.LoadIdentityFS(issue.MapFS(files))
//
// identity.sealed is
//
//	magic   "borderid-chip-identity-v1\n" (26 bytes)
//	sealed  envelope.Sealed in its binary form (internal/envelope
//	        encoding.go): format 1, KEK version, wrapped data key, nonce,
//	        ciphertext
//
// and the plaintext is the bundle of bundle.go (sorted, length-prefixed
// file names and contents). Rewrap replaces the wrapped key (a new KEK
// version after `borderid keys rotate`) and leaves the ciphertext as it
// was.
//
// The package deliberately does not: write any file in clear (callers
// that must, `chip export`, do it themselves and warn), log, keep an
// index of chips by document number (the chip id is unrelated to it; the
// database maps them), or delete identities (erasure is destroying the
// KEK version, see docs).
package chipstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"borderid/internal/envelope"
)

// Layout under <home>.
const (
	// Dir is the folder of issued identities inside <home>.
	Dir = "chips"
	// SealedFile is the one file of a chip's folder.
	SealedFile = "identity.sealed"
	// ADKind is the kind of envelope.AD for an identity.
	ADKind = "chip-identity"
)

const fileMagic = "borderid-chip-identity-v1\n"

// IDLength is the length of a chip id: 16 random bytes in lower-case hex.
const IDLength = 32

var (
	// ErrInvalidID: a chip id that is not 32 lower-case hex characters.
	// It never reaches a path.
	ErrInvalidID = errors.New("chipstore: invalid chip id")
	// ErrNotFound: no identity under that id.
	ErrNotFound = errors.New("chipstore: no such chip")
	// ErrFormat: identity.sealed is not a file of this package's format.
	ErrFormat = errors.New("chipstore: malformed sealed identity")
)

// ValidID reports whether id is a chip id: exactly 32 characters of
// 0-9 a-f.
func ValidID(id string) bool {
	if len(id) != IDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func checkID(id string) error {
	if !ValidID(id) {
		return fmt.Errorf("%w: want %d lower-case hex characters", ErrInvalidID, IDLength)
	}
	return nil
}

// Save seals files and writes them to a new folder <home>/chips/<id>/
// (0700) as identity.sealed (0600), returning the id: 16 bytes from
// crypto/rand in hex, unrelated to anything in the files. File names must
// be ValidName; the plaintext is zeroed once sealed.
func Save(ctx context.Context, home string, files map[string][]byte, kw envelope.KeyWrapper) (chipID string, err error) {
	bundle, err := encodeBundle(files)
	if err != nil {
		return "", err
	}
	defer clear(bundle)
	var raw [IDLength / 2]byte
	if _, err := io.ReadFull(rand.Reader, raw[:]); err != nil {
		return "", fmt.Errorf("chipstore: chip id: %w", err)
	}
	id := hex.EncodeToString(raw[:])
	sealed, err := envelope.Seal(ctx, kw, bundle, envelope.AD(id, ADKind))
	if err != nil {
		return "", fmt.Errorf("chipstore: sealing: %w", err)
	}
	data, err := marshal(sealed)
	if err != nil {
		return "", err
	}
	root := filepath.Join(home, Dir)
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", fmt.Errorf("chipstore: %w", err)
	}
	dir := filepath.Join(root, id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", fmt.Errorf("chipstore: %w", err)
	}
	if err := writeAtomic(dir, SealedFile, data); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return id, nil
}

// Load opens the identity chipID and returns its files, in memory. A
// damaged file, one sealed for another chip id, or a KEK version that is
// gone gives an error wrapping envelope.ErrDecrypt (or ErrFormat when the
// file is not even of the format).
func Load(ctx context.Context, home, chipID string, kw envelope.KeyWrapper) (map[string][]byte, error) {
	sealed, err := readSealed(home, chipID)
	if err != nil {
		return nil, err
	}
	plain, err := envelope.Open(ctx, kw, sealed, envelope.AD(chipID, ADKind))
	if err != nil {
		return nil, fmt.Errorf("chipstore: chip %s: %w", chipID, err)
	}
	defer clear(plain)
	files, err := decodeBundle(plain)
	if err != nil {
		return nil, fmt.Errorf("chipstore: chip %s: %w", chipID, err)
	}
	return files, nil
}

// Rewrap wraps the identity's data key again under the KeyWrapper's
// current KEK version and replaces identity.sealed by an atomic rename.
// The ciphertext and nonce are unchanged; the data key is never written.
func Rewrap(ctx context.Context, home, chipID string, kw envelope.KeyWrapper) error {
	sealed, err := readSealed(home, chipID)
	if err != nil {
		return err
	}
	next, err := envelope.Rewrap(ctx, kw, sealed, envelope.AD(chipID, ADKind))
	if err != nil {
		return fmt.Errorf("chipstore: chip %s: %w", chipID, err)
	}
	data, err := marshal(next)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(home, Dir, chipID), SealedFile, data)
}

// KEKVersion reports the KEK version identity chipID is wrapped under
// (`keys rotate` rewraps those below the current one).
func KEKVersion(home, chipID string) (int, error) {
	sealed, err := readSealed(home, chipID)
	if err != nil {
		return 0, err
	}
	return sealed.KEKVersion, nil
}

// List returns the ids of the identities under <home>/chips, sorted:
// folders named by a valid id. No folder is no identity.
func List(home string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(home, Dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("chipstore: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && ValidID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func marshal(s envelope.Sealed) ([]byte, error) {
	b, err := s.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("chipstore: %w", err)
	}
	return append([]byte(fileMagic), b...), nil
}

// maxSealedFile bounds what readSealed reads: the largest bundle plus the
// envelope's fields.
const maxSealedFile = MaxBundleSize + 1<<16

func readSealed(home, chipID string) (envelope.Sealed, error) {
	if err := checkID(chipID); err != nil {
		return envelope.Sealed{}, err
	}
	path := filepath.Join(home, Dir, chipID, SealedFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return envelope.Sealed{}, fmt.Errorf("%w: %s", ErrNotFound, chipID)
	}
	if err != nil {
		return envelope.Sealed{}, fmt.Errorf("chipstore: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return envelope.Sealed{}, fmt.Errorf("chipstore: %w", err)
	}
	if !st.Mode().IsRegular() {
		return envelope.Sealed{}, fmt.Errorf("%w: %s is not a regular file", ErrFormat, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSealedFile+1))
	if err != nil {
		return envelope.Sealed{}, fmt.Errorf("chipstore: %w", err)
	}
	if len(data) > maxSealedFile {
		return envelope.Sealed{}, fmt.Errorf("%w: %s is over %d bytes", ErrFormat, path, maxSealedFile)
	}
	rest, ok := bytes.CutPrefix(data, []byte(fileMagic))
	if !ok {
		return envelope.Sealed{}, fmt.Errorf("%w: %s has no header", ErrFormat, path)
	}
	var s envelope.Sealed
	if err := s.UnmarshalBinary(rest); err != nil {
		return envelope.Sealed{}, fmt.Errorf("%w: %s: %w", ErrFormat, path, err)
	}
	return s, nil
}

// writeAtomic writes name in dir through a temporary file (0600, synced)
// and a rename, then syncs dir: a reader sees the old file or the new
// one, never a part.
func writeAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return fmt.Errorf("chipstore: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("chipstore: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("chipstore: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("chipstore: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("chipstore: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("chipstore: %w", err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
