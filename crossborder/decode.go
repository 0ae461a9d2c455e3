package crossborder

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"unicode/utf8"

	"borderid/db"
)

// Request decoding errors (400, 413, 422), besides CodeTooManyQueries.
const (
	CodeMalformedJSON     = "malformed_json"  // 400
	CodeIncompleteBody    = "incomplete_body" // 400
	CodeEmptyBody         = "empty_body"      // 422
	CodeInvalidBody       = "invalid_body"    // 422
	CodeUnknownField      = "unknown_field"   // 422
	CodeDuplicateField    = "duplicate_field" // 422
	CodeInvalidType       = "invalid_type"    // 422
	CodeMissingField      = "missing_field"   // 422
	CodeInvalidNonce      = "invalid_nonce"   // 422
	CodeNoQueries         = "no_queries"      // 422
	CodeInvalidState      = "invalid_issuing_state"
	CodeInvalidNumber     = "invalid_document_number"
	CodeInvalidDate       = "invalid_date"
	CodeInvalidDocType    = "invalid_document_type"
	maxRawDocumentNumber  = 44 // the widest MRZ line; normalised it must be 1 to 22 characters
	maxNormalisedDocument = 22
)

// DecodeRequest parses and checks the body of POST /v1/crossborder/status
// as strictly as enrol/api does its bodies: one JSON object, members named
// exactly (not case-insensitively), none twice, none unknown, strings where
// strings are due, nothing after the object. Errors are refusals with a
// status and a code (400 malformed_json, 413 too_many_queries beyond
// MaxQueries, 422 for the rest); their messages name the field and the
// query's position, never its value.
//
//	{"nonce": "1 to 64 printable ASCII characters",
//	 "queries": [{"issuing_state": "UTO", "document_number": "L898902C3",
//	              "date_of_birth": "740812", "date_of_expiry": "120415",
//	              "document_type": "P"}, ...]}   // 1 to MaxQueries
//
// document_type may be absent or empty; the others are required.
// document_number is upper-cased and stripped of '<' and spaces for the
// lookup (db.NormaliseDocumentNumber) and must then be 1 to 22 of A-Z 0-9;
// the answer echoes it as sent.
func DecodeRequest(body []byte) (*Request, error) {
	if !utf8.Valid(body) || !json.Valid(body) {
		return nil, malformed()
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, refuse(http.StatusUnprocessableEntity, CodeInvalidBody, "the body must be a JSON object")
	}
	var rq Request
	seen := map[string]bool{}
	for dec.More() {
		key, err := memberName(dec, seen, "", "nonce", "queries")
		if err != nil {
			return nil, err
		}
		switch key {
		case "nonce":
			if rq.Nonce, err = stringValue(dec, "", key); err != nil {
				return nil, err
			}
		case "queries":
			if rq.Queries, err = decodeQueries(dec); err != nil {
				return nil, err
			}
		}
	}
	if !seen["nonce"] {
		return nil, missing("", "nonce")
	}
	if !seen["queries"] {
		return nil, missing("", "queries")
	}
	if !validNonce(rq.Nonce) {
		return nil, refuse(http.StatusUnprocessableEntity, CodeInvalidNonce, "nonce must be 1 to %d printable ASCII characters", MaxNonce)
	}
	if len(rq.Queries) == 0 {
		return nil, refuse(http.StatusUnprocessableEntity, CodeNoQueries, "queries must hold 1 to %d queries", MaxQueries)
	}
	return &rq, nil
}

func malformed() error {
	return refuse(http.StatusBadRequest, CodeMalformedJSON, "the body is not one well-formed JSON value")
}

func missing(where, name string) error {
	return refuse(http.StatusUnprocessableEntity, CodeMissingField, "%sthe field %q is required", where, name)
}

// memberName reads the next member name of an object and checks it is one
// of allowed and not seen before.
func memberName(dec *json.Decoder, seen map[string]bool, where string, allowed ...string) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", malformed()
	}
	key, _ := tok.(string)
	ok := false
	for _, a := range allowed {
		ok = ok || a == key
	}
	if !ok {
		return "", refuse(http.StatusUnprocessableEntity, CodeUnknownField, "%sunknown field %q", where, truncate(key, 64))
	}
	if seen[key] {
		return "", refuse(http.StatusUnprocessableEntity, CodeDuplicateField, "%sthe field %q is given more than once", where, key)
	}
	seen[key] = true
	return key, nil
}

func stringValue(dec *json.Decoder, where, key string) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", malformed()
	}
	v, ok := tok.(string)
	if !ok {
		return "", refuse(http.StatusUnprocessableEntity, CodeInvalidType, "%sthe field %q must be a string", where, key)
	}
	return v, nil
}

func decodeQueries(dec *json.Decoder) ([]Query, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed()
	}
	if tok != json.Delim('[') {
		return nil, refuse(http.StatusUnprocessableEntity, CodeInvalidType, "the field \"queries\" must be an array")
	}
	var qs []Query
	for dec.More() {
		if len(qs) == MaxQueries {
			return nil, refuse(http.StatusRequestEntityTooLarge, CodeTooManyQueries, "at most %d queries per request", MaxQueries)
		}
		where := fmt.Sprintf("query %d: ", len(qs)+1)
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed()
		}
		if tok != json.Delim('{') {
			return nil, refuse(http.StatusUnprocessableEntity, CodeInvalidType, "%sa query must be a JSON object", where)
		}
		var q Query
		seen := map[string]bool{}
		for dec.More() {
			key, err := memberName(dec, seen, where, "issuing_state", "document_number", "date_of_birth", "date_of_expiry", "document_type")
			if err != nil {
				return nil, err
			}
			v, err := stringValue(dec, where, key)
			if err != nil {
				return nil, err
			}
			switch key {
			case "issuing_state":
				q.IssuingState = v
			case "document_number":
				q.DocumentNumber = v
			case "date_of_birth":
				q.DateOfBirth = v
			case "date_of_expiry":
				q.DateOfExpiry = v
			case "document_type":
				q.DocumentType = v
			}
		}
		if _, err := dec.Token(); err != nil { // '}'
			return nil, malformed()
		}
		for _, f := range []string{"issuing_state", "document_number", "date_of_birth", "date_of_expiry"} {
			if !seen[f] {
				return nil, missing(where, f)
			}
		}
		if err := checkQuery(where, q); err != nil {
			return nil, err
		}
		qs = append(qs, q)
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, malformed()
	}
	return qs, nil
}

func checkQuery(where string, q Query) error {
	invalid := func(code, format string) error {
		return refuse(http.StatusUnprocessableEntity, code, "%s"+format, where)
	}
	if !stateCode(q.IssuingState) {
		return invalid(CodeInvalidState, "issuing_state must be an ICAO 9303-3 code of 1 to 3 letters A-Z, without fillers")
	}
	if len(q.DocumentNumber) > maxRawDocumentNumber {
		return invalid(CodeInvalidNumber, "document_number is too long")
	}
	n := db.NormaliseDocumentNumber(q.DocumentNumber)
	if len(n) == 0 || len(n) > maxNormalisedDocument || !upperAlnum(n) {
		return invalid(CodeInvalidNumber, "document_number must be 1 to 22 characters A-Z 0-9 (case and '<' fillers aside)")
	}
	if !sixDigits(q.DateOfBirth) {
		return invalid(CodeInvalidDate, "date_of_birth must be YYMMDD")
	}
	if !sixDigits(q.DateOfExpiry) {
		return invalid(CodeInvalidDate, "date_of_expiry must be YYMMDD")
	}
	if q.DocumentType != "" && !docType(q.DocumentType) {
		return invalid(CodeInvalidDocType, "document_type must be one or two letters A-Z (the second may be '<')")
	}
	return nil
}

// stateCode: 1 to 3 letters A-Z (ICAO 9303-3 codes are three letters, or D).
func stateCode(s string) bool {
	if len(s) < 1 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func upperAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func sixDigits(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func docType(s string) bool {
	switch len(s) {
	case 1:
		return s[0] >= 'A' && s[0] <= 'Z'
	case 2:
		return s[0] >= 'A' && s[0] <= 'Z' && (s[1] == '<' || s[1] >= 'A' && s[1] <= 'Z')
	}
	return false
}

// validNonce: 1 to MaxNonce printable ASCII characters (a base64url nonce
// of 128 bits is 22).
func validNonce(s string) bool {
	if len(s) == 0 || len(s) > MaxNonce {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
