package envelopetest_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"borderid/internal/envelope"
	"borderid/internal/envelope/envelopetest"
)

func TestWrapper(t *testing.T) {
	ctx := context.Background()
	w := envelopetest.NewWrapper(t)
	dek := bytes.Repeat([]byte{3}, 32)
	v, wrapped, err := w.Wrap(ctx, dek, []byte("ad"))
	if err != nil || v != 1 || len(wrapped) != 12+32+16 {
		t.Fatalf("Wrap: %d %d %v", v, len(wrapped), err)
	}
	if got, err := w.Unwrap(ctx, 1, wrapped, []byte("ad")); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("Unwrap: %v", err)
	}
	if _, err := w.Unwrap(ctx, 1, wrapped, []byte("other")); !errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("other ad: %v", err)
	}
	if _, err := w.Unwrap(ctx, 1, wrapped[:27], []byte("ad")); !errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("short: %v", err)
	}
	if v := w.Rotate(); v != 2 {
		t.Fatalf("Rotate = %d", v)
	}
	if _, err := w.Unwrap(ctx, 2, wrapped, []byte("ad")); !errors.Is(err, envelope.ErrDecrypt) || errors.Is(err, envelope.ErrKEKNotFound) {
		t.Fatalf("other version: %v", err)
	}
	w.Destroy(2)
	if _, _, err := w.Wrap(ctx, dek, nil); !errors.Is(err, envelope.ErrKEKNotFound) || errors.Is(err, envelope.ErrDecrypt) {
		t.Fatalf("Wrap with the latest destroyed: %v", err)
	}
	if v := w.Rotate(); v != 3 {
		t.Fatalf("versions are not reused: %d", v)
	}
	if got := w.Versions(); !slices.Equal(got, []int{1, 3}) {
		t.Fatalf("Versions %v", got)
	}
	if wraps, unwraps := w.Calls(); wraps != 2 || unwraps != 4 {
		t.Fatalf("Calls %d %d", wraps, unwraps)
	}
	// Concurrent use.
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 50 {
				s, err := envelope.Seal(ctx, w, []byte("x"), []byte("ad"))
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := envelope.Open(ctx, w, s, []byte("ad")); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Add(1)
	go func() { defer wg.Done(); w.Rotate() }()
	wg.Wait()
}
