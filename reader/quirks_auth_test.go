package reader_test

import (
	"context"
	"crypto/rand"
	"slices"
	"testing"

	"borderid/hardware/chipsim"
	"borderid/reader"
	"borderid/reader/lds"
	"borderid/reader/lds/specimen"
)

// A chip whose CA GENERAL AUTHENTICATE (AES) answers 9000 without the
// empty dynamic authentication data 7C00: accepted as the quirk
// ca_empty_response, since the MAC under the new keys is the proof
// (caVerify), not the answer's data.
func TestChipAuthenticateEmptyAnswerQuirk(t *testing.T) {
	doc := caDoc(t, specimen.ChipOptions{CAParameterID: 13, CAProtocols: []lds.Protocol{lds.CAECDHAES128}})
	_, s, dg14 := caSetup(t, doc, nil, nil, chipsim.Faults{CAEmptyAnswer: true})
	res, err := reader.ChipAuthenticate(context.Background(), s, dg14, reader.CAOptions{Rand: newRand(4)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed || !slices.Equal(res.Quirks, []reader.Quirk{reader.QuirkCAEmptyResponse}) {
		t.Fatalf("passed %v, quirks %v", res.Passed, res.Quirks)
	}
	if !slices.Contains(s.Quirks(), "ca_empty_response") {
		t.Fatalf("session quirks %v", s.Quirks())
	}
	// The 7C00 answer takes no quirk.
	_, s, dg14 = caSetup(t, doc, nil, nil, chipsim.Faults{})
	res, err = reader.ChipAuthenticate(context.Background(), s, dg14, reader.CAOptions{Rand: newRand(4)})
	if err != nil || len(res.Quirks) != 0 || len(s.Quirks()) != 0 {
		t.Fatalf("%v, quirks %v %v", err, res.Quirks, s.Quirks())
	}
}

// A PACE-CAM chip that drops CA_IC's leading zero byte: the reader
// left-pads it to the order's length (quirk cam_short_ca_ic) and the
// check passes.
func TestPACECAMShortCAICQuirk(t *testing.T) {
	pd := newPACEDoc(t)
	for _, tc := range []struct {
		p  lds.Protocol
		id int
	}{{lds.PACEECDHCAMAES256, 12}, {lds.PACEECDHCAMAES128, 13}} {
		t.Run(tc.p.String(), func(t *testing.T) {
			chip, infos := pd.chip(t, paceChipSpec{infos: []lds.PACEInfo{pi(tc.p, tc.id)}, camID: tc.id, chipSeed: 31,
				faults: chipsim.Faults{CAMShortCAIC: true}})
			s := reader.NewSession(chip, reader.SessionOptions{})
			res, err := reader.PACE(context.Background(), s, infos, pd.password(reader.PasswordMRZ), reader.PACEOptions{Rand: rand.Reader})
			if err != nil {
				t.Fatal(err)
			}
			if res.CAM != reader.CAMPassed || res.CAMReason != reader.CAMReasonPassed {
				t.Fatalf("CAM %v %q (%s)", res.CAM, res.CAMReason, res.CAMDetail)
			}
			if !slices.Equal(res.Quirks, []reader.Quirk{reader.QuirkCAMShortCAIC}) || !slices.Contains(s.Quirks(), "cam_short_ca_ic") {
				t.Fatalf("quirks %v, session %v", res.Quirks, s.Quirks())
			}
			pd.readDG1(t, s)
		})
	}
}

// chooseCA ranks ciphers as PACE does (AES-256, AES-192, AES-128, 3DES),
// whatever the order of DG14's ChipAuthenticationInfos.
func TestChipAuthenticateCipherRank(t *testing.T) {
	for _, tc := range []struct {
		offer []lds.Protocol
		want  lds.Protocol
	}{
		{[]lds.Protocol{lds.CAECDH3DES, lds.CAECDHAES128}, lds.CAECDHAES128},
		{[]lds.Protocol{lds.CAECDHAES128, lds.CAECDH3DES}, lds.CAECDHAES128},
		{[]lds.Protocol{lds.CAECDHAES128, lds.CAECDHAES192}, lds.CAECDHAES192},
		{[]lds.Protocol{lds.CAECDHAES256, lds.CAECDHAES192, lds.CAECDH3DES}, lds.CAECDHAES256},
	} {
		t.Run(tc.want.String(), func(t *testing.T) {
			doc := caDoc(t, specimen.ChipOptions{CAParameterID: 13, CAProtocols: tc.offer})
			_, s, dg14 := caSetup(t, doc, nil, nil, chipsim.Faults{})
			res, err := reader.ChipAuthenticate(context.Background(), s, dg14, reader.CAOptions{Rand: newRand(4)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Protocol != tc.want {
				t.Fatalf("%v chose %v, want %v", tc.offer, res.Protocol, tc.want)
			}
		})
	}
}
