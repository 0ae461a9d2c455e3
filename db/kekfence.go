package db

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// kekFenceKey is the advisory lock between writers that seal data under
// the current KEK and `keys rotate --destroy-old` ("bdkk" in ASCII).
const kekFenceKey = 0x62646b6b

// KEKFenceShared is the first statement of a transaction that seals data
// (a biometric record, an issued chip): it takes the fence shared until
// the transaction ends, so a rotation that is about to destroy old KEK
// versions waits for it, and it waits for such a rotation, then seals
// under the new version. Without it a record sealed under the old version
// but committed after the rotation's last pass would lose its key.
func KEKFenceShared(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1)", int64(kekFenceKey))
	return mapErr("kek fence", err)
}

// KEKFence takes the fence exclusively on a connection of its own, for a
// rotation's last pass and the destruction of old KEK versions; release
// gives it back.
func KEKFence(ctx context.Context, pool *pgxpool.Pool) (release func(), err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: kek fence: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(kekFenceKey)); err != nil {
		conn.Release()
		return nil, fmt.Errorf("db: kek fence: %w", err)
	}
	return func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(kekFenceKey))
		conn.Release()
	}, nil
}
