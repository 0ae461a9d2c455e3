package hsm

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"

	"borderid/internal/envelope"
)

// TokenLabel is the label of the state's token.
const TokenLabel = "borderid"

// Errors callers branch on.
var (
	// ErrOtherHome: this process already opened the token of another
	// home; SoftHSM2 reads its configuration once per process.
	ErrOtherHome = errors.New("hsm: this process already uses the SoftHSM2 token of another home")
	// ErrNoModule: libsofthsm2.so is not installed.
	ErrNoModule = errors.New("hsm: SoftHSM2 is not installed (Debian package softhsm2)")
	// ErrSecrets: the PIN files cannot be read or created, are missing
	// for a token that exists, are open to other users, or their folder
	// is writable by them.
	ErrSecrets = errors.New("hsm: HSM PIN files unusable")
	// ErrKeyNotFound: no key of that label.
	ErrKeyNotFound = errors.New("hsm: key not found")
	// ErrKEKNotFound: no KEK of that version (never created, or
	// destroyed). The same value as envelope.ErrKEKNotFound.
	ErrKEKNotFound = envelope.ErrKEKNotFound
	// ErrKeyMismatch: a key of that label exists with other parameters
	// (another curve, another type); it is neither replaced nor used.
	ErrKeyMismatch = errors.New("hsm: key exists with other parameters")
	// ErrDuplicate: several keys carry one label; the token was changed
	// by something other than this package.
	ErrDuplicate = errors.New("hsm: several keys with one label")
	// ErrKEKVersion: a KEK version that may not be created or destroyed
	// (below the current one; the current one itself).
	ErrKEKVersion = errors.New("hsm: KEK version refused")
	// ErrLabel: a key label this package does not accept.
	ErrLabel = errors.New("hsm: invalid key label")
	// ErrClosed: the Token was closed.
	ErrClosed = errors.New("hsm: token closed")
	// ErrHSM: any other failure reported by the PKCS#11 module.
	ErrHSM = errors.New("hsm: PKCS#11 failure")
)

// process is the process-wide fact SoftHSM2 imposes: one configuration,
// so one home, per process (see the package documentation).
var process struct {
	mu   sync.Mutex
	home string
}

// Token is the state's SoftHSM2 token, logged in. It is safe for
// concurrent use.
type Token struct {
	home   string
	hsmDir string
	c      *crypto11.Context
	mu     sync.Mutex // Ensure* and DestroyKEK in this process
	closed atomic.Bool
	// indexKey caches the blind-index key's handle: it is never
	// destroyed by this package.
	indexKey atomic.Pointer[crypto11.SecretKey]
	kc       kekCache
}

// Paths below <home>.
const (
	hsmDirName  = "hsm"
	secretsDir  = "secrets"
	pinFile     = "hsm-pin"
	soPINFile   = "hsm-so-pin"
	confName    = "softhsm2.conf"
	tokensName  = "tokens"
	lockName    = "lock"
	gcmIVLength = 12
)

// modulePaths are where Debian installs the SoftHSM2 module.
func modulePaths() []string {
	return []string{
		"/usr/lib/softhsm/libsofthsm2.so",
		"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/local/lib/softhsm/libsofthsm2.so",
	}
}

// ModulePath returns the path of libsofthsm2.so, or ErrNoModule.
func ModulePath() (string, error) {
	for _, p := range modulePaths() {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: libsofthsm2.so is in none of %v", ErrNoModule, modulePaths())
}

// Open opens the token of home, creating <home>/hsm, the PINs and the
// token when they do not exist yet (see the package documentation), and
// logs in. Loading the module and logging in cannot be interrupted; ctx is
// checked between steps.
func Open(ctx context.Context, home string) (*Token, error) {
	if home == "" {
		return nil, errors.New("hsm: open: no home folder")
	}
	abs, err := filepath.Abs(home)
	if err != nil {
		return nil, fmt.Errorf("hsm: open: %w", err)
	}
	process.mu.Lock()
	defer process.mu.Unlock()
	if process.home != "" && process.home != abs {
		return nil, fmt.Errorf("%w: %s is open in this process; %s needs a process of its own", ErrOtherHome, process.home, abs)
	}
	module, err := ModulePath()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hsmDir := filepath.Join(abs, hsmDirName)
	conf, err := writeLayout(abs, hsmDir)
	if err != nil {
		return nil, err
	}
	// The first time in this process: point SoftHSM2 at this home. The
	// module reads it when it is initialised (crypto11.Configure below).
	if cur := os.Getenv("SOFTHSM2_CONF"); cur != conf {
		if err := os.Setenv("SOFTHSM2_CONF", conf); err != nil {
			return nil, fmt.Errorf("hsm: open: %w", err)
		}
	}
	process.home = abs

	unlock, err := lockFile(filepath.Join(hsmDir, lockName))
	if err != nil {
		return nil, err
	}
	defer unlock()
	tokenExists, err := hasTokenFiles(filepath.Join(hsmDir, tokensName))
	if err != nil {
		return nil, err
	}
	pin, soPIN, err := pins(abs, tokenExists)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := configure(module, pin)
	if err != nil && isTokenMissing(err) && !tokenExists {
		if err := initToken(ctx, module, pin, soPIN); err != nil {
			return nil, err
		}
		c, err = configure(module, pin)
	}
	if err != nil {
		if isTokenMissing(err) {
			return nil, fmt.Errorf("%w: no token %q in %s (the tokens folder is not empty: not initialising another)", ErrHSM, TokenLabel, filepath.Join(hsmDir, tokensName))
		}
		var rv pkcs11.Error
		if errors.As(err, &rv) || strings.Contains(err.Error(), "CKR_PIN") {
			return nil, fmt.Errorf("%w: log in to token %q with %s: %w", ErrHSM, TokenLabel, filepath.Join(abs, secretsDir, pinFile), err)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrHSM, module, err)
	}
	return &Token{home: abs, hsmDir: hsmDir, c: c}, nil
}

func configure(module, pin string) (*crypto11.Context, error) {
	return crypto11.Configure(&crypto11.Config{
		Path:            module,
		TokenLabel:      TokenLabel,
		Pin:             pin,
		GCMIVLength:     gcmIVLength,
		PoolWaitTimeout: 30 * time.Second,
	})
}

// isTokenMissing recognises crypto11's "no such token" (it exports no
// sentinel for it; internal/signer relies on the same message).
func isTokenMissing(err error) bool {
	return strings.Contains(err.Error(), "could not find PKCS#11 token")
}

// writeLayout creates <home>/hsm, its tokens folder and its config, and
// returns the config's path. The config is derived from the home, so it is
// rewritten when it differs (a home moved to another path).
func writeLayout(home, hsmDir string) (string, error) {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", fmt.Errorf("hsm: home: %w", err)
	}
	tokens := filepath.Join(hsmDir, tokensName)
	for _, d := range []string{hsmDir, tokens} {
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("hsm: %w", err)
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return "", fmt.Errorf("hsm: %w", err)
		}
	}
	conf := filepath.Join(hsmDir, confName)
	body := fmt.Sprintf("# Written by borderid; rewritten when it differs.\n"+
		"directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if cur, err := os.ReadFile(conf); err == nil && string(cur) == body {
		return conf, nil
	}
	tmp := conf + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		return "", fmt.Errorf("hsm: %w", err)
	}
	if err := os.Rename(tmp, conf); err != nil {
		return "", fmt.Errorf("hsm: %w", err)
	}
	return conf, nil
}

func hasTokenFiles(tokens string) (bool, error) {
	ents, err := os.ReadDir(tokens)
	if err != nil {
		return false, fmt.Errorf("hsm: %w", err)
	}
	return len(ents) > 0, nil
}

// pins reads the two PINs, generating them when neither the PIN files nor
// a token exist yet. They are never overwritten.
func pins(home string, tokenExists bool) (pin, soPIN string, err error) {
	dir := filepath.Join(home, secretsDir)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", "", fmt.Errorf("%w: %w", ErrSecrets, err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return "", "", fmt.Errorf("%w: %s: %w", ErrSecrets, dir, err)
	} else if fi.Mode().Perm()&0o022 != 0 {
		// Others could replace the PIN files. (Read and search
		// permission alone is harmless: the files are 0600.)
		return "", "", fmt.Errorf("%w: %s is writable by other users (mode %v); chmod 700 it", ErrSecrets, dir, fi.Mode().Perm())
	}
	if pin, err = readOrCreatePIN(filepath.Join(dir, pinFile), tokenExists); err != nil {
		return "", "", err
	}
	if soPIN, err = readOrCreatePIN(filepath.Join(dir, soPINFile), tokenExists); err != nil {
		return "", "", err
	}
	return pin, soPIN, nil
}

func readOrCreatePIN(path string, tokenExists bool) (string, error) {
	for range 2 {
		pin, err := readPIN(path)
		if err == nil {
			return pin, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if tokenExists {
			return "", fmt.Errorf("%w: %s is missing but the token exists; restore it from where the home was backed up", ErrSecrets, path)
		}
		pin, err = newPIN()
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrSecrets, err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue // another process wrote it first: read that one
		}
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrSecrets, err)
		}
		_, werr := f.WriteString(pin + "\n")
		serr := f.Sync()
		cerr := f.Close()
		if err := errors.Join(werr, serr, cerr); err != nil {
			os.Remove(path)
			return "", fmt.Errorf("%w: writing %s: %w", ErrSecrets, path, err)
		}
		return pin, nil
	}
	return "", fmt.Errorf("%w: %s keeps changing", ErrSecrets, path)
}

func readPIN(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return "", fmt.Errorf("%w: %w", ErrSecrets, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%w: %s is not a regular file", ErrSecrets, path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%w: %s is open to other users (mode %v); chmod 600 it", ErrSecrets, path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: cannot read %s: %w", ErrSecrets, path, err)
	}
	pin := strings.TrimRight(string(b), "\r\n")
	if len(pin) < 4 || len(pin) > 255 || strings.ContainsAny(pin, "\x00\r\n") {
		return "", fmt.Errorf("%w: %s does not hold a PIN (%d characters)", ErrSecrets, path, len(pin))
	}
	return pin, nil
}

// newPIN returns 24 base32 characters (120 bits) from crypto/rand.
func newPIN() (string, error) {
	b := make([]byte, 15)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b), nil
}

// initToken initialises the token in the first free slot through PKCS#11
// itself (C_InitToken, then C_InitPIN as the security officer), in this
// process: the PINs never appear on a command line (softhsm2-util takes
// them as arguments, visible in /proc to every local user while it runs).
// The module is finalised again afterwards, so crypto11 initialises it
// afresh and sees the new token.
func initToken(ctx context.Context, module, pin, soPIN string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := pkcs11.New(module)
	if p == nil {
		return fmt.Errorf("%w: %s", ErrNoModule, module)
	}
	defer p.Destroy()
	if err := p.Initialize(); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		return fmt.Errorf("%w: C_Initialize: %w", ErrHSM, err)
	}
	defer p.Finalize()
	slots, err := p.GetSlotList(true)
	if err != nil {
		return fmt.Errorf("%w: C_GetSlotList: %w", ErrHSM, err)
	}
	free, found := uint(0), false
	for _, sl := range slots {
		ti, err := p.GetTokenInfo(sl)
		if err != nil {
			continue
		}
		if ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			free, found = sl, true
			break
		}
	}
	if !found {
		return fmt.Errorf("%w: no free slot to initialise token %q in", ErrHSM, TokenLabel)
	}
	if err := p.InitToken(free, soPIN, TokenLabel); err != nil {
		return fmt.Errorf("%w: C_InitToken: %w", ErrHSM, err)
	}
	// SoftHSM2 gives an initialised token a slot id of its own: find it
	// again by label.
	slots, err = p.GetSlotList(true)
	if err != nil {
		return fmt.Errorf("%w: C_GetSlotList: %w", ErrHSM, err)
	}
	for _, sl := range slots {
		ti, err := p.GetTokenInfo(sl)
		if err != nil || strings.TrimRight(ti.Label, " ") != TokenLabel || ti.Flags&pkcs11.CKF_USER_PIN_INITIALIZED != 0 {
			continue
		}
		s, err := p.OpenSession(sl, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
		if err != nil {
			return fmt.Errorf("%w: C_OpenSession: %w", ErrHSM, err)
		}
		defer p.CloseSession(s)
		if err := p.Login(s, pkcs11.CKU_SO, soPIN); err != nil {
			return fmt.Errorf("%w: C_Login (security officer): %w", ErrHSM, err)
		}
		defer p.Logout(s)
		if err := p.InitPIN(s, pin); err != nil {
			return fmt.Errorf("%w: C_InitPIN: %w", ErrHSM, err)
		}
		return nil
	}
	return fmt.Errorf("%w: token %q not found after C_InitToken", ErrHSM, TokenLabel)
}

// lockFile takes an exclusive flock on path, creating it.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("hsm: lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("hsm: lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// Home returns the home folder whose token this is (absolute).
func (t *Token) Home() string { return t.home }

// Close logs out and releases the PKCS#11 context; it waits for
// operations in flight. Signers, KeyWrappers and Indexers of the Token
// fail with ErrClosed afterwards. A second Close does nothing. The process
// stays bound to this home (see ErrOtherHome).
func (t *Token) Close() error {
	if t == nil || !t.closed.CompareAndSwap(false, true) {
		return nil
	}
	return t.c.Close()
}

// exclusive runs f with the process mutex and the home's lock file held:
// key creation and destruction never race, in or between processes.
func (t *Token) exclusive(f func() error) error {
	if t.closed.Load() {
		return ErrClosed
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	unlock, err := lockFile(filepath.Join(t.hsmDir, lockName))
	if err != nil {
		return err
	}
	defer unlock()
	return f()
}
