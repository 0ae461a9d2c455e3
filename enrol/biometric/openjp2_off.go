//go:build noopenjp2 || !cgo

package biometric

// decodeJPEG2000 would decode the pixels; this build has no JPEG 2000
// decoder (built with -tags noopenjp2 or without cgo), so the structural
// walk of checkJPEG2000 is the whole check.
func decodeJPEG2000([]byte, j2kInfo) *Error { return nil }

// openJPEG reports that this build decodes JPEG 2000 pixels.
const openJPEG = false
