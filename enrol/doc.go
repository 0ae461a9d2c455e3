// Package enrol is the enrolment and issuance service of issue 5: offices
// enrol citizens (demographics, face, fingers), an approver of the office
// approves, an approver or the national issuer issues the chip, and every
// step and every read of personal data is audited.
//
// The HTTP layer (enrol/api) authenticates the client certificate and
// calls a [Service]; [New] returns the implementation, [*Core]:
//
//	svc, err := enrol.New(enrol.Config{
//		Pool: appPool, Wrapper: token.KeyWrapper(), Indexer: token.Indexer(),
//		AuditSigner: auditKey, CheckpointDir: filepath.Join(home, "audit", "checkpoints"),
//		IssueChip: issueAndStore, // enrol/issue.Build + enrol/chipstore.Save
//	})
//	defer svc.Checkpoint(context.Background()) // on shutdown
//
// # Access control, twice
//
// Every method checks in Go the role it needs (403 forbidden_role) and,
// for office roles (clerk, approver), that the enrolment is of the
// caller's office: one outside it is 404, exactly like one that does not
// exist, so existence does not leak. Then it runs in a database
// transaction scoped with db.WithScope (actor, role, office set
// transaction-locally), where PostgreSQL's row-level security applies the
// same rules again (migration 0003): a bug in this package cannot show one
// office's data to another. Roles per method:
//
//	Create, PutFace, PutFinger, PutMinutiae, Finalize   clerk of the office
//	Approve                                             approver of the office, not the creator nor the finalizer
//	Issue                                               approver of the office, or issuer (national)
//	Get                                                 clerk or approver of the office, issuer (approved/issued only)
//	GetFace                                             approver of the office, with a purpose
//	SetDocumentStatus                                   approver of the document's office
//	AccessLog, VerifyAudit                              auditor
//
// The state machine is draft -> finalized -> approved -> issued; anything
// else is 409 wrong_state. No self-approval is 403 self_approval, also for
// a certificate holding both clerk and approver, and also enforced by a
// CHECK constraint. A document's status only goes up VALID < LOST < STOLEN
// < REVOKED (409 status_one_way; a database trigger too).
//
// # Biometrics never in clear at rest
//
// Uploads are validated by enrol/biometric (415 unsupported type, 413 too
// large, 422 otherwise) and stored with internal/envelope: one random data
// key per record, XChaCha20-Poly1305 with associated data binding the
// record id (a UUID made here before the insert) and "kind/position"
// ("face/0", "finger/3"), the data key wrapped by the HSM's KEK. A record
// replaced before finalization is erased by destroying its wrapped key.
// [Core.RewrapAll] moves every record to the newest KEK without touching
// ciphertexts; erased records, dead tuples, WAL and backups keep old
// wrapped keys, which become unreadable only once the old KEK version is
// destroyed in the HSM.
//
// # Audit
//
// Every successful call writes an audit row (actor, role, office, action,
// purpose, subject = the enrolment id, outcome) in its own transaction,
// last, so the row exists exactly when the change or read committed: the
// face and its purpose are audited in the transaction that reads them.
// Every 401, 403 and 404 is written as a denial ([Core.Deny] for those the
// HTTP layer decides). The chain, its checkpoints and what verification
// guarantees are documented in package db (audit.go): a checkpoint is
// signed and exported every Config.CheckpointEvery rows, on every
// VerifyAudit and on [Core.Checkpoint] (call it on shutdown).
//
// # What it does not do
//
// It never logs or audits a document number (only its blind index is
// stored; the number is returned once by Issue), an MRZ or biometric
// bytes. It does not build chips itself (Config.IssueChip does), does not
// authenticate callers (enrol/api does), and does not edit demographics
// after creation (there is no endpoint for it; the app role has no UPDATE
// on those columns). A document-number collision (1 in 34^9 per document)
// fails the Issue call, which the caller retries; the unused chip folder
// it leaves is harmless.
package enrol
