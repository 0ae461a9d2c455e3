-- 0004: the enrolment audit (issue 5, item 5): an append-only, hash-chained
-- log of who did or read what, why, and whether it was allowed (EU EES art.
-- 46 fields), and signed checkpoints of the chain. db/audit.go documents
-- the canonical encoding the chain hashes, so Go recomputes it exactly.

CREATE TABLE audit_log (
	seq       bigint PRIMARY KEY CHECK (seq > 0),
	at        timestamptz NOT NULL,
	actor     text NOT NULL CHECK (actor <> ''),
	role      text NOT NULL DEFAULT '',
	office    text NOT NULL DEFAULT '',
	action    text NOT NULL CHECK (action <> ''),
	purpose   text NOT NULL DEFAULT '',
	subject   text NOT NULL DEFAULT '',
	outcome   text NOT NULL CHECK (outcome IN ('ok', 'denied')),
	detail    text NOT NULL DEFAULT '',
	prev_hash bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
	hash      bytea NOT NULL CHECK (octet_length(hash) = 32)
);
CREATE INDEX audit_log_subject ON audit_log (subject, seq);

-- The canonical encoding of a row (see db/audit.go): the tag
-- "borderid/audit/v1", seq and at (Unix microseconds) as 8-byte big-endian
-- integers, then actor, role, office, action, purpose, subject, outcome,
-- detail, each as a 4-byte big-endian length and its UTF-8 bytes.
CREATE FUNCTION audit_canonical(seq bigint, at timestamptz, actor text, role text, office text,
	action text, purpose text, subject text, outcome text, detail text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
	SELECT convert_to('borderid/audit/v1', 'UTF8')
		|| int8send(seq)
		|| int8send((extract(epoch FROM at) * 1000000)::bigint)
		|| int4send(octet_length(convert_to(actor, 'UTF8'))) || convert_to(actor, 'UTF8')
		|| int4send(octet_length(convert_to(role, 'UTF8'))) || convert_to(role, 'UTF8')
		|| int4send(octet_length(convert_to(office, 'UTF8'))) || convert_to(office, 'UTF8')
		|| int4send(octet_length(convert_to(action, 'UTF8'))) || convert_to(action, 'UTF8')
		|| int4send(octet_length(convert_to(purpose, 'UTF8'))) || convert_to(purpose, 'UTF8')
		|| int4send(octet_length(convert_to(subject, 'UTF8'))) || convert_to(subject, 'UTF8')
		|| int4send(octet_length(convert_to(outcome, 'UTF8'))) || convert_to(outcome, 'UTF8')
		|| int4send(octet_length(convert_to(detail, 'UTF8'))) || convert_to(detail, 'UTF8')
$$;

-- The one serialised writer: every insert, whoever makes it, takes the
-- transaction-level advisory lock 0x62646175 ("bdau"), so the chain has one
-- order; the lock is held until the inserting transaction ends, and the
-- next writer (READ COMMITTED: a fresh snapshot per statement) then sees
-- the committed row. seq, at, prev_hash and hash are the database's, never
-- the caller's. SECURITY DEFINER (owned by borderid_owner) so it can read
-- the previous row whatever the caller may read; search_path pinned.
CREATE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
	prev_seq bigint;
	prev bytea;
BEGIN
	PERFORM pg_advisory_xact_lock(1650745717);
	SELECT l.seq, l.hash INTO prev_seq, prev FROM public.audit_log l ORDER BY l.seq DESC LIMIT 1;
	IF NOT FOUND THEN
		prev_seq := 0;
		prev := decode(repeat('00', 32), 'hex');
	END IF;
	NEW.seq := prev_seq + 1;
	NEW.at := clock_timestamp();
	NEW.prev_hash := prev;
	NEW.hash := sha256(prev || public.audit_canonical(NEW.seq, NEW.at, NEW.actor, NEW.role, NEW.office,
		NEW.action, NEW.purpose, NEW.subject, NEW.outcome, NEW.detail));
	RETURN NEW;
END;
$$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

CREATE FUNCTION audit_refuse() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'BD004';
END;
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();

-- The newest row of the chain, for the checkpoint writer, whatever the
-- caller's scope (it reveals a sequence number and a hash, no content).
CREATE FUNCTION audit_head(OUT seq bigint, OUT hash bytea)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
	SELECT l.seq, l.hash FROM public.audit_log l ORDER BY l.seq DESC LIMIT 1
$$;

-- Signed checkpoints: signature over SHA-256(seq as 8 bytes big-endian ||
-- hash) by the HSM's audit-signer key; signer is the hex SHA-256 of its
-- SubjectPublicKeyInfo. A checkpoint must name a row that is in the chain
-- with that hash.
CREATE TABLE audit_checkpoints (
	seq       bigint PRIMARY KEY CHECK (seq > 0),
	hash      bytea NOT NULL CHECK (octet_length(hash) = 32),
	at        timestamptz NOT NULL DEFAULT now(),
	signature bytea NOT NULL CHECK (octet_length(signature) > 0),
	signer    text NOT NULL CHECK (signer <> '')
);

CREATE FUNCTION audit_checkpoint_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM public.audit_log l WHERE l.seq = NEW.seq AND l.hash = NEW.hash) THEN
		RAISE EXCEPTION 'audit checkpoint % does not match the chain', NEW.seq USING ERRCODE = 'BD005';
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER audit_checkpoints_check BEFORE INSERT ON audit_checkpoints
	FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_check();
CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints
	FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
	FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();

-- Row-level security: anyone in a scope appends rows in their own name;
-- only the auditor reads the log. Checkpoints hold no personal data: any
-- scope with an actor reads and adds them. The owner (the definer of the trigger
-- functions) reads and appends.
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_checkpoints FORCE ROW LEVEL SECURITY;

CREATE POLICY audit_log_append ON audit_log FOR INSERT TO borderid_app
	WITH CHECK (borderid_actor() IS NOT NULL AND actor = borderid_actor());
CREATE POLICY audit_log_auditor ON audit_log FOR SELECT TO borderid_app
	USING (borderid_role() = 'auditor');
CREATE POLICY audit_log_owner_read ON audit_log FOR SELECT TO borderid_owner USING (true);
CREATE POLICY audit_log_owner_append ON audit_log FOR INSERT TO borderid_owner WITH CHECK (true);

CREATE POLICY audit_checkpoints_read ON audit_checkpoints FOR SELECT TO borderid_app
	USING (borderid_actor() IS NOT NULL);
CREATE POLICY audit_checkpoints_add ON audit_checkpoints FOR INSERT TO borderid_app
	WITH CHECK (borderid_actor() IS NOT NULL);
CREATE POLICY audit_checkpoints_owner_read ON audit_checkpoints FOR SELECT TO borderid_owner USING (true);
CREATE POLICY audit_checkpoints_owner_add ON audit_checkpoints FOR INSERT TO borderid_owner WITH CHECK (true);

-- Privileges: append and (under RLS) read; never UPDATE, DELETE, TRUNCATE.
-- The app role cannot name seq, at, prev_hash or hash at all.
REVOKE ALL ON TABLE audit_log, audit_checkpoints FROM PUBLIC;
GRANT SELECT ON TABLE audit_log TO borderid_app;
GRANT INSERT (actor, role, office, action, purpose, subject, outcome, detail) ON TABLE audit_log TO borderid_app;
GRANT SELECT, INSERT ON TABLE audit_checkpoints TO borderid_app;
REVOKE ALL ON FUNCTION audit_log_chain(), audit_refuse(), audit_checkpoint_check() FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_head() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_head() TO borderid_app;
