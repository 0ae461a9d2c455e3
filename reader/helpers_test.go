package reader

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// unhex decodes hex with optional spaces; it fails the test on bad input.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// exchange is one expected command and the scripted answer.
type exchange struct{ cmd, resp string }

// scripted is a Transport that checks each command against a script
// byte for byte and answers from it.
type scripted struct {
	t    testing.TB
	ex   []exchange
	next int
	err  error // returned once the script is exhausted, if set
}

func (s *scripted) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	s.t.Helper()
	if s.next >= len(s.ex) {
		if s.err != nil {
			return nil, s.err
		}
		s.t.Fatalf("unexpected command %X after the script ended", apdu)
		return nil, fmt.Errorf("script ended")
	}
	e := s.ex[s.next]
	s.next++
	if want := unhex(s.t, e.cmd); !bytes.Equal(apdu, want) {
		s.t.Fatalf("command %d:\n got %X\nwant %X", s.next, apdu, want)
	}
	return unhex(s.t, e.resp), nil
}

func (s *scripted) done() {
	s.t.Helper()
	if s.next != len(s.ex) {
		s.t.Fatalf("script stopped at %d of %d exchanges", s.next, len(s.ex))
	}
}
