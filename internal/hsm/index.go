package hsm

import (
	"context"
	"errors"
	"fmt"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"

	"borderid/internal/envelope"
)

// indexKeyBits is the size of the blind-index key.
const indexKeyBits = 256

// EnsureIndexKey returns whether it generated the blind-index key
// "blind-index": a 256-bit CKK_GENERIC_SECRET key, sensitive, never
// extractable, with CKA_SIGN only (HMAC).
func (t *Token) EnsureIndexKey() (created bool, err error) {
	err = t.exclusive(func() error {
		if _, err := t.findIndexKey(); err == nil {
			return nil
		} else if !isNotFound(err) {
			return err
		}
		label := []byte(IndexKeyLabel)
		tmpl, err := crypto11.NewAttributeSetWithIDAndLabel(label, label)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrHSM, err)
		}
		tmpl.AddIfNotPresent([]*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
			pkcs11.NewAttribute(pkcs11.CKA_VERIFY, false),
			pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
			pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
			pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
			pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
			pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		})
		if _, err := t.c.GenerateSecretKeyWithAttributes(tmpl, indexKeyBits, crypto11.CipherGeneric); err != nil {
			return fmt.Errorf("%w: generate %s: %w", ErrHSM, IndexKeyLabel, err)
		}
		created = true
		return nil
	})
	return created, err
}

func isNotFound(err error) bool {
	return err != nil && errors.Is(err, ErrKeyNotFound)
}

// findIndexKey finds the blind-index key (cached once found).
func (t *Token) findIndexKey() (*crypto11.SecretKey, error) {
	if t.closed.Load() {
		return nil, ErrClosed
	}
	if k := t.indexKey.Load(); k != nil {
		return k, nil
	}
	tmpl := crypto11.NewAttributeSet()
	if err := tmpl.Set(crypto11.CkaLabel, []byte(IndexKeyLabel)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHSM, err)
	}
	if err := tmpl.Set(crypto11.CkaKeyType, pkcs11.CKK_GENERIC_SECRET); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHSM, err)
	}
	ks, err := t.c.FindKeysWithAttributes(tmpl)
	if err != nil {
		return nil, fmt.Errorf("%w: find %s: %w", ErrHSM, IndexKeyLabel, err)
	}
	switch len(ks) {
	case 0:
		return nil, fmt.Errorf("%w: %s (EnsureIndexKey)", ErrKeyNotFound, IndexKeyLabel)
	case 1:
		t.indexKey.Store(ks[0])
		return ks[0], nil
	}
	return nil, fmt.Errorf("%w: %q", ErrDuplicate, IndexKeyLabel)
}

// Indexer returns the token's envelope.Indexer: HMAC-SHA256 inside the
// token (CKM_SHA256_HMAC) with the blind-index key over
// envelope.IndexMessage(purpose, value).
func (t *Token) Indexer() envelope.Indexer { return indexer{t} }

type indexer struct{ t *Token }

// Index returns the 32-byte blind index of value for purpose.
func (ix indexer) Index(ctx context.Context, purpose string, value []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k, err := ix.t.findIndexKey()
	if err != nil {
		return nil, fmt.Errorf("hsm: index: %w", err)
	}
	sum, err := hmacSum(k, envelope.IndexMessage(purpose, value))
	if err != nil {
		return nil, fmt.Errorf("%w: index: %w", ErrHSM, err)
	}
	if len(sum) != 32 {
		return nil, fmt.Errorf("%w: index: HMAC of %d bytes", ErrHSM, len(sum))
	}
	return sum, nil
}

// hmacSum runs one HMAC in the token. crypto11's hash.Hash panics in Sum
// when the token fails, and keeps its session out of the pool if Write
// fails; one Write and a recovered Sum keep both cases an error.
func hmacSum(k *crypto11.SecretKey, msg []byte) (sum []byte, err error) {
	h, err := k.NewHMAC(pkcs11.CKM_SHA256_HMAC, 0)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			sum, err = nil, fmt.Errorf("%v", r)
		}
	}()
	if _, err := h.Write(msg); err != nil {
		h.Sum(nil) // ends the operation and returns the session to the pool
		return nil, err
	}
	return h.Sum(nil), nil
}
