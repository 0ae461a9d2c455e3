package cvc

import (
	"crypto"
	_ "crypto/sha1" // registered for id-TA-*-SHA-1
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/asn1"
	"fmt"
)

// Algorithm is a Terminal Authentication signature algorithm, named by the
// OID in the public key data object (TR-03110-3 A.6.4 / D.3.1).
type Algorithm int

// The algorithms of id-TA (0.4.0.127.0.7.2.2.2).
const (
	AlgorithmUnknown Algorithm = iota
	RSAv15SHA1                 // id-TA-RSA-v1-5-SHA-1
	RSAv15SHA256               // id-TA-RSA-v1-5-SHA-256
	RSAPSSSHA1                 // id-TA-RSA-PSS-SHA-1
	RSAPSSSHA256               // id-TA-RSA-PSS-SHA-256
	RSAv15SHA512               // id-TA-RSA-v1-5-SHA-512
	RSAPSSSHA512               // id-TA-RSA-PSS-SHA-512
	ECDSASHA1                  // id-TA-ECDSA-SHA-1
	ECDSASHA224                // id-TA-ECDSA-SHA-224
	ECDSASHA256                // id-TA-ECDSA-SHA-256
	ECDSASHA384                // id-TA-ECDSA-SHA-384
	ECDSASHA512                // id-TA-ECDSA-SHA-512
)

// algInfo is one row of the immutable algorithm table.
type algInfo struct {
	name string
	arc  [2]int // the last two arcs under id-TA
	hash crypto.Hash
	pss  bool
	ec   bool
}

// algTable maps each Algorithm to its OID arcs, hash and scheme
// (TR-03110-3 A.6.4.1 RSA, A.6.4.2 ECDSA).
func algTable(a Algorithm) (algInfo, bool) {
	switch a {
	case RSAv15SHA1:
		return algInfo{"id-TA-RSA-v1-5-SHA-1", [2]int{1, 1}, crypto.SHA1, false, false}, true
	case RSAv15SHA256:
		return algInfo{"id-TA-RSA-v1-5-SHA-256", [2]int{1, 2}, crypto.SHA256, false, false}, true
	case RSAPSSSHA1:
		return algInfo{"id-TA-RSA-PSS-SHA-1", [2]int{1, 3}, crypto.SHA1, true, false}, true
	case RSAPSSSHA256:
		return algInfo{"id-TA-RSA-PSS-SHA-256", [2]int{1, 4}, crypto.SHA256, true, false}, true
	case RSAv15SHA512:
		return algInfo{"id-TA-RSA-v1-5-SHA-512", [2]int{1, 5}, crypto.SHA512, false, false}, true
	case RSAPSSSHA512:
		return algInfo{"id-TA-RSA-PSS-SHA-512", [2]int{1, 6}, crypto.SHA512, true, false}, true
	case ECDSASHA1:
		return algInfo{"id-TA-ECDSA-SHA-1", [2]int{2, 1}, crypto.SHA1, false, true}, true
	case ECDSASHA224:
		return algInfo{"id-TA-ECDSA-SHA-224", [2]int{2, 2}, crypto.SHA224, false, true}, true
	case ECDSASHA256:
		return algInfo{"id-TA-ECDSA-SHA-256", [2]int{2, 3}, crypto.SHA256, false, true}, true
	case ECDSASHA384:
		return algInfo{"id-TA-ECDSA-SHA-384", [2]int{2, 4}, crypto.SHA384, false, true}, true
	case ECDSASHA512:
		return algInfo{"id-TA-ECDSA-SHA-512", [2]int{2, 5}, crypto.SHA512, false, true}, true
	}
	return algInfo{}, false
}

// idTA is the arc of the Terminal Authentication algorithms
// (TR-03110-3 A.6.4: bsi-de protocols 2 2), fresh on every call.
func idTA() asn1.ObjectIdentifier { return asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 2} }

// String gives the OID name of TR-03110-3, e.g. "id-TA-ECDSA-SHA-256".
func (a Algorithm) String() string {
	if in, ok := algTable(a); ok {
		return in.name
	}
	return fmt.Sprintf("Algorithm(%d)", int(a))
}

// OID returns the algorithm's object identifier (a fresh slice), or nil
// for AlgorithmUnknown.
func (a Algorithm) OID() asn1.ObjectIdentifier {
	in, ok := algTable(a)
	if !ok {
		return nil
	}
	return append(idTA(), in.arc[0], in.arc[1])
}

// IsECDSA reports whether a is one of the id-TA-ECDSA algorithms.
func (a Algorithm) IsECDSA() bool { in, ok := algTable(a); return ok && in.ec }

// IsRSA reports whether a is one of the id-TA-RSA algorithms.
func (a Algorithm) IsRSA() bool { in, ok := algTable(a); return ok && !in.ec }

// Hash is the message digest the algorithm signs with.
func (a Algorithm) Hash() crypto.Hash { in, _ := algTable(a); return in.hash }

// algorithmFromOID maps an OID to its Algorithm, AlgorithmUnknown if it is
// not one of id-TA's.
func algorithmFromOID(oid asn1.ObjectIdentifier) Algorithm {
	arc := idTA()
	if len(oid) != len(arc)+2 || !oid[:len(arc)].Equal(arc) {
		return AlgorithmUnknown
	}
	for a := RSAv15SHA1; a <= ECDSASHA512; a++ {
		in, _ := algTable(a)
		if oid[len(arc)] == in.arc[0] && oid[len(arc)+1] == in.arc[1] {
			return a
		}
	}
	return AlgorithmUnknown
}
