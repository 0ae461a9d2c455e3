package api

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"borderid/enrol"
	"borderid/enrol/biometric"
)

// Media types each upload route accepts (enrol/biometric checks that the bytes match). Each upload is also
// capped at the smaller of Config.MaxBody and enrol/biometric's cap for its kind, so that a body the service
// would refuse as too large is not read into memory first.
var (
	faceTypes     = []string{biometric.ContentTypeJPEG, biometric.ContentTypeJP2, biometric.ContentTypeFace}
	fingerTypes   = []string{biometric.ContentTypeFinger}
	minutiaeTypes = []string{biometric.ContentTypeMinutiae}
)

func (s *Server) healthz(c echo.Context) error {
	return writeJSON(c, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json", openAPIDocument)
}

// pathID returns the enrolment id of the path, or 404 when it cannot name one.
func pathID(c echo.Context) (string, error) {
	id, ok := canonicalUUID(c.Param("id"))
	if !ok {
		return "", notFound("enrolment")
	}
	return id, nil
}

func pathPosition(c echo.Context) (int, error) {
	pos, ok := fingerPosition(c.Param("position"))
	if !ok {
		return 0, refuse(http.StatusNotFound, codeNotFound, "no such finger position: ISO/IEC 19794-4 positions are 1 to 10")
	}
	return pos, nil
}

type createdResponse struct {
	ID string `json:"id"`
}

func (s *Server) create(c echo.Context) error {
	_, body, err := readBody(c.Response().Writer, c.Request(), s.maxJSON, jsonType)
	if err != nil {
		return err
	}
	a, err := decodeNewApplication(body)
	if err != nil {
		return err
	}
	id, err := s.svc.Create(c.Request().Context(), principalOf(c), a)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/v1/enrollments/"+id)
	return writeJSON(c, http.StatusCreated, createdResponse{ID: id})
}

func (s *Server) putFace(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ct, body, err := readBody(c.Response().Writer, c.Request(), min(s.maxBody, biometric.MaxFaceBytes), faceTypes...)
	if err != nil {
		return err
	}
	if err := s.svc.PutFace(c.Request().Context(), principalOf(c), id, ct, body); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) putFinger(c echo.Context) error {
	return s.putPositioned(c, fingerTypes, s.svc.PutFinger)
}

func (s *Server) putMinutiae(c echo.Context) error {
	return s.putPositioned(c, minutiaeTypes, s.svc.PutMinutiae)
}

// putPositioned is the shape of the finger uploads (image record, minutiae): an id, a finger position, a body
// of one of types within the finger byte cap, 204.
func (s *Server) putPositioned(c echo.Context, types []string,
	put func(ctx context.Context, p enrol.Principal, id string, position int, contentType string, body []byte) error) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	pos, err := pathPosition(c)
	if err != nil {
		return err
	}
	ct, body, err := readBody(c.Response().Writer, c.Request(), min(s.maxBody, biometric.MaxFingerBytes), types...)
	if err != nil {
		return err
	}
	if err := put(c.Request().Context(), principalOf(c), id, pos, ct, body); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// transition is the shape of finalize and approve: an id, no body, 204.
func (s *Server) transition(c echo.Context, do func(ctx echo.Context, p enrol.Principal, id string) error) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := readNoBody(c.Response().Writer, c.Request()); err != nil {
		return err
	}
	if err := do(c, principalOf(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) finalize(c echo.Context) error {
	return s.transition(c, func(c echo.Context, p enrol.Principal, id string) error {
		return s.svc.Finalize(c.Request().Context(), p, id)
	})
}

func (s *Server) approve(c echo.Context) error {
	return s.transition(c, func(c echo.Context, p enrol.Principal, id string) error {
		return s.svc.Approve(c.Request().Context(), p, id)
	})
}

type issueResponse struct {
	DocumentNumber string `json:"document_number"`
	ChipID         string `json:"chip_id"`
}

func (s *Server) issue(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := readNoBody(c.Response().Writer, c.Request()); err != nil {
		return err
	}
	res, err := s.svc.Issue(c.Request().Context(), principalOf(c), id)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, issueResponse{DocumentNumber: res.DocumentNumber, ChipID: res.ChipID})
}

// applicationResponse is the wire form of an application: demographics and what biometrics were enrolled,
// never the biometrics themselves.
type applicationResponse struct {
	ID           string              `json:"id"`
	Office       string              `json:"office"`
	State        string              `json:"state"`
	Surname      string              `json:"surname"`
	GivenNames   string              `json:"given_names"`
	Sex          string              `json:"sex"`
	DateOfBirth  string              `json:"date_of_birth"`
	Nationality  string              `json:"nationality"`
	DocumentType string              `json:"document_type"`
	CreatedAt    time.Time           `json:"created_at"`
	Biometrics   []biometricResponse `json:"biometrics"`
}

type biometricResponse struct {
	Kind     string `json:"kind"`
	Position int    `json:"position,omitempty"`
	Format   string `json:"format"`
	Bytes    int    `json:"bytes"`
}

func (s *Server) get(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	a, err := s.svc.Get(c.Request().Context(), principalOf(c), id)
	if err != nil {
		return err
	}
	if a == nil {
		return notFound("enrolment")
	}
	out := applicationResponse{
		ID: a.ID, Office: a.Office, State: a.State,
		Surname: a.Surname, GivenNames: a.GivenNames, Sex: a.Sex, DateOfBirth: a.DateOfBirth,
		Nationality: a.Nationality, DocumentType: a.DocumentType,
		CreatedAt:  a.CreatedAt.UTC(),
		Biometrics: make([]biometricResponse, 0, len(a.Biometrics)),
	}
	for _, b := range a.Biometrics {
		out.Biometrics = append(out.Biometrics, biometricResponse{Kind: b.Kind, Position: b.Position, Format: b.Format, Bytes: b.Bytes})
	}
	return writeJSON(c, http.StatusOK, out)
}

// Purpose limits for GET .../biometrics/face: the purpose is stored in the audit row with the read.
const maxPurposeBytes = 512

func (s *Server) getFace(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	purpose := c.QueryParam("purpose")
	switch {
	case strings.TrimSpace(purpose) == "":
		return refuse(http.StatusUnprocessableEntity, codePurposeRequired, "the query parameter purpose is required: say why the face is read")
	case len(purpose) > maxPurposeBytes || !utf8.ValidString(purpose) || hasControl(purpose):
		return refuse(http.StatusUnprocessableEntity, codeInvalidPurpose, "the purpose must be at most %d bytes of text", maxPurposeBytes)
	}
	ct, body, err := s.svc.GetFace(c.Request().Context(), principalOf(c), id, purpose)
	if err != nil {
		return err
	}
	switch ct {
	case biometric.ContentTypeJPEG, biometric.ContentTypeJP2, biometric.ContentTypeFace:
	default:
		ct = "application/octet-stream"
	}
	c.Response().Header().Set("Content-Disposition", "attachment")
	return c.Blob(http.StatusOK, ct, body)
}

func (s *Server) setStatus(c echo.Context) error {
	number := c.Param("number")
	if !documentNumber(number) {
		return notFound("document")
	}
	_, body, err := readBody(c.Response().Writer, c.Request(), s.maxJSON, jsonType)
	if err != nil {
		return err
	}
	status, since, err := decodeStatus(body)
	if err != nil {
		return err
	}
	if err := s.svc.SetDocumentStatus(c.Request().Context(), principalOf(c), number, status, since); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type accessLogResponse struct {
	Entries []accessEntryResponse `json:"entries"`
}

type accessEntryResponse struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Role    string    `json:"role"`
	Office  string    `json:"office"`
	Action  string    `json:"action"`
	Purpose string    `json:"purpose"`
	Outcome string    `json:"outcome"`
}

func (s *Server) accessLog(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	entries, err := s.svc.AccessLog(c.Request().Context(), principalOf(c), id)
	if err != nil {
		return err
	}
	out := accessLogResponse{Entries: make([]accessEntryResponse, 0, len(entries))}
	for _, e := range entries {
		out.Entries = append(out.Entries, accessEntryResponse{
			At: e.At.UTC(), Actor: e.Actor, Role: e.Role, Office: e.Office, Action: e.Action, Purpose: e.Purpose, Outcome: e.Outcome,
		})
	}
	return writeJSON(c, http.StatusOK, out)
}

type auditReportResponse struct {
	OK          bool     `json:"ok"`
	Rows        int64    `json:"rows"`
	Checkpoints int      `json:"checkpoints"`
	LastSeq     int64    `json:"last_seq"`
	Problems    []string `json:"problems"`
}

func (s *Server) verifyAudit(c echo.Context) error {
	rep, err := s.svc.VerifyAudit(c.Request().Context(), principalOf(c))
	if err != nil {
		return err
	}
	if rep == nil {
		return refuse(http.StatusInternalServerError, codeInternal, "internal error")
	}
	out := auditReportResponse{OK: rep.OK, Rows: rep.Rows, Checkpoints: rep.Checkpoints, LastSeq: rep.LastSeq, Problems: rep.Problems}
	if out.Problems == nil {
		out.Problems = []string{}
	}
	return writeJSON(c, http.StatusOK, out)
}
