package cert

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/pem"
	"fmt"

	"borderid/internal/ec"
)

func keyName(c *Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return k.Curve.Params().Name
	case *ec.PublicKey:
		return k.Curve().Name()
	}
	return "none"
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
