package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestResolveBuild(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	dev := buildDetails{Version: "dev", GoVersion: "go1.26.8", Platform: "linux/amd64"}
	released := buildDetails{Version: "v1.2.0", Commit: "fedcba9876543210fedcba9876543210fedcba98", Date: "2026-01-05T10:00:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64"}
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: "2026-02-01T09:30:00Z"},
			{Key: "vcs.modified", Value: modified},
		}
	}
	with := func(d buildDetails, f func(*buildDetails)) buildDetails { f(&d); return d }

	tests := []struct {
		name   string
		linked buildDetails
		bi     *debug.BuildInfo
		ok     bool
		want   buildDetails
	}{
		{name: "no build information", linked: dev, want: dev},
		{name: "go build outside a checkout", linked: dev, ok: true,
			bi: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, want: dev},
		{name: "go build in a clean checkout", linked: dev, ok: true,
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("false")},
			want: with(dev, func(d *buildDetails) { d.Commit, d.Date = rev, "2026-02-01T09:30:00Z" })},
		{name: "go build in a modified checkout", linked: dev, ok: true,
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("true")},
			want: with(dev, func(d *buildDetails) { d.Commit, d.Date = rev+"-dirty", "2026-02-01T09:30:00Z" })},
		{name: "go build in a modified checkout, with the pseudo-version Go 1.24 records", linked: dev, ok: true,
			bi: &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260201093000-0123456789ab+dirty"}, Settings: vcs("true")},
			want: with(dev, func(d *buildDetails) {
				d.Version, d.Commit, d.Date = "v0.0.0-20260201093000-0123456789ab+dirty", rev+"-dirty", "2026-02-01T09:30:00Z"
			})},
		{name: "pseudo-version alone, modified", linked: dev, ok: true,
			bi: &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260201093000-0123456789ab+dirty"}},
			want: with(dev, func(d *buildDetails) {
				d.Version, d.Commit, d.Date = "v0.0.0-20260201093000-0123456789ab+dirty", "0123456789ab", "2026-02-01T09:30:00Z"
			})},
		{name: "go install at a tag", linked: dev, ok: true,
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}},
			want: with(dev, func(d *buildDetails) { d.Version = "v1.2.0" })},
		{name: "go install at a commit (pseudo-version)", linked: dev, ok: true,
			bi: &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260105100203-0123456789ab"}},
			want: with(dev, func(d *buildDetails) {
				d.Version, d.Commit, d.Date = "v0.0.0-20260105100203-0123456789ab", "0123456789ab", "2026-01-05T10:02:03Z"
			})},
		{name: "go install at a commit after a pre-release tag", linked: dev, ok: true,
			bi: &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0-rc.1.0.20260105100203-0123456789ab"}},
			want: with(dev, func(d *buildDetails) {
				d.Version, d.Commit, d.Date = "v1.3.0-rc.1.0.20260105100203-0123456789ab", "0123456789ab", "2026-01-05T10:02:03Z"
			})},
		{name: "release: link-time values win over build information", linked: released, ok: true,
			bi:   &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260105100203-0123456789ab"}, Settings: vcs("true")},
			want: released},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolveBuild(tt.linked, tt.bi, tt.ok)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("resolveBuild (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildDetailsWrite(t *testing.T) {
	tests := []struct {
		name string
		d    buildDetails
		want string
	}{
		{
			name: "release",
			d:    buildDetails{Version: "v1.2.0", Commit: "fedcba9876543210fedcba9876543210fedcba98", Date: "2026-01-05T10:00:00Z", GoVersion: "go1.26.8", Platform: "darwin/arm64"},
			want: "arsync v1.2.0\n  commit: fedcba9876543210fedcba9876543210fedcba98\n  date:   2026-01-05T10:00:00Z\n  go:     go1.26.8 darwin/arm64\n",
		},
		{
			name: "nothing known",
			d:    buildDetails{Version: "dev", GoVersion: "go1.26.8", Platform: "windows/amd64"},
			want: "arsync dev\n  commit: unknown\n  date:   unknown\n  go:     go1.26.8 windows/amd64\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			tt.d.write(&b)
			require.Equal(t, tt.want, b.String())
		})
	}
}

// TestVersionFromGitCheckout builds arsync with plain "go build" in a fresh
// clone of this repository and checks that "arsync version" names the
// clone's commit and time. It clones because Go records vcs.* only where
// .git is a directory, and a worktree's .git is a file; uncommitted changes
// are copied over, so the code under test is the code on disk and the
// commit is then marked -dirty.
func TestVersionFromGitCheckout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds arsync")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	run := func(dir string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		// The release build's settings, so that its compiled packages are
		// reused when CI has built the snapshot first.
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), out)
		return strings.TrimRight(string(out), "\n")
	}
	top, err := exec.Command(git, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not in a git checkout")
	}
	src := strings.TrimSpace(string(top))
	dir := filepath.Join(t.TempDir(), "src")
	run(".", git, "clone", "--quiet", "--no-hardlinks", src, dir)

	dirty := false
	changed := run(src, git, "ls-files", "-z", "--modified", "--others", "--exclude-standard")
	for _, f := range strings.Split(changed, "\x00") {
		if f == "" {
			continue
		}
		dirty = true
		data, err := os.ReadFile(filepath.Join(src, f))
		if errors.Is(err, fs.ErrNotExist) { // deleted
			require.NoError(t, os.RemoveAll(filepath.Join(dir, f)))
			continue
		}
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), data, 0o644))
	}
	head := run(dir, git, "rev-parse", "HEAD")
	when, err := time.Parse(time.RFC3339, run(dir, git, "show", "-s", "--format=%cI", "HEAD"))
	require.NoError(t, err)

	bin := filepath.Join(t.TempDir(), "arsync")
	run(dir, "go", "build", "-buildvcs=true", "-trimpath", "-o", bin, "./cmd/arsync")
	out := run(dir, bin, "version")

	wantCommit := head
	if dirty {
		wantCommit += "-dirty"
	}
	lines := strings.Split(out, "\n")
	require.Len(t, lines, 4, out)
	require.Regexp(t, `^arsync v\S+$`, lines[0], "Go records a pseudo-version for a checkout")
	require.Equal(t, "  commit: "+wantCommit, lines[1])
	require.Equal(t, "  date:   "+when.UTC().Format(time.RFC3339), lines[2])
}
