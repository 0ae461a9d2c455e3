// Package hsm keeps the state's keys in its SoftHSM2 token under <home>/hsm
// and uses them there, through PKCS#11 (OASIS PKCS #11 v2.40, via
// github.com/ThalesGroup/crypto11): the signing keys of the state's PKI, the
// key-encryption keys (KEKs) of internal/envelope and the blind-index key.
// No private or secret key ever leaves the token: each is generated inside
// it with CKA_SENSITIVE true and CKA_EXTRACTABLE false (so
// CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE hold), CKA_TOKEN true, and
// only the one use it has (sign; encrypt/decrypt; MAC).
//
// Use:
//
//	tok, err := hsm.Open(ctx, home) // creates <home>/hsm and the token on first use
//	defer tok.Close()
//	ds, created, err := tok.EnsureECKey("ds", elliptic.P256())
//	_, err = tok.EnsureKEK(1)
//	s, err := envelope.Seal(ctx, tok.KeyWrapper(), face, envelope.AD(id, "face"))
//
// # Layout of <home>
//
//	<home>/hsm/               0700
//	<home>/hsm/softhsm2.conf  directories.tokendir, objectstore.backend = file, log.level = ERROR
//	<home>/hsm/tokens/        SoftHSM2's object files (encrypted by SoftHSM2 under the user PIN)
//	<home>/hsm/lock           serialises key creation and destruction between processes (flock)
//	<home>/secrets/hsm-pin    the user PIN, 24 base32 characters (0600, folder 0700)
//	<home>/secrets/hsm-so-pin the security officer PIN (0600)
//
// Open generates both PINs once (crypto/rand) and never overwrites them,
// initialises a token labelled "borderid" when there is none (C_InitToken
// on the first free slot and C_InitPIN as the security officer, through
// PKCS#11 in this process: no PIN on a command line), and logs in. Anyone who can read <home>/secrets can
// use every key: the PIN file is the access control of this demo HSM. A
// real deployment puts the token in a network HSM and the PIN in an
// operator's hands.
//
// # Key labels
//
// Keys are found by CKA_LABEL (CKA_ID is the label's bytes, so crypto11
// pairs private and public halves):
//
//   - EC key pairs (EnsureECKey, P-256 or P-384): the caller's labels; init
//     uses csca, ds, mlsigner, status-signer, audit-signer, cvca, dv, is.
//   - kek-v<N> (EnsureKEK(N)): AES-256, CKA_ENCRYPT and CKA_DECRYPT only.
//   - blind-index (EnsureIndexKey): a 256-bit CKK_GENERIC_SECRET key with
//     CKA_SIGN only, used with CKM_SHA256_HMAC.
//
// Ensure* find or generate: they never overwrite, never generate a second
// key of a label, and say whether they created one.
//
// # Key wrapping
//
// KeyWrapper wraps a data key with CKM_AES_GCM inside the token under the
// highest KEK version: wrapped = nonce (12 random bytes) || ciphertext ||
// tag (16 bytes), the envelope's associated data as the GCM AAD. Random
// 96-bit nonces keep the GCM bound of NIST SP 800-38D §8.3 while one KEK
// version wraps fewer than 2^32 keys; rotate well before that. The list of
// versions is cached for at most KEKCacheTTL, one second (listing costs
// SoftHSM2 a scan of its object files, more than a wrap): a version added
// by `borderid keys rotate` in another process is used here within that
// time, and a version destroyed there is noticed at the next use (its
// handle is stale) and never wrapped under. Unwrap uses exactly the
// version named.
//
// Errors: an unknown or destroyed version wraps both envelope.ErrDecrypt
// and ErrKEKNotFound (the same value as envelope.ErrKEKNotFound); a tag
// mismatch wraps envelope.ErrDecrypt; a failure of the token wraps ErrHSM
// and not ErrDecrypt. SoftHSM2 reports a GCM tag mismatch as
// CKR_GENERAL_ERROR; since a failing token could say the same, Unwrap then
// runs a known-answer wrap and unwrap with the same key and reports
// ErrDecrypt only if that passes.
//
// Cost (BenchmarkWrap, BenchmarkIndex, 2-core AMD EPYC, SoftHSM2 2.6):
// one wrap plus unwrap about 130 µs in the token against under 1 µs with
// AES-GCM in process (about 170x); one blind index about 40 µs against
// 1 µs (about 40x). The keys never being in process memory is what the
// factor buys.
//
// # Rotation and erasure
//
// EnsureKEK(n+1) makes new Seals use version n+1 at once; records under
// older versions still open. envelope.Rewrap moves each record to the new
// version without touching its ciphertext. DestroyKEK(n) deletes version n
// from the token (refused for the highest version, so there is always one
// to wrap with): from then on every copy of a data key wrapped under it is
// unreadable, wherever that copy lives (dead tuples, WAL, backups). That is
// the erasure guarantee, and it holds only for what was wrapped under the
// destroyed version: rewrap first, and destroy only once no writer can
// still be wrapping under the old version (another process's Token wraps
// under it for up to KEKCacheTTL after EnsureKEK, and a request in flight
// may store what it wrapped later still: wait, rewrap again, then
// destroy). SoftHSM2 deletes the object file; it
// does not scrub the disk, and a backup of <home>/hsm/tokens taken before
// the destruction still holds the KEK (encrypted under the PIN).
//
// # Blind index
//
// Indexer computes HMAC-SHA256 inside the token over
// envelope.IndexMessage(purpose, value): deterministic for one token,
// across Open/Close and processes, and unrelated between tokens.
//
// # One home per process
//
// SoftHSM2 reads SOFTHSM2_CONF when the module is initialised, once per
// process in practice (crypto11 keeps the module initialised while any
// context is open, and the PKCS#11 module is process-wide state). Open sets
// SOFTHSM2_CONF itself (os.Setenv; the user does not) and remembers the
// home: Open for another home in the same process fails with ErrOtherHome,
// even after Close; Open again for the same home works. This is the only
// package-level state, mirroring the module's own. Another PKCS#11 user of
// libsofthsm2 in the same process (internal/signer) must use the same
// home or none.
//
// Concurrency: a Token is safe for concurrent use. crypto11 keeps a pool of
// PKCS#11 sessions (up to 1024, each operation takes one for its duration);
// Wrap, Unwrap, Index and Sign from many goroutines run in parallel.
// Ensure* and DestroyKEK are serialised within the process and, through
// <home>/hsm/lock, between processes.
//
// What it deliberately does not do: import or export keys, RSA, HMAC keys
// of other sizes, PIN changes, more than one token, and logging (it logs
// nothing; errors never hold a PIN or key bytes).
package hsm
