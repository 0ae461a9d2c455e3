-- Key rotation gets a login role of its own (a security review found the
-- gap). The scope settings (borderid.role, ...) are whatever a connection
-- says they are, so row-level security on them guards against bugs in Go,
-- not against a compromised service connection; and the "rotator" scope
-- could read every office's biometric rows and rewrap (or wreck, with a
-- version that only goes up) every record. Now only borderid_rotator, whose
-- password only `borderid keys rotate` reads, has those policies; the app
-- role claiming the rotator scope sees and changes nothing.
GRANT USAGE ON SCHEMA public TO borderid_rotator;
DROP POLICY biometrics_read ON biometrics;
CREATE POLICY biometrics_read ON biometrics FOR SELECT TO borderid_app USING (
	(borderid_role() IN ('clerk', 'approver') AND office = borderid_office())
	OR (borderid_role() = 'issuer' AND EXISTS (SELECT 1 FROM applications a
		WHERE a.id = biometrics.application_id AND a.state IN ('approved', 'issued'))));
DROP POLICY biometrics_rewrap ON biometrics;
CREATE POLICY biometrics_rotator_read ON biometrics FOR SELECT TO borderid_rotator
	USING (borderid_role() = 'rotator');
CREATE POLICY biometrics_rewrap ON biometrics FOR UPDATE TO borderid_rotator
	USING (borderid_role() = 'rotator')
	WITH CHECK (borderid_role() = 'rotator' AND erased_at IS NULL);
GRANT SELECT ON TABLE biometrics TO borderid_rotator;
GRANT UPDATE (kek_version, wrapped_key) ON TABLE biometrics TO borderid_rotator;

-- The rotator audits its passes and checkpoints the chain like the app.
CREATE POLICY audit_log_rotator_append ON audit_log FOR INSERT TO borderid_rotator
	WITH CHECK (borderid_actor() IS NOT NULL AND actor = borderid_actor());
GRANT INSERT (actor, role, office, action, purpose, subject, outcome, detail) ON TABLE audit_log TO borderid_rotator;
CREATE POLICY audit_checkpoints_rotator_read ON audit_checkpoints FOR SELECT TO borderid_rotator
	USING (borderid_actor() IS NOT NULL);
CREATE POLICY audit_checkpoints_rotator_add ON audit_checkpoints FOR INSERT TO borderid_rotator
	WITH CHECK (borderid_actor() IS NOT NULL);
GRANT SELECT, INSERT ON TABLE audit_checkpoints TO borderid_rotator;
GRANT EXECUTE ON FUNCTION audit_head() TO borderid_rotator;
