-- 0003: enrolment (issue 5, item 2 and 4): applications, encrypted
-- biometrics and issued documents, under row-level security that reads the
-- caller's scope from three transaction-local settings written by
-- db.WithScope with set_config(name, value, true):
--
--   borderid.actor   the person or system (certificate CN)
--   borderid.role    the one role acted as: clerk | approver | issuer |
--                    border | auditor | rotator (key rotation, CLI only)
--   borderid.office  the office (certificate OU), '' for national roles
--
-- Without them nothing is visible and nothing can be written. Office roles
-- (clerk, approver) see their office's rows only; the issuer sees approved
-- and issued applications of every office. The app role has no DELETE
-- anywhere, UPDATE only on the columns a state change touches, and every
-- table is FORCE ROW LEVEL SECURITY.

CREATE FUNCTION borderid_actor() RETURNS text LANGUAGE sql STABLE
	SET search_path = pg_catalog
	AS $$ SELECT nullif(current_setting('borderid.actor', true), '') $$;
CREATE FUNCTION borderid_role() RETURNS text LANGUAGE sql STABLE
	SET search_path = pg_catalog
	AS $$ SELECT nullif(current_setting('borderid.role', true), '') $$;
CREATE FUNCTION borderid_office() RETURNS text LANGUAGE sql STABLE
	SET search_path = pg_catalog
	AS $$ SELECT nullif(current_setting('borderid.office', true), '') $$;

-- An application: demographics (data for DG1/DG11) and its state machine
-- draft -> finalized -> approved -> issued.
CREATE TABLE applications (
	id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	office        text NOT NULL CHECK (office <> ''),
	surname       text NOT NULL CHECK (char_length(surname) BETWEEN 1 AND 200),
	given_names   text NOT NULL CHECK (char_length(given_names) <= 200),
	sex           text NOT NULL CHECK (sex IN ('F', 'M', 'X')),
	date_of_birth date NOT NULL,
	nationality   text NOT NULL CHECK (nationality ~ '^[A-Z]{1,3}$'),
	document_type text NOT NULL CHECK (document_type ~ '^[A-Z]{1,2}$'),
	state         text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'finalized', 'approved', 'issued')),
	created_by    text NOT NULL CHECK (created_by <> ''),
	created_at    timestamptz NOT NULL DEFAULT now(),
	finalized_by  text,
	finalized_at  timestamptz,
	approved_by   text,
	approved_at   timestamptz,
	issued_by     text,
	issued_at     timestamptz,
	-- No self-approval (issue 5, item 2), whoever writes the row.
	CONSTRAINT applications_no_self_approval CHECK (approved_by <> created_by AND approved_by <> finalized_by),
	CONSTRAINT applications_state_actors CHECK (
		(state = 'draft' AND finalized_by IS NULL AND approved_by IS NULL AND issued_by IS NULL) OR
		(state = 'finalized' AND finalized_by IS NOT NULL AND approved_by IS NULL AND issued_by IS NULL) OR
		(state = 'approved' AND finalized_by IS NOT NULL AND approved_by IS NOT NULL AND issued_by IS NULL) OR
		(state = 'issued' AND finalized_by IS NOT NULL AND approved_by IS NOT NULL AND issued_by IS NOT NULL))
);
CREATE INDEX applications_office ON applications (office, created_at);

-- One-way state machine, checked for every role (the owner too): each
-- transition only by its role, recorded under the acting person's name;
-- demographics, office and creator never change once out of draft (and the
-- app role has no UPDATE privilege on them at all).
CREATE FUNCTION applications_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
	r text := borderid_role();
	a text := borderid_actor();
BEGIN
	IF NEW.id <> OLD.id OR NEW.office <> OLD.office OR NEW.created_by <> OLD.created_by OR NEW.created_at <> OLD.created_at THEN
		RAISE EXCEPTION 'applications: id, office and creator never change' USING ERRCODE = 'BD002';
	END IF;
	IF OLD.state <> 'draft' AND (NEW.surname, NEW.given_names, NEW.sex, NEW.date_of_birth, NEW.nationality, NEW.document_type)
		IS DISTINCT FROM (OLD.surname, OLD.given_names, OLD.sex, OLD.date_of_birth, OLD.nationality, OLD.document_type) THEN
		RAISE EXCEPTION 'applications: demographics change only while draft' USING ERRCODE = 'BD002';
	END IF;
	IF NEW.state = OLD.state THEN
		IF (NEW.finalized_by, NEW.finalized_at, NEW.approved_by, NEW.approved_at, NEW.issued_by, NEW.issued_at)
			IS DISTINCT FROM (OLD.finalized_by, OLD.finalized_at, OLD.approved_by, OLD.approved_at, OLD.issued_by, OLD.issued_at) THEN
			RAISE EXCEPTION 'applications: actors change only with their state' USING ERRCODE = 'BD001';
		END IF;
		RETURN NEW;
	END IF;
	IF OLD.state = 'draft' AND NEW.state = 'finalized' AND r = 'clerk' AND NEW.finalized_by = a AND NEW.finalized_at IS NOT NULL THEN
		RETURN NEW;
	ELSIF OLD.state = 'finalized' AND NEW.state = 'approved' AND r = 'approver' AND NEW.approved_by = a AND NEW.approved_at IS NOT NULL
		AND NEW.finalized_by IS NOT DISTINCT FROM OLD.finalized_by THEN
		RETURN NEW;
	ELSIF OLD.state = 'approved' AND NEW.state = 'issued' AND r IN ('approver', 'issuer') AND NEW.issued_by = a AND NEW.issued_at IS NOT NULL
		AND NEW.approved_by IS NOT DISTINCT FROM OLD.approved_by AND NEW.finalized_by IS NOT DISTINCT FROM OLD.finalized_by THEN
		RETURN NEW;
	END IF;
	RAISE EXCEPTION 'applications: % -> % refused for role %', OLD.state, NEW.state, coalesce(r, '(none)') USING ERRCODE = 'BD001';
END;
$$;
CREATE TRIGGER applications_guard BEFORE UPDATE ON applications
	FOR EACH ROW EXECUTE FUNCTION applications_guard();

-- Biometric records, envelope-encrypted (internal/envelope): the ciphertext
-- under a data key of its own, the data key wrapped by the HSM's KEK of
-- kek_version, associated data binding (id, kind/position). Erasure
-- destroys the wrapped key (wrapped_key NULL, erased_at set); a replaced
-- upload is erased that way and a new row inserted.
CREATE TABLE biometrics (
	id             uuid PRIMARY KEY,
	application_id uuid NOT NULL REFERENCES applications (id),
	office         text NOT NULL,
	kind           text NOT NULL CHECK (kind IN ('face', 'finger', 'minutiae')),
	position       smallint NOT NULL CHECK (position BETWEEN 0 AND 10),
	format         text NOT NULL CHECK (format <> ''),
	bytes          integer NOT NULL CHECK (bytes > 0),
	kek_version    integer NOT NULL CHECK (kek_version > 0),
	wrapped_key    bytea,
	nonce          bytea NOT NULL,
	ciphertext     bytea NOT NULL,
	created_by     text NOT NULL,
	created_at     timestamptz NOT NULL DEFAULT now(),
	erased_at      timestamptz,
	CHECK ((kind = 'face') = (position = 0)),
	CHECK ((erased_at IS NULL) = (wrapped_key IS NOT NULL))
);
-- One live record per (application, kind, position).
CREATE UNIQUE INDEX biometrics_live ON biometrics (application_id, kind, position) WHERE erased_at IS NULL;

-- Only the key columns change: a rewrap moves to a newer KEK version, an
-- erasure destroys the wrapped key; an erased record stays erased.
CREATE FUNCTION biometrics_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
	IF OLD.erased_at IS NOT NULL THEN
		RAISE EXCEPTION 'biometrics: record % is erased', OLD.id USING ERRCODE = 'BD001';
	END IF;
	IF (NEW.id, NEW.application_id, NEW.office, NEW.kind, NEW.position, NEW.format, NEW.bytes, NEW.nonce, NEW.ciphertext, NEW.created_by, NEW.created_at)
		IS DISTINCT FROM (OLD.id, OLD.application_id, OLD.office, OLD.kind, OLD.position, OLD.format, OLD.bytes, OLD.nonce, OLD.ciphertext, OLD.created_by, OLD.created_at) THEN
		RAISE EXCEPTION 'biometrics: only the wrapped key changes' USING ERRCODE = 'BD002';
	END IF;
	IF NEW.erased_at IS NULL AND NEW.kek_version < OLD.kek_version THEN
		RAISE EXCEPTION 'biometrics: KEK version goes up only' USING ERRCODE = 'BD001';
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER biometrics_guard BEFORE UPDATE ON biometrics
	FOR EACH ROW EXECUTE FUNCTION biometrics_guard();

-- Issued documents. The number itself is not stored: number_index is its
-- blind index (HMAC in the HSM over the normalised number), found again by
-- recomputing it.
CREATE TABLE documents (
	number_index   bytea PRIMARY KEY CHECK (octet_length(number_index) = 32),
	application_id uuid NOT NULL UNIQUE REFERENCES applications (id),
	office         text NOT NULL,
	chip_id        text NOT NULL CHECK (chip_id <> ''),
	date_of_birth  date NOT NULL,
	date_of_expiry date NOT NULL,
	document_type  text NOT NULL,
	status         text NOT NULL DEFAULT 'VALID' CHECK (status IN ('VALID', 'LOST', 'STOLEN', 'REVOKED')),
	status_since   timestamptz NOT NULL DEFAULT now(),
	issued_at      timestamptz NOT NULL DEFAULT now(),
	issued_by      text NOT NULL
);

-- Status is one-way, by rank VALID(0) < LOST(1) < STOLEN(2) < REVOKED(3):
-- a change must go strictly up. So a valid document may become lost, stolen
-- or revoked; a lost one stolen (found to be stolen) or revoked; a stolen
-- one revoked; nothing ever returns to VALID and REVOKED is final. Checked
-- for every role, the owner included.
CREATE FUNCTION document_status_rank(s text) RETURNS integer LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog
	AS $$ SELECT CASE s WHEN 'VALID' THEN 0 WHEN 'LOST' THEN 1 WHEN 'STOLEN' THEN 2 WHEN 'REVOKED' THEN 3 END $$;

CREATE FUNCTION documents_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
	IF (NEW.number_index, NEW.application_id, NEW.office, NEW.chip_id, NEW.date_of_birth, NEW.date_of_expiry, NEW.document_type, NEW.issued_at, NEW.issued_by)
		IS DISTINCT FROM (OLD.number_index, OLD.application_id, OLD.office, OLD.chip_id, OLD.date_of_birth, OLD.date_of_expiry, OLD.document_type, OLD.issued_at, OLD.issued_by) THEN
		RAISE EXCEPTION 'documents: only the status changes' USING ERRCODE = 'BD002';
	END IF;
	IF document_status_rank(NEW.status) <= document_status_rank(OLD.status) THEN
		RAISE EXCEPTION 'documents: status % -> % refused (one-way)', OLD.status, NEW.status USING ERRCODE = 'BD003';
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER documents_guard BEFORE UPDATE ON documents
	FOR EACH ROW EXECUTE FUNCTION documents_guard();

-- Row-level security.
ALTER TABLE applications ENABLE ROW LEVEL SECURITY;
ALTER TABLE applications FORCE ROW LEVEL SECURITY;
ALTER TABLE biometrics ENABLE ROW LEVEL SECURITY;
ALTER TABLE biometrics FORCE ROW LEVEL SECURITY;
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;

CREATE POLICY applications_read ON applications FOR SELECT TO borderid_app USING (
	(borderid_role() IN ('clerk', 'approver') AND office = borderid_office())
	OR (borderid_role() = 'issuer' AND state IN ('approved', 'issued')));
CREATE POLICY applications_create ON applications FOR INSERT TO borderid_app WITH CHECK (
	borderid_role() = 'clerk' AND office = borderid_office() AND created_by = borderid_actor() AND state = 'draft');
CREATE POLICY applications_advance ON applications FOR UPDATE TO borderid_app USING (
	(borderid_role() IN ('clerk', 'approver') AND office = borderid_office())
	OR (borderid_role() = 'issuer' AND state = 'approved'))
	WITH CHECK (
	(borderid_role() IN ('clerk', 'approver') AND office = borderid_office())
	OR (borderid_role() = 'issuer' AND state = 'issued'));

CREATE POLICY biometrics_read ON biometrics FOR SELECT TO borderid_app USING (
	(borderid_role() IN ('clerk', 'approver') AND office = borderid_office())
	OR (borderid_role() = 'issuer' AND EXISTS (SELECT 1 FROM applications a
		WHERE a.id = biometrics.application_id AND a.state IN ('approved', 'issued')))
	OR borderid_role() = 'rotator');
CREATE POLICY biometrics_add ON biometrics FOR INSERT TO borderid_app WITH CHECK (
	borderid_role() = 'clerk' AND office = borderid_office() AND created_by = borderid_actor()
	AND erased_at IS NULL
	AND EXISTS (SELECT 1 FROM applications a WHERE a.id = biometrics.application_id AND a.office = biometrics.office AND a.state = 'draft'));
-- A clerk erases (replaces) a record of a draft of the office; the rotator
-- rewraps any record.
CREATE POLICY biometrics_erase ON biometrics FOR UPDATE TO borderid_app USING (
	borderid_role() = 'clerk' AND office = borderid_office()
	AND EXISTS (SELECT 1 FROM applications a WHERE a.id = biometrics.application_id AND a.state = 'draft'))
	WITH CHECK (borderid_role() = 'clerk' AND erased_at IS NOT NULL);
-- (Permissive policies of one command are OR-ed, USING with USING and WITH
-- CHECK with WITH CHECK: each WITH CHECK names its role again.)
CREATE POLICY biometrics_rewrap ON biometrics FOR UPDATE TO borderid_app USING (borderid_role() = 'rotator')
	WITH CHECK (borderid_role() = 'rotator' AND erased_at IS NULL);

CREATE POLICY documents_read ON documents FOR SELECT TO borderid_app USING (
	(borderid_role() IN ('clerk', 'approver') AND office = borderid_office())
	OR borderid_role() = 'issuer');
CREATE POLICY documents_issue ON documents FOR INSERT TO borderid_app WITH CHECK (
	((borderid_role() = 'approver' AND office = borderid_office()) OR borderid_role() = 'issuer')
	AND issued_by = borderid_actor() AND status = 'VALID'
	AND EXISTS (SELECT 1 FROM applications a WHERE a.id = documents.application_id AND a.office = documents.office AND a.state = 'approved'));
CREATE POLICY documents_status ON documents FOR UPDATE TO borderid_app USING (
	borderid_role() = 'approver' AND office = borderid_office())
	WITH CHECK (borderid_role() = 'approver' AND office = borderid_office());

-- Privileges, table by table and column by column. No DELETE, no TRUNCATE.
REVOKE ALL ON TABLE applications, biometrics, documents FROM PUBLIC;
GRANT SELECT, INSERT ON TABLE applications TO borderid_app;
GRANT UPDATE (state, finalized_by, finalized_at, approved_by, approved_at, issued_by, issued_at) ON TABLE applications TO borderid_app;
GRANT SELECT, INSERT ON TABLE biometrics TO borderid_app;
GRANT UPDATE (kek_version, wrapped_key, erased_at) ON TABLE biometrics TO borderid_app;
GRANT SELECT, INSERT ON TABLE documents TO borderid_app;
GRANT UPDATE (status, status_since) ON TABLE documents TO borderid_app;
REVOKE ALL ON FUNCTION applications_guard(), biometrics_guard(), documents_guard() FROM PUBLIC;
