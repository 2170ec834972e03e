package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/carrier"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/server"
)

type serveFlags struct {
	tcp, tls, quic, unix []string
	cert, key            string
	devCertDir           string
	authSecret           string
	metricsAddr          string
	drainTimeout         time.Duration
	logLevel, logFormat  string
	profile              server.Profile

	// The model service (serve --models).
	models        string
	defaultModel  string
	routes        map[uint16]string
	ortLib        string
	modelsRescan  time.Duration
	stagingMaxMiB int
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func parseServeFlags(args []string) (*serveFlags, error) {
	f := &serveFlags{profile: server.DefaultProfile()}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: nnrp-gpu serve [flags]

Runs the NNRP/1 server. Listeners may be combined; with none, --tcp 127.0.0.1:7700 is used.
TLS and QUIC need a certificate: --cert/--key, or a development certificate chain is
generated (its CA is printed: give it to clients as their trusted root).

flags:
`)
		fs.PrintDefaults()
	}
	fs.Var((*multiFlag)(&f.tcp), "tcp", "listen on plain TCP `ADDR` (repeatable)")
	fs.Var((*multiFlag)(&f.tls), "tls", "listen on TLS over TCP `ADDR` (repeatable)")
	fs.Var((*multiFlag)(&f.quic), "quic", "listen on QUIC `ADDR` (UDP; repeatable)")
	fs.Var((*multiFlag)(&f.unix), "unix", "listen on a Unix socket at `PATH` (repeatable; a stale socket file is replaced)")
	fs.StringVar(&f.cert, "cert", "", "server certificate chain, PEM `FILE` (TLS and QUIC)")
	fs.StringVar(&f.key, "key", "", "server private key, PEM `FILE`")
	fs.StringVar(&f.devCertDir, "dev-cert-dir", defaultDevCertDir(), "where the generated development certificate is written when --cert is not given")
	fs.StringVar(&f.authSecret, "auth-secret", "", "require clients to present an HMAC token (see 'nnrp-gpu token') signed with the secret in `FILE`")
	fs.StringVar(&f.metricsAddr, "metrics", "127.0.0.1:9464", "serve /metrics, /healthz and /readyz on `ADDR` (empty: off)")
	fs.DurationVar(&f.drainTimeout, "drain-timeout", 30*time.Second, "on SIGTERM/SIGINT, how long frames in flight may still be answered before they are dropped")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	p := &f.profile
	fs.Func("max-in-flight", fmt.Sprintf("most frames in flight per session, enforced (default %d)", p.MaxConcurrentFrames), uint16Flag(&p.MaxConcurrentFrames))
	fs.IntVar(&p.MaxSessionsPerConn, "max-sessions-per-conn", p.MaxSessionsPerConn, "most sessions multiplexed on one connection")
	fs.Func("max-body-bytes", fmt.Sprintf("largest packet body accepted (default %d)", p.MaxBodyBytes), uint32Flag(&p.MaxBodyBytes))
	fs.IntVar(&p.MaxSections, "max-sections", p.MaxSections, "most tensor sections per frame (1..16)")
	fs.DurationVar(&p.HandshakeTimeout, "handshake-timeout", p.HandshakeTimeout, "time a new connection has to complete TLS/QUIC and CLIENT_HELLO")
	fs.DurationVar(&p.IdleTimeout, "idle-timeout", p.IdleTimeout, "close connections idle this long with nothing in flight (0: never)")
	fs.DurationVar(&p.WriteStallTimeout, "write-stall-timeout", p.WriteStallTimeout, "close connections whose client stops reading results for this long")
	fs.DurationVar(&p.DefaultBudget, "default-budget", p.DefaultBudget, "latency budget of frames that declare none and whose session has no default (0: none)")
	fs.DurationVar(&p.DeadlineGrace, "deadline-grace", p.DeadlineGrace, "after a frame's deadline plus this grace, the server drops a frame nothing answered")
	fs.BoolVar(&p.EnableCache, "cache", p.EnableCache, "accept CACHE_PUT objects and resolve object references from them")
	fs.StringVar(&f.models, "models", "", "serve the model repository in `DIR` (hot-swapped when it changes); without it every frame is echoed")
	fs.StringVar(&f.defaultModel, "default-model", "", "model bound to sessions that name none (session extension 0x8001); without it they are rejected")
	fs.Func("route", "bind sessions that name no model by their SESSION_OPEN route_id: `ID=MODEL` (repeatable; needs --models)", func(v string) error {
		id, name, ok := strings.Cut(v, "=")
		var n uint64
		if _, err := fmt.Sscan(id, &n); !ok || err != nil || n > 0xFFFF || name == "" {
			return fmt.Errorf("want ROUTE_ID=MODEL with ROUTE_ID 0..65535")
		}
		if f.routes == nil {
			f.routes = map[uint16]string{}
		}
		f.routes[uint16(n)] = name
		return nil
	})
	fs.StringVar(&f.ortLib, "ort-lib", "", "ONNX Runtime library `FILE` (default $ORT_LIB)")
	fs.DurationVar(&f.modelsRescan, "models-rescan", 10*time.Second, "period of the safety-net rescan of --models besides file events (negative: off)")
	fs.IntVar(&f.stagingMaxMiB, "staging-max-mib", 4096, "bound of each staging pool (inputs, outputs) in MiB; frames beyond it are dropped with backpressure")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if (f.cert == "") != (f.key == "") {
		return nil, errors.New("--cert and --key go together")
	}
	if f.models == "" && (f.defaultModel != "" || f.ortLib != "" || len(f.routes) > 0) {
		return nil, errors.New("--default-model, --route and --ort-lib need --models")
	}
	if f.stagingMaxMiB < 1 {
		return nil, errors.New("--staging-max-mib must be ≥ 1")
	}
	if len(f.tcp)+len(f.tls)+len(f.quic)+len(f.unix) == 0 {
		f.tcp = []string{"127.0.0.1:7700"}
	}
	return f, nil
}

func uint16Flag(p *uint16) func(string) error {
	return func(s string) error {
		var v uint64
		if _, err := fmt.Sscan(s, &v); err != nil || v == 0 || v > 0xFFFF {
			return fmt.Errorf("want 1..65535")
		}
		*p = uint16(v)
		return nil
	}
}

func uint32Flag(p *uint32) func(string) error {
	return func(s string) error {
		var v uint64
		if _, err := fmt.Sscan(s, &v); err != nil || v == 0 || v > 0xFFFFFFFF {
			return fmt.Errorf("want 1..4294967295")
		}
		*p = uint32(v)
		return nil
	}
}

func defaultDevCertDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "nnrp-gpu", "dev-cert")
	}
	return filepath.Join(os.TempDir(), "nnrp-gpu-dev-cert")
}

func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

func cmdServe(args []string) int {
	f, err := parseServeFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "nnrp-gpu serve:", err)
		return 2
	}
	log, err := newLogger(f.logLevel, f.logFormat)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nnrp-gpu serve:", err)
		return 2
	}
	if err := serve(f, log); err != nil {
		log.Error("nnrp-gpu serve failed", "err", err)
		return 1
	}
	return 0
}

func serve(f *serveFlags, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	app, err := newApp(f, log)
	if err != nil {
		return err
	}
	defer app.Close()

	opts := server.Options{Logger: log, OpenSession: app.OpenSession, PatchSession: app.PatchSession}
	if f.authSecret != "" {
		secret, err := os.ReadFile(f.authSecret)
		if err != nil {
			return fmt.Errorf("--auth-secret: %w", err)
		}
		secret = []byte(strings.TrimSpace(string(secret)))
		if len(secret) < 16 {
			return fmt.Errorf("--auth-secret: %s holds %d bytes; use at least 16", f.authSecret, len(secret))
		}
		opts.Auth = &server.TokenValidator{Secret: secret}
	}
	srv, err := server.New(f.profile, opts)
	if err != nil {
		return err
	}
	listeners, err := openListeners(f, log)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(newServerCollector(srv))
	app.RegisterMetrics(reg)

	var wg sync.WaitGroup
	var metricsSrv *http.Server
	if f.metricsAddr != "" {
		ml, err := net.Listen("tcp", f.metricsAddr)
		if err != nil {
			for _, l := range listeners {
				_ = l.Close()
			}
			return fmt.Errorf("--metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
		mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
			if err := app.Ready(); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write([]byte("ready\n"))
		})
		if ma, ok := app.(*modelApp); ok {
			mux.HandleFunc("/models", ma.serveStatus)
		}
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := metricsSrv.Serve(ml); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server failed", "err", err)
			}
		}()
		log.Info("metrics listening", "addr", "http://"+ml.Addr().String()+"/metrics")
	}
	for _, l := range listeners {
		log.Info("nnrp listening", "carrier", l.Kind().String(), "addr", l.Addr().String())
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(l); err != nil && !errors.Is(err, server.ErrServerClosed) {
				log.Error("listener failed", "carrier", l.Kind().String(), "err", err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		app.AcceptLoop(ctx, srv)
	}()

	<-ctx.Done()
	stop()
	log.Info("shutting down: no new sessions; answering frames in flight", "drain_timeout", f.drainTimeout)
	dctx, cancel := context.WithTimeout(context.Background(), f.drainTimeout)
	err = srv.Shutdown(dctx)
	cancel()
	if err != nil {
		log.Warn("drain timeout: frames still in flight were dropped", "err", err)
	}
	if metricsSrv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = metricsSrv.Shutdown(sctx)
		cancel()
	}
	wg.Wait()
	log.Info("stopped")
	return nil
}

// openListeners opens every requested listener; TLS material is loaded or
// generated only when a TLS or QUIC listener is asked for.
func openListeners(f *serveFlags, log *slog.Logger) ([]carrier.Listener, error) {
	var tlsCfg *tls.Config
	if len(f.tls)+len(f.quic) > 0 {
		var cert tls.Certificate
		if f.cert != "" {
			var err error
			if cert, err = tls.LoadX509KeyPair(f.cert, f.key); err != nil {
				return nil, fmt.Errorf("--cert/--key: %w", err)
			}
		} else {
			dev, err := carrier.NewDevCertificate()
			if err != nil {
				return nil, err
			}
			files, err := dev.WriteFiles(f.devCertDir)
			if err != nil {
				return nil, fmt.Errorf("writing the development certificate: %w", err)
			}
			cert = dev.TLS
			log.Warn("no --cert given: using a generated development certificate; clients must trust its CA",
				"ca_pem", files.CAPEM, "ca_der", files.CADER, "chain", files.ChainDescription)
		}
		tlsCfg = carrier.ServerTLSConfig(cert)
	}
	var ls []carrier.Listener
	fail := func(err error) ([]carrier.Listener, error) {
		for _, l := range ls {
			_ = l.Close()
		}
		return nil, err
	}
	for _, spec := range []struct {
		kind  carrier.Kind
		addrs []string
	}{{carrier.TCP, f.tcp}, {carrier.TLS, f.tls}, {carrier.QUIC, f.quic}, {carrier.Unix, f.unix}} {
		for _, a := range spec.addrs {
			l, err := carrier.Listen(spec.kind, a, tlsCfg, nil)
			if err != nil {
				return fail(err)
			}
			ls = append(ls, l)
		}
	}
	return ls, nil
}

func cmdToken(args []string) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	secretFile := fs.String("secret", "", "secret `FILE` (the same as serve --auth-secret)")
	subject := fs.String("subject", "client", "who the token is for (no '.')")
	ttl := fs.Duration("ttl", 24*time.Hour, "validity")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	secret, err := os.ReadFile(*secretFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nnrp-gpu token: --secret:", err)
		return 2
	}
	tok, err := server.MintToken([]byte(strings.TrimSpace(string(secret))), *subject, *ttl)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nnrp-gpu token:", err)
		return 2
	}
	fmt.Println(tok)
	return 0
}
