package cert

import (
	"strings"
	"testing"
)

func TestCountryTable(t *testing.T) {
	f := strings.Fields(iso3166)
	if len(f) != 2*249 {
		t.Fatalf("%d ISO 3166-1 entries, want 249", len(f)/2)
	}
	seen2 := map[string]bool{}
	for i := 0; i < len(f); i += 2 {
		a3, a2 := f[i], f[i+1]
		if len(a3) != 3 || len(a2) != 2 || seen2[a2] {
			t.Errorf("bad or duplicate entry %s %s", a3, a2)
		}
		seen2[a2] = true
		if a3 == "DEU" {
			continue // Germany is D in ICAO 9303-3
		}
		// A bijection on ISO codes: there and back.
		if got, ok := Alpha3ToAlpha2(a3); !ok || got != a2 {
			t.Errorf("Alpha3ToAlpha2(%s) = %q, %v; want %s", a3, got, ok, a2)
		}
		if got, ok := Alpha2ToAlpha3(a2); !ok || got != a3 {
			t.Errorf("Alpha2ToAlpha3(%s) = %q, %v; want %s", a2, got, ok, a3)
		}
	}
	for _, s := range icaoSpecial() {
		if got, ok := Alpha3ToAlpha2(s.a3); !ok || got != s.a2 {
			t.Errorf("Alpha3ToAlpha2(%s) = %q, want %s", s.a3, got, s.a2)
		}
		back, ok := Alpha2ToAlpha3(s.a2)
		if !s.oneWay && (!ok || back != s.a3) {
			t.Errorf("Alpha2ToAlpha3(%s) = %q, want %s", s.a2, back, s.a3)
		}
		if s.oneWay && back == s.a3 {
			t.Errorf("one-way %s came back from %s", s.a3, s.a2)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"D", "DE"}, {"D<<", "DE"}, {"UTO", "UT"}, {"ATL", "XA"}, {"LEM", "XL"}, {"GBR", "GB"}, {"NLD", "NL"}, {"DEU", "DE"},
		{"EUE", "EU"}, {"UNO", "UN"}, {"UNK", "UN"}, {"utO", "UT"},
	} {
		if got, ok := Alpha3ToAlpha2(c.in); !ok || got != c.want {
			t.Errorf("Alpha3ToAlpha2(%q) = %q, %v; want %s", c.in, got, ok, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"DE", "D"}, {"UT", "UTO"}, {"XA", "ATL"}, {"XL", "LEM"}, {"GB", "GBR"}, {"gb", "GBR"}, {"EU", "EUE"}, {"UN", "UNO"},
		{"KS", "RKS"}, {"XK", "RKS"}, {"si", "SVN"},
	} {
		if got, ok := Alpha2ToAlpha3(c.in); !ok || got != c.want {
			t.Errorf("Alpha2ToAlpha3(%q) = %q, %v; want %s", c.in, got, ok, c.want)
		}
	}
	for _, bad := range []string{"", "X", "ZZZ", "<<<", "DEUX"} {
		if got, ok := Alpha3ToAlpha2(bad); ok {
			t.Errorf("Alpha3ToAlpha2(%q) = %q, want refusal", bad, got)
		}
	}
	for _, bad := range []string{"", "Z", "ZZ", "DEU"} {
		if got, ok := Alpha2ToAlpha3(bad); ok {
			t.Errorf("Alpha2ToAlpha3(%q) = %q, want refusal", bad, got)
		}
	}
}

// Every C= of the German master list maps to an ICAO code.
func TestCountryMasterList(t *testing.T) {
	for _, c := range parseMasterList(t) {
		for _, n := range []Name{c.Subject, c.Issuer} {
			if _, ok := Alpha2ToAlpha3(n.Country); !ok {
				t.Errorf("C=%q of %v has no ICAO code", n.Country, n)
			}
		}
	}
}
