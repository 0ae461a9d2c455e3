package db

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParseHead: the head file is read strictly; whatever the bytes, a
// parse either fails with ErrHeadMalformed or gives a head that encodes
// back to an equivalent file.
func FuzzParseHead(f *testing.F) {
	good, _ := json.Marshal(Head{Seq: 12, Hash: bytes.Repeat([]byte{0xab}, 32)})
	f.Add(good)
	f.Add([]byte(`{"seq":1,"hash":"00"}`))
	f.Add([]byte(``))
	f.Add([]byte(`{"seq":1,"hash":"` + string(bytes.Repeat([]byte("0"), 64)) + `","x":1}`))
	f.Add(append(append([]byte{}, good...), good...))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHead(b)
		if err != nil {
			if !errors.Is(err, ErrHeadMalformed) {
				t.Fatalf("error %v is not ErrHeadMalformed", err)
			}
			return
		}
		if h.Seq <= 0 || len(h.Hash) != 32 {
			t.Fatalf("accepted %+v", h)
		}
		again, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		h2, err := parseHead(again)
		if err != nil || h2.Seq != h.Seq || !bytes.Equal(h2.Hash, h.Hash) {
			t.Fatalf("round trip: %+v %v", h2, err)
		}
	})
}
