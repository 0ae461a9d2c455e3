package db

import "strings"

// IndexPurposeDocumentNumber is the envelope.Indexer purpose of a document
// number's blind index: documents.number_index = Index(purpose,
// NormaliseDocumentNumber(number)). Issuance writes it and the status
// responder looks documents up by it, so both take it from here.
const IndexPurposeDocumentNumber = "document-number"

// NormaliseDocumentNumber is the form a document number's blind index is
// computed over: upper case, without spaces and '<' fillers (as an MRZ
// may carry it).
func NormaliseDocumentNumber(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	return strings.NewReplacer("<", "", " ", "").Replace(s)
}
