package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/spf13/cobra"
)

// Exit codes, in one place (README "Exit codes").
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // plan --detailed-exitcode: the plan has changes
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitCodeError carries a non-default exit code out of a command. An empty
// message means the command has already printed what the user needs.
type exitCodeError struct {
	code int
	msg  string
}

func (e *exitCodeError) Error() string { return e.msg }

// silentExit ends a command with code and prints nothing more.
func silentExit(code int) error { return &exitCodeError{code: code} }

// streams is the only way commands print: data to Out, diagnostics and
// progress to ErrOut.
type streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// globalOptions are the flags every command shares (README.md#commands).
type globalOptions struct {
	ConfigFile    string
	TenantID      string
	Cloud         string
	GraphEndpoint string
	Emulator      bool
	Auth          string
	Debug         bool

	// configSet is true when --config was given, so a missing file is an
	// error rather than an empty configuration.
	configSet bool
}

// lockedWriter serialises the writes of several goroutines to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Main runs arsync with args and returns the process exit code.
func Main(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) int {
	// Debug lines (graphclient) and progress lines (apply) reach stderr
	// from different goroutines: one lock keeps each line whole.
	errOut = &lockedWriter{w: errOut}
	io := &streams{In: in, Out: out, ErrOut: errOut}
	root := newRootCmd(newFactory(io))
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		if ec.msg != "" {
			fmt.Fprintln(errOut, "Error:", ec.msg)
		}
		return ec.code
	}
	fmt.Fprintln(errOut, "Error:", err)
	return exitError
}

func newRootCmd(f *Factory) *cobra.Command {
	root := newRootShell(f)
	// One line per verb; each verb lives in its own file.
	root.AddCommand(
		NewCmdValidate(f, nil),
		NewCmdPlan(f, nil),
		NewCmdApply(f, nil),
		NewCmdExport(f, nil),
		NewCmdVersion(f, nil),
		NewCmdInit(f, nil),
		NewCmdGitHub(f),
		NewCmdEmulator(f, nil),
		NewCmdStatus(f, nil),
		NewCmdDecisions(f, nil),
		NewCmdAuth(f),
	)
	return root
}

// newRootShell is the root command with the global flags, parsed into
// f.Globals, and no verbs: tests hang one verb under it.
func newRootShell(f *Factory) *cobra.Command {
	g := f.Globals
	root := &cobra.Command{
		Use:   "arsync",
		Short: "Manage Microsoft Entra access reviews as code",
		Long: `arsync keeps Microsoft Entra access review definitions in YAML files.
"arsync plan" shows what would change in the tenant; "arsync apply" makes
Microsoft Graph match. Definitions arsync creates carry an ownership marker;
all others are listed but never touched.`,
		Example: `  # Check the specs offline
  arsync validate examples/reviews

  # Show what would change, against the built-in Graph emulator
  arsync plan --emulator examples/reviews

  # Apply in CI, signing in with GitHub OIDC
  arsync apply --auth github-oidc --auto-approve reviews/`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			g.configSet = cmd.Flags().Changed("config")
		},
	}
	root.CompletionOptions.HiddenDefaultCmd = false

	pf := root.PersistentFlags()
	pf.StringVar(&g.ConfigFile, "config", "arsync.yaml", "configuration `file`")
	pf.StringVar(&g.TenantID, "tenant-id", "", "Entra tenant ID (overrides the config's tenantId)")
	pf.StringVar(&g.Cloud, "cloud", "", "national cloud: global, usgov, usgovdod or china (default global)")
	pf.StringVar(&g.GraphEndpoint, "graph-endpoint", "", "Graph base `URL`, e.g. https://graph.microsoft.com/v1.0")
	pf.BoolVar(&g.Emulator, "emulator", false, "run against the in-process Graph emulator (state in .arsync/emulator.json)")
	pf.StringVar(&g.Auth, "auth", "auto", "sign-in method: auto, env, workload-identity, github-oidc, azure-cli, managed-identity or device-code")
	pf.BoolVarP(&g.Debug, "debug", "v", false, "log requests, request-ids and skipped name look-ups to stderr (tokens redacted)")
	return root
}
