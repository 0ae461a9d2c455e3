-- 0005: the cross-border status service (issue 6): the partner registry,
-- the day each document status took effect (so that an answer follows the
-- precedence STOLEN > LOST > REVOKED whatever order they were set in), and
-- the "status" scope of the status responder.

-- The partner registry: the states whose systems may ask this state about
-- its documents, and whose answers this state trusts. Trust is registered
-- out of band (`borderid partner add`, run as the owner like `trust
-- import`): client_ca is the CA (one or more DER certificates, concatenated)
-- that issues the partner's client certificates; status_signer_root the
-- self-signed root its status answers chain to; server_ca the CA of its
-- HTTPS server (for asking it); csca its CSCA (for `trust sync`). The app
-- role (the server) only reads.
CREATE TABLE partners (
	state              text PRIMARY KEY CHECK (state ~ '^([A-Z]{3}|D)$'),
	client_ca          bytea NOT NULL CHECK (octet_length(client_ca) > 0),
	status_signer_root bytea NOT NULL CHECK (octet_length(status_signer_root) > 0),
	server_ca          bytea CHECK (octet_length(server_ca) > 0),
	csca               bytea CHECK (octet_length(csca) > 0),
	url                text NOT NULL CHECK (url ~ '^https://[^[:space:][:cntrl:]]+$' AND char_length(url) <= 2048),
	rate_per_sec       double precision NOT NULL CHECK (rate_per_sec > 0 AND rate_per_sec <= 1000000),
	quota_per_day      integer NOT NULL CHECK (quota_per_day > 0),
	added_at           timestamptz NOT NULL DEFAULT now(),
	added_by           text NOT NULL CHECK (added_by <> '')
);

-- An append-only audit of the registry, written by a trigger in the
-- inserting or deleting transaction whoever does it (as trust_audit is for
-- the trust store). A removal records borderid.actor when the remover set it,
-- else the database role.
CREATE TABLE partner_audit (
	id        bigserial PRIMARY KEY,
	at        timestamptz NOT NULL DEFAULT now(),
	actor     text NOT NULL,
	db_role   text NOT NULL DEFAULT session_user,
	action    text NOT NULL CHECK (action IN ('add', 'remove')),
	state     text NOT NULL,
	client_ca_sha256          bytea NOT NULL CHECK (octet_length(client_ca_sha256) = 32),
	status_signer_root_sha256 bytea NOT NULL CHECK (octet_length(status_signer_root_sha256) = 32),
	url       text NOT NULL,
	rate_per_sec  double precision NOT NULL,
	quota_per_day integer NOT NULL
);

CREATE FUNCTION partners_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO public.partner_audit (actor, db_role, action, state, client_ca_sha256, status_signer_root_sha256, url, rate_per_sec, quota_per_day)
		VALUES (NEW.added_by, session_user, 'add', NEW.state, sha256(NEW.client_ca), sha256(NEW.status_signer_root), NEW.url, NEW.rate_per_sec, NEW.quota_per_day);
	ELSE
		INSERT INTO public.partner_audit (actor, db_role, action, state, client_ca_sha256, status_signer_root_sha256, url, rate_per_sec, quota_per_day)
		VALUES (coalesce(public.borderid_actor(), session_user), session_user, 'remove', OLD.state, sha256(OLD.client_ca),
			sha256(OLD.status_signer_root), OLD.url, OLD.rate_per_sec, OLD.quota_per_day);
	END IF;
	RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION partners_audit() FROM PUBLIC;
CREATE TRIGGER partners_audit AFTER INSERT OR DELETE ON partners
	FOR EACH ROW EXECUTE FUNCTION partners_audit();

-- A registered partner is never changed in place: remove and add again
-- (both audited).
CREATE FUNCTION partners_no_update() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	RAISE EXCEPTION 'partners: a registration is not changed in place (remove and add)' USING ERRCODE = 'BD002';
END;
$$;
CREATE TRIGGER partners_no_update BEFORE UPDATE ON partners
	FOR EACH ROW EXECUTE FUNCTION partners_no_update();
CREATE TRIGGER partner_audit_no_update_delete BEFORE UPDATE OR DELETE ON partner_audit
	FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER partner_audit_no_truncate BEFORE TRUNCATE ON partner_audit
	FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();

ALTER TABLE partners ENABLE ROW LEVEL SECURITY;
ALTER TABLE partners FORCE ROW LEVEL SECURITY;
ALTER TABLE partner_audit ENABLE ROW LEVEL SECURITY;
ALTER TABLE partner_audit FORCE ROW LEVEL SECURITY;
-- The app role reads the registry in any scope (the TLS layer reads it
-- before anyone is authenticated); only the owner adds and removes.
CREATE POLICY partners_read ON partners FOR SELECT TO borderid_app USING (true);
CREATE POLICY partners_owner_read ON partners FOR SELECT TO borderid_owner USING (true);
CREATE POLICY partners_owner_add ON partners FOR INSERT TO borderid_owner WITH CHECK (true);
CREATE POLICY partners_owner_remove ON partners FOR DELETE TO borderid_owner USING (true);
CREATE POLICY partner_audit_read ON partner_audit FOR SELECT TO borderid_app USING (true);
CREATE POLICY partner_audit_owner_read ON partner_audit FOR SELECT TO borderid_owner USING (true);
CREATE POLICY partner_audit_owner_append ON partner_audit FOR INSERT TO borderid_owner WITH CHECK (true);

REVOKE ALL ON TABLE partners, partner_audit FROM PUBLIC;
REVOKE ALL ON SEQUENCE partner_audit_id_seq FROM PUBLIC;
GRANT SELECT ON TABLE partners, partner_audit TO borderid_app;

-- The day each bad status took effect. documents.status holds the highest
-- by the one-way rank VALID < LOST < STOLEN < REVOKED, but an answer to a
-- border follows STOLEN > LOST > REVOKED: a document lost, then stolen,
-- then revoked is still answered STOLEN. A trigger sets each column once,
-- from status_since, when status reaches that value; nobody sets or changes
-- them otherwise (the app role holds no UPDATE on them, the trigger refuses
-- a change for every role).
ALTER TABLE documents ADD COLUMN lost_since timestamptz, ADD COLUMN stolen_since timestamptz, ADD COLUMN revoked_since timestamptz;

-- Documents already marked before this migration: the current status is
-- all that is known. documents_guard refuses an update that leaves status
-- alone, so it is off for the backfill (inside this migration's
-- transaction: nothing else sees it off).
-- The owner has no policy on documents, so row-level security is lifted
-- too, for the same transaction only.
ALTER TABLE documents DISABLE TRIGGER documents_guard;
ALTER TABLE documents NO FORCE ROW LEVEL SECURITY;
UPDATE documents SET lost_since = status_since WHERE status = 'LOST';
UPDATE documents SET stolen_since = status_since WHERE status = 'STOLEN';
UPDATE documents SET revoked_since = status_since WHERE status = 'REVOKED';
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
ALTER TABLE documents ENABLE TRIGGER documents_guard;

-- Runs after documents_guard (triggers fire in name order), which has
-- already refused any update that does not raise the status.
CREATE FUNCTION documents_since() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
	IF (NEW.lost_since, NEW.stolen_since, NEW.revoked_since) IS DISTINCT FROM (OLD.lost_since, OLD.stolen_since, OLD.revoked_since) THEN
		RAISE EXCEPTION 'documents: the status days are set by the status change only' USING ERRCODE = 'BD002';
	END IF;
	IF NEW.status IS DISTINCT FROM OLD.status THEN
		CASE NEW.status
		WHEN 'LOST' THEN NEW.lost_since := NEW.status_since;
		WHEN 'STOLEN' THEN NEW.stolen_since := NEW.status_since;
		WHEN 'REVOKED' THEN NEW.revoked_since := NEW.status_since;
		ELSE NULL;
		END CASE;
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER documents_since BEFORE UPDATE ON documents
	FOR EACH ROW EXECUTE FUNCTION documents_since();
REVOKE ALL ON FUNCTION documents_since(), partners_no_update() FROM PUBLIC;

-- The status responder's scope (borderid.role = 'status'): it reads every
-- office's documents (the columns of an answer), nothing else; it appends
-- its audit rows like every scope.
CREATE POLICY documents_status_read ON documents FOR SELECT TO borderid_app USING (borderid_role() = 'status');
