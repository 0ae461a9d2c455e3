package db_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"borderid/db"
)

// A sealing transaction (fence shared) waits while a rotation holds the
// fence, and goes on once it is released; rotations wait for sealing
// transactions in flight.
func TestKEKFence(t *testing.T) {
	app, _ := freshDB(t)
	ctx := ctxT(t)
	release, err := db.KEKFence(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- db.WithScope(ctx, app, approver1, func(tx pgx.Tx) error { return db.KEKFenceShared(ctx, tx) })
	}()
	select {
	case err := <-done:
		t.Fatalf("a sealing transaction went on while the fence was held: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the sealing transaction still waits after the fence was released")
	}

	// The other way round: a rotation waits for a sealing transaction.
	tx, err := app.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.KEKFenceShared(ctx, tx); err != nil {
		t.Fatal(err)
	}
	got := make(chan func(), 1)
	go func() {
		r, err := db.KEKFence(ctx, app)
		if err != nil {
			t.Error(err)
			close(got)
			return
		}
		got <- r
	}()
	select {
	case <-got:
		t.Fatal("the rotation took the fence while a sealing transaction held it")
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r != nil {
			r()
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the rotation still waits after the sealing transaction ended")
	}
}
