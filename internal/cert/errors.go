package cert

import "errors"

// Errors callers branch on; returned wrapped with context.
var (
	// ErrMalformed: the input is not a certificate or CRL this package can
	// read, even leniently (truncated, trailing data, wrong types).
	ErrMalformed = errors.New("cert: malformed")
	// ErrTooLarge: the input exceeds MaxSize.
	ErrTooLarge = errors.New("cert: input too large")
	// ErrUnsupportedAlgorithm: a signature or digest algorithm this package
	// does not implement, or RSA-PSS parameters crypto/rsa cannot honour.
	ErrUnsupportedAlgorithm = errors.New("cert: unsupported algorithm")
	// ErrUnsupportedKey: the signer's key is absent, of an unknown type or
	// curve, or does not fit the signature algorithm.
	ErrUnsupportedKey = errors.New("cert: unsupported public key")
	// ErrInvalidKey: a public key that is present but unusable (an EC point
	// off its curve or at infinity, an RSA modulus that is even or too
	// small, an exponent out of range).
	ErrInvalidKey = errors.New("cert: invalid public key")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("cert: signature verification failed")
)

// MaxSize bounds the input of ParseCertificate and ParseRevocationList
// (a CRL of a large state is a few MiB at most).
const MaxSize = 32 << 20

// Quirks: deviations from DER and RFC 5280 that the parser accepts and
// records by name (Certificate.Quirks, RevocationList.Quirks). A quirk
// never skips a check on what is signed.
const (
	QuirkUTCTimeWithoutSeconds      = "utctime_without_seconds"     // RFC 5280 §4.1.2.5.1 requires seconds
	QuirkTimeWithOffset             = "time_with_offset"            // a time not in Z (UTC)
	QuirkGeneralizedTimeFraction    = "generalizedtime_fraction"    // fractional seconds (§4.1.2.5.2 forbids)
	QuirkGeneralizedTimeBefore2050  = "generalizedtime_before_2050" // §4.1.2.5: UTCTime up to 2049
	QuirkNegativeSerial             = "negative_serial"             // §4.1.2.2: serial must be positive
	QuirkZeroSerial                 = "zero_serial"
	QuirkLongSerial                 = "long_serial"         // more than 20 octets
	QuirkNonMinimalInteger          = "non_minimal_integer" // INTEGER with redundant leading octets
	QuirkVersion1Explicit           = "version_default_encoded"
	QuirkCriticalFalseEncoded       = "critical_false_encoded"               // DEFAULT FALSE written out (X.690 §11.5)
	QuirkNonDERBoolean              = "non_der_boolean"                      // TRUE not encoded as FF
	QuirkRSAKeyParamsAbsent         = "rsa_key_params_absent"                // SPKI rsaEncryption without NULL (RFC 3279 §2.3.1)
	QuirkRSAParamsAbsent            = "rsa_params_absent"                    // RFC 4055 §5: NULL expected
	QuirkECDSAParamsNull            = "ecdsa_params_null"                    // RFC 5758 §3.2: must be absent
	QuirkSignatureAlgorithmMismatch = "signature_algorithm_encoding_differs" // inner/outer differ in encoding only
	QuirkRSANegativeModulus         = "rsa_negative_modulus"                 // modulus without its leading 00
	QuirkECExplicitCofactorAbsent   = "ec_cofactor_absent"
	QuirkUnknownCurve               = "ec_unknown_curve"      // explicit or named parameters of no known curve; no key
	QuirkUnknownKeyAlgorithm        = "unknown_key_algorithm" // no key
	QuirkNonPrintableString         = "non_printable_string"  // PrintableString with characters outside its set
	QuirkEmptyIssuer                = "empty_issuer"
	QuirkDuplicateExtension         = "duplicate_extension" // RFC 5280 §4.2: at most one instance
	QuirkKeyUsageTrailingZeros      = "key_usage_trailing_zeros"
	QuirkExtensionsInV1             = "extensions_in_v1"
)
