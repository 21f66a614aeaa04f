package main

import (
	"fmt"
	"io"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Set at release time by GoReleaser with -ldflags "-X main.commit=... -X
// main.date=..." (see .goreleaser.yaml), next to version in root.go. Empty
// in a plain "go build" or "go install": Go's embedded build information
// fills them then.
var (
	commit = ""
	date   = ""
)

// VersionOptions are what version needs: it has no flags.
type VersionOptions struct {
	IO *streams
}

// NewCmdVersion is "arsync version". With a non-nil runF the command calls
// it instead of printing.
func NewCmdVersion(f *Factory, runF func(*VersionOptions) error) *cobra.Command {
	o := &VersionOptions{IO: f.IO}
	return &cobra.Command{
		Use:     "version",
		Short:   "Print arsync's version, commit and build date",
		Example: "  arsync version",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(o)
			}
			currentBuild().write(o.IO.Out)
			return nil
		},
	}
}

// buildDetails is what "arsync version" prints.
type buildDetails struct {
	Version   string // v1.2.3, a module pseudo-version, or "dev"
	Commit    string // the full revision, "-dirty" when built from a modified tree; "" when unknown
	Date      string // RFC 3339: a release's build time, else the commit's time; "" when unknown
	GoVersion string
	Platform  string // GOOS/GOARCH
}

// pseudoVersion matches the tail of a Go module pseudo-version
// (v0.0.0-20260105100000-0123456789ab): the commit's UTC time and the first
// 12 hex digits of its revision. Since Go 1.24 "go build" in a checkout
// records one too, with "+dirty" for a modified tree.
var pseudoVersion = regexp.MustCompile(`[-.](\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})-([0-9a-f]{12})(?:\+incompatible)?(?:\+dirty)?$`)

// currentBuild is this binary's build details.
func currentBuild() buildDetails {
	bi, ok := debug.ReadBuildInfo()
	return resolveBuild(buildDetails{
		Version:   version,
		Commit:    commit,
		Date:      date,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}, bi, ok)
}

// resolveBuild completes the values set at link time (linked) with Go's
// build information (bi, ok from debug.ReadBuildInfo). A value set at link
// time wins; else the module version recorded by "go install
// module@version" (a pseudo-version names its commit and time), and the
// vcs.* settings that "go build" records in a git checkout.
func resolveBuild(linked buildDetails, bi *debug.BuildInfo, ok bool) buildDetails {
	d := linked
	if !ok || bi == nil {
		return d
	}
	if d.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		d.Version = bi.Main.Version
	}
	var revision, vcsTime string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.time":
			vcsTime = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if d.Commit == "" && revision != "" {
		d.Commit = revision
		if modified {
			d.Commit += "-dirty"
		}
	}
	if d.Date == "" {
		d.Date = vcsTime
	}
	if m := pseudoVersion.FindStringSubmatch(d.Version); m != nil {
		if d.Commit == "" {
			d.Commit = m[7]
		}
		if d.Date == "" {
			d.Date = fmt.Sprintf("%s-%s-%sT%s:%s:%sZ", m[1], m[2], m[3], m[4], m[5], m[6])
		}
	}
	return d
}

// versionString is the one-word version for "arsync --version".
func versionString() string { return currentBuild().Version }

// write prints the version on the first line (for scripts: "arsync version
// | head -1"), then one detail a line.
func (d buildDetails) write(w io.Writer) {
	orUnknown := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	var b strings.Builder
	fmt.Fprintf(&b, "arsync %s\n", d.Version)
	fmt.Fprintf(&b, "  commit: %s\n", orUnknown(d.Commit))
	fmt.Fprintf(&b, "  date:   %s\n", orUnknown(d.Date))
	fmt.Fprintf(&b, "  go:     %s %s\n", d.GoVersion, d.Platform)
	_, _ = io.WriteString(w, b.String())
}
