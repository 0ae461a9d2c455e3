// Package inspect assembles the inspection report: the one JSON document a
// border guard's station, a script or an auditor reads after a passport
// was placed on a reader (../shared/CONTRACTS.md, "The inspection report").
//
// It sits where reading (package reader), verification (package verify)
// and the status check (package crossborder's client, passed in as a
// StatusAnswer) meet, so that none of those packages has to import
// another. A caller reads a chip with reader.Read, then calls Assemble
// with the result, the MRZ the guard supplied, the status answer and the
// clock; the Report it returns marshals to the contract's JSON and is
// checked against docs/report.schema.json in tests.
//
// The verdict is conservative: a check that was not done never counts as
// passed, so a chip whose data was not verified is at best "suspect".
package inspect

import "time"

// Report is the inspection report of CONTRACTS.md. Field names and value
// sets are a contract: change them only together with the schema in
// docs/report.schema.json and the docs.
type Report struct {
	Reader           ReaderInfo          `json:"reader"`
	AccessControl    string              `json:"access_control"`
	AccessParams     AccessParams        `json:"access_params"`
	Document         *Document           `json:"document,omitempty"` // absent when DG1 could not be read
	Files            map[string]FileInfo `json:"files"`
	Face             *Face               `json:"face,omitempty"`
	Checks           map[string]Check    `json:"checks"`
	Quirks           []string            `json:"quirks"`
	Verdict          Verdict             `json:"verdict"`
	APDUs            int                 `json:"apdus"`
	BytesTransferred int                 `json:"bytes_transferred"`
	DurationMS       int64               `json:"duration_ms"`
}

// ReaderInfo names the PC/SC reader and the chip's answer to reset (hex).
type ReaderInfo struct {
	Name string `json:"name"`
	ATR  string `json:"atr"`
}

// AccessParams describes the access-control session. BAC fills only the
// cipher; PACE fills all fields.
type AccessParams struct {
	Mapping      string `json:"mapping,omitempty"`
	KeyAgreement string `json:"key_agreement,omitempty"`
	Domain       string `json:"domain,omitempty"`
	Cipher       string `json:"cipher"`
	ParameterID  *int   `json:"parameter_id,omitempty"`
}

// Document is the holder's data as printed in DG1's MRZ, with dates in
// the contract's YYYY-MM-DD form (partial when the MRZ leaves them open).
type Document struct {
	Type           string `json:"type"`
	IssuingState   string `json:"issuing_state"`
	DocumentNumber string `json:"document_number"`
	Surname        string `json:"surname"`
	GivenNames     string `json:"given_names"`
	Nationality    string `json:"nationality"`
	DateOfBirth    string `json:"date_of_birth"`
	Sex            string `json:"sex"`
	DateOfExpiry   string `json:"date_of_expiry"`
	OptionalData   string `json:"optional_data"`
}

// FileInfo identifies a file as read, without its contents.
type FileInfo struct {
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

// Face describes the first facial image of DG2, measured from the image
// bytes themselves.
type Face struct {
	Format string `json:"format"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int    `json:"bytes"`
}

// Result is the outcome of one check.
type Result string

const (
	Pass          Result = "pass"
	Fail          Result = "fail"
	NotDone       Result = "not_done"
	NotAuthorised Result = "not_authorised"
)

// Check is one named check: a result, a stable snake_case reason code and
// free text for people.
type Check struct {
	Result Result `json:"result"`
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Check names of CONTRACTS.md.
const (
	CheckPassiveAuth    = "passive_authentication"
	CheckDGHashes       = "data_group_hashes"
	CheckChipAuth       = "chip_authentication"
	CheckActiveAuth     = "active_authentication"
	CheckTerminalAuth   = "terminal_authentication"
	CheckMRZConsistency = "mrz_consistency"
	CheckExpiry         = "document_expiry"
	CheckStatus         = "document_status"
	CheckBiometric      = "biometric_comparison"
)

// Verdict is the traffic light a guard acts on.
type Verdict string

const (
	Genuine       Verdict = "genuine"        // green: data signed by the issuer and chip proven
	AuthenticData Verdict = "authentic_data" // amber: data signed by the issuer, chip not proven
	Suspect       Verdict = "suspect"        // amber: something could not be established
	Rejected      Verdict = "rejected"       // red: a check failed
)

func ms(d time.Duration) int64 { return d.Milliseconds() }
