package crossborder

import (
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"sync"
	"time"

	"borderid/internal/pki"
)

// Media types of the trust-list exchange.
const (
	// ContentTypeMasterList: a CMS SignedData (RFC 5652) whose content is an
	// ICAO 9303-12 §8 CscaMasterList, DER.
	ContentTypeMasterList = "application/pkcs7-mime"
	// ContentTypeCRL: an X.509 CRL, DER (RFC 5280, ICAO 9303-12 §7.1.4).
	ContentTypeCRL = "application/pkix-crl"
	// ContentTypePEMChain: the status-signer certificate, PEM (RFC 8555 §9.1).
	ContentTypePEMChain = "application/pem-certificate-chain"
)

// Defaults of TrustConfig.
const (
	DefaultCRLValidity = 7 * 24 * time.Hour
	DefaultTrustCache  = time.Minute
)

// TrustConfig configures NewTrustLists: what this state publishes to its
// partners, ICAO PKD style, on the same listener as the status responder.
type TrustConfig struct {
	// CSCA is this state's CSCA certificate (DER, pki/csca.crt); Links its
	// link certificates (pki/csca-link-*.crt). Both go into the master list.
	CSCA  []byte
	Links [][]byte
	// CSCASigner is the CSCA's key (HSM "csca"): it signs the CRL.
	CSCASigner crypto.Signer
	// MLSignerCert and MLSigner: the master-list signer (pki/mlsigner.crt,
	// HSM "mlsigner").
	MLSignerCert []byte
	MLSigner     crypto.Signer
	// StatusSignerPEM is pki/status-signer.crt as it is on disk.
	StatusSignerPEM []byte
	// CRLValidity is the CRL's nextUpdate - thisUpdate; 0: DefaultCRLValidity.
	CRLValidity time.Duration
	// CacheFor is how long a signed master list and CRL are served again
	// before fresh ones are signed; 0: DefaultTrustCache. It bounds the HSM
	// work partners can cause.
	CacheFor time.Duration
	Now      func() time.Time
	Logger   *slog.Logger
}

// TrustLists serves GET /v1/trust/masterlist, /v1/trust/crl and
// /v1/trust/status-signer to any authenticated caller (WithCaller).
type TrustLists struct {
	cfg TrustConfig

	mu       sync.Mutex
	ml, crl  []byte
	signedAt time.Time
}

// NewTrustLists signs a first master list and CRL to check cfg.
func NewTrustLists(cfg TrustConfig) (*TrustLists, error) {
	if len(cfg.CSCA) == 0 || cfg.CSCASigner == nil || len(cfg.MLSignerCert) == 0 || cfg.MLSigner == nil || len(cfg.StatusSignerPEM) == 0 {
		return nil, errors.New("crossborder: TrustConfig needs the CSCA, its key, the master-list signer and the status-signer certificate")
	}
	if cfg.CRLValidity == 0 {
		cfg.CRLValidity = DefaultCRLValidity
	}
	if cfg.CacheFor == 0 {
		cfg.CacheFor = DefaultTrustCache
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if _, err := pki.ParseCertificatesPEM(cfg.StatusSignerPEM); err != nil {
		return nil, fmt.Errorf("crossborder: status-signer certificate: %w", err)
	}
	t := &TrustLists{cfg: cfg}
	if _, _, err := t.lists(); err != nil {
		return nil, err
	}
	return t, nil
}

// lists returns the cached master list and CRL, signing fresh ones when
// they are older than CacheFor.
func (t *TrustLists) lists() (ml, crl []byte, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.cfg.Now()
	if t.ml != nil && now.Sub(t.signedAt) < t.cfg.CacheFor && !now.Before(t.signedAt) {
		return t.ml, t.crl, nil
	}
	// The CRL number only has to grow: seconds since the epoch do (as in
	// `borderid trust export`); the cache keeps two CRLs from one second.
	crl, err = pki.IssueCRL(t.cfg.CSCA, t.cfg.CSCASigner, big.NewInt(now.Unix()), now, now.Add(t.cfg.CRLValidity), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("crossborder: CRL: %w", err)
	}
	certs := append([][]byte{t.cfg.CSCA}, t.cfg.Links...)
	ml, err = pki.MasterList(certs, t.cfg.MLSignerCert, t.cfg.MLSigner, now, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("crossborder: master list: %w", err)
	}
	t.ml, t.crl, t.signedAt = ml, crl, now
	return ml, crl, nil
}

func (t *TrustLists) serve(w http.ResponseWriter, r *http.Request, contentType string, body func() ([]byte, error)) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, refuse(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "this method is not allowed here"))
		return
	}
	if _, ok := CallerFrom(r.Context()); !ok {
		writeError(w, refuse(http.StatusUnauthorized, CodeCertificateRequired, "a client certificate is required"))
		return
	}
	b, err := body()
	if err != nil {
		t.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "trust list failed", slog.String("error", err.Error()))
		writeError(w, refuse(http.StatusInternalServerError, CodeInternal, "internal error"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(b)
	}
}

// MasterList serves GET /v1/trust/masterlist: a master list (CMS, DER) of
// this state's CSCA and link certificates signed by its master-list signer,
// with no CRL inside (GET /v1/trust/crl has it).
func (t *TrustLists) MasterList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.serve(w, r, ContentTypeMasterList, func() ([]byte, error) { ml, _, err := t.lists(); return ml, err })
	})
}

// CRL serves GET /v1/trust/crl: a CRL of this state's CSCA (DER), signed by
// the CSCA key, valid CRLValidity from its signing.
func (t *TrustLists) CRL() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.serve(w, r, ContentTypeCRL, func() ([]byte, error) { _, crl, err := t.lists(); return crl, err })
	})
}

// StatusSigner serves GET /v1/trust/status-signer: pki/status-signer.crt
// (PEM). A partner compares it with the root it registered out of band; it
// never takes trust from it.
func (t *TrustLists) StatusSigner() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.serve(w, r, ContentTypePEMChain, func() ([]byte, error) { return t.cfg.StatusSignerPEM, nil })
	})
}
