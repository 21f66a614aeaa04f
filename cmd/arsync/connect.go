package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/arsync/arsync/internal/emuctl"
	"github.com/arsync/arsync/pkg/apply"
	"github.com/arsync/arsync/pkg/coverage"
	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/graphclient"
	"github.com/arsync/arsync/pkg/plan"
	"github.com/arsync/arsync/pkg/report"
	"github.com/arsync/arsync/pkg/spec"
)

// Where --emulator keeps its state and finds its directory seed, relative to
// the working directory, so that separate runs (apply, then plan) chain.
// init adds emulatorStateDir to .gitignore.
const (
	emulatorStateDir   = ".arsync/"
	emulatorStateFile  = emulatorStateDir + "emulator.json"
	emulatorTenantFile = "examples/tenant.yaml"
)

// Factory is what every command gets from outside its own flags: the
// streams, the global flags, and functions that load the configuration and
// connect to Graph. A command copies what it needs into its options struct
// when it runs, so it never loads or connects when its flags are wrong, and
// tests build a Factory with fakes instead of a server.
type Factory struct {
	IO *streams
	// Globals are the root's persistent flags, filled in when the command
	// line is parsed.
	Globals *globalOptions
	// Config loads --config. The default ./arsync.yaml may be missing; a
	// file named explicitly must exist.
	Config func() (*spec.Config, error)
	// Connect signs in (or starts the in-process emulator) as the global
	// flags and cfg say. Flags win over the config file.
	Connect func(ctx context.Context, cfg *spec.Config) (*session, error)
	// Getenv reads the environment (GitHub Actions' variables).
	Getenv func(string) string
}

// newFactory is the real Factory: the process's streams, its environment,
// Graph or the emulator.
func newFactory(io *streams) *Factory {
	g := &globalOptions{}
	return &Factory{
		IO:      io,
		Globals: g,
		Config:  func() (*spec.Config, error) { return spec.LoadConfigFile(g.ConfigFile, g.configSet) },
		Connect: func(ctx context.Context, cfg *spec.Config) (*session, error) { return connect(ctx, io, g, cfg) },
		Getenv:  os.Getenv,
	}
}

// graphAPI is what the commands call on Graph. *graphclient.Client
// implements it; a test may put a fake in a session.
type graphAPI interface {
	plan.Client
	apply.Client
	report.Source
	spec.Namer
	coverage.Source
}

// session is a connection to Graph (or to the in-process emulator).
type session struct {
	Client graphAPI
	// TenantID is the token's tenant (tid); the flag's or config's only
	// when the token's claims cannot be read.
	TenantID string
	Endpoint string
	// Cloud is --cloud or the config's cloud ("" is global); Emulator is
	// true with --emulator.
	Cloud    string
	Emulator bool
	// Claims are the access token's claims, read without verifying them,
	// for advice only; nil when the token is not a JWT (checkSignIn).
	Claims *graphclient.Claims
	// Now is the session's clock: the emulator's own with --emulator
	// (moved by "arsync emulator advance"), else the system's. Plans,
	// status and decisions --since all read it.
	Now func() time.Time
	// Debug receives -v/--debug's lines; nil without the flag.
	Debug io.Writer
	// close stops the in-process emulator, if any.
	close func() error
}

// Close ends the session: it stops the in-process emulator, if any.
func (s *session) Close() {
	if s.close != nil {
		_ = s.close()
	}
}

// connect signs in and builds the Graph client from the flags, then the
// config. Flags win over the config file.
func connect(ctx context.Context, s *streams, g *globalOptions, cfg *spec.Config) (*session, error) {
	opts := graphclient.Options{UserAgent: "arsync/" + version}
	if g.Debug {
		opts.Debug = s.ErrOut
	}
	if g.Emulator {
		return connectEmulator(opts)
	}

	tenant := firstNonEmpty(g.TenantID, cfg.TenantID)
	cloud := firstNonEmpty(g.Cloud, cfg.Cloud)
	cred, err := graphclient.NewCredential(ctx, graphclient.AuthOptions{
		Method:           g.Auth,
		TenantID:         tenant,
		Cloud:            cloud,
		DeviceCodePrompt: s.ErrOut,
	})
	if err != nil {
		return nil, err
	}
	opts.BaseURL = firstNonEmpty(g.GraphEndpoint, cfg.GraphEndpoint)
	opts.Cloud = cloud
	opts.Credential = cred
	c, err := graphclient.New(opts)
	if err != nil {
		return nil, err
	}
	// Sign in once, up front: a failure is then one message, not one per
	// concurrent request. The credential caches the token for the requests.
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.Scope()}})
	if err != nil {
		return nil, fmt.Errorf("signing in: %w", err)
	}
	claims, _ := graphclient.ReadClaims(tok.Token)
	return &session{Client: c, TenantID: tokenTenant(claims, tenant), Endpoint: c.BaseURL(), Cloud: cloud,
		Claims: claims, Now: time.Now, Debug: opts.Debug}, nil
}

// connectEmulator starts the emulator in this process on a loopback port,
// with its state in .arsync/emulator.json, locked until the session is
// closed: another arsync using that state is refused meanwhile
// (emulator.ErrStateLocked).
func connectEmulator(opts graphclient.Options) (*session, error) {
	eopts, err := emuctl.StateOptions(emulatorStateFile, "", emulatorTenantFile)
	if err != nil {
		return nil, err
	}
	tenantID := "emulator"
	if eopts.Tenant != nil && eopts.Tenant.TenantID != "" {
		tenantID = eopts.Tenant.TenantID
	}
	if err := os.MkdirAll(filepath.Dir(emulatorStateFile), 0o755); err != nil {
		return nil, fmt.Errorf("creating the emulator's state directory: %w", err)
	}
	run, err := emulator.Start(eopts)
	if err != nil {
		return nil, err
	}
	opts.BaseURL = run.URL
	opts.Credential = graphclient.StaticToken(run.Token)
	c, err := graphclient.New(opts)
	if err != nil {
		_ = run.Close()
		return nil, err
	}
	claims, _ := graphclient.ReadClaims(run.Token)
	// The endpoint recorded in saved plans is stable across runs: the port
	// changes every time.
	return &session{Client: c, TenantID: tokenTenant(claims, tenantID), Endpoint: emulatorEndpoint, Emulator: true,
		Claims: claims, Now: run.Server.Now, Debug: opts.Debug, close: run.Close}, nil
}

// emulatorEndpoint is the endpoint a plan made with --emulator records.
const emulatorEndpoint = "emulator"

// tokenTenant is the tenant a session works in: the token's tid, which is
// where Graph will act whatever the flags say; the configured tenant only
// when the token's claims cannot be read.
func tokenTenant(c *graphclient.Claims, configured string) string {
	if c != nil && strings.TrimSpace(c.TenantID) != "" {
		return c.TenantID
	}
	return configured
}

// openSession loads the configuration and connects, as the commands that
// read Graph without spec paths begin.
func openSession(ctx context.Context, config func() (*spec.Config, error), connect func(context.Context, *spec.Config) (*session, error)) (*session, error) {
	cfg, err := config()
	if err != nil {
		return nil, err
	}
	return connect(ctx, cfg)
}

// loadSpecs loads and validates the spec files, printing every diagnostic to
// stderr. It fails, before any Graph call, when any is an error.
func loadSpecs(ctx context.Context, s *streams, paths []string) (*spec.Result, error) {
	res, err := spec.LoadContext(ctx, paths...)
	if err != nil {
		return nil, err
	}
	// Warnings first: they say why a file was skipped.
	for _, d := range res.Diagnostics {
		fmt.Fprintln(s.ErrOut, d.String())
	}
	// No spec file at all is far more likely a wrong path than an intent to
	// delete every managed definition; refuse rather than plan that. (An
	// empty spec file still expresses "nothing managed here".)
	if len(res.Files) == 0 {
		return nil, fmt.Errorf("no spec files (*.yaml, *.yml) found in %s; check the path (to remove every managed definition on purpose, keep one spec file with no documents)", strings.Join(paths, ", "))
	}
	if n := res.Diagnostics.Count(spec.Error); n > 0 {
		return nil, &exitCodeError{code: exitError, msg: fmt.Sprintf("the spec files have %d error(s); nothing was sent to Graph", n)}
	}
	return res, nil
}

// makePlan is how every command plans: plan.Make with the session's
// client, clock, tenant, endpoint and debug writer.
func makePlan(ctx context.Context, sess *session, specs *spec.Result, deleteDuplicates bool, targets []string) (*diff.Plan, error) {
	return plan.Make(ctx, sess.Client, specs, plan.Options{
		Now:              sess.Now,
		TenantID:         sess.TenantID,
		GraphEndpoint:    sess.Endpoint,
		DeleteDuplicates: deleteDuplicates,
		Targets:          targets,
		Debug:            sess.Debug,
	})
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
