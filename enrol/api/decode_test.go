package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	good := map[string]time.Time{
		"2000-02-29": time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC),
		"1974-08-12": time.Date(1974, 8, 12, 0, 0, 0, 0, time.UTC),
		"0001-01-01": time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for s, want := range good {
		if got, err := parseDate(s); err != nil || !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "1900-02-29", "2023-02-29", "2023-04-31", "2023-00-10", "2023-01-00", "0000-01-01", "+123-01-01", "2023-1-01", "2023/01/01", "20230101", "2023-01-01 ", "２０２３-01-01", "1974-08-12T00:00:00Z"} {
		if _, err := parseDate(s); err == nil {
			t.Errorf("parseDate(%q) accepted", s)
		}
	}
}

func TestCanonicalUUID(t *testing.T) {
	if id, ok := canonicalUUID("0B8F5A0C-3C57-4A49-9A0E-6F3F1D2E9A11"); !ok || id != testID {
		t.Fatalf("%q %v", id, ok)
	}
	for _, s := range []string{"", testID[:35], testID + "0", "0b8f5a0c3c574a499a0e6f3f1d2e9a11", "{" + testID[1:35] + "}", "0b8f5a0c-3c57-4a49-9a0e-6f3f1d2e9a1g", "0b8f5a0c_3c57-4a49-9a0e-6f3f1d2e9a11"} {
		if _, ok := canonicalUUID(s); ok {
			t.Errorf("canonicalUUID(%q) accepted", s)
		}
	}
}

func TestFingerPosition(t *testing.T) {
	for i, s := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"} {
		if p, ok := fingerPosition(s); !ok || p != i+1 {
			t.Errorf("%q -> %d %v", s, p, ok)
		}
	}
	for _, s := range []string{"", "0", "11", "01", "+1", "-1", "1.0", " 1", "１"} {
		if _, ok := fingerPosition(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

// The request examples the decoder accepts conform to openapi.json's request schemas.
func TestRequestSchemas(t *testing.T) {
	conforms(t, "NewApplication", []byte(validApplication))
	conforms(t, "NewApplication", []byte(`{"surname":"A","sex":"X","date_of_birth":"2000-02-29","nationality":"D","document_type":"PO"}`))
	conforms(t, "StatusChange", []byte(`{"status":"LOST","since":"2026-01-02"}`))
}

func TestDecodeObjectStrict(t *testing.T) {
	cases := []struct {
		body   string
		status int
		code   string
	}{
		{`{"a":"x","b":"y"}`, 0, ""},
		{`{}`, 0, ""},
		{`{"\u0061":"x"}`, 0, ""}, // an escaped name is the same name
		{`{"a":"x",}`, 400, "malformed_json"},
		{`{"a":"x"} {"a":"y"}`, 400, "malformed_json"},
		{``, 400, "malformed_json"},
		{`{"a":"x"`, 400, "malformed_json"},
		{`"a"`, 422, "invalid_body"},
		{`[]`, 422, "invalid_body"},
		{`{"A":"x"}`, 422, "unknown_field"},
		{`{"c":"x"}`, 422, "unknown_field"},
		{`{"a":"x","a":"x"}`, 422, "duplicate_field"},
		{`{"a":{"b":"c"}}`, 422, "invalid_type"},
		{`{"a":["x"]}`, 422, "invalid_type"},
		{`{"a":true}`, 422, "invalid_type"},
		{`{"a":"\u001b[31m"}`, 422, "invalid_characters"},
		{`{"a":"\u0085"}`, 422, "invalid_characters"},
	}
	for _, tc := range cases {
		var a, b string
		err := decodeObject([]byte(tc.body), map[string]*string{"a": &a, "b": &b})
		if tc.status == 0 {
			if err != nil {
				t.Errorf("%s: %v", tc.body, err)
			}
			continue
		}
		var he *httpError
		if !errors.As(err, &he) || he.status != tc.status || he.code != tc.code {
			t.Errorf("%s: got %v, want %d %s", tc.body, err, tc.status, tc.code)
		}
	}
}

// FuzzDecodeNewApplication checks that the decoder of POST /v1/enrollments never panics, refuses only with
// 400 or 422, and accepts only what the contract allows, losslessly.
func FuzzDecodeNewApplication(f *testing.F) {
	for _, s := range []string{
		validApplication,
		`{"surname":"A","sex":"X","date_of_birth":"2000-02-29","nationality":"D","document_type":"PO"}`,
		`{"surname":"A","surname":"B"}`,
		`{"Surname":"A"}`,
		`{"surname":"A\u0000"}`,
		`{"surname":1}`,
		`{"surname":"A","sex":"F","date_of_birth":"1974-02-30","nationality":"UTO","document_type":"P"}`,
		`{"surname":"A"}{}`,
		`[`, `null`, `{}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := decodeNewApplication(body)
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) || (he.status != http.StatusBadRequest && he.status != http.StatusUnprocessableEntity) || he.code == "" || he.message == "" {
				t.Fatalf("refusal %#v", err)
			}
			return
		}
		if a.Surname == "" || len(a.Surname) > maxNameBytes || len(a.GivenNames) > maxNameBytes || hasControl(a.Surname) || hasControl(a.GivenNames) {
			t.Fatalf("accepted names %q %q", a.Surname, a.GivenNames)
		}
		if a.Sex != "F" && a.Sex != "M" && a.Sex != "X" {
			t.Fatalf("accepted sex %q", a.Sex)
		}
		if _, err := parseDate(a.DateOfBirth); err != nil {
			t.Fatalf("accepted date %q", a.DateOfBirth)
		}
		if !stateCode(a.Nationality) || !passportType(a.DocumentType) {
			t.Fatalf("accepted %q %q", a.Nationality, a.DocumentType)
		}
		// Re-encoding what was accepted decodes to the same application.
		re, err := json.Marshal(map[string]string{
			"surname": a.Surname, "given_names": a.GivenNames, "sex": a.Sex, "date_of_birth": a.DateOfBirth,
			"nationality": a.Nationality, "document_type": a.DocumentType,
		})
		if err != nil {
			t.Fatal(err)
		}
		b, err := decodeNewApplication(re)
		if err != nil || b != a {
			t.Fatalf("round trip %+v -> %+v, %v", a, b, err)
		}
	})
}

// FuzzDecodeStatus checks the decoder of PUT /v1/documents/{number}/status the same way.
func FuzzDecodeStatus(f *testing.F) {
	for _, s := range []string{
		`{"status":"LOST","since":"2026-01-02"}`,
		`{"status":"STOLEN","since":"2024-02-29"}`,
		`{"status":"REVOKED","since":"2023-02-29"}`,
		`{"status":"VALID","since":"2026-01-02"}`,
		`{"status":"LOST","status":"VALID","since":"2026-01-02"}`,
		`{"status":"LOST"}`, `{}`, `[]`, `{"since":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		status, since, err := decodeStatus(body)
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) || (he.status != http.StatusBadRequest && he.status != http.StatusUnprocessableEntity) || he.code == "" {
				t.Fatalf("refusal %#v", err)
			}
			return
		}
		if status != "LOST" && status != "STOLEN" && status != "REVOKED" {
			t.Fatalf("accepted status %q", status)
		}
		if since.Location() != time.UTC || since.Hour() != 0 || since.Minute() != 0 || since.Second() != 0 || since.Nanosecond() != 0 || since.Year() < 1 {
			t.Fatalf("accepted since %v", since)
		}
	})
}
