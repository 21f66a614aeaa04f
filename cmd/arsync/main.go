// Command arsync manages Microsoft Entra access reviews as code: YAML specs in
// Git, a plan on every pull request, and an apply after merge.
//
// This package holds wiring, flags and output only; the work is in pkg/
// (pkg/plan plans, pkg/apply applies, pkg/report reports, pkg/spec loads
// and exports). Commands follow the GitHub CLI's shape: each verb's file
// has NewCmdX(f *Factory, runF func(*XOptions) error). Flags and arguments
// parse into XOptions, which also carry the streams and the Factory's
// functions that load the config and connect (connect.go); flag errors
// are returned before runF. A nil runF runs the command (runX); tests pass
// one to check parsing without a server (flags_test.go), or a Factory
// whose Connect returns a session with a fake Graph. root.go mounts the
// verbs under the global flags, and Main maps errors to exit codes. Every
// plan goes through makePlan, that is plan.Make with the session's client,
// clock (the emulator's under --emulator), tenant and debug writer.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// SIGTERM is how CI runners and Kubernetes stop a job: treat it as Ctrl-C,
	// so an apply finishes its in-flight request and reports.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
