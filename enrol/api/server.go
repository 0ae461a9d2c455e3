package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"borderid/crossborder"
	"borderid/enrol"
)

// Default body caps. The biometric validators in the service apply their own, smaller, per-kind caps.
const (
	DefaultMaxBody     = 4 << 20  // uploads
	DefaultMaxJSONBody = 64 << 10 // JSON requests
)

// Timeouts of the server that [Server.ListenAndServeTLS] runs: an upload of DefaultMaxBody over a slow office
// link must fit in ReadTimeout; a client that sends headers slowly is cut off after ReadHeaderTimeout.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = time.Minute
	WriteTimeout      = time.Minute
	IdleTimeout       = 2 * time.Minute
	ShutdownTimeout   = 15 * time.Second
	maxHeaderBytes    = 32 << 10
)

// Config configures a [Server].
type Config struct {
	// Service does the work and checks everything again; required.
	Service enrol.Service
	// ClientCAs is the staff TLS CA pool. The default Authenticator verifies every client certificate against it
	// (again, after TLS), and ListenAndServeTLS uses it when the tls.Config has no ClientCAs. Required unless
	// Authenticator is set.
	ClientCAs *x509.CertPool
	// Authenticator maps a verified client certificate to a principal; nil: StaffAuthenticator{Roots: ClientCAs}.
	// The extension point for partner states (issue 6).
	Authenticator Authenticator
	// Logger receives one line per request; nil: discard.
	Logger *slog.Logger
	// MaxBody caps upload bodies (biometrics); 0: DefaultMaxBody (4 MiB).
	MaxBody int64
	// MaxJSONBody caps JSON bodies; 0: DefaultMaxJSONBody (64 KiB).
	MaxJSONBody int64
	// Now is the clock used to check certificate validity per request; nil: time.Now.
	Now func() time.Time
	// Partners, when set, is the partner registry (issue 6): the Authenticator becomes a [PartnerAuthenticator]
	// around it (staff first), and partners may call the routes of CrossBorder. Serve with
	// Partners.TLSConfig(tlsCfg) so that handshakes accept the partners' client CAs.
	Partners *PartnerRegistry
	// CrossBorder holds the handlers of POST /v1/crossborder/status and GET /v1/trust/*; a nil one answers 404.
	CrossBorder CrossBorderRoutes
}

// Server is the enrolment HTTP API. It holds no state beyond its configuration; it is safe for concurrent use.
type Server struct {
	svc     enrol.Service
	auth    Authenticator
	cas     *x509.CertPool
	log     *slog.Logger
	maxBody int64
	maxJSON int64
	echo    *echo.Echo
	routes  map[string]*route // "METHOD echo-path"
	cross   CrossBorderRoutes
	anon    *anonLimiter // budget of audited refusals of unauthenticated callers
}

// New checks cfg and builds the routes.
func New(cfg Config) (*Server, error) {
	if cfg.Service == nil {
		return nil, errors.New("api: Config.Service is required")
	}
	s := &Server{
		svc: cfg.Service, auth: cfg.Authenticator, cas: cfg.ClientCAs, log: cfg.Logger,
		maxBody: cfg.MaxBody, maxJSON: cfg.MaxJSONBody, cross: cfg.CrossBorder, anon: newAnonLimiter(),
	}
	if s.auth == nil {
		if cfg.ClientCAs == nil {
			return nil, errors.New("api: Config.ClientCAs (the staff CA) is required without an Authenticator")
		}
		s.auth = StaffAuthenticator{Roots: cfg.ClientCAs, Now: cfg.Now}
	}
	if cfg.Partners != nil {
		s.auth = PartnerAuthenticator{Staff: s.auth, Partners: cfg.Partners, Now: cfg.Now}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody < 0 || s.maxJSON < 0 {
		return nil, errors.New("api: body caps must not be negative")
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.maxJSON == 0 {
		s.maxJSON = DefaultMaxJSONBody
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	e.HTTPErrorHandler = s.handleError
	e.Use(s.observe, s.guard)
	s.echo = e
	s.routes = make(map[string]*route)
	for _, rt := range s.routeTable() {
		p := echoPath(rt.path)
		e.Add(rt.method, p, rt.handle)
		s.routes[rt.method+" "+p] = &rt
	}
	return s, nil
}

// Handler returns the HTTP handler of all routes. It expects requests that came over TLS with the client
// certificate verified by the tls.Config (see [TLSConfig]); a request without TLS state gets 401.
func (s *Server) Handler() http.Handler { return s.echo }

// route is one operation of the API: its method and path as in openapi.json, the action name used when a
// denial is reported (the service's audit action names, so denials from both layers read alike), the roles
// that may call it (nil: any authenticated staff caller), whether registered partner states may call it too
// (x-borderid-partners in openapi.json; partners may call nothing else), the query parameters it takes, and
// its handler.
type route struct {
	method, path string
	action       string
	roles        []string
	partners     bool
	query        []string
	public       bool
	handle       echo.HandlerFunc
}

func (s *Server) routeTable() []route {
	return []route{
		{method: http.MethodGet, path: "/healthz", action: "healthz", public: true, handle: s.healthz},
		{method: http.MethodGet, path: "/v1/openapi.json", action: "openapi.get", handle: s.openAPI},
		{method: http.MethodPost, path: "/v1/enrollments", action: enrol.ActionCreate, roles: []string{enrol.RoleClerk}, handle: s.create},
		{method: http.MethodPut, path: "/v1/enrollments/{id}/biometrics/face", action: enrol.ActionPutFace, roles: []string{enrol.RoleClerk}, handle: s.putFace},
		{method: http.MethodPut, path: "/v1/enrollments/{id}/biometrics/fingers/{position}", action: enrol.ActionPutFinger, roles: []string{enrol.RoleClerk}, handle: s.putFinger},
		{method: http.MethodPut, path: "/v1/enrollments/{id}/biometrics/fingers/{position}/minutiae", action: enrol.ActionPutMinutiae, roles: []string{enrol.RoleClerk}, handle: s.putMinutiae},
		{method: http.MethodPut, path: "/v1/enrollments/{id}/finalize", action: enrol.ActionFinalize, roles: []string{enrol.RoleClerk}, handle: s.finalize},
		{method: http.MethodPost, path: "/v1/enrollments/{id}/approve", action: enrol.ActionApprove, roles: []string{enrol.RoleApprover}, handle: s.approve},
		{method: http.MethodPost, path: "/v1/enrollments/{id}/issue", action: enrol.ActionIssue, roles: []string{enrol.RoleApprover, enrol.RoleIssuer}, handle: s.issue},
		{method: http.MethodGet, path: "/v1/enrollments/{id}", action: enrol.ActionGet, roles: []string{enrol.RoleClerk, enrol.RoleApprover, enrol.RoleIssuer}, handle: s.get},
		{method: http.MethodGet, path: "/v1/enrollments/{id}/biometrics/face", action: enrol.ActionGetFace, roles: []string{enrol.RoleApprover}, query: []string{"purpose"}, handle: s.getFace},
		{method: http.MethodPut, path: "/v1/documents/{number}/status", action: enrol.ActionSetStatus, roles: []string{enrol.RoleApprover}, handle: s.setStatus},
		{method: http.MethodGet, path: "/v1/enrollments/{id}/access-log", action: enrol.ActionAccessLog, roles: []string{enrol.RoleAuditor}, handle: s.accessLog},
		{method: http.MethodGet, path: "/v1/audit/verify", action: enrol.ActionVerify, roles: []string{enrol.RoleAuditor}, handle: s.verifyAudit},
		{method: http.MethodPost, path: "/v1/crossborder/status", action: crossborder.ActionStatus, roles: []string{enrol.RoleBorder}, partners: true,
			handle: s.crossBorder(func(r CrossBorderRoutes) http.Handler { return r.Status })},
		{method: http.MethodGet, path: "/v1/trust/masterlist", action: "trust.masterlist", partners: true,
			handle: s.crossBorder(func(r CrossBorderRoutes) http.Handler { return r.MasterList })},
		{method: http.MethodGet, path: "/v1/trust/crl", action: "trust.crl", partners: true,
			handle: s.crossBorder(func(r CrossBorderRoutes) http.Handler { return r.CRL })},
		{method: http.MethodGet, path: "/v1/trust/status-signer", action: "trust.status_signer", partners: true,
			handle: s.crossBorder(func(r CrossBorderRoutes) http.Handler { return r.StatusSigner })},
	}
}

// echoPath turns /a/{b} into echo's /a/:b.
func echoPath(p string) string {
	segs := strings.Split(p, "/")
	for i, sg := range segs {
		if strings.HasPrefix(sg, "{") && strings.HasSuffix(sg, "}") {
			segs[i] = ":" + sg[1:len(sg)-1]
		}
	}
	return strings.Join(segs, "/")
}

func (s *Server) routeOf(c echo.Context) *route {
	return s.routes[c.Request().Method+" "+c.Path()]
}

// routeName is the route pattern for logs: never the raw path.
func (s *Server) routeName(c echo.Context) string {
	if rt := s.routeOf(c); rt != nil {
		return rt.path
	}
	return "unmatched"
}

const principalKey = "borderid.principal"

func principalOf(c echo.Context) enrol.Principal {
	p, _ := c.Get(principalKey).(enrol.Principal)
	return p
}

// observe sets the security headers, turns a returned error into its response and writes one log line.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Strict-Transport-Security", "max-age=63072000")
		if err := safely(next, c); err != nil {
			c.Error(err)
		}
		r := c.Request()
		status := c.Response().Status
		lvl := slog.LevelInfo
		if status >= 500 {
			lvl = slog.LevelError
		}
		s.log.LogAttrs(r.Context(), lvl, "http request",
			slog.String("method", r.Method),
			slog.String("route", s.routeName(c)),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.String("subject", principalOf(c).Subject),
			slog.Int64("bytes_out", c.Response().Size),
		)
		return nil
	}
}

// safely runs h and turns a panic into an error that handleError logs and answers with 500 internal, so that
// one bad request neither kills its connection silently nor leaks the panic to the client.
func safely(h echo.HandlerFunc, c echo.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			err = fmt.Errorf("api: panic: %v\n%s", v, debug.Stack())
		}
	}()
	return h(c)
}

// guard authenticates the client certificate (401), checks the route's roles (403) and its query parameters
// (422), reporting every 401 and 403 to the service's audit through Deny. It runs before any body is read.
func (s *Server) guard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rt := s.routeOf(c)
		if rt != nil && rt.public {
			return next(c)
		}
		r := c.Request()
		ctx := r.Context()
		action := "unknown_route"
		if rt != nil {
			action = rt.action
		}
		subject := denialSubject(c)
		// An anonymous caller's refusal is audited within a budget per
		// address (anonlimit.go), and never names a record: only an
		// authenticated caller's denial carries the enrolment id it asked
		// for, so nobody can stuff a person's access log from outside.
		anonymous := func() error {
			if ok, retry := s.anon.allow(r.RemoteAddr, time.Now()); !ok {
				secs := int(retry/time.Second) + 1
				c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
				return refuse(http.StatusTooManyRequests, "rate_limited", "too many refused requests from this address: retry in %d s", secs)
			}
			return nil
		}
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			if err := anonymous(); err != nil {
				return err
			}
			s.svc.Deny(ctx, enrol.Principal{}, action, "", codeCertificateRequired)
			return errNoCertificate()
		}
		if len(r.TLS.VerifiedChains) == 0 {
			// The tls.Config asked for a certificate without verifying it: never trust one.
			if err := anonymous(); err != nil {
				return err
			}
			s.svc.Deny(ctx, enrol.Principal{}, action, "", codeInvalidCertificate)
			return invalidCertificate("the client certificate was not verified")
		}
		p, err := s.auth.Authenticate(ctx, r.TLS.VerifiedChains)
		if err != nil {
			if lerr := anonymous(); lerr != nil {
				return lerr
			}
			code := codeInvalidCertificate
			var ee *enrol.Error
			if errors.As(err, &ee) && ee.Code != "" {
				code = ee.Code
			}
			// The audit says who tried, marked as unverified so that a certificate from another CA in the
			// pool cannot put one of our staff's names on a denial.
			who := enrol.Principal{Subject: "unverified:" + truncate(r.TLS.PeerCertificates[0].Subject.CommonName, 128)}
			s.svc.Deny(ctx, who, action, "", code)
			if status, _, _, ok := classify(err); !ok || (status != http.StatusUnauthorized && status != http.StatusForbidden) {
				// An authenticator that fails for another reason must still not let the request through.
				s.log.LogAttrs(ctx, slog.LevelError, "authenticator failed", slog.String("error", err.Error()))
				return invalidCertificate("the client certificate could not be checked")
			}
			return err
		}
		c.Set(principalKey, p)
		if rt == nil {
			return next(c) // echo's 404/405 for an authenticated caller
		}
		if p.Has(RolePartner) {
			// A partner state's system: the routes open to partners, nothing else, whatever else it holds.
			if !rt.partners {
				s.svc.Deny(ctx, p, rt.action, subject, codeForbiddenRole)
				return refuse(http.StatusForbidden, codeForbiddenRole, "a partner state may call only the cross-border routes")
			}
		} else if rt.roles != nil && !slices.ContainsFunc(rt.roles, p.Has) {
			s.svc.Deny(ctx, p, rt.action, subject, codeForbiddenRole)
			return refuse(http.StatusForbidden, codeForbiddenRole, "this operation needs the role %s", strings.Join(rt.roles, " or "))
		}
		if err := checkQuery(r.URL.RawQuery, rt.query); err != nil {
			return err
		}
		return next(c)
	}
}

// denialSubject is the enrolment id for a denial's audit row when the path holds a well-formed one; never a
// document number.
func denialSubject(c echo.Context) string {
	if id, ok := canonicalUUID(c.Param("id")); ok {
		return id
	}
	return ""
}

func writeJSON(c echo.Context, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("api: encoding response: %w", err)
	}
	return c.Blob(status, "application/json", b)
}

// TLSConfig is the server side of mutual TLS for the enrolment API: TLS 1.3 only, the server certificate, and
// client certificates verified against clientCAPEM when given (tls.VerifyClientCertIfGiven) so that
// GET /healthz works without one while every other route answers 401 without one.
//
// TLS 1.3 only, because every client of this API is a station or service of the state itself, whose TLS stack
// we choose. (Partner states of issue 6, should one need TLS 1.2, would get ECDHE with AEAD suites only, on
// their own listener; nothing here needs it.)
func TLSConfig(certPEM, keyPEM, clientCAPEM []byte) (*tls.Config, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("api: server certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(clientCAPEM) {
		return nil, errors.New("api: no client CA certificate in the PEM data")
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    pool,
	}, nil
}

// ListenAndServeTLS listens on addr and serves the API over TLS until ctx is cancelled, then stops accepting
// connections and waits up to ShutdownTimeout for requests in flight. It returns nil after a graceful
// shutdown.
func (s *Server) ListenAndServeTLS(ctx context.Context, addr string, tlsCfg *tls.Config) error {
	if _, err := s.httpServer(tlsCfg); err != nil {
		return err // before binding the port
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	return s.ServeTLS(ctx, ln, tlsCfg)
}

// ServeTLS is [Server.ListenAndServeTLS] on a listener the caller opened (closed on return). It refuses a
// tls.Config that would accept client certificates without verifying them.
func (s *Server) ServeTLS(ctx context.Context, ln net.Listener, tlsCfg *tls.Config) error {
	srv, err := s.httpServer(tlsCfg)
	if err != nil {
		ln.Close()
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("api: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	serr := srv.Shutdown(sctx)
	if serr != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("api: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("api: shutdown: %w", serr)
	}
	return nil
}

func (s *Server) httpServer(tlsCfg *tls.Config) (*http.Server, error) {
	if tlsCfg == nil {
		return nil, errors.New("api: a tls.Config is required")
	}
	cfg := tlsCfg.Clone()
	switch cfg.ClientAuth {
	case tls.VerifyClientCertIfGiven, tls.RequireAndVerifyClientCert:
	default:
		return nil, errors.New("api: the tls.Config must verify client certificates (tls.VerifyClientCertIfGiven)")
	}
	if cfg.ClientCAs == nil {
		cfg.ClientCAs = s.cas
	}
	if cfg.ClientCAs == nil {
		return nil, errors.New("api: no client CA pool")
	}
	if len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil {
		return nil, errors.New("api: the tls.Config has no server certificate")
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         cfg,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}, nil
}
