package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/pkg/plan"
	"github.com/arsync/arsync/pkg/spec"
)

// ExportOptions are export's flags and what it needs to run.
type ExportOptions struct {
	IO      *streams
	Config  func() (*spec.Config, error)
	Connect func(ctx context.Context, cfg *spec.Config) (*session, error)

	Out   string
	All   bool
	Force bool
}

// NewCmdExport is "arsync export". With a non-nil runF the command calls
// it with the parsed options instead of exporting.
func NewCmdExport(f *Factory, runF func(*ExportOptions) error) *cobra.Command {
	o := &ExportOptions{IO: f.IO, Config: f.Config, Connect: f.Connect}
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the tenant's access review definitions as spec files",
		Long: `Export reads the access review definitions in the tenant and writes one
YAML file per definition, DIR/<metadata.name>.yaml, in the form plan reads.

Objects are written by name (user: alice@contoso.com, ${group:Marketing})
wherever the name leads back to that object alone; otherwise the id stays.
Values the service fills in by itself are left out.

By default only the definitions arsync manages are exported. With --all the
others are exported too, named after their displayName: plan then shows
them as "adopt", and apply takes them over without changing them. Existing
files are never overwritten without --force.`,
		Example: `  # Take over the reviews that already exist in the tenant
  arsync export --all --out reviews/
  arsync plan reviews/          # only "adopt" actions
  arsync apply reviews/

  # Against the built-in emulator
  arsync export --emulator --all --out /tmp/reviews`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return runExport(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Out, "out", ".", "write the files to `DIR`")
	fl.BoolVar(&o.All, "all", false, "also export definitions arsync does not manage yet")
	fl.BoolVar(&o.Force, "force", false, "overwrite files that already exist")
	addSignInFlags(cmd, f.Globals)
	return cmd
}

func runExport(ctx context.Context, o *ExportOptions) error {
	s := o.IO
	sess, err := openSession(ctx, o.Config, o.Connect)
	if err != nil {
		return err
	}
	defer sess.Close()

	live, err := plan.List(ctx, sess.Client)
	if err != nil {
		return err
	}
	files, err := spec.Export(ctx, live, sess.Client, spec.ExportOptions{All: o.All, Dir: o.Out})
	if err != nil {
		return err
	}
	if len(files) == 0 {
		if o.All {
			fmt.Fprintln(s.ErrOut, "The tenant has no access review definitions; nothing was written.")
		} else {
			fmt.Fprintf(s.ErrOut, "No definition carries arsync's marker; nothing was written. --all exports the %d unmanaged one(s).\n", len(live))
		}
		return nil
	}
	if err := spec.WriteFiles(files, o.Force); err != nil {
		return err
	}

	broken, managed := 0, 0
	for _, f := range files {
		state := "adopted by the next apply"
		if f.Managed {
			state, managed = "managed", managed+1
		}
		fmt.Fprintf(s.Out, "wrote %s  (%s; %q, id %s)\n", f.Path, state, f.DisplayName, f.ID)
		for _, w := range f.Warnings {
			fmt.Fprintf(s.ErrOut, "%s: warning: %s\n", f.Path, w)
		}
		for _, d := range f.Diagnostics {
			fmt.Fprintln(s.ErrOut, d.String())
		}
		if f.Diagnostics.HasErrors() {
			broken++
		}
	}
	fmt.Fprintf(s.Out, "Exported %d definition(s) to %s: %d managed, %d to adopt.\n", len(files), o.Out, managed, len(files)-managed)
	if broken > 0 {
		return &exitCodeError{code: exitError, msg: fmt.Sprintf("%d exported file(s) break rules that plan checks (see above); edit them before planning", broken)}
	}
	return nil
}
