// Command arsync manages Microsoft Entra access reviews as code: YAML specs in
// Git, a plan on every pull request, and an apply after merge.
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
