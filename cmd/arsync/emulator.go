package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/pkg/emulator"
)

type emulatorOptions struct {
	listen      string
	state       string
	tenant      string
	faults      string
	pageSize    int
	seed        int64
	rangeStyle  string
	allowRemote bool
}

func newEmulatorCmd(io *streams, _ *globalOptions) *cobra.Command {
	o := &emulatorOptions{}
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Serve a local Microsoft Graph emulator for access reviews",
		Long: `Emulator serves a Graph look-alike for access review definitions and the
directory reads they need (users, groups, service principals, roles, $batch),
so arsync, scripts and other tools can run without a tenant. It prints the
base URL and a bearer token, then serves until Ctrl-C.

The directory comes from --tenant (a YAML file such as examples/tenant.yaml;
default: the built-in demo tenant). With --state the definitions are kept in a
JSON file, so separate runs continue where the last one stopped.

--faults injects failures for testing clients: clauses separated by ';' or ','.
Settings: seed=N, rate=P (chance of a random fault), kinds=429|503|504|500|
drop|commit-then-fail|commit-then-drop, paths=/P|/P, retry-after=2|2.5|date|
none|mixed, latency=20ms or 10ms-50ms, lag=2s (read-after-create),
bucket=N/10s (access-review requests per window). Other clauses are rules:
KIND[:METHOD][:PROBABILITY|:#N][:/PATH], e.g. commit-then-fail:POST:#1.

The emulator accepts any bearer token, so it listens only on loopback
addresses; --allow-remote lifts that for a trusted network.`,
		Example: `  # Start on a free port with the demo tenant
  arsync emulator

  # Keep state between runs, with throttling and dropped connections
  arsync emulator --listen 127.0.0.1:8080 --state .arsync/emulator.json \
    --faults 'seed=7;429:0.2;retry-after=2;drop:POST:0.05'

  # Point arsync at it from another shell
  export ARSYNC_ACCESS_TOKEN=...   # printed by the emulator
  arsync plan --graph-endpoint http://127.0.0.1:8080/v1.0 examples/reviews`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := o.options()
			if err != nil {
				return err
			}
			run, err := emulator.Start(opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(io.Out, "url: %s\ntoken: %s\n", run.URL, run.Token)
			fmt.Fprintf(io.Out, "export ARSYNC_ACCESS_TOKEN='%s'\n", run.Token)
			fmt.Fprintf(io.Out, "# then: arsync plan --graph-endpoint %s examples/reviews\n", run.URL)
			fmt.Fprintln(io.ErrOut, "Graph emulator running; press Ctrl-C to stop.")
			<-cmd.Context().Done()
			if err := run.Close(); err != nil {
				return fmt.Errorf("stopping the emulator: %w", err)
			}
			fmt.Fprintln(io.ErrOut, "Graph emulator stopped.")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:0", "listen `address` (port 0 picks a free port)")
	f.StringVar(&o.state, "state", "", "keep definitions in this JSON `file` between runs")
	f.StringVar(&o.tenant, "tenant", "", "directory seed, a YAML tenant `file` (default: the built-in demo tenant)")
	f.StringVar(&o.faults, "faults", "", "inject faults, e.g. 'seed=7;429:0.2;retry-after=2' (see above)")
	f.IntVar(&o.pageSize, "page-size", 100, "server page size of every collection")
	f.Int64Var(&o.seed, "seed", 0, "seed for ids and request-ids (0: random)")
	f.StringVar(&o.rangeStyle, "range-style", "as-sent", "how noEnd ranges are stored: as-sent or numbered (numbered + 9999-12-31)")
	f.BoolVar(&o.allowRemote, "allow-remote", false, "allow a non-loopback --listen address")
	cmd.AddCommand(emulatorControlCmds(io)...) // advance, decide, now (emulator_ctl.go)
	return cmd
}

// options turns the flags into emulator options.
func (o *emulatorOptions) options() (emulator.Options, error) {
	opts := emulator.Options{
		Addr:        o.listen,
		StateFile:   o.state,
		PageSize:    o.pageSize,
		Seed:        o.seed,
		AllowRemote: o.allowRemote,
	}
	if o.pageSize < 1 {
		return opts, fmt.Errorf("--page-size must be at least 1 (got %d)", o.pageSize)
	}
	switch o.rangeStyle {
	case "as-sent":
		opts.RangeStyle = emulator.RangeAsSent
	case "numbered":
		opts.RangeStyle = emulator.RangeNumbered
	default:
		return opts, fmt.Errorf("--range-style must be as-sent or numbered, not %q", o.rangeStyle)
	}
	if o.tenant != "" {
		t, err := emulator.LoadTenant(o.tenant)
		if err != nil {
			return opts, err
		}
		opts.Tenant = t
	}
	if o.faults != "" {
		f, err := emulator.ParseFaults(o.faults)
		if err != nil {
			return opts, fmt.Errorf("--faults: %w", err)
		}
		opts.Faults = f
	}
	return opts, nil
}
