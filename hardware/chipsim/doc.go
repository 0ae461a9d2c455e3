// Package chipsim is a software eMRTD chip: the card side of ICAO Doc 9303
// (part 10 file system, part 11 §4.3 Basic Access Control and §9.8 secure
// messaging) over ISO/IEC 7816-4 command APDUs, personalised from a chip
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
// What the chip implements: command APDU parsing (cases 1 to 4, short and,
// when configured, extended length), SELECT by AID and by file identifier,
// READ BINARY (even INS B0 with offset or short file identifier, odd INS
// B1 with DO54 offsets), GET CHALLENGE, EXTERNAL AUTHENTICATE for BAC,
// GET RESPONSE (only after a SELECT answered with 61xx), and secure
// messaging with 3DES (retail MAC) or AES (CMAC, IV = E(KSenc, SSC)). The
// eMRTD application's files are readable only under secure messaging
// (unless the configuration turns that off); the master file's
// EF.CardAccess, EF.CardSecurity and EF.ATR/INFO are always readable.
//
// PACE (9303-11 §4.4, pace.go, pace_gm.go, pace_im.go, pace_cam.go): the
// generic, integrated and chip authentication mappings over every
// standardized domain (parameter ids 0-2, 8-18), with the MRZ or the CAN,
// for the PACEInfos of the chip's EF.CardAccess; secure messaging then
// runs with the PACE keys. A chip may refuse BAC (Config.PACE.BAC).
//
// The card side is written here from the standards, independently of the
// terminal side in package reader, which it must never import: a chip that
// shared the reader's code would pass tests by sharing its bugs. Only the
// byte-exact primitives of internal/smcrypto (KDF, padding, MACs, CBC) are
// shared.
//
// Deliberately not implemented (yet): Chip Authentication, Terminal
// Authentication and Active Authentication; PACE with PIN or PUK or
// explicit domain parameters; command chaining other than PACE's; logical
// channels; UPDATE BINARY or any personalisation command (a chip's content
// comes only from its Identity); file access conditions other than "needs
// secure messaging". Fault injection (Faults) makes the chip misbehave the
// way real chips do, so that readers can be tested against it.
package chipsim
