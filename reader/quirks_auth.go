package reader

// Quirks of the authentication protocols (Chip Authentication, PACE-CAM):
// deviations real chips show that the reader accepts in a narrow form,
// recorded in the session (Session.Quirks) and in the protocol's result.

const (
	// QuirkCAEmptyResponse: Chip Authentication with AES, whose GENERAL
	// AUTHENTICATE must answer the empty dynamic authentication data 7C00
	// (TR-03110-3 B.2.2), answered 9000 without any data. The answer
	// carries nothing either way; Chip Authentication is proven by the
	// MAC of the first answer under the new keys, which is still
	// required.
	QuirkCAEmptyResponse Quirk = "ca_empty_response"
	// QuirkCAMShortCAIC: PACE-CAM's CA_IC (9303-11 §4.4.3.5.1) decrypted
	// to fewer bytes than the order's length, as from a chip that drops
	// a leading zero byte (an integer encoded minimally, about one chip
	// run in 256). The reader left-pads it with zeros; the check
	// CA_IC · PK_IC = PK_map,IC must then pass as usual. A longer or
	// empty CA_IC is still refused.
	QuirkCAMShortCAIC Quirk = "cam_short_ca_ic"
)
