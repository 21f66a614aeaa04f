package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/internal/auditreport"
	"github.com/arsync/arsync/pkg/coverage"
	"github.com/arsync/arsync/pkg/report"
	"github.com/arsync/arsync/pkg/spec"
)

// reportFormats are report's -o values.
var reportFormats = []string{"html", "markdown"}

// ReportOptions are report's flags and what it needs to run.
type ReportOptions struct {
	IO      *streams
	Config  func() (*spec.Config, error)
	Connect func(ctx context.Context, cfg *spec.Config) (*session, error)
	// Coverage reads the tenant's coverage; coverageFor by default.
	Coverage func(ctx context.Context, sess *session) (*coverage.Report, error)

	Out    string
	Output string
	Since  string
}

// NewCmdReport is "arsync report". With a non-nil runF the command calls
// it with the parsed options instead of reporting.
func NewCmdReport(f *Factory, runF func(*ReportOptions) error) *cobra.Command {
	o := &ReportOptions{IO: f.IO, Config: f.Config, Connect: f.Connect, Coverage: coverageFor}
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write the access reviews report for auditors and managers (HTML or markdown)",
		Long: `Report writes one page about every access review in the tenant (managed by
arsync or not): per review, its instances over time with their completion
(items decided of the total) and outcomes (approved, denied, don't know,
not reviewed, and how many were applied) as charts with a data table each;
the coverage of groups with guests, directory roles and applications,
uncovered targets first; when it was generated, for which tenant and by
which arsync version.

-o html (the default) is one self-contained file: inline styles and SVG
charts, no script, and a Content-Security-Policy that forbids loading
anything, so it opens the same from disk, from a web server or as an
e-mail attachment. -o markdown is for a GitHub job summary: the same
figures as tables and Mermaid charts.

--since limits the period: instances that ended before it are left out.
It takes an RFC 3339 time, a date (midnight UTC) or a duration back from
now (90d, 12w).`,
		Example: `  # The report of the emulator's demo tenant
  arsync report --emulator --out report.html

  # The last quarter, as a GitHub job summary
  arsync report --since 90d -o markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(o.Output, reportFormats); err != nil {
				return err
			}
			if o.Since != "" {
				// Checked here against the machine's clock; run reads it
				// again against the session's.
				if _, err := report.ParseSince(o.Since, time.Now()); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(o)
			}
			return runReport(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Out, "out", "", "write the report to `FILE` (default: standard output)")
	fl.StringVarP(&o.Output, "output", "o", "html", "output format: "+orList(reportFormats))
	fl.StringVar(&o.Since, "since", "", "only instances that ended after `TIME`, or are running (RFC 3339, a date, or a duration such as 90d)")
	addSignInFlags(cmd, f.Globals)
	completeFlag(cmd, "output", reportFormats...)
	return cmd
}

func runReport(ctx context.Context, o *ReportOptions) error {
	sess, err := openSession(ctx, o.Config, o.Connect)
	if err != nil {
		return err
	}
	defer sess.Close()
	// Generated and --since on the session's clock: the emulator's with
	// --emulator.
	now := sess.Now()
	m := auditreport.Model{Tenant: firstNonEmpty(sess.TenantID, "(unknown tenant)"), Version: version, GeneratedAt: now}
	if o.Since != "" {
		if m.Since, err = report.ParseSince(o.Since, now); err != nil {
			return err
		}
	}
	st, err := report.StatusOf(ctx, sess.Client, report.StatusQuery{All: true, History: true, Since: m.Since}, now)
	if err != nil {
		return err
	}
	m.Reviews = auditreport.ReviewsFrom(st)
	// Coverage needs directory read permissions the reviews do not: without
	// it the report still comes out, and says why coverage is missing.
	if m.Coverage, err = o.Coverage(ctx, sess); err != nil {
		m.Coverage, m.CoverageNote = nil, err.Error()
		fmt.Fprintf(o.IO.ErrOut, "Warning: the report has no coverage: %v\n", err)
	}

	var buf bytes.Buffer
	if o.Output == "markdown" {
		err = auditreport.WriteMarkdown(&buf, m)
	} else {
		err = auditreport.WriteHTML(&buf, m)
	}
	if err != nil {
		return err
	}
	if o.Out == "" || o.Out == "-" {
		_, err = o.IO.Out.Write(buf.Bytes())
		return err
	}
	// The whole report or nothing: a failed run leaves no half file.
	if err := writeFileAtomic(o.Out, buf.Bytes()); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	fmt.Fprintf(o.IO.ErrOut, "Wrote the report of %d review(s) to %s.\n", len(m.Reviews), o.Out)
	return nil
}

// writeFileAtomic writes data to a temporary file next to path, then
// renames it into place.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	err = errors.Join(err, tmp.Chmod(0o644), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}

// coverageFor reads the tenant's coverage for the report, as arsync
// coverage does.
func coverageFor(ctx context.Context, sess *session) (*coverage.Report, error) {
	rep, err := coverageOf(ctx, sess)
	if err != nil {
		return nil, err
	}
	return &rep, nil
}
