package enrol

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors; each maps to one HTTP status (CONTRACTS.md, "HTTP").
// Callers use errors.Is; the service returns them inside an *Error that
// carries the snake_case code and the sentence of the response body.
var (
	ErrUnauthenticated      = errors.New("enrol: unauthenticated")        // 401
	ErrForbidden            = errors.New("enrol: forbidden")              // 403
	ErrNotFound             = errors.New("enrol: not found")              // 404: absent or outside the office
	ErrConflict             = errors.New("enrol: conflict")               // 409: wrong state
	ErrTooLarge             = errors.New("enrol: too large")              // 413
	ErrUnsupportedMediaType = errors.New("enrol: unsupported media type") // 415
	ErrInvalid              = errors.New("enrol: invalid")                // 422
)

// StatusOf is the HTTP status of a sentinel (500 for anything else).
func StatusOf(sentinel error) int {
	switch {
	case errors.Is(sentinel, ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(sentinel, ErrForbidden):
		return http.StatusForbidden
	case errors.Is(sentinel, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(sentinel, ErrConflict):
		return http.StatusConflict
	case errors.Is(sentinel, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(sentinel, ErrUnsupportedMediaType):
		return http.StatusUnsupportedMediaType
	case errors.Is(sentinel, ErrInvalid):
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// Error is a refusal with its HTTP status, a stable snake_case Code and a
// human Message (the 4xx body {"code", "message"}); Err is the sentinel.
type Error struct {
	Status  int
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the sentinel, so errors.Is(err, ErrNotFound) works.
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error for sentinel with code and a formatted message.
func Errorf(sentinel error, code, format string, args ...any) *Error {
	return &Error{Status: StatusOf(sentinel), Code: code, Message: fmt.Sprintf(format, args...), Err: sentinel}
}

// Error codes of the service (the HTTP layer has its own for what it
// decides itself).
const (
	CodeForbiddenRole   = "forbidden_role"
	CodeNoOffice        = "no_office"
	CodeSelfApproval    = "self_approval"
	CodeNotFound        = "not_found"
	CodeWrongState      = "wrong_state"
	CodeFaceRequired    = "face_required"
	CodeStatusOneWay    = "status_one_way"
	CodePurposeRequired = "purpose_required"
	CodeInvalidStatus   = "invalid_status"
	CodeInvalidNumber   = "invalid_document_number"
	CodeInvalidSince    = "invalid_since"
	CodeInvalidPosition = "invalid_position"
	CodeTooLarge        = "too_large"
)

func notFound() *Error {
	return Errorf(ErrNotFound, CodeNotFound, "no such enrolment")
}

func wrongState(state, want string) *Error {
	return Errorf(ErrConflict, CodeWrongState, "the enrolment is %s; this needs it %s", state, want)
}
