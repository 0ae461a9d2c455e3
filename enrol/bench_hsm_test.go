package enrol_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"borderid/enrol"
	"borderid/enrol/biometric"
	"borderid/internal/hsm"
)

// hsmOnce opens one SoftHSM2 token for the whole test binary: SoftHSM2
// reads its configuration once per process (internal/hsm refuses a second
// home), so benchmark rounds share it.
var hsmOnce struct {
	sync.Once
	tok *hsm.Token
	err error
}

func benchToken(b *testing.B) *hsm.Token {
	hsmOnce.Do(func() {
		dir, err := os.MkdirTemp("", "borderid-bench-hsm-")
		if err != nil {
			hsmOnce.err = err
			return
		}
		home := filepath.Join(dir, "home")
		tok, err := hsm.Open(context.Background(), home)
		if err == nil {
			_, err = tok.EnsureKEK(1)
		}
		if err == nil {
			_, err = tok.EnsureIndexKey()
		}
		hsmOnce.tok, hsmOnce.err = tok, err
	})
	if hsmOnce.err != nil {
		b.Fatalf("SoftHSM2 token: %v", hsmOnce.err)
	}
	return hsmOnce.tok
}

// BenchmarkEnrolHSM is BenchmarkEnrol with the data keys wrapped by the
// KEK inside SoftHSM2 (as `borderid serve` runs), not the software KEK.
func BenchmarkEnrolHSM(b *testing.B) {
	base := freshEnv(b, "bench_hsm")
	tok := benchToken(b)
	svc, err := enrol.New(enrol.Config{Pool: base.app, Wrapper: tok.KeyWrapper(), Indexer: tok.Indexer(), AuditSigner: base.key,
		CheckpointDir: filepath.Join(b.TempDir(), "checkpoints"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		IssueChip: func(context.Context, enrol.IssueRequest) (string, error) { return "", nil }})
	if err != nil {
		b.Fatal(err)
	}
	d := newBenchData(b)
	ctx := context.Background()
	b.SetBytes(int64(d.bytes()))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		id, err := svc.Create(ctx, clerk1, person)
		if err != nil {
			b.Fatal(err)
		}
		if err := svc.PutFace(ctx, clerk1, id, biometric.ContentTypeJPEG, d.face); err != nil {
			b.Fatal(err)
		}
		for p, f := range d.fingers {
			if err := svc.PutFinger(ctx, clerk1, id, p+1, biometric.ContentTypeFinger, f); err != nil {
				b.Fatal(err)
			}
		}
		if err := svc.Finalize(ctx, clerk1, id); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportLatency(b, lat)
}
