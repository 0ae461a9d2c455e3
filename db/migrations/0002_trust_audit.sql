-- 0002: an append-only audit of the trust store (issue 4, item 3: "an audit
-- row per change"). Rows are written by triggers on trust_certificates and
-- trust_crls, so an audit row exists exactly when a row was inserted, in the
-- same transaction, whichever role inserted it (the app role may add DSCs
-- but may not write the audit itself). Nobody may change or remove a row:
-- the privileges are revoked and a trigger refuses UPDATE, DELETE and
-- TRUNCATE even for the owner (a superuser could still drop the trigger:
-- that is a schema change, visible in schema_migrations and the server log).

CREATE TABLE trust_audit (
	id      bigserial PRIMARY KEY,
	at      timestamptz NOT NULL DEFAULT now(),
	actor   text NOT NULL,                     -- imported_by: the OS user who ran the import
	db_role text NOT NULL DEFAULT session_user, -- the database role that inserted the row
	action  text NOT NULL CHECK (action IN ('import')),
	kind    text NOT NULL CHECK (kind IN ('csca', 'link', 'dsc', 'crl')),
	sha256  bytea NOT NULL CHECK (octet_length(sha256) = 32),
	source  text NOT NULL
);

CREATE INDEX trust_audit_sha256 ON trust_audit (sha256);

-- SECURITY DEFINER: the function runs as its owner, so the app role's DSC
-- inserts are audited although it has no INSERT on trust_audit. search_path
-- is pinned so the definer's rights cannot be redirected to another table.
CREATE FUNCTION trust_audit_certificate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	INSERT INTO trust_audit (actor, db_role, action, kind, sha256, source)
	VALUES (NEW.imported_by, session_user, 'import', NEW.kind, NEW.sha256, NEW.source_file);
	RETURN NULL;
END;
$$;

CREATE FUNCTION trust_audit_crl() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
	INSERT INTO trust_audit (actor, db_role, action, kind, sha256, source)
	VALUES (NEW.imported_by, session_user, 'import', 'crl', NEW.sha256, NEW.source_file);
	RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION trust_audit_certificate(), trust_audit_crl() FROM PUBLIC;

CREATE TRIGGER trust_certificates_audit AFTER INSERT ON trust_certificates
	FOR EACH ROW EXECUTE FUNCTION trust_audit_certificate();
CREATE TRIGGER trust_crls_audit AFTER INSERT ON trust_crls
	FOR EACH ROW EXECUTE FUNCTION trust_audit_crl();

CREATE FUNCTION trust_audit_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'trust_audit is append-only: % refused', TG_OP
		USING ERRCODE = 'P0001';
END;
$$;

CREATE TRIGGER trust_audit_no_update_delete BEFORE UPDATE OR DELETE ON trust_audit
	FOR EACH ROW EXECUTE FUNCTION trust_audit_refuse();
CREATE TRIGGER trust_audit_no_truncate BEFORE TRUNCATE ON trust_audit
	FOR EACH STATEMENT EXECUTE FUNCTION trust_audit_refuse();

-- Privileges: the app role reads; nobody but the owner holds anything else.
REVOKE ALL ON TABLE trust_audit FROM PUBLIC;
REVOKE ALL ON SEQUENCE trust_audit_id_seq FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON TABLE trust_audit FROM borderid_app;
GRANT SELECT ON TABLE trust_audit TO borderid_app;

-- FORCE RLS like every table: the app role reads every row; the owner (the
-- definer of the audit triggers) may insert.
ALTER TABLE trust_audit ENABLE ROW LEVEL SECURITY;
ALTER TABLE trust_audit FORCE ROW LEVEL SECURITY;
CREATE POLICY trust_audit_read ON trust_audit FOR SELECT TO borderid_app USING (true);
CREATE POLICY trust_audit_owner_read ON trust_audit FOR SELECT TO borderid_owner USING (true);
CREATE POLICY trust_audit_append ON trust_audit FOR INSERT TO borderid_owner WITH CHECK (true);
