-- 0001: the trust store of issue 4 (CSCAs, link certificates, DSCs seen, CRLs)
-- with provenance. Run as borderid_owner, which owns everything; borderid_app
-- gets SELECT and INSERT only: a trust anchor is never changed in place.

-- Nothing in the public schema for anyone by default; the app role may only
-- look up names in it (PostgreSQL 15 already revokes CREATE from PUBLIC).
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO borderid_app;

REVOKE ALL ON TABLE schema_migrations FROM PUBLIC;

CREATE TABLE trust_certificates (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind        text NOT NULL CHECK (kind IN ('csca', 'link', 'dsc')),
	country     text NOT NULL CHECK (char_length(country) <= 3),
	subject     text NOT NULL,
	not_after   timestamptz NOT NULL,
	sha256      bytea NOT NULL UNIQUE CHECK (sha256 = sha256(der)),
	der         bytea NOT NULL CHECK (octet_length(der) > 0),
	source_file text NOT NULL,
	imported_by text NOT NULL,
	imported_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE trust_crls (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	country     text NOT NULL CHECK (char_length(country) <= 3),
	issuer      text NOT NULL,
	this_update timestamptz NOT NULL,
	next_update timestamptz,
	sha256      bytea NOT NULL UNIQUE CHECK (sha256 = sha256(der)),
	der         bytea NOT NULL CHECK (octet_length(der) > 0),
	source_file text NOT NULL,
	imported_by text NOT NULL,
	imported_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX trust_certificates_country_kind ON trust_certificates (country, kind);
CREATE INDEX trust_crls_country ON trust_crls (country);

-- The trust store is national, not office-scoped, but every table borderid
-- has is under FORCE ROW LEVEL SECURITY so no table is ever left open by
-- forgetting it. The app role (the server) reads everything but may add
-- only the DSCs it sees: trust anchors (CSCAs, links) and CRLs come in
-- through the owner's import, never through the network-facing role.
ALTER TABLE trust_certificates ENABLE ROW LEVEL SECURITY;
ALTER TABLE trust_certificates FORCE ROW LEVEL SECURITY;
CREATE POLICY trust_certificates_read ON trust_certificates FOR SELECT TO borderid_app USING (true);
CREATE POLICY trust_certificates_add_dsc ON trust_certificates FOR INSERT TO borderid_app WITH CHECK (kind = 'dsc');

ALTER TABLE trust_crls ENABLE ROW LEVEL SECURITY;
ALTER TABLE trust_crls FORCE ROW LEVEL SECURITY;
CREATE POLICY trust_crls_read ON trust_crls FOR SELECT TO borderid_app USING (true);

REVOKE ALL ON TABLE trust_certificates, trust_crls FROM PUBLIC;
GRANT SELECT, INSERT ON TABLE trust_certificates TO borderid_app;
GRANT SELECT ON TABLE trust_crls TO borderid_app;

-- schema_migrations: owner only, and under RLS with no policy for anyone else.
ALTER TABLE schema_migrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE schema_migrations FORCE ROW LEVEL SECURITY;
