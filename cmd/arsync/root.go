package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/arsync/arsync/pkg/graphclient"
	"github.com/arsync/arsync/pkg/spec"
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
	// ColorMode is --color: auto (also ""), always or never.
	ColorMode string
}

// globalOptions are the global flags (--config, --debug) and the sign-in
// flags of the commands that sign in (README.md#commands).
type globalOptions struct {
	ConfigFile    string
	TenantID      string
	Cloud         string
	GraphEndpoint string
	Emulator      bool
	Auth          string
	Debug         bool
	Color         string

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
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	err := execute(ctx, root, args)
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

// execute runs root with args, after checking what cobra would misread.
func execute(ctx context.Context, root *cobra.Command, args []string) error {
	if err := checkHabits(root, args); err != nil {
		return err
	}
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// checkHabits refuses long flags written with one dash, as Terraform
// spells them: pflag reads "-out plan.json" as -o "ut" and "-auto-approve"
// as shorthands. An argument is one when its name (up to "=") is a long
// flag of the command; shorthands with their values (-ojson, -vo json),
// flag values and arguments after "--" are left alone. Terraform's
// -no-color and a --emulator before the command get their fix too.
func checkHabits(root *cobra.Command, args []string) error {
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		return nil // completing a partly typed word
	}
	cmd, _, err := root.Find(args)
	if err != nil || cmd == root {
		// "--emulator plan": cobra took "plan" for the value of a flag the
		// root does not have, and found no command.
		for i := 0; i+1 < len(args) && args[i] != "--"; i++ {
			if args[i] == "--emulator" {
				if sub, _, err := root.Find(args[i+1 : i+2]); err == nil && sub != root {
					return fmt.Errorf("--emulator goes after the command: arsync %s --emulator", sub.Name())
				}
			}
		}
	}
	if err != nil {
		return nil // cobra reports the unknown command
	}
	root.InitDefaultVersionFlag()
	cmd.InitDefaultHelpFlag()
	_ = cmd.InheritedFlags() // merges the persistent flags into cmd.Flags()
	fl := cmd.Flags()
	takesValue := func(f *pflag.Flag) bool { return f != nil && f.NoOptDefVal == "" }

	var bad, fixed []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			i = len(args)
		case (a == "-no-color" || a == "--no-color") && fl.Lookup("no-color") == nil:
			return fmt.Errorf("%s: arsync turns colour off with --color never (or NO_COLOR=1)", a)
		case strings.HasPrefix(a, "--"):
			if !strings.Contains(a, "=") && takesValue(fl.Lookup(a[2:])) {
				i++ // its value
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			name, _, hasValue := strings.Cut(a[1:], "=")
			if f := fl.Lookup(name); f != nil && len(name) > 1 {
				fix := "-" + a
				if !hasValue && takesValue(f) && i+1 < len(args) {
					i++
					fix += " " + args[i]
				}
				bad, fixed = append(bad, a), append(fixed, fix)
				continue
			}
			// Shorthands: the first that takes a value takes the rest of
			// the argument, or the next one.
			for j := 1; j < len(a); j++ {
				if f := fl.ShorthandLookup(a[j : j+1]); takesValue(f) {
					if j == len(a)-1 {
						i++
					}
					break
				}
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%s: arsync's long flags take two dashes: %s", strings.Join(bad, ", "), strings.Join(fixed, " "))
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
		NewCmdCoverage(f, nil),
		NewCmdDecisions(f, nil),
		NewCmdReport(f, nil),
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
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			g.configSet = cmd.Flags().Changed("config")
			if !slices.Contains(colorModes, g.Color) {
				return fmt.Errorf("--color %q: use %s", g.Color, orList(colorModes))
			}
			f.IO.ColorMode = g.Color
			return checkSignInFlags(cmd)
		},
	}
	root.CompletionOptions.HiddenDefaultCmd = false

	pf := root.PersistentFlags()
	pf.StringVar(&g.ConfigFile, "config", "arsync.yaml", "configuration `file`")
	pf.BoolVarP(&g.Debug, "debug", "v", false, "log requests, request-ids and skipped name look-ups to stderr (tokens redacted)")
	pf.StringVar(&g.Color, "color", "auto", "colour the plan: auto (on a terminal; NO_COLOR, FORCE_COLOR and CLICOLOR_FORCE count), always or never")
	completeFlag(root, "color", colorModes...)
	return root
}

// addSignInFlags gives cmd, a command that signs in to Graph, the sign-in
// flags, parsed into g: only such commands show and accept them.
func addSignInFlags(cmd *cobra.Command, g *globalOptions) {
	fl := cmd.Flags()
	fl.StringVar(&g.TenantID, "tenant-id", "", "Entra tenant ID (overrides the config's tenantId)")
	fl.StringVar(&g.Cloud, "cloud", "", "national cloud: global, usgov, usgovdod or china (default global)")
	fl.StringVar(&g.GraphEndpoint, "graph-endpoint", "", "Graph base `URL`, e.g. https://graph.microsoft.com/v1.0")
	fl.BoolVar(&g.Emulator, "emulator", false, "run against the in-process Graph emulator (state in .arsync/emulator.json)")
	fl.StringVar(&g.Auth, "auth", "auto", "sign-in method: auto, env, workload-identity, github-oidc, azure-cli, managed-identity or device-code")
	completeFlag(cmd, "cloud", spec.Clouds...)
	completeFlag(cmd, "auth", graphclient.AuthMethods...)
	completeFlag(cmd, "graph-endpoint", graphEndpoints()...)
}

// checkSignInFlags refuses sign-in flags that --emulator would otherwise
// silently override: the emulator is its own endpoint, tenant and sign-in.
func checkSignInFlags(cmd *cobra.Command) error {
	fl := cmd.Flags()
	if on, err := fl.GetBool("emulator"); err != nil || !on {
		return nil // not a command that signs in, or not --emulator
	}
	var conflicts []string
	for _, name := range []string{"tenant-id", "cloud", "graph-endpoint", "auth"} {
		if fl.Changed(name) {
			conflicts = append(conflicts, "--"+name)
		}
	}
	if len(conflicts) == 0 {
		return nil
	}
	return fmt.Errorf("--emulator cannot be combined with %s: the emulator is its own endpoint and needs no sign-in; drop one", orList(conflicts))
}
