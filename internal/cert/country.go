package cert

import "strings"

// iso3166 is ISO 3166-1 (alpha-3, alpha-2) for the 249 officially assigned
// codes, which ICAO Doc 9303-3 §5 uses as nationality and issuing-state
// codes with the exceptions in icaoSpecial. A fixed string, parsed on each
// call: no package-level mutable state.
const iso3166 = `AFG AF ALA AX ALB AL DZA DZ ASM AS AND AD AGO AO AIA AI ATA AQ ATG AG ARG AR ARM AM ABW AW
AUS AU AUT AT AZE AZ BHS BS BHR BH BGD BD BRB BB BLR BY BEL BE BLZ BZ BEN BJ BMU BM BTN BT BOL BO BES BQ
BIH BA BWA BW BVT BV BRA BR IOT IO BRN BN BGR BG BFA BF BDI BI CPV CV KHM KH CMR CM CAN CA CYM KY CAF CF
TCD TD CHL CL CHN CN CXR CX CCK CC COL CO COM KM COG CG COD CD COK CK CRI CR CIV CI HRV HR CUB CU CUW CW
CYP CY CZE CZ DNK DK DJI DJ DMA DM DOM DO ECU EC EGY EG SLV SV GNQ GQ ERI ER EST EE SWZ SZ ETH ET FLK FK
FRO FO FJI FJ FIN FI FRA FR GUF GF PYF PF ATF TF GAB GA GMB GM GEO GE DEU DE GHA GH GIB GI GRC GR GRL GL
GRD GD GLP GP GUM GU GTM GT GGY GG GIN GN GNB GW GUY GY HTI HT HMD HM VAT VA HND HN HKG HK HUN HU ISL IS
IND IN IDN ID IRN IR IRQ IQ IRL IE IMN IM ISR IL ITA IT JAM JM JPN JP JEY JE JOR JO KAZ KZ KEN KE KIR KI
PRK KP KOR KR KWT KW KGZ KG LAO LA LVA LV LBN LB LSO LS LBR LR LBY LY LIE LI LTU LT LUX LU MAC MO MDG MG
MWI MW MYS MY MDV MV MLI ML MLT MT MHL MH MTQ MQ MRT MR MUS MU MYT YT MEX MX FSM FM MDA MD MCO MC MNG MN
MNE ME MSR MS MAR MA MOZ MZ MMR MM NAM NA NRU NR NPL NP NLD NL NCL NC NZL NZ NIC NI NER NE NGA NG NIU NU
NFK NF MKD MK MNP MP NOR NO OMN OM PAK PK PLW PW PSE PS PAN PA PNG PG PRY PY PER PE PHL PH PCN PN POL PL
PRT PT PRI PR QAT QA REU RE ROU RO RUS RU RWA RW BLM BL SHN SH KNA KN LCA LC MAF MF SPM PM VCT VC WSM WS
SMR SM STP ST SAU SA SEN SN SRB RS SYC SC SLE SL SGP SG SXM SX SVK SK SVN SI SLB SB SOM SO ZAF ZA SGS GS
SSD SS ESP ES LKA LK SDN SD SUR SR SJM SJ SWE SE CHE CH SYR SY TWN TW TJK TJ TZA TZ THA TH TLS TL TGO TG
TKL TK TON TO TTO TT TUN TN TUR TR TKM TM TCA TC TUV TV UGA UG UKR UA ARE AE GBR GB USA US UMI UM URY UY
UZB UZ VUT VU VEN VE VNM VN VGB VG VIR VI WLF WF ESH EH YEM YE ZMB ZM ZWE ZW`

// icaoSpecial are the ICAO Doc 9303-3 §5 codes that are not ISO 3166-1
// alpha-3, with the two-letter code their CSCAs write in C= (observed in
// the German master list where noted). Pairs marked oneWay map to a
// two-letter code that Alpha2ToAlpha3 gives back as another code.
func icaoSpecial() []struct {
	a3, a2 string
	oneWay bool
} {
	return []struct {
		a3, a2 string
		oneWay bool
	}{
		{"D", "DE", false},   // Germany (ISO DEU); C=DE
		{"UTO", "UT", false}, // Utopia, the ICAO specimen state (9303-3 App. B); borderid's demo state
		// borderid's demo partner states (issue 6): fictional, with
		// two-letter codes from ISO 3166-1's user-assigned range (XA-XZ), so
		// they can never be a real state's.
		{"ATL", "XA", false}, // Atlantis
		{"LEM", "XL", false}, // Lemuria
		{"EUE", "EU", false}, // European Union laissez-passer; C=EU in the master list
		{"UNO", "UN", false}, // United Nations organisation; C=UN in the master list
		{"UNA", "UN", true},  // UN specialised agency
		{"UNK", "UN", true},  // UN interim administration in Kosovo
		{"RKS", "KS", false}, // Kosovo (Resolution 1244): its CSCA writes C=KS in the master list
		{"GBD", "GB", true},  // British Overseas Territories citizen
		{"GBN", "GB", true},  // British National (Overseas)
		{"GBO", "GB", true},  // British Overseas citizen
		{"GBP", "GB", true},  // British protected person
		{"GBS", "GB", true},  // British subject
		{"DEU", "DE", true},  // ISO code of Germany: accepted, but ICAO writes D
	}
}

// alpha2Aliases are further two-letter codes read as a state: XK, the
// user-assigned code for Kosovo that many systems use.
func alpha2Aliases() map[string]string { return map[string]string{"XK": "RKS"} }

// Alpha3ToAlpha2 maps an ICAO Doc 9303-3 state code (three letters, or D
// for Germany; '<' fillers are trimmed; case-insensitive) to the
// two-letter code of X.509 C= (CONTRACTS.md "State codes").
func Alpha3ToAlpha2(code string) (string, bool) {
	code = strings.ToUpper(strings.TrimRight(code, "<"))
	for _, s := range icaoSpecial() {
		if s.a3 == code {
			return s.a2, true
		}
	}
	f := strings.Fields(iso3166)
	for i := 0; i+1 < len(f); i += 2 {
		if f[i] == code && code != "DEU" {
			return f[i+1], true
		}
	}
	return "", false
}

// Alpha2ToAlpha3 maps a two-letter X.509 C= value (case-insensitive; real
// CSCAs write "gb" and "si") to the ICAO Doc 9303-3 state code: D for DE,
// UTO for UT, the ISO alpha-3 code otherwise.
func Alpha2ToAlpha3(code string) (string, bool) {
	code = strings.ToUpper(code)
	if a3, ok := alpha2Aliases()[code]; ok {
		return a3, true
	}
	for _, s := range icaoSpecial() {
		if s.a2 == code && !s.oneWay {
			return s.a3, true
		}
	}
	f := strings.Fields(iso3166)
	for i := 0; i+1 < len(f); i += 2 {
		if f[i+1] == code {
			return f[i], true
		}
	}
	return "", false
}
