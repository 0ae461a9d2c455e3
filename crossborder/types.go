package crossborder

// The wire types of POST /v1/crossborder/status, shared by the responder and
// the client. They are the whole vocabulary of the exchange: the request
// carries only what the MRZ of the document in hand shows, the answer carries
// only a status and the day it took effect.

// MaxQueries is the largest batch one request may carry; more is 413
// too_many_queries.
const MaxQueries = 1000

// MaxNonce is the longest nonce a request may carry, in characters.
const MaxNonce = 64

// Query asks about one document, with the fields read from its MRZ.
// Dates are YYMMDD as printed in the MRZ; DocumentNumber is normalised
// (upper case, no '<' fillers); IssuingState is the ICAO alpha-3 code.
type Query struct {
	IssuingState   string `json:"issuing_state"`
	DocumentNumber string `json:"document_number"`
	DateOfBirth    string `json:"date_of_birth"`
	DateOfExpiry   string `json:"date_of_expiry"`
	DocumentType   string `json:"document_type"`
}

// Request is the body of POST /v1/crossborder/status.
type Request struct {
	Nonce   string  `json:"nonce"`
	Queries []Query `json:"queries"`
}

// Answer is the responder's word on one query, in query order.
// Since is YYYY-MM-DD, the day the status took effect; it is empty (and
// omitted) exactly when Status is UNKNOWN.
type Answer struct {
	DocumentNumber string `json:"document_number"`
	Status         string `json:"status"`
	Since          string `json:"since,omitempty"`
}

// Payload is the signed content of the compact JWS that answers a Request.
// Time is RFC 3339 in UTC; Responder is the answering state's alpha-3 code.
type Payload struct {
	Responder string   `json:"responder"`
	Nonce     string   `json:"nonce"`
	Time      string   `json:"time"`
	Answers   []Answer `json:"answers"`
}

// The statuses an answer may carry.
const (
	StatusValid   = "VALID"
	StatusLost    = "LOST"
	StatusStolen  = "STOLEN"
	StatusRevoked = "REVOKED"
	StatusExpired = "EXPIRED"
	StatusUnknown = "UNKNOWN"
)

// Statuses lists every status an answer may carry, worst first (UNKNOWN last:
// it is the absence of an answer, not a grade).
var Statuses = []string{StatusStolen, StatusLost, StatusRevoked, StatusExpired, StatusValid, StatusUnknown}

// ValidStatus reports whether s is one of the six statuses.
func ValidStatus(s string) bool {
	return Rank(s) >= 0
}

// Rank orders the statuses by precedence: when several apply to one document
// the answer is the one with the highest rank (STOLEN > LOST > REVOKED >
// EXPIRED > VALID). UNKNOWN ranks 0 and anything else -1.
func Rank(s string) int {
	switch s {
	case StatusStolen:
		return 5
	case StatusLost:
		return 4
	case StatusRevoked:
		return 3
	case StatusExpired:
		return 2
	case StatusValid:
		return 1
	case StatusUnknown:
		return 0
	}
	return -1
}

// Worst returns the status of highest precedence among ss (see Rank); with
// none it returns UNKNOWN.
func Worst(ss ...string) string {
	w := StatusUnknown
	for _, s := range ss {
		if Rank(s) > Rank(w) {
			w = s
		}
	}
	return w
}
