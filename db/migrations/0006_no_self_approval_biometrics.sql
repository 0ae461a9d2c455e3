-- No self-approval, extended to the biometric data (a security review found
-- the gap): an approver who uploaded any biometric record of an application
-- (a live one or one since replaced) may not approve it. Otherwise a person
-- holding clerk and approver roles could replace the face of a colleague's
-- draft, let the colleague finalize, and approve and issue it alone.
-- Runs as the caller: row-level security already lets an approver read the
-- biometric rows (not their contents) of the office's applications.
CREATE FUNCTION applications_no_self_approval_biometrics() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
	IF OLD.state = 'finalized' AND NEW.state = 'approved' AND EXISTS (
		SELECT 1 FROM public.biometrics b WHERE b.application_id = NEW.id AND b.created_by = NEW.approved_by) THEN
		RAISE EXCEPTION 'applications: the approver entered biometric data of this application' USING ERRCODE = 'BD006';
	END IF;
	RETURN NEW;
END;
$$;
REVOKE ALL ON FUNCTION applications_no_self_approval_biometrics() FROM PUBLIC;
CREATE TRIGGER applications_no_self_approval_biometrics BEFORE UPDATE ON applications
	FOR EACH ROW EXECUTE FUNCTION applications_no_self_approval_biometrics();
