package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// runArsync runs the CLI in-process and returns its exit code and output.
func runArsync(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(t.Context(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestValidateExamples(t *testing.T) {
	code, stdout, stderr := runArsync(t, "validate", "../../examples/reviews")
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, "7 files, 8 definitions: valid\n", stdout)
	require.Empty(t, stderr)
}

// TestValidateInvalidTable runs validate on every file of pkg/spec's invalid
// table: each exits 1 and prints its expected file:line:col messages.
func TestValidateInvalidTable(t *testing.T) {
	const dir = "../../pkg/spec/testdata/invalid"
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 30)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			golden, err := os.ReadFile(strings.TrimSuffix(file, ".yaml") + ".golden")
			require.NoError(t, err)
			// The goldens name files relative to pkg/spec.
			want := strings.ReplaceAll(string(golden), "testdata/invalid/", dir+"/")

			code, stdout, stderr := runArsync(t, "validate", file)
			require.Equal(t, exitError, code)
			require.Empty(t, stdout)
			require.True(t, strings.HasPrefix(stderr, want), "stderr:\n%s\nwant it to start with:\n%s", stderr, want)
			lines := strings.Count(want, "\n")
			require.Regexp(t, `^1 file: \d+ errors?\n$`, strings.Join(strings.SplitAfter(stderr, "\n")[lines:], ""))
		})
	}
}

func TestValidateWarningsPass(t *testing.T) {
	dir := t.TempDir()
	spec := `apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: risky
spec:
  displayName: Risky
  scope: {query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members}
  settings:
    autoApplyDecisionsEnabled: true
    defaultDecisionEnabled: true
    defaultDecision: Deny
    recurrence:
      range: {type: endDate, startDate: 2026-01-05, endDate: 2026-01-20}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "risky.yaml"), []byte(spec), 0o644))
	code, stdout, stderr := runArsync(t, "validate", dir)
	require.Equal(t, exitOK, code)
	require.Equal(t, "1 file, 1 definition: valid, 1 warning\n", stdout)
	require.Equal(t, filepath.Join(dir, "risky.yaml")+":11:22: warning: spec.settings.autoApplyDecisionsEnabled with defaultDecision Deny removes the access of everyone whose reviewer does not answer\n", stderr)
}

func TestValidateConfig(t *testing.T) {
	dir := t.TempDir()
	examples, err := filepath.Abs("../../examples/reviews")
	require.NoError(t, err)

	t.Run("paths come from the config", func(t *testing.T) {
		cfg := filepath.Join(dir, "arsync.yaml")
		require.NoError(t, os.WriteFile(cfg, []byte("paths: ["+examples+"]\n"), 0o644))
		code, stdout, stderr := runArsync(t, "--config", cfg, "validate")
		require.Equal(t, exitOK, code, stderr)
		require.Equal(t, "7 files, 8 definitions: valid\n", stdout)
	})

	t.Run("an explicit config that is missing is an error", func(t *testing.T) {
		code, _, stderr := runArsync(t, "--config", filepath.Join(dir, "nope.yaml"), "validate", examples)
		require.Equal(t, exitError, code)
		require.Contains(t, stderr, "Error: reading config: open "+filepath.Join(dir, "nope.yaml")+": no such file or directory")
	})

	t.Run("the default config may be missing", func(t *testing.T) {
		// cmd/arsync has no arsync.yaml.
		_, err := os.Stat("arsync.yaml")
		require.ErrorIs(t, err, os.ErrNotExist)
		code, _, stderr := runArsync(t, "validate", examples)
		require.Equal(t, exitOK, code, stderr)
	})

	t.Run("an invalid config is reported with positions", func(t *testing.T) {
		cfg := filepath.Join(dir, "bad.yaml")
		require.NoError(t, os.WriteFile(cfg, []byte("cloud: azure\nallowDelet: true\n"), 0o644))
		code, stdout, stderr := runArsync(t, "--config", cfg, "validate", examples)
		require.Equal(t, exitError, code)
		require.Empty(t, stdout)
		require.Equal(t, cfg+`:1:8: cloud must be one of global, usgov, usgovdod, china, got "azure"`+"\n"+
			cfg+`:2:1: unknown field "allowDelet" in the document; did you mean "allowDelete"?`+"\n", stderr)
	})
}

func TestValidatePaths(t *testing.T) {
	code, _, stderr := runArsync(t, "validate", "no/such/dir")
	require.Equal(t, exitError, code)
	require.Equal(t, "Error: reading specs: stat no/such/dir: no such file or directory\n", stderr)

	empty := t.TempDir()
	code, _, stderr = runArsync(t, "validate", empty)
	require.Equal(t, exitError, code)
	require.Equal(t, "Error: no spec files (*.yaml, *.yml) found in "+empty+"\n", stderr)
}

// TestValidateUntrustedTree is a pull request that adds links to files on
// the runner: validate refuses them by name, and nothing of their content
// reaches its output or the annotations made from it.
func TestValidateUntrustedTree(t *testing.T) {
	if err := os.Symlink("target", filepath.Join(t.TempDir(), "link")); err != nil {
		t.Skipf("symbolic links are not available: %v", err)
	}
	const secret = "SECRET_TOKEN=hunter2-do-not-print-this"
	t.Chdir(t.TempDir())
	require.NoError(t, os.MkdirAll("real", 0o755))
	require.NoError(t, os.MkdirAll("outside", 0o755))
	require.NoError(t, os.WriteFile("outside/creds", []byte(secret+"\n"), 0o644))
	require.NoError(t, os.Symlink("../outside/creds", "real/creds.yaml"))
	require.NoError(t, os.Symlink("real", "reviews"))

	const want = "reviews/creds.yaml:1:1: a symbolic link that does not lead to a file inside reviews; not read (spec files must be inside the directory searched)\n1 file: 1 error\n"
	for _, path := range []string{"reviews", "reviews/"} {
		t.Run(path, func(t *testing.T) {
			code, stdout, stderr := runArsync(t, "validate", path)
			require.Equal(t, exitError, code)
			require.Empty(t, stdout)
			require.Equal(t, want, stderr)

			var out, errOut bytes.Buffer
			code = Main(t.Context(), []string{"github", "annotate", "-"}, strings.NewReader(stderr), &out, &errOut)
			require.Equal(t, exitOK, code, errOut.String())
			require.Equal(t, "::error file=reviews/creds.yaml,line=1,col=1,title=arsync::a symbolic link that does not lead to a file inside reviews; not read (spec files must be inside the directory searched)\n", out.String())
			require.NotContains(t, out.String()+errOut.String(), "SECRET")
		})
	}
}
