package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/pkg/diff"
)

// targetFlags are --target and --target-file of plan and apply
// (docs/safety.md#targeted-plans).
type targetFlags struct {
	Targets []string
	File    string
}

func addTargetFlags(cmd *cobra.Command, f *Factory, t *targetFlags) {
	fl := cmd.Flags()
	fl.StringArrayVar(&t.Targets, "target", nil, "plan only the definitions whose metadata.name matches `NAME` (a name or a glob such as 'guests-*'; repeatable); others are neither changed nor deleted")
	fl.StringVar(&t.File, "target-file", "", "read targets from `FILE`, one name or glob a line (# starts a comment)")
	_ = cmd.RegisterFlagCompletionFunc("target", completeReviewNames(f))
}

func (t *targetFlags) set() bool { return len(t.Targets) > 0 || t.File != "" }

// names returns the targets of both flags, checked, without repeats, in
// the order given.
func (t *targetFlags) names() ([]string, error) {
	all := append([]string(nil), t.Targets...)
	if t.File != "" {
		data, err := os.ReadFile(t.File)
		if err != nil {
			return nil, fmt.Errorf("reading the targets: %w", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for n := 1; sc.Scan(); n++ {
			line, _, _ := strings.Cut(sc.Text(), "#")
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if strings.ContainsAny(line, " \t") {
				return nil, fmt.Errorf("%s:%d: one name or glob a line, not %q", t.File, n, line)
			}
			all = append(all, line)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("reading the targets: %w", err)
		}
		if len(all) == len(t.Targets) {
			return nil, fmt.Errorf("%s names no target: with none, the plan would cover every definition", t.File)
		}
	}
	if err := diff.CheckTargets(all); err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, n := range all {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}
