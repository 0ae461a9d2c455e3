package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"borderid/crossborder"
	"borderid/db"
	"borderid/enrol"
	"borderid/enrol/api"
	"borderid/enrol/chipstore"
	"borderid/enrol/issue"
	"borderid/internal/cert"
	"borderid/internal/cms"
	"borderid/internal/hsm"

	"github.com/jackc/pgx/v5/pgxpool"
)

const serveUsage = `serve [--listen 127.0.0.1:8443] [--home DIR]

Runs the enrolment service (HTTPS with mutual TLS) of the state that
borderid init made in <home>: server certificate pki/server.crt, client
certificates checked against pki/clients/ca.crt, keys in <home>/hsm, data in
the private PostgreSQL cluster (started or attached). On the same listener:
the cross-border status service (POST /v1/crossborder/status, for the
border role and registered partner states, answers signed with the HSM key
status-signer) and the trust lists (GET /v1/trust/masterlist, /crl,
/status-signer). OpenAPI at /v1/openapi.json; /healthz needs no
certificate. Stops on interrupt.`

// cmdServe is `borderid serve` (issue 5, item 2).
func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", serveUsage)
	homeF := homeFlag(fs)
	listen := fs.String("listen", "127.0.0.1:8443", "`ADDR` to listen on (host:port)")
	home, err := parseHome(e, fs, homeF, args)
	if err != nil {
		return err
	}
	st, err := openState(ctx, home)
	if err != nil {
		return err
	}
	defer st.Close()

	svc, err := st.service(e)
	if err != nil {
		return err
	}
	read := func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(home, p)) }
	srvCert, err := read("pki/server.crt")
	if err != nil {
		return fmt.Errorf("no server certificate (run borderid init): %w", err)
	}
	srvKey, err := read("secrets/server.key")
	if err != nil {
		return err
	}
	caPEM, err := read("pki/clients/ca.crt")
	if err != nil {
		return err
	}
	tlsCfg, err := api.TLSConfig(srvCert, srvKey, caPEM)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return errors.New("pki/clients/ca.crt holds no certificate")
	}
	// Issue 6: the partner registry (TLS client CAs and authentication of
	// partner states, read again every few seconds), the status responder and
	// the trust lists on the same listener.
	partners := api.NewPartnerRegistryDB(st.app, 0, e.log)
	cross, err := st.crossBorder(e, partners, svc.Checkpoint)
	if err != nil {
		return err
	}
	tlsCfg = partners.TLSConfig(tlsCfg)
	srv, err := api.New(api.Config{Service: svc, ClientCAs: pool, Logger: e.log, Partners: partners, CrossBorder: cross})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "borderid serve: state %s, https://%s (mutual TLS), database %s\n", st.state, *listen, st.cluster.Addr())
	serr := srv.ListenAndServeTLS(ctx, *listen, tlsCfg)
	// A last signed checkpoint closes the window in which a deleted tail
	// of the audit log would go unnoticed.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := svc.Checkpoint(cctx); err != nil {
		e.log.Error("audit checkpoint at shutdown", "err", err)
	}
	return serr
}

// state is what a running service of this state needs: the database, the
// HSM and the certificates init made.
type state struct {
	home    string
	state   string // alpha-3, from the CSCA's C=
	cluster *db.Cluster
	app     *pgxpool.Pool
	tok     *hsm.Token
	ds      cms.SignerCert
	cvca    []byte
}

func openState(ctx context.Context, home string) (*state, error) {
	s := &state{home: home}
	csca, err := readPEMCert(filepath.Join(home, "pki", "csca.crt"))
	if err != nil {
		return nil, fmt.Errorf("%w (run borderid init --state CODE first)", err)
	}
	s.state, _ = cert.Alpha2ToAlpha3(strings.ToUpper(csca.Subject.Country))
	dsPath, err := latestDS(home)
	if err != nil {
		return nil, err
	}
	ds, err := readPEMCert(dsPath)
	if err != nil {
		return nil, err
	}
	s.ds = cms.SignerCert{Raw: ds.Raw, RawIssuer: ds.RawIssuer, SerialNumber: ds.SerialNumber, PublicKey: ds.PublicKey}
	if s.cvca, err = os.ReadFile(filepath.Join(home, "pki", "cvca.cvcert")); err != nil {
		return nil, err
	}
	if s.cluster, err = db.Ensure(ctx, home); err != nil {
		return nil, err
	}
	if s.app, err = db.Open(ctx, s.cluster, db.App); err != nil {
		return nil, err
	}
	if s.tok, err = hsm.Open(ctx, home); err != nil {
		s.app.Close()
		return nil, err
	}
	return s, nil
}

func (s *state) Close() {
	if s.app != nil {
		s.app.Close()
	}
	if s.tok != nil {
		s.tok.Close()
	}
}

func (s *state) service(e *env) (*enrol.Core, error) { return s.serviceOn(e, s.app) }

// serviceOn is the service on pool: the app role's for serve, the rotator
// role's for keys rotate (migration 0008).
func (s *state) serviceOn(e *env, pool *pgxpool.Pool) (*enrol.Core, error) {
	dsKey, err := s.tok.Signer("ds")
	if err != nil {
		return nil, err
	}
	auditKey, err := s.tok.Signer("audit-signer")
	if err != nil {
		return nil, err
	}
	kw := s.tok.KeyWrapper()
	return enrol.New(enrol.Config{
		Pool: pool, Wrapper: kw, Indexer: s.tok.Indexer(),
		AuditSigner: auditKey, CheckpointDir: filepath.Join(s.home, "audit", "checkpoints"),
		Logger: e.log,
		IssueChip: func(ctx context.Context, r enrol.IssueRequest) (string, error) {
			dob, err := time.Parse(time.DateOnly, r.Application.DateOfBirth)
			if err != nil {
				return "", fmt.Errorf("date of birth: %w", err)
			}
			out, err := issue.Build(issue.Input{
				IssuingState: s.state, DocumentType: r.Application.DocumentType, DocumentNumber: r.DocumentNumber,
				Surname: r.Application.Surname, GivenNames: r.Application.GivenNames,
				Nationality: r.Application.Nationality, Sex: r.Application.Sex,
				DateOfBirth: dob, DateOfExpiry: r.DateOfExpiry,
				Face: r.Face, Fingers: r.Fingers,
				DS: s.ds, DSKey: dsKey, CVCA: s.cvca,
			})
			if err != nil {
				return "", err
			}
			return chipstore.Save(ctx, s.home, out.Files, kw)
		},
	})
}

// crossBorder builds the handlers of issue 6: the status responder (HSM key
// status-signer, pki/status-signer.crt) and the trust lists (pki/csca.crt
// and pki/csca-link-*.crt, signed by the HSM keys mlsigner and csca).
func (s *state) crossBorder(e *env, partners *api.PartnerRegistry, checkpoint func(context.Context) error) (api.CrossBorderRoutes, error) {
	readDER := func(name string) ([]byte, []byte, error) {
		b, err := os.ReadFile(filepath.Join(s.home, "pki", name))
		if err != nil {
			return nil, nil, err
		}
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "CERTIFICATE" {
			return nil, nil, fmt.Errorf("pki/%s: not a PEM certificate", name)
		}
		return blk.Bytes, b, nil
	}
	statusDER, statusPEM, err := readDER("status-signer.crt")
	if err != nil {
		return api.CrossBorderRoutes{}, fmt.Errorf("no status-signer certificate (run borderid init): %w", err)
	}
	statusKey, err := s.tok.Signer("status-signer")
	if err != nil {
		return api.CrossBorderRoutes{}, err
	}
	resp, err := crossborder.NewResponder(crossborder.ResponderConfig{
		Pool: s.app, Indexer: s.tok.Indexer(), Signer: statusKey, SignerCert: statusDER,
		State: s.state, Registry: partners, Logger: e.log, Checkpoint: checkpoint,
		AuditHeadDir: filepath.Join(s.home, "audit", "checkpoints"),
	})
	if err != nil {
		return api.CrossBorderRoutes{}, err
	}
	cscaDER, _, err := readDER("csca.crt")
	if err != nil {
		return api.CrossBorderRoutes{}, err
	}
	var links [][]byte
	m, _ := filepath.Glob(filepath.Join(s.home, "pki", "csca-link-*.crt"))
	sort.Strings(m)
	for _, f := range m {
		der, _, err := readDER(filepath.Base(f))
		if err != nil {
			return api.CrossBorderRoutes{}, err
		}
		links = append(links, der)
	}
	mlDER, _, err := readDER("mlsigner.crt")
	if err != nil {
		return api.CrossBorderRoutes{}, err
	}
	mlKey, err := s.tok.Signer("mlsigner")
	if err != nil {
		return api.CrossBorderRoutes{}, err
	}
	cscaKey, err := s.tok.Signer("csca")
	if err != nil {
		return api.CrossBorderRoutes{}, err
	}
	trust, err := crossborder.NewTrustLists(crossborder.TrustConfig{
		CSCA: cscaDER, Links: links, CSCASigner: cscaKey, MLSignerCert: mlDER, MLSigner: mlKey,
		StatusSignerPEM: statusPEM, Logger: e.log,
	})
	if err != nil {
		return api.CrossBorderRoutes{}, err
	}
	return api.CrossBorderRoutes{Status: resp, MasterList: trust.MasterList(), CRL: trust.CRL(), StatusSigner: trust.StatusSigner()}, nil
}

// latestDS is the Document Signer certificate in use: the highest-numbered
// pki/ds-N.crt.
func latestDS(home string) (string, error) {
	m, err := filepath.Glob(filepath.Join(home, "pki", "ds-*.crt"))
	if err != nil || len(m) == 0 {
		return "", fmt.Errorf("no Document Signer certificate in %s/pki (run borderid init)", home)
	}
	sort.Slice(m, func(i, j int) bool {
		if len(m[i]) != len(m[j]) {
			return len(m[i]) < len(m[j])
		}
		return m[i] < m[j]
	})
	return m[len(m)-1], nil
}

func readPEMCert(path string) (*cert.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: not a PEM certificate", path)
	}
	c, err := cert.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
