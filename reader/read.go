package reader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"borderid/internal/smcrypto"
	"borderid/reader/lds"
)

// ReadOptions configures Read.
type ReadOptions struct {
	// BACKeyInfo is the MRZ key-seed information: document number, date of
	// birth and date of expiry, each with its check digit (9303-11 §4.3.2;
	// reader/mrz builds it). It is a secret: it is never logged.
	BACKeyInfo string
	// Rand supplies RND.IFD and K.IFD; crypto/rand.Reader in production.
	Rand io.Reader
	// Progress, if set, is told how far each file has been read.
	Progress ProgressFunc
	// Logger receives structured records (file names, sizes, status words;
	// never data, keys or MRZ contents). Nil discards them.
	Logger *slog.Logger
	// Files lists the files to read after access control, in order. Nil
	// means EF.COM, the data groups it lists, then EF.SOD.
	Files []lds.File
	// ATR is the chip's answer to reset; its historical bytes may offer
	// extended length. Nil means short APDUs unless EF.ATR/INFO offers it.
	ATR []byte
	// MaxNe caps the response length the reader asks for (0: no cap).
	MaxNe int

	// CAN is the card access number, a PACE password (9303-11 §4.4.1).
	// When set, PACE uses it instead of the MRZ.
	CAN string
	// AllowBACFallback lets the read fall back to BAC when the chip offers
	// PACE and PACE fails for another reason than a wrong password. Off,
	// a failed PACE fails the read (fail closed: BAC is the weaker
	// protocol, and an attacker can make PACE fail).
	AllowBACFallback bool
	// Terminal holds the inspection system's CV certificates and key for
	// Terminal Authentication; nil skips it (DG3/DG4 stay not authorised).
	Terminal *Terminal
	// AAChallenge is the Active Authentication challenge (8 bytes); nil
	// draws a random one.
	AAChallenge []byte
	// SkipChipAuthentication skips active, chip and terminal
	// authentication (and so DG3/DG4): a read of the files only.
	SkipChipAuthentication bool
}

// Result is what Read got from the chip.
type Result struct {
	AccessControl string              // "BAC", "PACE-GM", "PACE-IM" or "PACE-CAM"
	Cipher        smcrypto.Cipher     // the secure messaging cipher after access control
	PACE          *PACEResult         // nil after BAC
	Files         map[lds.File][]byte // every file read, as read (one TLV element; EF.ATR/INFO whole)
	NotAuthorised []lds.File          // files the chip refused (6982, MAC-protected) or that need Terminal Authentication
	NotFound      []lds.File          // files EF.COM lists that the chip does not have (6A82, MAC-protected)
	// Unverified lists files whose refusal (6A82 or 6982) came without
	// secure messaging (QuirkSMUnprotectedError): nothing proves the chip
	// sent it, so the file may exist and have been hidden. A report treats
	// them as unproven, not as absent.
	Unverified     []lds.File
	Quirks         []string // quirk codes, each once, in order first seen
	APDUs          int      // command APDUs sent, GET RESPONSE included
	Bytes          int      // bytes on the wire, both directions
	Duration       time.Duration
	MaxLe          int  // the largest plain Ne a READ BINARY used
	ExtendedLength bool // whether any extended-length APDU was sent

	// The authentication protocols run after the files were read. A nil
	// result with a nil error means the protocol was not attempted (the
	// chip does not offer it, or ReadOptions skipped it); the error says
	// why an attempt did not pass (ErrAAFailed, ErrCAFailed, ErrTAFailed
	// for a refusal or a wrong signature; other errors for a broken
	// channel).
	AA    *AAResult
	AAErr error
	CA    *CAResult
	CAErr error
	TA    *TAResult
	TAErr error
}

// ErrNoKey: Read was called without MRZ key-seed information.
var ErrNoKey = errors.New("reader: no access key (MRZ key-seed information) given")

// ErrPACEDowngrade: the chip was opened with BAC although DG14, which
// EF.SOD covers, says it offers PACE. EF.CardAccess (read in plain, with no
// integrity) was hidden or altered on the way, or the chip is inconsistent;
// either way the weaker protocol was not the caller's choice.
var ErrPACEDowngrade = errors.New("reader: PACE downgrade: DG14 lists PACE but the chip was read with BAC")

// ErrNoRandom: Read was called without a random source.
var ErrNoRandom = errors.New("reader: no random source given")

// Read reads an eMRTD the way a border station does (9303-10 §3, 9303-11
// §4): EF.CardAccess and EF.ATR/INFO in plain from the master file, then
// the eMRTD application under BAC: EF.COM, each data group it lists (DG3
// and DG4 are recorded as not authorised: they need Terminal
// Authentication), then EF.SOD. A data group the chip refuses with 6982 is
// recorded, not fatal; one refused without secure messaging goes to
// Result.Unverified. If the chip drops secure messaging, access control is
// redone once and the read resumes where it stopped, unless an
// unprotected error status was accepted earlier in that session: then the
// read fails with ErrSecureMessaging (ErrUntrustedStatus).
//
// On error the Result holds what was read until then (with its counters
// and quirks). Errors match ErrBACFailed, ErrSecureMessaging,
// ErrSMDropped, ErrAccessDenied or the transport's own errors.
func Read(ctx context.Context, t Transport, opts ReadOptions) (*Result, error) {
	start := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res := &Result{Files: map[lds.File][]byte{}}
	if opts.BACKeyInfo == "" && opts.CAN == "" {
		return res, ErrNoKey
	}
	if opts.Rand == nil {
		return res, ErrNoRandom
	}
	var ext ExtendedLength
	if opts.ATR != nil {
		e, err := ExtendedLengthFromATR(opts.ATR)
		if err != nil {
			log.Warn("ATR not understood; assuming short APDUs", "err", err)
		}
		ext = e
	}
	s := NewSession(t, SessionOptions{Logger: log, Progress: opts.Progress, Extended: ext, MaxNe: opts.MaxNe})
	r := &run{s: s, opts: opts, log: log, res: res}
	err := r.read(ctx)
	res.Quirks = s.Quirks()
	res.APDUs, res.Bytes = s.APDUs(), s.Bytes()
	res.MaxLe, res.ExtendedLength = s.MaxLe(), s.UsedExtendedLength()
	res.Duration = time.Since(start)
	log.Info("read done", "files", len(res.Files), "apdus", res.APDUs, "bytes", res.Bytes, "duration", res.Duration, "err", err)
	return res, err
}

type run struct {
	s           *Session
	opts        ReadOptions
	log         *slog.Logger
	res         *Result
	cardAccess  *lds.SecurityInfos // parsed EF.CardAccess, nil if absent or malformed
	usePACE     bool               // access control is PACE (else BAC)
	reestablish bool               // access control was redone once already
}

func (r *run) read(ctx context.Context) error {
	s := r.s
	// Master file, plain, before anything is selected (9303-10 §3.11).
	if ca, ok, err := r.readOptional(ctx, lds.FileCardAccess); err != nil {
		return err
	} else if ok {
		r.res.Files[lds.FileCardAccess] = ca
		// EF.CardAccess only tells which protocols the chip offers; BAC
		// needs nothing from it, so a file that does not parse is recorded
		// and the read goes on (its raw bytes stay in the Result).
		infos, err := lds.ParseCardAccess(ca)
		if err != nil {
			r.log.Warn("EF.CardAccess not understood; going on with BAC", "err", err)
			s.AddQuirk(QuirkCardAccessMalformed)
		} else {
			r.cardAccess = infos
		}
	}
	if ai, ok, err := r.readOptional(ctx, lds.FileATRInfo); err != nil {
		return err
	} else if ok {
		r.res.Files[lds.FileATRInfo] = ai
		e, err := ExtendedLengthFromATRInfo(ai)
		if err != nil {
			r.log.Warn("EF.ATR/INFO not understood; ignoring it", "err", err)
		} else {
			s.SetExtendedLength(s.ExtendedLength().Merge(e))
		}
	}

	if err := r.accessControl(ctx); err != nil {
		return err
	}

	files := r.opts.Files
	if files == nil {
		com, err := r.readSM(ctx, lds.FileCOM)
		if err != nil {
			return err
		}
		r.res.Files[lds.FileCOM] = com
		c, err := lds.ParseCOM(com)
		if err != nil {
			return fmt.Errorf("reader: EF.COM: %w", err)
		}
		for _, q := range c.Quirks {
			s.AddQuirk(Quirk(q))
		}
		files = append(append(files, c.Files...), lds.FileSOD)
	}
	for _, f := range files {
		if _, done := r.res.Files[f]; done {
			continue
		}
		if f == lds.FileDG3 || f == lds.FileDG4 {
			// Extended Access Control (Terminal Authentication) protects
			// them; asking without it only earns a 6982. They are read
			// after it, below.
			r.res.NotAuthorised = append(r.res.NotAuthorised, f)
			continue
		}
		if err := r.readDG(ctx, f); err != nil {
			return err
		}
	}
	if err := r.checkDowngrade(); err != nil {
		return err
	}
	if r.opts.SkipChipAuthentication {
		return nil
	}
	return r.authenticate(ctx)
}

// checkDowngrade compares the protocol used with DG14's PACEInfos: EF.
// CardAccess decides which protocol runs but has no integrity of its own,
// while DG14 is covered by EF.SOD. Fail closed unless the caller allowed
// BAC (9303-11 §9.2: PACEInfos appear in both files).
func (r *run) checkDowngrade() error {
	if r.res.AccessControl != "BAC" {
		return nil
	}
	b, ok := r.res.Files[lds.FileDG14]
	if !ok {
		return nil
	}
	infos, err := lds.ParseDG14(b)
	if err != nil || len(infos.PACE) == 0 {
		return nil
	}
	if r.opts.AllowBACFallback {
		r.s.AddQuirk(QuirkPACEOfferedBACUsed)
		return nil
	}
	return fmt.Errorf("%w: EF.CardAccess did not offer it (hidden or altered in transit?)", ErrPACEDowngrade)
}

// readDG reads one file of the application and files it in the Result by
// outcome.
func (r *run) readDG(ctx context.Context, f lds.File) error {
	{
		b, err := r.readSM(ctx, f)
		switch {
		case err == nil:
			r.res.Files[f] = b
		case errors.Is(err, ErrUnprotectedStatus) && (errors.Is(err, ErrAccessDenied) || errors.Is(err, ErrFileNotFound)):
			r.log.Warn("file refused without secure messaging; unverified", "file", f.String(), "err", err)
			r.res.Unverified = append(r.res.Unverified, f)
		case errors.Is(err, ErrAccessDenied):
			r.log.Info("file not authorised", "file", f.String())
			r.res.NotAuthorised = append(r.res.NotAuthorised, f)
		case errors.Is(err, ErrFileNotFound):
			r.log.Warn("file listed but absent", "file", f.String())
			r.res.NotFound = append(r.res.NotFound, f)
		default:
			return err
		}
	}
	return nil
}

// accessControl runs PACE when EF.CardAccess offers it, else BAC
// (9303-11 §4.2: a reader that supports PACE uses it when offered). A
// PACE that fails with a wrong password fails the read; any other PACE
// failure falls back to BAC only when ReadOptions.AllowBACFallback says
// so. The eMRTD application is selected under the new session.
func (r *run) accessControl(ctx context.Context) error {
	s := r.s
	offered := r.cardAccess != nil && len(r.cardAccess.PACE) > 0
	if offered && !r.reestablish || r.usePACE {
		pw := MRZPassword(r.opts.BACKeyInfo)
		if r.opts.CAN != "" {
			pw = CANPassword(r.opts.CAN)
		}
		pr, err := PACE(ctx, s, r.cardAccess, pw, PACEOptions{Rand: r.opts.Rand, Logger: r.log})
		switch {
		case err == nil:
			r.usePACE = true
			r.res.PACE, r.res.AccessControl, r.res.Cipher = pr, pr.AccessControl(), pr.Cipher
			if pr.CardSecurity != nil {
				r.res.Files[lds.FileCardSecurity] = pr.CardSecurity
			}
			r.log.Info("access control done", "protocol", r.res.AccessControl, "domain", pr.Domain, "cipher", pr.Cipher)
			return s.SelectApplication(ctx)
		case errors.Is(err, ErrPACEFailed) && !errors.Is(err, ErrPACETokenMismatch),
			!r.opts.AllowBACFallback, r.opts.BACKeyInfo == "", r.usePACE:
			return err
		}
		r.log.Warn("PACE failed; falling back to BAC as allowed", "err", err)
		s.AddQuirk(QuirkPACEOfferedBACUsed)
		// PACE may have left the chip mid-protocol: a fresh SELECT of the
		// application starts BAC cleanly; a chip that needs a reset fails
		// BAC and the read with it.
		s.SetSecureMessaging(nil)
	}
	if r.opts.BACKeyInfo == "" {
		return fmt.Errorf("%w: the chip offers no PACE, and BAC needs the MRZ (a CAN is not enough)", ErrNoKey)
	}
	if err := s.SelectApplication(ctx); err != nil {
		return err
	}
	if _, err := BAC(ctx, s, r.opts.BACKeyInfo, r.opts.Rand); err != nil {
		return err
	}
	r.res.AccessControl, r.res.Cipher = "BAC", smcrypto.TDES
	r.log.Info("access control done", "protocol", "BAC")
	return nil
}

// authenticate runs the chip's own proofs after the files were read:
// Active Authentication (DG15) first, under the access-control session;
// then Chip Authentication (DG14), which replaces the session keys; then,
// with a terminal, Terminal Authentication and DG3/DG4. A refusal or a
// wrong signature is recorded in the Result, not returned: the files were
// read and the report says what could be proved. An error that broke the
// channel ends the sequence (later protocols need it) and is recorded too.
func (r *run) authenticate(ctx context.Context) error {
	res := r.res
	var dg14 *lds.SecurityInfos
	if b, ok := res.Files[lds.FileDG14]; ok {
		if infos, err := lds.ParseDG14(b); err == nil {
			dg14 = infos
		} else {
			r.log.Warn("DG14 not understood", "err", err)
			res.CAErr = fmt.Errorf("%w: DG14: %w", ErrCANotSupported, err)
		}
	}
	if b, ok := res.Files[lds.FileDG15]; ok {
		var info *lds.ActiveAuthenticationInfo
		if dg14 != nil && len(dg14.ActiveAuthentication) > 0 {
			info = &dg14.ActiveAuthentication[0]
		}
		dg15, err := lds.ParseDG15(b)
		if err == nil {
			res.AA, err = ActiveAuthenticate(ctx, r.s, dg15, r.opts.AAChallenge, info)
		}
		if err != nil {
			res.AA, res.AAErr = nil, err
			r.log.Warn("active authentication did not pass", "err", err)
			if channelBroken(err) {
				return nil
			}
		}
		if res.AA != nil {
			for _, q := range res.AA.Quirks {
				r.s.AddQuirk(q)
			}
		}
	}
	if dg14 == nil || len(dg14.ChipAuthentication) == 0 {
		return nil
	}
	ca, err := ChipAuthenticate(ctx, r.s, dg14, CAOptions{Rand: r.opts.Rand})
	if err != nil || ca == nil || !ca.Passed {
		res.CAErr = err
		if err == nil {
			res.CAErr = ErrCAFailed
		}
		r.log.Warn("chip authentication did not pass", "err", res.CAErr)
		return nil
	}
	res.CA = ca
	r.log.Info("chip authentication passed", "domain", ca.Domain, "cipher", ca.Cipher)
	if r.opts.Terminal == nil || len(res.NotAuthorised) == 0 {
		return nil
	}
	var eac []lds.File
	for _, f := range res.NotAuthorised {
		if f == lds.FileDG3 || f == lds.FileDG4 {
			eac = append(eac, f)
		}
	}
	if len(eac) == 0 {
		return nil
	}
	var idIC []byte
	if res.PACE != nil {
		idIC, err = res.PACE.ChipKeyComp()
	} else {
		idIC, err = TAIDFromBAC(r.opts.BACKeyInfo)
	}
	if err != nil {
		res.TAErr = err
		return nil
	}
	comp, err := ca.CompEphemeralPublicKey()
	if err != nil {
		res.TAErr = err
		return nil
	}
	cvca, ok, err := r.readOptionalSM(ctx, lds.FileCVCA)
	if err != nil {
		res.TAErr = err
		return nil
	}
	if ok {
		res.Files[lds.FileCVCA] = cvca
	}
	ta, err := TerminalAuthenticate(ctx, r.s, r.opts.Terminal, idIC, comp, cvca)
	if err != nil {
		res.TAErr = err
		r.log.Warn("terminal authentication did not pass", "err", err)
		return nil
	}
	res.TA = ta
	res.NotAuthorised = slices.DeleteFunc(res.NotAuthorised, func(f lds.File) bool { return slices.Contains(eac, f) })
	// Access control must not be redone from here on: a new session would
	// have neither chip nor terminal authentication, and what TA granted
	// would silently be gone.
	r.reestablish = true
	for i, f := range eac {
		// The chip grants what the IS certificate's rights allow; a 6982
		// here files the group as not authorised again.
		if err := r.readDG(ctx, f); err != nil {
			res.TA, res.TAErr = nil, fmt.Errorf("reading %s after terminal authentication: %w", f, err)
			res.NotAuthorised = append(res.NotAuthorised, eac[i:]...)
			r.log.Warn("reading after terminal authentication failed", "file", f.String(), "err", err)
			return nil
		}
	}
	return nil
}

// channelBroken reports whether err means the secure channel (or the card)
// is gone, so no further protocol can run over it.
func channelBroken(err error) bool {
	var swe *SWError
	return err != nil && !errors.As(err, &swe) && !errors.Is(err, ErrAAFailed) && !errors.Is(err, ErrAANotSupported)
}

// readOptionalSM reads a file of the application under secure messaging;
// absence is not an error.
func (r *run) readOptionalSM(ctx context.Context, f lds.File) ([]byte, bool, error) {
	b, err := r.s.ReadFile(ctx, f)
	var swe *SWError
	switch {
	case err == nil:
		return b, true, nil
	case errors.As(err, &swe):
		return nil, false, nil
	}
	return nil, false, err
}

// readOptional reads a master-file file in plain; absence (or a plain
// refusal) is not an error. A file whose READ BINARY answers cannot make
// up a TLV element (ErrReadBinary) is not an error
// either, but for EF.CardAccess it is recorded as QuirkCardAccessMalformed:
// the chip has the file and the reader could not tell what it offers.
func (r *run) readOptional(ctx context.Context, f lds.File) ([]byte, bool, error) {
	b, err := r.s.ReadFile(ctx, f)
	if err == nil {
		r.log.Info("file read", "file", f.String(), "size", len(b))
		return b, true, nil
	}
	var swe *SWError
	switch {
	case errors.Is(err, ErrReadBinary):
		r.log.Warn("file unreadable", "file", f.String(), "err", err)
		if f == lds.FileCardAccess {
			r.s.AddQuirk(QuirkCardAccessMalformed)
		}
		return nil, false, nil
	case errors.As(err, &swe):
		r.log.Info("file not available", "file", f.String(), "err", err)
		return nil, false, nil
	}
	return nil, false, err
}

// readSM reads one file of the application under secure messaging,
// redoing BAC once if the chip drops secure messaging on the way.
func (r *run) readSM(ctx context.Context, f lds.File) ([]byte, error) {
	fr := newFileRead(f)
	err := r.s.readFile(ctx, fr)
	if errors.Is(err, ErrSMDropped) && !r.reestablish {
		r.reestablish = true
		r.s.AddQuirk(QuirkSMReestablished)
		r.log.Warn("chip dropped secure messaging; redoing access control", "file", f.String(), "offset", len(fr.buf))
		if err := r.accessControl(ctx); err != nil {
			return nil, err
		}
		fr.selected = false
		err = r.s.readFile(ctx, fr)
	}
	if err != nil {
		return nil, err
	}
	r.log.Info("file read", "file", f.String(), "size", len(fr.buf))
	return fr.buf, nil
}
