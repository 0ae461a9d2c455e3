package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"borderid/enrol"
)

// canonicalUUID accepts the 8-4-4-4-12 hex form (either case) and returns it in lower case.
func canonicalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	b := []byte(s)
	for i, ch := range b {
		switch i {
		case 8, 13, 18, 23:
			if ch != '-' {
				return "", false
			}
			continue
		}
		switch {
		case '0' <= ch && ch <= '9', 'a' <= ch && ch <= 'f':
		case 'A' <= ch && ch <= 'F':
			b[i] = ch + ('a' - 'A')
		default:
			return "", false
		}
	}
	return string(b), true
}

// fingerPosition accepts the ISO/IEC 19794-4 finger positions 1 (right thumb) to 10 (left little finger) in
// canonical decimal; anything else names no resource.
func fingerPosition(s string) (int, bool) {
	switch {
	case len(s) == 1 && '1' <= s[0] && s[0] <= '9':
		return int(s[0] - '0'), true
	case s == "10":
		return 10, true
	}
	return 0, false
}

// documentNumber accepts what ICAO 9303-3 allows in the document number field without fillers: 1 to 9
// characters A-Z 0-9.
func documentNumber(s string) bool {
	if len(s) == 0 || len(s) > 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('A' <= s[i] && s[i] <= 'Z' || '0' <= s[i] && s[i] <= '9') {
			return false
		}
	}
	return true
}

func notFound(what string) error {
	return refuse(http.StatusNotFound, codeNotFound, "no such %s", what)
}

// checkQuery refuses query parameters the route does not take, and any parameter given twice.
func checkQuery(raw string, allowed []string) error {
	if raw == "" {
		return nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return refuse(http.StatusBadRequest, codeMalformedQuery, "the query string is malformed")
	}
	for k, v := range q {
		if !slices.Contains(allowed, k) {
			return refuse(http.StatusUnprocessableEntity, codeUnknownParameter, "unknown query parameter %q", truncate(k, 64))
		}
		if len(v) > 1 {
			return refuse(http.StatusUnprocessableEntity, codeDuplicateParameter, "the query parameter %q is given more than once", k)
		}
	}
	return nil
}

// readBody reads at most limit bytes of r's body after checking its media type against allowed. A declared
// Content-Length over the limit is refused before anything is read; a body without one is cut at limit+1 bytes
// by http.MaxBytesReader, which also makes the server close the connection rather than drain the rest.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, allowed ...string) (mediaType string, body []byte, err error) {
	mt, params, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if perr != nil || !slices.Contains(allowed, mt) {
		return "", nil, refuse(http.StatusUnsupportedMediaType, codeUnsupportedMedia, "the body must be %s", strings.Join(allowed, " or "))
	}
	if cs, ok := params["charset"]; ok && (mt != "application/json" || !strings.EqualFold(cs, "utf-8")) {
		return "", nil, refuse(http.StatusUnsupportedMediaType, codeUnsupportedMedia, "the only charset accepted is utf-8, and only for JSON")
	}
	if r.ContentLength > limit {
		return "", nil, refuse(http.StatusRequestEntityTooLarge, codeBodyTooLarge, "the body exceeds %d bytes", limit)
	}
	if r.ContentLength == 0 {
		return "", nil, refuse(http.StatusUnprocessableEntity, codeEmptyBody, "the body is empty")
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	_, err = buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return "", nil, refuse(http.StatusRequestEntityTooLarge, codeBodyTooLarge, "the body exceeds %d bytes", limit)
	case err != nil:
		return "", nil, refuse(http.StatusBadRequest, codeIncompleteBody, "the body could not be read completely")
	case buf.Len() == 0:
		return "", nil, refuse(http.StatusUnprocessableEntity, codeEmptyBody, "the body is empty")
	}
	return mt, buf.Bytes(), nil
}

const jsonType = "application/json"

// decodeObject parses body, which must be exactly one JSON object whose members are all strings, into fields.
// It is stricter than encoding/json with DisallowUnknownFields: member names match exactly (not
// case-insensitively), a member given twice is refused, and so are control characters in values.
func decodeObject(body []byte, fields map[string]*string) error {
	if !utf8.Valid(body) || !json.Valid(body) {
		return refuse(http.StatusBadRequest, codeMalformedJSON, "the body is not one well-formed JSON value")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return refuse(http.StatusUnprocessableEntity, codeInvalidBody, "the body must be a JSON object")
	}
	seen := make(map[string]bool, len(fields))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return refuse(http.StatusBadRequest, codeMalformedJSON, "the body is not one well-formed JSON value")
		}
		key, _ := tok.(string)
		dst, ok := fields[key]
		if !ok {
			return refuse(http.StatusUnprocessableEntity, codeUnknownField, "unknown field %q", truncate(key, 64))
		}
		if seen[key] {
			return refuse(http.StatusUnprocessableEntity, codeDuplicateField, "the field %q is given more than once", key)
		}
		seen[key] = true
		tok, err = dec.Token()
		if err != nil {
			return refuse(http.StatusBadRequest, codeMalformedJSON, "the body is not one well-formed JSON value")
		}
		v, ok := tok.(string)
		if !ok {
			return refuse(http.StatusUnprocessableEntity, codeInvalidType, "the field %q must be a string", key)
		}
		if hasControl(v) {
			return refuse(http.StatusUnprocessableEntity, codeInvalidCharacters, "the field %q holds control characters", key)
		}
		*dst = v
	}
	return nil
}

// maxNameBytes is the service's limit on surname and given_names, checked here before the service does.
const maxNameBytes = 200

// decodeNewApplication decodes and checks the body of POST /v1/enrollments.
func decodeNewApplication(body []byte) (enrol.NewApplication, error) {
	var a enrol.NewApplication
	fields := map[string]*string{
		"surname":       &a.Surname,
		"given_names":   &a.GivenNames,
		"sex":           &a.Sex,
		"date_of_birth": &a.DateOfBirth,
		"nationality":   &a.Nationality,
		"document_type": &a.DocumentType,
	}
	if err := decodeObject(body, fields); err != nil {
		return enrol.NewApplication{}, err
	}
	for _, f := range []struct {
		name string
		v    string
	}{{"surname", a.Surname}, {"sex", a.Sex}, {"date_of_birth", a.DateOfBirth}, {"nationality", a.Nationality}, {"document_type", a.DocumentType}} {
		if strings.TrimSpace(f.v) == "" {
			return enrol.NewApplication{}, missing(f.name)
		}
	}
	if len(a.Surname) > maxNameBytes {
		return enrol.NewApplication{}, refuse(http.StatusUnprocessableEntity, codeInvalidSurname, "surname must be 1 to %d bytes of text", maxNameBytes)
	}
	if len(a.GivenNames) > maxNameBytes {
		return enrol.NewApplication{}, refuse(http.StatusUnprocessableEntity, codeInvalidGivenNames, "given_names must be at most %d bytes of text", maxNameBytes)
	}
	switch a.Sex {
	case "F", "M", "X":
	default:
		return enrol.NewApplication{}, refuse(http.StatusUnprocessableEntity, codeInvalidSex, "sex must be F, M or X")
	}
	if _, err := parseDate(a.DateOfBirth); err != nil {
		return enrol.NewApplication{}, refuse(http.StatusUnprocessableEntity, codeInvalidDate, "date_of_birth: %v", err)
	}
	if !stateCode(a.Nationality) {
		return enrol.NewApplication{}, refuse(http.StatusUnprocessableEntity, codeInvalidNationality, "nationality must be an ICAO 9303-3 three-letter code (D for Germany)")
	}
	if !passportType(a.DocumentType) {
		return enrol.NewApplication{}, refuse(http.StatusUnprocessableEntity, codeInvalidDocType, "document_type must be P or P followed by one letter")
	}
	return a, nil
}

// Document statuses a PUT /v1/documents/{number}/status may set.
var documentStatuses = []string{"LOST", "STOLEN", "REVOKED"}

// decodeStatus decodes and checks the body of PUT /v1/documents/{number}/status.
func decodeStatus(body []byte) (status string, since time.Time, err error) {
	var sinceText string
	if err := decodeObject(body, map[string]*string{"status": &status, "since": &sinceText}); err != nil {
		return "", time.Time{}, err
	}
	if status == "" {
		return "", time.Time{}, missing("status")
	}
	if sinceText == "" {
		return "", time.Time{}, missing("since")
	}
	if !slices.Contains(documentStatuses, status) {
		return "", time.Time{}, refuse(http.StatusUnprocessableEntity, codeInvalidStatus, "status must be LOST, STOLEN or REVOKED")
	}
	since, err = parseDate(sinceText)
	if err != nil {
		return "", time.Time{}, refuse(http.StatusUnprocessableEntity, codeInvalidDate, "since: %v", err)
	}
	return status, since, nil
}

func missing(name string) error {
	return refuse(http.StatusUnprocessableEntity, codeMissingField, "the field %q is required", name)
}

// parseDate accepts a YYYY-MM-DD calendar date (time.Parse refuses February 30 and the like) and returns
// midnight UTC of that day.
func parseDate(s string) (time.Time, error) {
	if len(s) != len(time.DateOnly) || s[4] != '-' || s[7] != '-' {
		return time.Time{}, fmt.Errorf("%q is not a YYYY-MM-DD date", truncate(s, 32))
	}
	for i := 0; i < len(s); i++ {
		if i != 4 && i != 7 && (s[i] < '0' || s[i] > '9') {
			return time.Time{}, fmt.Errorf("%q is not a YYYY-MM-DD date", s)
		}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Year() < 1 {
		return time.Time{}, fmt.Errorf("%q is not a calendar date", s)
	}
	return t, nil
}

// stateCode accepts an ICAO 9303-3 state code as CONTRACTS.md writes it in JSON: three letters A-Z, or D.
func stateCode(s string) bool {
	if s == "D" {
		return true
	}
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// passportType accepts the TD3 document codes of ICAO 9303-4: P, or P and one letter chosen by the state.
func passportType(s string) bool {
	return s == "P" || (len(s) == 2 && s[0] == 'P' && 'A' <= s[1] && s[1] <= 'Z')
}

// readNoBody lets a body-less POST or PUT through with no body at all, or with an empty JSON object (which
// some clients always send); anything else is refused like a JSON body with unknown members.
func readNoBody(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if r.ContentLength < 0 {
		// Unknown length: peek one byte.
		var one [1]byte
		n, err := io.ReadFull(r.Body, one[:])
		if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
			return nil
		}
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(one[:n]), r.Body))
	}
	_, body, err := readBody(w, r, 1<<10, jsonType)
	if err != nil {
		return err
	}
	return decodeObject(body, nil)
}
