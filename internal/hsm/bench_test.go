package hsm

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"borderid/internal/envelope"
	"borderid/internal/envelope/envelopetest"
)

// The benchmarks and the fuzz target run in the parent test process,
// which opens no token in its tests: they share one home for the whole
// binary (removed by TestMain).
var (
	benchOnce sync.Once
	benchDir  string
	benchTok  *Token
	benchErr  error
)

func benchToken(b testing.TB) *Token {
	b.Helper()
	requireSoftHSM(b)
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "hsm-bench-")
		if benchErr != nil {
			return
		}
		benchTok, benchErr = Open(context.Background(), benchDir)
		if benchErr != nil {
			return
		}
		if _, benchErr = benchTok.EnsureKEK(1); benchErr != nil {
			return
		}
		_, benchErr = benchTok.EnsureIndexKey()
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchTok
}

// nsPerOp times f in process for the "x_software" ratio (testing.Benchmark
// cannot run inside a benchmark).
func nsPerOp(f func()) float64 {
	const n = 20000
	start := time.Now()
	for range n {
		f()
	}
	return float64(time.Since(start).Nanoseconds()) / n
}

// BenchmarkWrap: wrapping one data key (and unwrapping it) with AES-GCM
// inside SoftHSM2, beside the same with AES-GCM in process
// (envelopetest.Wrapper); the hsm case reports its cost as a multiple of
// the software one ("x_software").
func BenchmarkWrap(b *testing.B) {
	ctx := context.Background()
	dek := bytes.Repeat([]byte{1}, 32)
	ad := envelope.AD("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "face")
	run := func(b *testing.B, kw envelope.KeyWrapper) {
		for b.Loop() {
			v, w, err := kw.Wrap(ctx, dek, ad)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := kw.Unwrap(ctx, v, w, ad); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("software", func(b *testing.B) { run(b, envelopetest.NewWrapper(b)) })
	b.Run("hsm", func(b *testing.B) {
		tok := benchToken(b)
		sw := envelopetest.NewWrapper(b)
		soft := nsPerOp(func() {
			v, w, _ := sw.Wrap(ctx, dek, ad)
			sw.Unwrap(ctx, v, w, ad)
		})
		run(b, tok.KeyWrapper())
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/soft, "x_software")
	})
}

// BenchmarkIndex: one blind index (HMAC-SHA256 of a document number)
// inside SoftHSM2, beside crypto/hmac in process.
func BenchmarkIndex(b *testing.B) {
	ctx := context.Background()
	value := []byte("L898902C3")
	key := bytes.Repeat([]byte{7}, 32)
	softFn := func(b *testing.B) {
		for b.Loop() {
			m := hmac.New(sha256.New, key)
			m.Write(envelope.IndexMessage("document-number", value))
			m.Sum(nil)
		}
	}
	b.Run("software", softFn)
	b.Run("hsm", func(b *testing.B) {
		ix := benchToken(b).Indexer()
		soft := nsPerOp(func() {
			m := hmac.New(sha256.New, key)
			m.Write(envelope.IndexMessage("document-number", value))
			m.Sum(nil)
		})
		for b.Loop() {
			if _, err := ix.Index(ctx, "document-number", value); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/soft, "x_software")
	})
}

// FuzzUnwrap: the HSM wrapper's Unwrap of any bytes under any version
// never panics, and fails with ErrDecrypt (never ErrHSM) unless it is the
// wrapped key made here.
func FuzzUnwrap(f *testing.F) {
	tok := benchToken(f)
	kw := tok.KeyWrapper()
	ctx := context.Background()
	dek := bytes.Repeat([]byte{9}, 32)
	v, w, err := kw.Wrap(ctx, dek, []byte("ad"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v, w, []byte("ad"))
	f.Add(0, []byte{}, []byte{})
	f.Add(1, w[:28], []byte("ad"))
	f.Add(7, w, []byte("ad"))
	f.Fuzz(func(t *testing.T, v int, w, ad []byte) {
		got, err := kw.Unwrap(ctx, v, w, ad)
		if err != nil {
			if !errors.Is(err, envelope.ErrDecrypt) || errors.Is(err, ErrHSM) {
				t.Fatalf("Unwrap: %v", err)
			}
			return
		}
		if !bytes.Equal(got, dek) {
			t.Fatalf("Unwrap of forged input gave %x", got)
		}
	})
}
