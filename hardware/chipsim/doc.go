// Package chipsim is a software eMRTD chip: the card side of ICAO Doc 9303
// over ISO/IEC 7816-4 command APDUs — the part 10 file system, access
// control (BAC, 9303-11 §4.3; PACE, §4.4), secure messaging (§9.8), Active
// Authentication (§6.1), Chip Authentication v1 (§6.2) and Terminal
// Authentication v1 (§7.1, BSI TR-03110) — personalised from a chip
// identity folder, with fault injection for testing readers.
//
// A caller loads or builds an Identity (the LDS files plus the chip's
// configuration, see docs/chip-identity.md), makes a Chip and sends it
// APDUs:
//
//	id, err := chipsim.LoadIdentity(dir)
//	chip, err := chipsim.New(id)
//	resp, err := chip.Transmit(ctx, []byte{0x00, 0x84, 0x00, 0x00, 0x08})
//
// *Chip satisfies hardware/vpcd.Card, so the same chip answers in-process
// for unit tests and in a virtual PC/SC reader through vpcd.Serve.
//
// What the chip implements, file by file:
//
//   - apdu.go, chip.go, fs.go: command APDUs (cases 1 to 4, short and, when
//     configured, extended length), SELECT by AID and file identifier,
//     READ BINARY (even INS B0 by offset or short file identifier, odd INS
//     B1 with DO54 offsets), GET RESPONSE after a 61xx SELECT. The
//     application's files need secure messaging (unless the configuration
//     turns that off), DG3 and DG4 also Terminal Authentication; the master
//     file's EF.CardAccess, EF.CardSecurity and EF.ATR/INFO are always
//     readable.
//   - bac.go, sm.go: BAC (GET CHALLENGE, EXTERNAL AUTHENTICATE) and secure
//     messaging with 3DES (retail MAC) or AES (CMAC, IV = E(KSenc, SSC)).
//   - pace.go, pace_gm.go, pace_im.go, pace_cam.go: PACE with the generic,
//     integrated and chip authentication mappings, ECDH and DH, over every
//     standardized domain (parameter ids 0-2, 8-18), with the MRZ or the
//     CAN (Config.CAN), for the PACEInfos of the chip's EF.CardAccess; a
//     chip may refuse BAC (Config.PACE).
//   - aa.go: INTERNAL AUTHENTICATE with RSA (ISO/IEC 9796-2 scheme 1, every
//     trailer: BC, 33CC, 38CC, 34CC, 36CC, 35CC) or ECDSA (plain r‖s or
//     DER), Config.ActiveAuthentication.
//   - ca.go: Chip Authentication v1, MSE:Set KAT (3DES) or MSE:Set AT +
//     GENERAL AUTHENTICATE, ECDH and DH; the session's keys are replaced
//     and the SSC reset. The same key answers PACE-CAM
//     (Config.ChipAuthentication).
//   - ta.go: Terminal Authentication v1 after Chip Authentication: MSE:Set
//     DST + PSO:Verify Certificate from the trusted CVCA (Config.
//     TerminalAuthentication), MSE:Set AT, GET CHALLENGE, EXTERNAL
//     AUTHENTICATE; the chain's effective rights open DG3 and DG4 for that
//     session only.
//   - faults.go: tear after N APDUs, corrupt the MAC of response N, answer
//     errors unprotected, drop secure messaging, cap Le, add latency: the
//     ways real chips misbehave, so that readers can be tested against
//     them.
//
// The card side is written here from the standards, independently of the
// terminal side in package reader, which it must never import: a chip that
// shared the reader's code would pass tests by sharing its bugs. Only
// vector-pinned arithmetic is shared: internal/smcrypto (KDF, padding,
// MACs), internal/pace (PACE's keys, tokens, mappings and domains, pinned
// to 9303-11 App. G and H), internal/ec, internal/dh and internal/cvc.
//
// Deliberately not implemented: EAC version 2 (Chip Authentication v2,
// Terminal Authentication v2, Restricted Identification); PACE with a PIN
// or PUK or with explicit domain parameters; command chaining other than
// PACE's (long TA certificates need extended length); persistent updates of
// the trust point or the chip's date (the identity is read-only); logical
// channels; UPDATE BINARY or any personalisation command (a chip's content
// comes only from its Identity); file access conditions other than "needs
// secure messaging" and "needs Terminal Authentication".
package chipsim
