package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/arsync/arsync/internal/emuctl"
	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
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

// loadConfig reads --config. The default ./arsync.yaml may be missing; a
// file named explicitly must exist.
func loadConfig(g *globalOptions) (*spec.Config, error) {
	return spec.LoadConfigFile(g.ConfigFile, g.configSet)
}

// session is a connection to Graph (or to the in-process emulator).
type session struct {
	Client   *graphclient.Client
	TenantID string
	Endpoint string
	// Emulator is the in-process emulator with --emulator, else nil.
	Emulator *emulator.Running
}

// Close stops the in-process emulator, if any.
func (s *session) Close() {
	if s.Emulator != nil {
		_ = s.Emulator.Close()
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
	if _, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.Scope()}}); err != nil {
		return nil, fmt.Errorf("signing in: %w", err)
	}
	return &session{Client: c, TenantID: tenant, Endpoint: c.BaseURL()}, nil
}

// connectEmulator starts the emulator in this process on a loopback port,
// with its state in .arsync/emulator.json.
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
	// The endpoint recorded in saved plans is stable across runs: the port
	// changes every time.
	return &session{Client: c, TenantID: tenantID, Endpoint: "emulator", Emulator: run}, nil
}

// listLive reads every access review definition in the tenant.
func listLive(ctx context.Context, sess *session) ([]graph.Definition, error) {
	var live []graph.Definition
	for d, err := range sess.Client.ListDefinitions(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("listing the tenant's access review definitions: %w", err)
		}
		live = append(live, *d)
	}
	return live, nil
}

// loadSpecs loads and validates the spec files, printing every diagnostic to
// stderr. It fails, before any Graph call, when any is an error.
func loadSpecs(s *streams, paths []string) (*spec.Result, error) {
	res, err := spec.Load(paths...)
	if err != nil {
		return nil, err
	}
	// No spec file at all is far more likely a wrong path than an intent to
	// delete every managed definition; refuse rather than plan that. (An
	// empty spec file still expresses "nothing managed here".)
	if len(res.Files) == 0 {
		return nil, fmt.Errorf("no spec files (*.yaml, *.yml) found in %s; check the path (to remove every managed definition on purpose, keep one spec file with no documents)", strings.Join(paths, ", "))
	}
	for _, d := range res.Diagnostics {
		fmt.Fprintln(s.ErrOut, d.String())
	}
	if n := res.Diagnostics.Count(spec.Error); n > 0 {
		return nil, &exitCodeError{code: exitError, msg: fmt.Sprintf("the spec files have %d error(s); nothing was sent to Graph", n)}
	}
	return res, nil
}

// desiredFrom turns loaded specs into the desired Graph bodies, resolving
// the names they use against the directory in batches.
func desiredFrom(ctx context.Context, sess *session, res *spec.Result) ([]diff.Desired, error) {
	resolved, err := spec.Resolve(ctx, res.Definitions, sess.Client)
	if err != nil {
		var diags spec.Diagnostics
		if errors.As(err, &diags) {
			return nil, &exitCodeError{code: exitError, msg: diags.Error()}
		}
		return nil, err // already says "resolving names in the directory"
	}
	desired := make([]diff.Desired, 0, len(resolved))
	for _, r := range resolved {
		desired = append(desired, diff.Desired{
			Name:       r.Def.Name,
			Source:     fmt.Sprintf("%s:%d", r.Def.Source.File, r.Def.Source.Line),
			Definition: r.Body,
			Display:    r.Labels,
		})
	}
	return desired, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
