// Package pace holds the arithmetic of PACE (ICAO Doc 9303-11 §4.4, BSI
// TR-03110-2/-3) that the terminal and the chip both compute, each function
// pinned to the worked examples of 9303-11 App. G and H and the published
// PACE-CAM vector:
//
//   - the password key Kπ from the MRZ or the CAN (§4.4.3.1, §9.7.3),
//   - the encrypted nonce z = E(Kπ, s) (§4.4.3.1),
//   - the pseudo-random function R(s,t) of the integrated mapping
//     (§4.4.3.3.2) and R_p = R mod p,
//   - the session keys KSenc, KSmac from the shared secret K (§9.7.1),
//   - the public key data object 7F49 and the authentication tokens T_IFD,
//     T_IC (§4.4.3.4, §9.4),
//   - the encrypted chip authentication data of PACE-CAM (§4.4.3.5),
//   - the standardized domain parameters 0-2 and 8-18 (§9.5.1) behind one
//     Domain interface, so that protocol code handles DH groups and elliptic
//     curves alike, with fixed-length byte strings for every key and secret.
//
// A terminal runs, with d from DomainByParameterID and c the cipher of the
// PACE OID:
//
//	kpi, _ := pace.KeyFromMRZ(mrzInfo, c)
//	s, _ := pace.DecryptNonce(c, kpi, z)
//	// GM: mapping key agreement, then ĝ
//	mapPriv, mapPub, _ := d.GenerateKey(rand, nil)   // send mapPub, receive chipMapPub
//	h, _ := d.Agree(mapPriv, chipMapPub)
//	gen, _ := d.MapGeneric(s, h)
//	// (IM instead: gen, _ := pace.IntegratedGenerator(d, c, s, t))
//	priv, pub, _ := d.GenerateKey(rand, gen)          // send pub, receive chipPub
//	k, _ := d.SharedSecret(priv, chipPub)
//	ksenc, ksmac, _ := pace.SessionKeys(c, k)
//	tIFD, _ := pace.Token(c, ksmac, oid, chipPub, d.KeyAgreement())
//
// The package deliberately does not do the APDU protocol: the reader and the
// software chip each build and parse General Authenticate commands on their
// own, so that a misreading of the protocol shows up as a failed
// interoperability test rather than as two matching bugs. It does not check
// that a chip's public key differs from the terminal's (§4.4.3.4 requires
// the terminal to do so; that is protocol logic), generates no randomness of
// its own (callers pass an io.Reader), and keeps no state.
package pace
