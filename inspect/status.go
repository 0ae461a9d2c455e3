package inspect

import "fmt"

// The document_status check: what the issuing state's registry says of the
// document in hand, asked through the cross-border status service (issue
// 6; package crossborder's client). The caller asks and passes the outcome
// in Input.Status, so that this package stays free of network code.

// StatusAnswer is the outcome of asking the issuing state's registry.
type StatusAnswer struct {
	// Status is the verified answer: VALID, LOST, STOLEN, REVOKED,
	// EXPIRED or UNKNOWN; empty when no usable answer came (Failure says
	// why).
	Status string
	// Since is the day the status took effect (YYYY-MM-DD), Responder
	// the answering state (alpha-3), Time the answer's time (RFC 3339).
	Since, Responder, Time string
	// Failure is the reason code when Status is empty: one of
	// ReasonPartnerUnreachable, ReasonPartnerNotRegistered,
	// ReasonStatusRefused, ReasonBadStatusAnswer.
	Failure string
	// Detail is free text for people (the error, the partner).
	Detail string
}

// Reason codes of the document_status check (docs/report.schema.json
// lists them).
const (
	ReasonNoStatusSource       = "no_status_source"       // not asked (read without --status)
	ReasonUnknownDocument      = "unknown_document"       // the registry answered UNKNOWN
	ReasonPartnerUnreachable   = "partner_unreachable"    // no answer within 1 s, or 5xx
	ReasonPartnerNotRegistered = "partner_not_registered" // the issuing state is no registered partner
	ReasonStatusRefused        = "status_refused"         // the responder refused the request (4xx)
	ReasonBadStatusAnswer      = "bad_status_answer"      // an answer that failed verification
	ReasonDocumentLost         = "document_lost"
	ReasonDocumentStolen       = "document_stolen"
	ReasonDocumentRevoked      = "document_revoked"
	ReasonDocumentExpired      = "document_expired"
)

// DocumentStatus turns the registry's answer into the check. VALID passes;
// LOST, STOLEN, REVOKED (and EXPIRED) fail, which makes the verdict
// rejected; UNKNOWN and every failure to get a verified answer are
// not_done: an unanswered question is never taken for a good or a bad
// answer.
func DocumentStatus(a *StatusAnswer) Check {
	if a == nil {
		return Check{Result: NotDone, Reason: ReasonNoStatusSource, Detail: "no registry or partner was asked"}
	}
	// what: the status as a person reads it; the detail names who signed.
	signed := func(what string) string {
		d := what
		if a.Since != "" {
			d += " since " + a.Since
		}
		if a.Responder != "" {
			return d + " (signed answer of " + a.Responder + "'s registry)"
		}
		return d + " (signed answer)"
	}
	switch a.Status {
	case "VALID":
		return Check{Result: Pass, Detail: signed("valid")}
	case "LOST":
		return Check{Result: Fail, Reason: ReasonDocumentLost, Detail: signed("reported lost")}
	case "STOLEN":
		return Check{Result: Fail, Reason: ReasonDocumentStolen, Detail: signed("reported stolen")}
	case "REVOKED":
		return Check{Result: Fail, Reason: ReasonDocumentRevoked, Detail: signed("revoked")}
	case "EXPIRED":
		return Check{Result: Fail, Reason: ReasonDocumentExpired, Detail: signed("expired")}
	case "UNKNOWN":
		return Check{Result: NotDone, Reason: ReasonUnknownDocument,
			Detail: signed("the issuing state's registry knows no document with this number, date of birth and date of expiry")}
	case "":
		switch a.Failure {
		case ReasonPartnerUnreachable, ReasonPartnerNotRegistered, ReasonStatusRefused, ReasonBadStatusAnswer:
			return Check{Result: NotDone, Reason: a.Failure, Detail: a.Detail}
		}
		return Check{Result: NotDone, Reason: ReasonBadStatusAnswer, Detail: fmt.Sprintf("no usable answer (%s): %s", a.Failure, a.Detail)}
	}
	return Check{Result: NotDone, Reason: ReasonBadStatusAnswer, Detail: fmt.Sprintf("status %q is none of the protocol's", a.Status)}
}
