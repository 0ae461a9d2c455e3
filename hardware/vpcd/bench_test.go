package vpcd

import (
	"context"
	"testing"
	"time"

	"borderid/hardware/pcsc"
)

// BenchmarkQuickAck measures a short APDU's round trip through pcscd and
// vpcd with and without re-arming TCP_QUICKACK (TCP_NODELAY and one write
// per reply in both). Needs pcscd (scripts/pcscd-up).
func BenchmarkQuickAck(b *testing.B) {
	for _, tc := range []struct {
		name string
		opt  options
	}{
		{"quickack", options{quickAck: true}},
		{"no-quickack", options{quickAck: false}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			pc, err := pcsc.EstablishContext()
			if err != nil {
				b.Fatalf("pcscd is not reachable (%v): run scripts/pcscd-up", err)
			}
			defer pc.Release()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			l, err := Lease(ctx)
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- serve(ctx, l.Addr, &fakeCard{}, nil, tc.opt) }()
			defer func() {
				cancel()
				<-done
				// Hand the reader on empty, or the next lease sees
				// this card until pcscd's next poll.
				wctx, wcancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer wcancel()
				pc.WaitForRemoval(wctx, l.Reader)
				l.Release()
			}()
			if _, err := pc.WaitForCard(ctx, []string{l.Reader}); err != nil {
				b.Fatal(err)
			}
			k, err := pc.Connect(l.Reader, pcsc.ShareExclusive, pcsc.ProtocolT1)
			if err != nil {
				b.Fatal(err)
			}
			defer k.Disconnect(pcsc.LeaveCard)
			apdu := []byte{0x00, 0xA4, 0x04, 0x0C}
			for b.Loop() {
				if _, err := k.Transmit(ctx, apdu); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
