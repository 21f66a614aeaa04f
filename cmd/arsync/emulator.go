package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/internal/emuctl"
	"github.com/arsync/arsync/pkg/emulator"
)

// EmulatorOptions are the flags of "arsync emulator" (which serves the
// emulator) and what it needs to run.
type EmulatorOptions struct {
	IO *streams

	Listen      string
	State       string
	Tenant      string
	Faults      string
	PageSize    int
	Seed        int64
	RangeStyle  string
	AllowRemote bool
	// IssueTokens are --issue-token specs (emuctl.ParseTokenSpec): more
	// tokens to print besides the admin's.
	IssueTokens []string
}

// NewCmdEmulator is "arsync emulator", with its controls as subcommands.
// With a non-nil runF the command calls it with the parsed options instead
// of serving.
func NewCmdEmulator(f *Factory, runF func(*EmulatorOptions) error) *cobra.Command {
	o := &EmulatorOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Serve a local Microsoft Graph emulator for access reviews",
		Long: `Emulator serves a Graph look-alike for access review definitions and the
directory reads they need (users, groups, service principals, roles, $batch),
so arsync, scripts and other tools can run without a tenant. It prints the
base URL and a bearer token (read-write, for the tenant's admin, valid until
the emulator stops), then serves until Ctrl-C.

The directory comes from --tenant (a YAML file such as examples/tenant.yaml;
default: the built-in demo tenant). With --state the definitions are kept in a
JSON file, so separate runs continue where the last one stopped. The file is
locked while the emulator runs: an --emulator run or a control (advance,
decide, now) on the same file is refused until it stops.

--faults injects failures for testing clients: clauses separated by ';' or ','.
Settings: seed=N, rate=P (chance of a random fault), kinds=429|503|504|500|
drop|commit-then-fail|commit-then-drop, paths=/P|/P, retry-after=2|2.5|date|
none|mixed, latency=20ms or 10ms-50ms, lag=2s (read-after-create),
bucket=N/10s (access-review requests per window). Other clauses are rules:
KIND[:METHOD][:PROBABILITY|:#N][:/PATH], e.g. commit-then-fail:POST:#1.

The emulator accepts only the tokens it printed and answers any other with
Graph's 401. --issue-token SPEC (repeatable) prints another token, to test a
client with an expired or under-privileged one. SPEC is settings separated
by ',' or ';': user=UPN|ID or app=APPID (default: the tenant's admin),
permissions=NAME|NAME (default AccessReview.ReadWrite.All|Directory.Read.All;
empty for none) or read-only (AccessReview.Read.All|Directory.Read.All), and
lifetime=DURATION (30d, 12h, 90m from the start; default: never expires) or
expired. Tokens die with the process: a restarted emulator prints new ones.

The emulator serves plain HTTP and its tokens are test credentials, so it
listens only on loopback addresses; --allow-remote lifts that for a trusted
network.`,
		Example: `  # Start on a free port with the demo tenant
  arsync emulator

  # Keep state between runs, with throttling and dropped connections
  arsync emulator --listen 127.0.0.1:8080 --state .arsync/emulator.json \
    --faults 'seed=7;429:0.2;retry-after=2;drop:POST:0.05'

  # Also print a read-only token for Bob and one that has expired
  arsync emulator --issue-token user=bob@contoso.com,read-only --issue-token expired

  # Point arsync at it from another shell
  export ARSYNC_ACCESS_TOKEN=...   # printed by the emulator
  arsync plan --graph-endpoint http://127.0.0.1:8080/v1.0 examples/reviews`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := o.serverOptions(); err != nil {
				return err
			}
			if _, err := o.tokenOptions(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runEmulator(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Listen, "listen", "127.0.0.1:0", "listen `address` (port 0 picks a free port)")
	fl.StringVar(&o.State, "state", "", "keep definitions in this JSON `file` between runs")
	fl.StringVar(&o.Tenant, "tenant", "", "directory seed, a YAML tenant `file` (default: the built-in demo tenant)")
	fl.StringVar(&o.Faults, "faults", "", "inject faults, e.g. 'seed=7;429:0.2;retry-after=2' (see above)")
	fl.IntVar(&o.PageSize, "page-size", 100, "server page size of every collection")
	fl.Int64Var(&o.Seed, "seed", 0, "seed for ids and request-ids (0: random)")
	fl.StringVar(&o.RangeStyle, "range-style", "as-sent", "how noEnd ranges are stored: as-sent or numbered (numbered + 9999-12-31)")
	fl.BoolVar(&o.AllowRemote, "allow-remote", false, "allow a non-loopback --listen address")
	fl.StringArrayVar(&o.IssueTokens, "issue-token", nil, "also print a token as `SPEC` says, e.g. user=bob@contoso.com,read-only,lifetime=1h (repeatable; see above)")
	// advance, decide, now (emulator_ctl.go)
	cmd.AddCommand(NewCmdEmulatorAdvance(f, nil), NewCmdEmulatorDecide(f, nil), NewCmdEmulatorNow(f, nil))
	return cmd
}

func runEmulator(ctx context.Context, o *EmulatorOptions) error {
	opts, err := o.serverOptions()
	if err != nil {
		return err
	}
	if o.Tenant != "" {
		t, err := emulator.LoadTenant(o.Tenant)
		if err != nil {
			return err
		}
		opts.Tenant = t
	}
	specs, err := o.tokenOptions()
	if err != nil {
		return err
	}
	run, err := emulator.Start(opts)
	if err != nil {
		return err
	}
	extra := make([]string, len(specs))
	for i, spec := range specs {
		tok, err := run.Server.IssueToken(spec)
		if err != nil {
			_ = run.Close()
			return fmt.Errorf("--issue-token %s: %w", o.IssueTokens[i], err)
		}
		label := o.IssueTokens[i]
		switch exp := run.Server.Now().Add(spec.Lifetime).UTC().Format(time.RFC3339); {
		case spec.Lifetime > 0:
			label += ", expires " + exp
		case spec.Lifetime < 0:
			label += ", expired " + exp
		}
		extra[i] = fmt.Sprintf("token (%s): %s\n", label, tok)
	}
	s := o.IO
	fmt.Fprintf(s.Out, "url: %s\ntoken: %s\n", run.URL, run.Token)
	for _, line := range extra {
		fmt.Fprint(s.Out, line)
	}
	fmt.Fprintf(s.Out, "export ARSYNC_ACCESS_TOKEN='%s'\n", run.Token)
	fmt.Fprintf(s.Out, "# then: arsync plan --graph-endpoint %s examples/reviews\n", run.URL)
	fmt.Fprintln(s.ErrOut, "Graph emulator running; press Ctrl-C to stop.")
	<-ctx.Done()
	if err := run.Close(); err != nil {
		return fmt.Errorf("stopping the emulator: %w", err)
	}
	fmt.Fprintln(s.ErrOut, "Graph emulator stopped.")
	return nil
}

// tokenOptions parses the --issue-token specs.
func (o *EmulatorOptions) tokenOptions() ([]emulator.TokenOptions, error) {
	out := make([]emulator.TokenOptions, 0, len(o.IssueTokens))
	for _, spec := range o.IssueTokens {
		t, err := emuctl.ParseTokenSpec(spec)
		if err != nil {
			return nil, fmt.Errorf("--issue-token: %w", err)
		}
		out = append(out, t)
	}
	return out, nil
}

// serverOptions turns the flags into emulator options, all but the tenant
// file, which run reads: it checks the flags without touching a file.
func (o *EmulatorOptions) serverOptions() (emulator.Options, error) {
	opts := emulator.Options{
		Addr:        o.Listen,
		StateFile:   o.State,
		LockState:   true, // --emulator and the controls lock it too
		PageSize:    o.PageSize,
		Seed:        o.Seed,
		AllowRemote: o.AllowRemote,
	}
	if o.PageSize < 1 {
		return opts, fmt.Errorf("--page-size must be at least 1 (got %d)", o.PageSize)
	}
	switch o.RangeStyle {
	case "as-sent":
		opts.RangeStyle = emulator.RangeAsSent
	case "numbered":
		opts.RangeStyle = emulator.RangeNumbered
	default:
		return opts, fmt.Errorf("--range-style must be as-sent or numbered, not %q", o.RangeStyle)
	}
	if o.Faults != "" {
		f, err := emulator.ParseFaults(o.Faults)
		if err != nil {
			return opts, fmt.Errorf("--faults: %w", err)
		}
		opts.Faults = f
	}
	return opts, nil
}
