package reader

// Quirk names a deviation from ICAO 9303 that a real chip shows and that
// this package tolerates in a narrow, stated form. Each quirk taken during a
// read is listed once, by its code, in the inspection report's "quirks".
type Quirk string

const (
	// QuirkSMUnprotectedError: under secure messaging the chip answered an
	// error status (not 9000, not a warning, not 6987/6988; 6Cxx
	// included) without any secure messaging data objects. Such a chip
	// counted the command but not the response, so the reader does not
	// increment the SSC for that response. The status carries no data,
	// but it is not authenticated either: a file refused that way (6A82,
	// 6982) is listed in Result.Unverified, not as absent or refused, and
	// if the chip later drops secure messaging or a MAC fails in the same
	// session the read fails (ErrUntrustedStatus) instead of redoing
	// access control, since an injected status causes exactly that.
	QuirkSMUnprotectedError Quirk = "sm_unprotected_error"
	// QuirkSMNoDO99: a MAC-protected response without DO99. The MAC then
	// does not cover the status word, so such a response is accepted only
	// with the trailer 9000 (and a MAC that verifies); any other status
	// without DO99 fails with ErrSWMismatch, because a rewritten 6A82,
	// 6982, 6700/6Cxx or 6282 would steer the file logic.
	QuirkSMNoDO99 Quirk = "sm_no_do99"
	// QuirkSMReestablished: the chip dropped secure messaging (an
	// unprotected 6987/6988) and the read redid access control once and
	// resumed.
	QuirkSMReestablished Quirk = "sm_reestablished"
	// QuirkPACEOfferedBACUsed: EF.CardAccess lists PACE but PACE failed
	// and the reader fell back to BAC because the caller allowed it
	// (ReadOptions.AllowBACFallback; fail closed otherwise).
	QuirkPACEOfferedBACUsed Quirk = "pace_offered_bac_used"
	// QuirkCardAccessMalformed: EF.CardAccess is not a well-formed SET OF
	// SecurityInfo (9303-11 §9.2). The reader cannot tell what it offers,
	// keeps the raw file and goes on with BAC.
	QuirkCardAccessMalformed Quirk = "cardaccess_malformed"
	// QuirkSelectNeedsFCI: the chip refused SELECT with P2=0C (no response
	// data) and was selected with P2=00 instead.
	QuirkSelectNeedsFCI Quirk = "select_p2_00"
	// QuirkSFIUnsupported: the chip refused READ BINARY with a short file
	// identifier; files were selected by file identifier instead.
	QuirkSFIUnsupported Quirk = "sfi_unsupported"
)

// String returns the quirk's code.
func (q Quirk) String() string { return string(q) }
