package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

const root = "../.."

type step struct {
	ID               string            `yaml:"id"`
	Name             string            `yaml:"name"`
	If               string            `yaml:"if"`
	Uses             string            `yaml:"uses"`
	Run              string            `yaml:"run"`
	Shell            string            `yaml:"shell"`
	WorkingDirectory string            `yaml:"working-directory"`
	Env              map[string]string `yaml:"env"`
	With             map[string]string `yaml:"with"`
}

type action struct {
	Inputs map[string]any `yaml:"inputs"`
	Runs   struct {
		Using string `yaml:"using"`
		Steps []step `yaml:"steps"`
	} `yaml:"runs"`
}

func loadAction(t *testing.T) action {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "action.yml"))
	require.NoError(t, err)
	var a action
	require.NoError(t, yaml.Unmarshal(data, &a))
	return a
}

// TestActionInstallsTheReleaseFirst checks how action.yml wires the
// installer: it runs first with the ref and repository through env (the
// only way they reach a composite action's script), and Go is set up and
// arsync built only when the installer said the ref has no release.
func TestActionInstallsTheReleaseFirst(t *testing.T) {
	a := loadAction(t)
	require.Equal(t, "composite", a.Runs.Using)
	steps := a.Runs.Steps
	require.GreaterOrEqual(t, len(steps), 3)

	install := steps[0]
	require.Equal(t, "install", install.ID)
	require.Equal(t, "bash", install.Shell)
	require.Equal(t, "${{ github.action_path }}", install.WorkingDirectory)
	require.Equal(t, "bash internal/release/action-install.sh", strings.TrimSpace(install.Run))
	require.FileExists(t, "action-install.sh")
	require.Equal(t, map[string]string{
		"ARSYNC_VERSION":           "${{ inputs.version }}",
		"ARSYNC_ACTION_REF":        "${{ github.action_ref }}",
		"ARSYNC_ACTION_REPOSITORY": "${{ github.action_repository }}",
	}, install.Env)
	require.Contains(t, a.Inputs, "version")

	var fromSource []string
	for _, s := range steps[1:] {
		if strings.HasPrefix(s.Uses, "actions/setup-go@") || strings.Contains(s.Run, "go build") {
			require.Equal(t, "steps.install.outputs.installed != 'true'", s.If, "step %q must run only without a release", s.Name)
			fromSource = append(fromSource, s.Name)
		}
	}
	require.Len(t, fromSource, 2, "setting up Go and building")
}

// TestActionScriptsParse runs bash -n (and shellcheck, when installed) over
// the installer and every script in action.yml: actionlint checks the
// workflows that use the action, not the action's own scripts.
func TestActionScriptsParse(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	dir := t.TempDir()
	files := []string{"action-install.sh"}
	for i, s := range loadAction(t).Runs.Steps {
		if s.Run == "" {
			continue
		}
		require.Equal(t, "bash", s.Shell, "step %d", i)
		f := filepath.Join(dir, "step-"+s.ID+"-"+string(rune('a'+i))+".sh")
		require.NoError(t, os.WriteFile(f, []byte("#!/usr/bin/env bash\n"+s.Run), 0o644))
		files = append(files, f)
	}
	for _, f := range files {
		out, err := exec.Command("bash", "-n", f).CombinedOutput()
		require.NoError(t, err, "bash -n %s: %s", f, out)
	}
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Log("shellcheck is not installed: only bash -n")
		return
	}
	out, err := exec.Command("shellcheck", append([]string{"--shell=bash", "--severity=warning"}, files...)...).CombinedOutput()
	require.NoError(t, err, "shellcheck:\n%s", out)
}

// TestExampleWorkflowsUseKnownInputs checks every "uses: arsync/arsync@..."
// step of the example workflows against action.yml's inputs. actionlint
// checks a local action's inputs (uses: ./, as in
// .github/workflows/action-check.yml) but cannot read a remote one's.
func TestExampleWorkflowsUseKnownInputs(t *testing.T) {
	inputs := loadAction(t).Inputs
	files, err := filepath.Glob(filepath.Join(root, "examples", "github", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	uses := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var wf struct {
			Jobs map[string]struct {
				Steps []step `yaml:"steps"`
			} `yaml:"jobs"`
		}
		require.NoError(t, yaml.Unmarshal(data, &wf), f)
		for job, j := range wf.Jobs {
			for _, s := range j.Steps {
				if !strings.HasPrefix(s.Uses, "arsync/arsync@") {
					continue
				}
				uses++
				var unknown []string
				for k := range s.With {
					if _, ok := inputs[k]; !ok {
						unknown = append(unknown, k)
					}
				}
				sort.Strings(unknown)
				require.Empty(t, unknown, "%s: job %s passes inputs action.yml does not have", filepath.Base(f), job)
			}
		}
	}
	require.Positive(t, uses, "the examples use the action")
}
