package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"borderid/enrol"
)

// Error codes decided in this layer (the service has its own; both travel as {"code", "message"}).
const (
	codeCertificateRequired = "client_certificate_required" // 401
	codeInvalidCertificate  = "invalid_client_certificate"  // 401
	codeForbiddenRole       = enrol.CodeForbiddenRole       // 403
	codeNotFound            = enrol.CodeNotFound            // 404
	codeMethodNotAllowed    = "method_not_allowed"          // 405
	codeBodyTooLarge        = "body_too_large"              // 413
	codeUnsupportedMedia    = "unsupported_media_type"      // 415
	codeMalformedJSON       = "malformed_json"              // 400
	codeMalformedQuery      = "malformed_query"             // 400
	codeIncompleteBody      = "incomplete_body"             // 400
	codeEmptyBody           = "empty_body"                  // 422
	codeInvalidBody         = "invalid_body"                // 422
	codeUnknownField        = "unknown_field"               // 422
	codeDuplicateField      = "duplicate_field"             // 422
	codeInvalidType         = "invalid_type"                // 422
	codeMissingField        = "missing_field"               // 422
	codeInvalidCharacters   = "invalid_characters"          // 422
	codeInvalidDate         = "invalid_date"                // 422
	codeInvalidSex          = "invalid_sex"                 // 422
	codeInvalidNationality  = "invalid_nationality"         // 422
	codeInvalidDocType      = "invalid_document_type"       // 422
	codeInvalidStatus       = "invalid_status"              // 422
	codeUnknownParameter    = "unknown_parameter"           // 422
	codeDuplicateParameter  = "duplicate_parameter"         // 422
	codePurposeRequired     = enrol.CodePurposeRequired     // 422
	codeInvalidPurpose      = "invalid_purpose"             // 422 (as the service says it)
	codeInvalidSurname      = "invalid_surname"             // 422 (as the service says it)
	codeInvalidGivenNames   = "invalid_given_names"         // 422 (as the service says it)
	codeInternal            = "internal"                    // 500
)

// httpError is a refusal decided in this layer.
type httpError struct {
	status        int
	code, message string
}

func (e *httpError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

func refuse(status int, code, format string, args ...any) error {
	return &httpError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// errorBody is the one error shape of CONTRACTS.md "HTTP".
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

var sentinels = []struct {
	err    error
	status int
	code   string
	msg    string
}{
	{enrol.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated", "authentication is required"},
	{enrol.ErrForbidden, http.StatusForbidden, "forbidden", "this role may not do this"},
	{enrol.ErrNotFound, http.StatusNotFound, codeNotFound, "no such enrolment"},
	{enrol.ErrConflict, http.StatusConflict, "conflict", "the record is not in a state that allows this"},
	{enrol.ErrTooLarge, http.StatusRequestEntityTooLarge, codeBodyTooLarge, "the body is too large"},
	{enrol.ErrUnsupportedMediaType, http.StatusUnsupportedMediaType, codeUnsupportedMedia, "this media type is not accepted here"},
	{enrol.ErrInvalid, http.StatusUnprocessableEntity, "invalid", "the request is not valid"},
}

// classify turns any error into the status, code and message sent to the client. ok is false for errors
// whose detail must stay on the server (they become 500 internal).
func classify(err error) (status int, code, message string, ok bool) {
	var he *httpError
	if errors.As(err, &he) {
		return he.status, he.code, he.message, true
	}
	var ee *enrol.Error
	if errors.As(err, &ee) {
		status, code, message = ee.Status, ee.Code, ee.Message
		for _, s := range sentinels {
			if errors.Is(ee, s.err) {
				if status == 0 {
					status = s.status
				}
				if code == "" {
					code = s.code
				}
				if message == "" {
					message = s.msg
				}
				break
			}
		}
		if status < 400 || status > 499 {
			return http.StatusInternalServerError, codeInternal, "internal error", false
		}
		if code == "" {
			code = "error"
		}
		if message == "" {
			message = http.StatusText(status)
		}
		return status, code, message, true
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.status, s.code, s.msg, true
		}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, codeBodyTooLarge, fmt.Sprintf("the body exceeds %d bytes", mbe.Limit), true
	}
	var ech *echo.HTTPError
	if errors.As(err, &ech) {
		switch ech.Code {
		case http.StatusNotFound:
			return http.StatusNotFound, codeNotFound, "no such resource", true
		case http.StatusMethodNotAllowed:
			return http.StatusMethodNotAllowed, codeMethodNotAllowed, "this method is not allowed here", true
		}
		if ech.Code >= 400 && ech.Code <= 499 {
			return ech.Code, "http_error", http.StatusText(ech.Code), true
		}
	}
	return http.StatusInternalServerError, codeInternal, "internal error", false
}

// handleError is echo's HTTPErrorHandler: it writes the JSON error body and logs what the client is not told.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, message, ok := classify(err)
	if !ok {
		lvl := slog.LevelError
		if errors.Is(err, context.Canceled) {
			lvl = slog.LevelInfo // the client went away
		}
		s.log.LogAttrs(c.Request().Context(), lvl, "request failed",
			slog.String("method", c.Request().Method), slog.String("route", s.routeName(c)),
			slog.String("error", err.Error()))
	}
	if status == http.StatusMethodNotAllowed {
		if allow, _ := c.Get(echo.ContextKeyHeaderAllow).(string); allow != "" {
			c.Response().Header().Set(echo.HeaderAllow, allow)
		}
	}
	_ = writeJSON(c, status, errorBody{Code: code, Message: message})
}
