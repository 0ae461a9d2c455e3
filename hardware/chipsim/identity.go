package chipsim

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ConfigFile is the name of the chip's configuration inside an identity
// folder (docs/chip-identity.md).
const ConfigFile = "chip.json"

// ConfigVersion is the chip.json format this package writes and reads.
const ConfigVersion = 1

// Hard limits. A real chip holds a few hundred kilobytes at most; 16 MiB
// leaves room for fingerprint-heavy DG3s while keeping every offset within
// three bytes of DO54.
const (
	maxFileSize   = 1 << 24
	maxConfigSize = 64 << 10
	maxShortNe    = 256
	maxExtendedNe = 65536
	// maxResponseData keeps every response APDU within 65535 bytes, the
	// most that vpcd's two-byte frame length can carry (ISO/IEC 7816-4
	// would allow 65536 + 2). Real chips stay far below either.
	maxResponseData = 0xFFFF - 2
)

// ErrInvalidIdentity reports an identity (files or configuration) that a
// chip cannot be built from.
var ErrInvalidIdentity = errors.New("chipsim: invalid identity")

// Identity is what a chip holds: its files and its configuration. Files are
// keyed by name: "COM", "DG1" .. "DG16", "SOD", "CardAccess",
// "CardSecurity", "CVCA", "ATRInfo". A file absent from the map is absent
// from the chip (SELECT answers 6A82).
type Identity struct {
	Files  map[string][]byte
	Config Config
}

// Config is the chip's configuration, stored as chip.json in the identity
// folder. The zero value is a valid configuration: short APDUs only, BAC
// key taken from DG1, BAC required for the application's files.
type Config struct {
	// Version of the format; 0 is read as ConfigVersion.
	Version int `json:"version,omitempty"`

	// The BAC key (9303-11 §9.7.2): document number as printed in the MRZ
	// without trailing fillers, dates as YYMMDD. When all three are empty
	// they are taken from DG1's MRZ.
	DocumentNumber string `json:"document_number,omitempty"`
	DateOfBirth    string `json:"date_of_birth,omitempty"`
	DateOfExpiry   string `json:"date_of_expiry,omitempty"`

	// ATR in hex. Empty: a default ATR whose historical bytes carry a card
	// capabilities object (ISO/IEC 7816-4 §8.1.1.2.7) that advertises
	// extended length exactly when ExtendedLength is set.
	ATR string `json:"atr,omitempty"`

	// ExtendedLength lets the chip accept extended-length APDUs (and
	// inner Le above 256 under secure messaging). Without it an extended
	// APDU is answered 6700.
	ExtendedLength bool `json:"extended_length,omitempty"`

	// MaxResponse caps the data bytes of one response (READ BINARY data,
	// or the DO53 of an odd-INS read). 0 means 256, or 65536 with
	// ExtendedLength.
	MaxResponse int `json:"max_response,omitempty"`

	// RequireBAC: the application's files can be selected and read only
	// under secure messaging (9303-11 §4.2). nil means true.
	RequireBAC *bool `json:"require_bac,omitempty"`

	// EOFWarning: a READ BINARY that asks for more bytes than remain
	// answers the remaining bytes with 6282 (end of file reached before
	// reading Ne bytes, ISO/IEC 7816-4 §5.6), as many real chips do.
	// Default: the remaining bytes with 9000.
	EOFWarning bool `json:"eof_warning,omitempty"`

	// KeepSessionOnPlain: a plain command during a secure messaging
	// session is answered 6982 but the session survives. Default: the
	// session is dropped, as real chips do.
	KeepSessionOnPlain bool `json:"keep_session_on_plain,omitempty"`

	// ActiveAuthentication gives the chip an Active Authentication key
	// (9303-11 §6.1, aa.go). nil: INTERNAL AUTHENTICATE answers 6D00.
	ActiveAuthentication *AAConfig `json:"active_authentication,omitempty"`

	// CAN is the card access number, six digits, a PACE password
	// (9303-11 §9.7.3) beside the MRZ. Empty: PACE with the CAN is
	// refused (pace.go).
	CAN string `json:"can,omitempty"`

	// PACE configures the chip's PACE (pace.go). Which PACEInfos the chip
	// offers is read from EF.CardAccess, not from here. nil: defaults.
	PACE *PACEConfig `json:"pace,omitempty"`

	// TerminalAuthentication gives the chip a trust point for Terminal
	// Authentication (ta.go): the CVCA certificate and the chip's date.
	// nil: no terminal can be authenticated, DG3 and DG4 answer 6982.
	TerminalAuthentication *TAConfig `json:"terminal_authentication,omitempty"`

	// ChipAuthentication gives the chip a static Chip Authentication key
	// (9303-11 §6.2, ca.go), which PACE-CAM uses too. nil: MSE:Set KAT
	// and MSE:Set AT 41A4 answer 6A81.
	ChipAuthentication *CAConfig `json:"chip_authentication,omitempty"`
}

// requireBAC resolves the default of RequireBAC.
func (c Config) requireBAC() bool { return c.RequireBAC == nil || *c.RequireBAC }

// maxResponse resolves the default of MaxResponse.
func (c Config) maxResponse() int {
	if c.MaxResponse != 0 {
		return c.MaxResponse
	}
	if c.ExtendedLength {
		return maxExtendedNe
	}
	return maxShortNe
}

// fileNames lists the names an identity may hold, in the order Save
// writes them.
func fileNames() []string {
	names := []string{"COM"}
	for i := 1; i <= 16; i++ {
		names = append(names, fmt.Sprintf("DG%d", i))
	}
	return append(names, "SOD", "CardAccess", "CardSecurity", "CVCA", "ATRInfo")
}

func knownFile(name string) bool {
	for _, n := range fileNames() {
		if n == name {
			return true
		}
	}
	return false
}

// NewIdentity checks files and cfg and returns an identity holding copies
// of them. The BAC key comes from cfg when it has one, else from DG1's MRZ;
// an identity with neither is refused, as is an unknown file name, a file
// over 16 MiB or an invalid configuration.
func NewIdentity(files map[string][]byte, cfg Config) (*Identity, error) {
	id := &Identity{Files: make(map[string][]byte, len(files)), Config: cfg}
	id.Config.ActiveAuthentication = cfg.ActiveAuthentication.clone()
	id.Config.ChipAuthentication = cfg.ChipAuthentication.clone()
	id.Config.TerminalAuthentication = cfg.TerminalAuthentication.clone()
	id.Config.PACE = cfg.PACE.clone()
	for name, b := range files {
		id.Files[name] = bytes.Clone(b)
	}
	if _, err := id.resolve(); err != nil {
		return nil, err
	}
	return id, nil
}

// resolved is an identity checked and reduced to what a chip needs.
type resolved struct {
	mrzInfo string // 9303-11 §9.7.2 MRZ_information
	atr     []byte
	aa      *aaSigner // nil without Active Authentication
	ca      *caKey    // nil without Chip Authentication
	pace    *paceCard // never nil
	ta      *taAnchor // nil without Terminal Authentication
}

// resolve validates the identity and derives the BAC MRZ information and
// the ATR.
func (id *Identity) resolve() (*resolved, error) {
	if id == nil {
		return nil, fmt.Errorf("%w: nil identity", ErrInvalidIdentity)
	}
	for name, b := range id.Files {
		if !knownFile(name) {
			return nil, fmt.Errorf("%w: unknown file name %q", ErrInvalidIdentity, name)
		}
		if len(b) > maxFileSize {
			return nil, fmt.Errorf("%w: %s is %d bytes, over the %d-byte limit", ErrInvalidIdentity, name, len(b), maxFileSize)
		}
	}
	cfg := id.Config
	if cfg.Version != 0 && cfg.Version != ConfigVersion {
		return nil, fmt.Errorf("%w: config version %d, want %d", ErrInvalidIdentity, cfg.Version, ConfigVersion)
	}
	limit := maxShortNe
	if cfg.ExtendedLength {
		limit = maxExtendedNe
	}
	if cfg.MaxResponse < 0 || cfg.MaxResponse > limit {
		return nil, fmt.Errorf("%w: max_response %d outside 1..%d", ErrInvalidIdentity, cfg.MaxResponse, limit)
	}
	r := &resolved{}
	if cfg.ATR != "" {
		atr, err := hex.DecodeString(cfg.ATR)
		if err != nil || len(atr) < 2 || len(atr) > 33 {
			return nil, fmt.Errorf("%w: atr must be 2 to 33 bytes of hex", ErrInvalidIdentity)
		}
		r.atr = atr
	} else {
		r.atr = defaultATR(cfg.ExtendedLength)
	}
	doc, dob, doe := cfg.DocumentNumber, cfg.DateOfBirth, cfg.DateOfExpiry
	if doc == "" && dob == "" && doe == "" {
		dg1, ok := id.Files["DG1"]
		if !ok {
			return nil, fmt.Errorf("%w: no BAC key in the configuration and no DG1", ErrInvalidIdentity)
		}
		var err error
		if doc, dob, doe, err = bacFieldsFromDG1(dg1); err != nil {
			return nil, fmt.Errorf("%w: BAC key from DG1: %w", ErrInvalidIdentity, err)
		}
	}
	info, err := mrzInformation(doc, dob, doe)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidIdentity, err)
	}
	r.mrzInfo = info
	if r.aa, err = cfg.ActiveAuthentication.signer(); err != nil {
		return nil, err
	}
	if r.ca, err = cfg.ChipAuthentication.key(); err != nil {
		return nil, err
	}
	if r.ta, err = cfg.TerminalAuthentication.resolve(id.Files["CVCA"], info); err != nil {
		return nil, err
	}
	if r.pace, err = resolvePACE(id.Files, cfg, info); err != nil {
		return nil, err
	}
	if err := checkCAM(r.pace, r.ca); err != nil { // pace_cam.go
		return nil, err
	}
	return r, nil
}

// LoadIdentity reads an identity folder: chip.json (optional: absent means
// the zero Config) and the files named in docs/chip-identity.md. Other
// files in the folder (face.jpg written by `borderid read --out`, ...) are
// ignored. Unknown fields in chip.json are refused. It is LoadIdentityFS
// on os.DirFS(dir), with dir in its messages.
func LoadIdentity(dir string) (*Identity, error) {
	return loadIdentityFS(dirFS(dir), dir)
}

// dirFS is os.DirFS, with "" meaning the working directory as it does for
// filepath.Join.
func dirFS(dir string) fs.FS {
	if dir == "" {
		return os.DirFS(".")
	}
	return os.DirFS(dir)
}

// LoadIdentityFS is LoadIdentity for an identity folder given as a file
// system whose root is the folder: an fstest.MapFS, an in-memory folder
// decrypted from an issued identity (enrol/chipstore), os.DirFS. Every
// file must be a regular file within the limits LoadIdentity applies.
func LoadIdentityFS(fsys fs.FS) (*Identity, error) {
	return loadIdentityFS(fsys, "")
}

// loadIdentityFS reads the identity of fsys; dir only names the folder in
// messages ("" for a file system of its own).
func loadIdentityFS(fsys fs.FS, dir string) (*Identity, error) {
	var cfg Config
	raw, err := readLimitedFS(fsys, dir, ConfigFile, maxConfigSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidIdentity, ConfigFile, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%w: %s: data after the JSON object", ErrInvalidIdentity, ConfigFile)
		}
		if a := cfg.ActiveAuthentication; a != nil {
			if a.Key, err = aaSideFile.loadFS(fsys, dir, a.keyFile()); err != nil {
				return nil, err
			}
		}
		if c := cfg.ChipAuthentication; c != nil {
			if c.Key, err = caSideFile.loadFS(fsys, dir, c.keyFile()); err != nil {
				return nil, err
			}
		}
		if t := cfg.TerminalAuthentication; t != nil {
			if t.CVCA, err = taSideFile.loadFS(fsys, dir, t.cvcaFile()); err != nil {
				return nil, err
			}
		}
	}
	files := make(map[string][]byte)
	for _, name := range fileNames() {
		b, err := readLimitedFS(fsys, dir, name, maxFileSize)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		files[name] = b
	}
	return NewIdentity(files, cfg)
}

// The side files chip.json names, as LoadIdentityFS reads them (the same
// descriptions as the loadKey and loadCVCA methods of aa.go, ca.go, ta.go).
var (
	aaSideFile = sideFile{field: "active_authentication key_file", what: "active authentication key"}
	caSideFile = sideFile{field: "chip_authentication key_file", what: "chip authentication key"}
	taSideFile = sideFile{field: "terminal_authentication cvca_file", what: "terminal authentication trust point"}
)

// readLimitedFS reads the regular file name of fsys, of at most limit
// bytes. dir, when not empty, is the folder fsys stands for: errors name
// the file's path in it, as os.Open's would.
func readLimitedFS(fsys fs.FS, dir, name string, limit int64) ([]byte, error) {
	path := name
	if dir != "" {
		path = filepath.Join(dir, name)
	}
	f, err := fsys.Open(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			pe.Path = path
		}
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrInvalidIdentity, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: %s is over the %d-byte limit", ErrInvalidIdentity, path, limit)
	}
	return b, nil
}

// Save writes the identity to dir (created 0700 when absent): chip.json
// and one file per entry of Files, each 0600, written to a temporary name
// and renamed. Files of known names that the identity lacks are removed,
// so that loading the folder again gives the same chip. The folder holds
// biometric data in clear: callers decide where it may go.
func (id *Identity) Save(dir string) error {
	if _, err := id.resolve(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	cfg := id.Config
	cfg.Version = ConfigVersion
	js, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFile(dir, ConfigFile, append(js, '\n')); err != nil {
		return err
	}
	if err := cfg.ActiveAuthentication.saveKey(dir); err != nil {
		return err
	}
	if err := cfg.ChipAuthentication.saveKey(dir); err != nil {
		return err
	}
	if err := cfg.TerminalAuthentication.saveCVCA(dir); err != nil {
		return err
	}
	for _, name := range fileNames() {
		b, ok := id.Files[name]
		if !ok {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			continue
		}
		if err := writeFile(dir, name, b); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(dir, name string, b []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return err
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
		return err
	}
	if _, err := f.Write(b); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	ok = true
	return nil
}

// mrzInformation builds the BAC key seed input of 9303-11 §9.7.2:
// document number (padded with '<' to at least nine characters), date of
// birth and date of expiry, each followed by its check digit (9303-3 §4.9).
func mrzInformation(doc, dob, doe string) (string, error) {
	if doc == "" || len(doc) > 22 || !mrzChars(doc, true) {
		return "", fmt.Errorf("document number %d characters: want 1 to 22 of 0-9 A-Z <", len(doc))
	}
	for _, d := range []struct{ name, v string }{{"date of birth", dob}, {"date of expiry", doe}} {
		if len(d.v) != 6 || !mrzChars(d.v, false) {
			return "", fmt.Errorf("%s must be six characters YYMMDD", d.name)
		}
	}
	if len(doc) < 9 {
		doc += strings.Repeat("<", 9-len(doc))
	}
	var b strings.Builder
	for _, f := range []string{doc, dob, doe} {
		b.WriteString(f)
		b.WriteByte(checkDigit(f))
	}
	return b.String(), nil
}

// mrzChars reports whether s holds only MRZ characters: digits and '<',
// and with letters also A-Z.
func mrzChars(s string, letters bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c == '<':
		case letters && c >= 'A' && c <= 'Z':
		default:
			return false
		}
	}
	return true
}

// checkDigit is the 9303-3 §4.9 check digit: weights 7, 3, 1 over the
// character values (digits, A=10 .. Z=35, '<'=0), modulo 10.
func checkDigit(s string) byte {
	weights := [3]int{7, 3, 1}
	sum := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		v := 0
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		}
		sum += v * weights[i%3]
	}
	return byte('0' + sum%10)
}

// bacFieldsFromDG1 reads the document number, date of birth and date of
// expiry from DG1 (9303-10 §4.7.1: tag 61 holding DO5F1F, the MRZ). The
// printed check digits must match, because a reader keyed from the printed
// MRZ would otherwise fail BAC against this chip for a reason that has
// nothing to do with the reader.
func bacFieldsFromDG1(dg1 []byte) (doc, dob, doe string, err error) {
	t, val, rest, ok := readTLV(dg1)
	if !ok || t != tagDG1 || len(rest) != 0 {
		return "", "", "", errors.New("DG1 is not one DO61")
	}
	t, mrzb, _, ok := readTLV(val)
	if !ok || t != tagMRZ {
		return "", "", "", errors.New("DG1 does not start with DO5F1F")
	}
	m := string(mrzb)
	if !mrzChars(m, true) {
		return "", "", "", errors.New("MRZ holds characters outside 0-9 A-Z <")
	}
	var docField, docCD, line2 string
	switch len(m) {
	case 88, 72: // TD3 / MRV-A, TD2 / MRV-B: 9303-4 §4.2.2, 9303-5, 9303-7
		line2 = m[len(m)/2:]
		docField, docCD = line2[0:9], line2[9:10]
		dob, doe = line2[13:19], line2[21:27]
		if line2[19] != checkDigit(dob) || line2[27] != checkDigit(doe) {
			return "", "", "", errors.New("MRZ date check digit mismatch")
		}
	case 90: // TD1: 9303-5 §4.2.2, long document numbers continue in the optional data
		line1, l2 := m[:30], m[30:60]
		docField, docCD = line1[5:14], line1[14:15]
		if docCD == "<" {
			ext := strings.TrimRight(line1[15:30], "<")
			if len(ext) < 1 {
				return "", "", "", errors.New("TD1 long document number without check digit")
			}
			docField += ext[:len(ext)-1]
			docCD = ext[len(ext)-1:]
		}
		dob, doe = l2[0:6], l2[8:14]
		if l2[6] != checkDigit(dob) || l2[14] != checkDigit(doe) {
			return "", "", "", errors.New("MRZ date check digit mismatch")
		}
	default:
		return "", "", "", fmt.Errorf("MRZ of %d characters is not TD1, TD2 or TD3", len(m))
	}
	padded := docField
	if len(padded) < 9 {
		padded += strings.Repeat("<", 9-len(padded))
	}
	if docCD[0] != checkDigit(padded) {
		return "", "", "", errors.New("MRZ document number check digit mismatch")
	}
	doc = strings.TrimRight(docField, "<")
	if doc == "" {
		return "", "", "", errors.New("MRZ has an empty document number")
	}
	return doc, dob, doe, nil
}

// sideFile is a file of an identity folder that chip.json names (a key,
// a trust point): one rule for all of them, so none can leave the folder
// or shadow the LDS files.
type sideFile struct {
	field string // chip.json field, for messages: "active_authentication key_file"
	what  string // for messages: "active authentication key"
}

func (f sideFile) check(name string) error {
	if name != filepath.Base(name) || strings.ContainsAny(name, `/\`) || name == "." || name == ".." ||
		strings.HasPrefix(name, ".") || name == ConfigFile || knownFile(name) {
		return fmt.Errorf("%w: %s %q must be a plain file name other than the LDS files", ErrInvalidIdentity, f.field, name)
	}
	return nil
}

func (f sideFile) load(dir, name string) ([]byte, error) {
	return f.loadFS(dirFS(dir), dir, name)
}

// loadFS reads the side file name of fsys (dir names it in messages, as
// in readLimitedFS). The name is checked before it is opened.
func (f sideFile) loadFS(fsys fs.FS, dir, name string) ([]byte, error) {
	if err := f.check(name); err != nil {
		return nil, err
	}
	b, err := readLimitedFS(fsys, dir, name, maxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidIdentity, f.what, err)
	}
	return b, nil
}
