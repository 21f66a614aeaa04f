package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// fakeRelease serves files[tag][name] as GitHub serves release assets at
// <base>/<tag>/<name>; status[path] overrides the answer for one path.
type fakeRelease struct {
	files  map[string]map[string][]byte
	status map[string]int

	mu       sync.Mutex
	requests []string
}

func (f *fakeRelease) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.URL.Path)
	f.mu.Unlock()
	if code, ok := f.status[r.URL.Path]; ok {
		http.Error(w, http.StatusText(code), code)
		return
	}
	tag, name, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	data, ok := f.files[tag][name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write(data)
}

func (f *fakeRelease) paths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// fakeBinary is what the archives hold: a script that answers "version" as
// arsync does, so that the installer's "arsync version" check runs.
func fakeBinary(tag string) []byte {
	return []byte("#!/bin/sh\necho \"arsync " + tag + " (fake)\"\n")
}

func tarGz(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		data []byte
	}{{"README.md", []byte("# arsync\n")}, {name, data}} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o755, Size: int64(len(f.data))}))
		_, err := tw.Write(f.data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return b.Bytes()
}

func zipOf(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

func sum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// release is a complete fake release of tag: every archive GoReleaser
// makes, and the checksums file listing them.
func release(t *testing.T, tag string) map[string][]byte {
	t.Helper()
	version := strings.TrimPrefix(tag, "v")
	files := map[string][]byte{}
	var sums strings.Builder
	for _, os := range []string{"linux", "darwin", "windows"} {
		for _, arch := range []string{"amd64", "arm64"} {
			var name string
			var data []byte
			if os == "windows" {
				name = fmt.Sprintf("arsync_%s_%s_%s.zip", version, os, arch)
				data = zipOf(t, "arsync.exe", fakeBinary(tag))
			} else {
				name = fmt.Sprintf("arsync_%s_%s_%s.tar.gz", version, os, arch)
				data = tarGz(t, "arsync", fakeBinary(tag))
			}
			files[name] = data
			fmt.Fprintf(&sums, "%s  %s\n", sum(data), name)
		}
	}
	files["arsync_"+version+"_checksums.txt"] = []byte(sums.String())
	return files
}

// result is what one run of the installer left behind.
type result struct {
	err     error
	stderr  string
	outputs map[string]string // $GITHUB_OUTPUT
	path    []string          // $GITHUB_PATH
}

func runInstaller(t *testing.T, baseURL string, env map[string]string) result {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the installer runs under bash; its Windows path is exercised through RUNNER_OS")
	}
	for _, tool := range []string{"bash", "curl", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	tmp := t.TempDir()
	out, path := filepath.Join(tmp, "github_output"), filepath.Join(tmp, "github_path")
	require.NoError(t, os.WriteFile(out, nil, 0o644))
	require.NoError(t, os.WriteFile(path, nil, 0o644))

	cmd := exec.Command("bash", "action-install.sh")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + tmp,
		"RUNNER_TEMP=" + tmp,
		"GITHUB_OUTPUT=" + out,
		"GITHUB_PATH=" + path,
		"ARSYNC_RELEASE_BASE_URL=" + baseURL,
		"ARSYNC_INSTALL_RETRIES=0",
		"RUNNER_OS=Linux",
		"RUNNER_ARCH=X64",
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	err := cmd.Run()

	r := result{err: err, stderr: stderr.String(), outputs: map[string]string{}}
	data, rerr := os.ReadFile(out)
	require.NoError(t, rerr)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			r.outputs[k] = v
		}
	}
	data, rerr = os.ReadFile(path)
	require.NoError(t, rerr)
	r.path = strings.Fields(string(data))
	return r
}

func TestActionInstaller(t *testing.T) {
	const tag = "v1.2.3"
	good := release(t, tag)
	sums := "arsync_1.2.3_checksums.txt"

	// tampered has the linux/amd64 archive of another build than the
	// checksums file lists.
	tampered := release(t, tag)
	tampered["arsync_1.2.3_linux_amd64.tar.gz"] = tarGz(t, "arsync", []byte("#!/bin/sh\necho evil\n"))

	// noEntry lists every archive but linux/amd64's.
	noEntry := release(t, tag)
	var kept []string
	for _, line := range strings.Split(strings.TrimSpace(string(noEntry[sums])), "\n") {
		if !strings.HasSuffix(line, "_linux_amd64.tar.gz") {
			kept = append(kept, line)
		}
	}
	noEntry[sums] = []byte(strings.Join(kept, "\n") + "\n")

	noArchive := release(t, tag)
	delete(noArchive, "arsync_1.2.3_linux_amd64.tar.gz")

	// upper is the checksums file in upper-case hex, binary-mode names.
	upper := release(t, tag)
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(string(upper[sums])), "\n") {
		h, name, _ := strings.Cut(line, "  ")
		lines = append(lines, strings.ToUpper(h)+" *"+name)
	}
	upper[sums] = []byte(strings.Join(lines, "\n") + "\n")

	tests := []struct {
		name     string
		files    map[string][]byte // the release of tag
		status   map[string]int
		env      map[string]string
		needs    string // a tool the case needs
		wantErr  string // in stderr; "" for success
		want     map[string]string
		wantPath bool
		wantReqs []string
	}{
		{
			name: "good: linux amd64", files: good,
			env:      map[string]string{"ARSYNC_ACTION_REF": tag},
			want:     map[string]string{"installed": "true", "version": tag},
			wantPath: true,
			wantReqs: []string{"/v1.2.3/" + sums, "/v1.2.3/arsync_1.2.3_linux_amd64.tar.gz"},
		},
		{
			name: "good: macOS arm64", files: good,
			env:      map[string]string{"ARSYNC_ACTION_REF": tag, "RUNNER_OS": "macOS", "RUNNER_ARCH": "ARM64"},
			want:     map[string]string{"installed": "true", "version": tag},
			wantPath: true,
			wantReqs: []string{"/v1.2.3/" + sums, "/v1.2.3/arsync_1.2.3_darwin_arm64.tar.gz"},
		},
		{
			name: "good: Windows x64, a zip", files: good, needs: "unzip",
			env:      map[string]string{"ARSYNC_ACTION_REF": tag, "RUNNER_OS": "Windows"},
			want:     map[string]string{"installed": "true", "version": tag},
			wantPath: true,
			wantReqs: []string{"/v1.2.3/" + sums, "/v1.2.3/arsync_1.2.3_windows_amd64.zip"},
		},
		{
			name: "good: the version input wins over the ref", files: good,
			env:      map[string]string{"ARSYNC_ACTION_REF": "0123456789abcdef0123456789abcdef01234567", "ARSYNC_VERSION": tag},
			want:     map[string]string{"installed": "true", "version": tag},
			wantPath: true,
			wantReqs: []string{"/v1.2.3/" + sums, "/v1.2.3/arsync_1.2.3_linux_amd64.tar.gz"},
		},
		{
			name: "good: upper-case hex, binary-mode names", files: upper,
			env:      map[string]string{"ARSYNC_ACTION_REF": tag},
			want:     map[string]string{"installed": "true", "version": tag},
			wantPath: true,
			wantReqs: []string{"/v1.2.3/" + sums, "/v1.2.3/arsync_1.2.3_linux_amd64.tar.gz"},
		},
		{
			name: "checksum mismatch fails, no fallback", files: tampered,
			env:      map[string]string{"ARSYNC_ACTION_REF": tag},
			wantErr:  "checksum mismatch for arsync_1.2.3_linux_amd64.tar.gz of release v1.2.3",
			want:     map[string]string{},
			wantReqs: []string{"/v1.2.3/" + sums, "/v1.2.3/arsync_1.2.3_linux_amd64.tar.gz"},
		},
		{
			name: "missing checksum entry fails before downloading", files: noEntry,
			env:      map[string]string{"ARSYNC_ACTION_REF": tag},
			wantErr:  "has 0 entries for arsync_1.2.3_linux_amd64.tar.gz, not one: refusing to install an unverified binary",
			want:     map[string]string{},
			wantReqs: []string{"/v1.2.3/" + sums},
		},
		{
			name: "a release without this archive fails", files: noArchive,
			env:      map[string]string{"ARSYNC_ACTION_REF": tag},
			wantErr:  "arsync_1.2.3_linux_amd64.tar.gz: HTTP 404",
			want:     map[string]string{},
			wantReqs: []string{"/v1.2.3/" + sums, "/v1.2.3/arsync_1.2.3_linux_amd64.tar.gz"},
		},
		{
			name: "a server error fails, no fallback", files: good,
			status:   map[string]int{"/v1.2.3/" + sums: http.StatusBadGateway},
			env:      map[string]string{"ARSYNC_ACTION_REF": tag},
			wantErr:  "HTTP 502",
			want:     map[string]string{},
			wantReqs: []string{"/v1.2.3/" + sums},
		},
		{
			name:     "no release for the tag: fallback",
			env:      map[string]string{"ARSYNC_ACTION_REF": "v9.9.9"},
			want:     map[string]string{"installed": "false"},
			wantReqs: []string{"/v9.9.9/arsync_9.9.9_checksums.txt"},
		},
		{
			name: "a branch: fallback without asking", files: good,
			env:  map[string]string{"ARSYNC_ACTION_REF": "main"},
			want: map[string]string{"installed": "false"},
		},
		{
			name: "a commit: fallback without asking", files: good,
			env:  map[string]string{"ARSYNC_ACTION_REF": "0123456789abcdef0123456789abcdef01234567"},
			want: map[string]string{"installed": "false"},
		},
		{
			name: "a local action (no ref): fallback", files: good,
			want: map[string]string{"installed": "false"},
		},
		{
			name: "an unsupported runner: fallback", files: good,
			env:  map[string]string{"ARSYNC_ACTION_REF": tag, "RUNNER_ARCH": "X86"},
			want: map[string]string{"installed": "false"},
		},
		{
			name: "a version input that is not a tag fails", files: good,
			env:     map[string]string{"ARSYNC_VERSION": "v1.2.3/../../evil"},
			wantErr: "the version input must be a release tag such as v1.2.3",
			want:    map[string]string{},
		},
	}
	// Every failure's message is quoted in the Action's page.
	page, err := os.ReadFile(filepath.Join(root, "docs", "github-action.md"))
	require.NoError(t, err)
	for _, tt := range tests {
		if tt.wantErr != "" {
			require.Contains(t, string(page), tt.wantErr, "docs/github-action.md#how-arsync-is-installed quotes each failure (%s)", tt.name)
		}
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needs != "" {
				if _, err := exec.LookPath(tt.needs); err != nil {
					t.Skipf("%s is not installed", tt.needs)
				}
			}
			fake := &fakeRelease{files: map[string]map[string][]byte{tag: tt.files}, status: tt.status}
			srv := httptest.NewServer(fake)
			defer srv.Close()

			r := runInstaller(t, srv.URL, tt.env)

			if tt.wantErr != "" {
				require.Error(t, r.err, r.stderr)
				require.Contains(t, r.stderr, "::error title=arsync install::")
				require.Contains(t, r.stderr, tt.wantErr)
			} else {
				require.NoError(t, r.err, r.stderr)
			}
			if diff := cmp.Diff(tt.want, r.outputs); diff != "" {
				t.Errorf("$GITHUB_OUTPUT (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantReqs, fake.paths()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if !tt.wantPath {
				require.Empty(t, r.path, "nothing may be put on PATH")
				return
			}
			require.Len(t, r.path, 1)
			exe := "arsync"
			if tt.env["RUNNER_OS"] == "Windows" {
				exe = "arsync.exe"
			}
			got, err := os.ReadFile(filepath.Join(r.path[0], exe))
			require.NoError(t, err)
			require.Equal(t, string(fakeBinary(tag)), string(got), "the verified binary is the one installed")
			require.Contains(t, r.stderr, "arsync "+tag+" (fake)", "the installer ran arsync version")
		})
	}
}

// TestInstallerAgainstSnapshot runs the installer against the archives and
// checksums file of a real GoReleaser snapshot, when ARSYNC_SNAPSHOT_DIST
// names its dist/ directory (.ci/run sets it after building one): the
// names GoReleaser gives and the names the installer asks for must agree,
// and the installed binary must be the release build for this machine.
func TestInstallerAgainstSnapshot(t *testing.T) {
	dist := os.Getenv("ARSYNC_SNAPSHOT_DIST")
	if dist == "" {
		t.Skip("ARSYNC_SNAPSHOT_DIST is not set (.ci/run sets it after goreleaser release --snapshot)")
	}
	runnerOS := map[string]string{"linux": "Linux", "darwin": "macOS"}[runtime.GOOS]
	runnerArch := map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH]
	if runnerOS == "" || runnerArch == "" {
		t.Skipf("no runner like %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	sums, err := filepath.Glob(filepath.Join(dist, "arsync_*_checksums.txt"))
	require.NoError(t, err)
	require.Len(t, sums, 1, "one checksums file in %s", dist)
	version := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(sums[0]), "arsync_"), "_checksums.txt")
	tag := "v" + version

	files := map[string][]byte{}
	entries, err := os.ReadDir(dist)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Type().IsRegular() {
			data, err := os.ReadFile(filepath.Join(dist, e.Name()))
			require.NoError(t, err)
			files[e.Name()] = data
		}
	}
	fake := &fakeRelease{files: map[string]map[string][]byte{tag: files}}
	srv := httptest.NewServer(fake)
	defer srv.Close()

	r := runInstaller(t, srv.URL, map[string]string{"ARSYNC_VERSION": tag, "RUNNER_OS": runnerOS, "RUNNER_ARCH": runnerArch})
	require.NoError(t, r.err, r.stderr)
	require.Equal(t, map[string]string{"installed": "true", "version": tag}, r.outputs)
	require.Len(t, r.path, 1)

	out, err := exec.Command(filepath.Join(r.path[0], "arsync"), "version").Output()
	require.NoError(t, err)
	// GoReleaser reads no git state (commit "none") in a checkout without
	// a remote, such as a git worktree.
	commit := `[0-9a-f]{40}`
	if os.Getenv("ARSYNC_SNAPSHOT_NO_REMOTE") != "" {
		commit = `none`
	}
	require.Regexp(t, `^arsync `+regexp.QuoteMeta(tag)+`\n  commit: `+commit+`\n  date:   \d{4}-\d\d-\d\dT`, string(out))
}
