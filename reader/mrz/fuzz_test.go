package mrz

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func FuzzMRZParse(f *testing.F) {
	for _, s := range []string{td1, td2, td3, mrva, mrvb, td1Long, td2Long, td3BAC, strings.ReplaceAll(td3, "\n", "")} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("Parse error %v is not ErrFormat", err)
			}
			return
		}
		if len(m.Raw) != m.Format.Lines()*m.Format.LineLength() {
			t.Fatalf("Raw has %d characters for %v", len(m.Raw), m.Format)
		}
		_ = m.Verify()
		_ = m.BirthDate(now).String()
		_ = m.ExpiryDate().String()
		k := m.KeySeedInfo()
		if len(k) < 24 {
			t.Fatalf("KeySeedInfo %q shorter than 24", k)
		}
		// Reparsing the raw form gives the same document.
		m2, err := Parse(m.Raw)
		if err != nil || m2.Raw != m.Raw || m2.KeySeedInfo() != k {
			t.Fatalf("reparse of %q: %v", m.Raw, err)
		}
	})
}
