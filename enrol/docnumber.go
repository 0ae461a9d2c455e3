package enrol

// NormaliseDocumentNumber is the form of a document number its blind index
// is computed over (upper case, without spaces and '<' fillers): the
// function the service itself uses, exported so that the cross-border status
// responder finds documents exactly as issuance indexed them.
func NormaliseDocumentNumber(s string) string { return normaliseNumber(s) }

// IndexPurposeDocumentNumber is the envelope.Indexer purpose of a document
// number's blind index (documents.number_index).
const IndexPurposeDocumentNumber = indexPurposeDocumentNumber
