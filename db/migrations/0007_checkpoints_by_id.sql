-- Checkpoints keyed by an id, not by seq (a security review found the
-- gap): any scope may add a checkpoint row, and the database cannot check
-- an ECDSA signature, so a junk row at the chain's head used to block the
-- signed one (one row per seq) for good. Now several rows may name a seq;
-- the writer looks for a valid signature of its own key among them, and
-- audit verify still reports every row whose signature does not verify.
ALTER TABLE audit_checkpoints DROP CONSTRAINT audit_checkpoints_pkey;
ALTER TABLE audit_checkpoints ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
CREATE INDEX audit_checkpoints_seq ON audit_checkpoints (seq);
CREATE UNIQUE INDEX audit_checkpoints_seq_signature ON audit_checkpoints (seq, signature);
