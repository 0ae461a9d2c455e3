package reader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

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
}

// Result is what Read got from the chip.
type Result struct {
	AccessControl  string              // "BAC"
	Files          map[lds.File][]byte // every file read, as read (one TLV element; EF.ATR/INFO whole)
	NotAuthorised  []lds.File          // files the chip refused (6982) or that need Terminal Authentication
	NotFound       []lds.File          // files EF.COM lists that the chip does not have
	Quirks         []string            // quirk codes, each once, in order first seen
	APDUs          int                 // command APDUs sent, GET RESPONSE included
	Bytes          int                 // bytes on the wire, both directions
	Duration       time.Duration
	MaxLe          int  // the largest plain Ne a READ BINARY used
	ExtendedLength bool // whether any extended-length APDU was sent
}

// ErrNoKey: Read was called without MRZ key-seed information.
var ErrNoKey = errors.New("reader: no access key (MRZ key-seed information) given")

// Read reads an eMRTD the way a border station does (9303-10 §3, 9303-11
// §4): EF.CardAccess and EF.ATR/INFO in plain from the master file, then
// the eMRTD application under BAC: EF.COM, each data group it lists (DG3
// and DG4 are recorded as not authorised: they need Terminal
// Authentication), then EF.SOD. A data group the chip refuses with 6982 is
// recorded, not fatal. If the chip drops secure messaging, access control
// is redone once and the read resumes where it stopped.
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
	if opts.BACKeyInfo == "" {
		return res, ErrNoKey
	}
	if opts.Rand == nil {
		return res, fmt.Errorf("reader: no random source")
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
	reestablish bool // access control was redone once already
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
		switch {
		case err != nil:
			r.log.Warn("EF.CardAccess not understood; going on with BAC", "err", err)
			s.AddQuirk(QuirkCardAccessMalformed)
		case len(infos.PACE) > 0:
			s.AddQuirk(QuirkPACEOfferedBACUsed)
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

	if err := s.SelectApplication(ctx); err != nil {
		return err
	}
	if _, err := BAC(ctx, s, r.opts.BACKeyInfo, r.opts.Rand); err != nil {
		return err
	}
	r.res.AccessControl = "BAC"
	r.log.Info("access control done", "protocol", "BAC")

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
			// them; asking without it only earns a 6982.
			r.res.NotAuthorised = append(r.res.NotAuthorised, f)
			continue
		}
		b, err := r.readSM(ctx, f)
		switch {
		case err == nil:
			r.res.Files[f] = b
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

// readOptional reads a master-file file in plain; absence (or a plain
// refusal) is not an error.
func (r *run) readOptional(ctx context.Context, f lds.File) ([]byte, bool, error) {
	b, err := r.s.ReadFile(ctx, f)
	if err == nil {
		r.log.Info("file read", "file", f.String(), "size", len(b))
		return b, true, nil
	}
	var swe *SWError
	if errors.As(err, &swe) || errors.Is(err, ErrReadBinary) {
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
		if err := r.s.SelectApplication(ctx); err != nil {
			return nil, err
		}
		if _, err := BAC(ctx, r.s, r.opts.BACKeyInfo, r.opts.Rand); err != nil {
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
