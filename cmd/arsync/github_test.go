package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/arsync/arsync/internal/ghcomment"
	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/graph"
)

// fakeIssueComments is GitHub's issue-comments API for one pull request,
// just enough for `arsync github comment`.
type fakeIssueComments struct {
	mu     sync.Mutex
	bodies []string
	writes []string
}

func (f *fakeIssueComments) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer ghs_test" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	type comment struct {
		ID      int64  `json:"id"`
		Body    string `json:"body"`
		HTMLURL string `json:"html_url"`
	}
	url := func(i int) string {
		return fmt.Sprintf("https://github.com/contoso/reviews/pull/12#issuecomment-%d", i+1)
	}
	var in struct{ Body string }
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/repos/contoso/reviews/issues/12/comments":
		var list []comment
		for i, b := range f.bodies {
			list = append(list, comment{int64(i + 1), b, url(i)})
		}
		_ = json.NewEncoder(w).Encode(list)
	case r.Method == http.MethodPost && r.URL.Path == "/repos/contoso/reviews/issues/12/comments":
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.bodies = append(f.bodies, in.Body)
		f.writes = append(f.writes, "POST")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(comment{int64(len(f.bodies)), in.Body, url(len(f.bodies) - 1)})
	case r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/repos/contoso/reviews/issues/comments/"):
		var id int
		fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/repos/contoso/reviews/issues/comments/"), &id)
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.bodies[id-1] = in.Body
		f.writes = append(f.writes, "PATCH")
		_ = json.NewEncoder(w).Encode(comment{int64(id), in.Body, url(id - 1)})
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"Not Found"}`))
	}
}

// githubEnv sets the variables a pull_request job has, against api.
func githubEnv(t *testing.T, api, event string) (summary string) {
	t.Helper()
	dir := t.TempDir()
	eventFile := filepath.Join(dir, "event.json")
	require.NoError(t, os.WriteFile(eventFile, []byte(event), 0o644))
	summary = filepath.Join(dir, "summary.md")
	for k, v := range map[string]string{
		"GITHUB_TOKEN": "ghs_test", "GITHUB_API_URL": api, "GITHUB_REPOSITORY": "contoso/reviews",
		"GITHUB_EVENT_PATH": eventFile, "GITHUB_EVENT_NAME": "pull_request", "GITHUB_SHA": "merge",
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "99", "GITHUB_STEP_SUMMARY": summary,
	} {
		t.Setenv(k, v)
	}
	return summary
}

const prEvent = `{"number":12,"pull_request":{"number":12,"head":{"sha":"0123456789abcdef"}}}`

func writePlan(t *testing.T, p *diff.Plan) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, diff.RenderJSON(&b, p))
	path := filepath.Join(t.TempDir(), "plan.json")
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	return path
}

func onePlan() *diff.Plan {
	return &diff.Plan{
		FormatVersion: diff.FormatVersion, TenantID: "contoso.onmicrosoft.com", GraphEndpoint: "https://graph.microsoft.com/v1.0",
		CreatedAt: "2026-11-23T15:04:05Z",
		Changes: []diff.Change{{
			Action: diff.Update, Name: "guests", ID: "11111111-0000-0000-0000-000000000001", DisplayName: "Guests",
			Source: "reviews/guests.yaml:1", LiveFingerprint: "sha256:00",
			Fields: []diff.FieldChange{{Path: "settings.instanceDurationInDays", Before: 3.0, After: 7.0}},
			Before: &graph.Definition{ID: "11111111-0000-0000-0000-000000000001", DisplayName: "Guests"},
			After:  &graph.Definition{ID: "11111111-0000-0000-0000-000000000001", DisplayName: "Guests"},
		}},
		Summary: diff.Summary{Update: 1},
	}
}

func TestGitHubCommentPlan(t *testing.T) {
	gh := &fakeIssueComments{}
	srv := httptest.NewServer(gh)
	defer srv.Close()
	summary := githubEnv(t, srv.URL, prEvent)
	plan := writePlan(t, onePlan())

	code, stdout, stderr := runArsync(t, "github", "comment", "--plan", plan, "--step-summary")
	require.Equal(t, exitOK, code, stderr)
	require.Empty(t, stdout)
	require.Equal(t, "plan comment created: https://github.com/contoso/reviews/pull/12#issuecomment-1\n", stderr)
	require.Len(t, gh.bodies, 1)
	body := gh.bodies[0]
	require.True(t, strings.HasPrefix(body, ghcomment.Marker("contoso.onmicrosoft.com")+"\n"), "keyed by the plan's tenant")
	require.Contains(t, body, "<code>settings.instanceDurationInDays</code>")
	require.Contains(t, body, "commit <code>0123456789ab</code>", "the head commit, not the merge commit")
	require.Contains(t, body, `<a href="https://github.com/contoso/reviews/actions/runs/99">workflow run</a>`)
	s, err := os.ReadFile(summary)
	require.NoError(t, err)
	require.Equal(t, body+"\n", string(s))

	// The next push edits the comment; the same plan writes nothing.
	p := onePlan()
	p.Changes[0].Fields[0].After = 14.0
	code, _, stderr = runArsync(t, "github", "comment", "--plan", writePlan(t, p))
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, "plan comment updated: https://github.com/contoso/reviews/pull/12#issuecomment-1\n", stderr)
	code, _, stderr = runArsync(t, "github", "comment", "--plan", writePlan(t, p))
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, stderr, "plan comment unchanged")
	require.Equal(t, []string{"POST", "PATCH"}, gh.writes)
	require.Len(t, gh.bodies, 1)
}

func TestGitHubCommentFailed(t *testing.T) {
	gh := &fakeIssueComments{}
	srv := httptest.NewServer(gh)
	defer srv.Close()
	githubEnv(t, srv.URL, prEvent)
	log := filepath.Join(t.TempDir(), "plan.log")
	require.NoError(t, os.WriteFile(log, []byte("reviews/a.yaml:3:1: apiVersion is missing\n1 file: 1 error\n"), 0o644))

	code, _, stderr := runArsync(t, "github", "comment", "--failed", log, "--tenant-id", "8f1e2a3b-0000-4000-8000-000000000001")
	require.Equal(t, exitOK, code, stderr)
	require.Len(t, gh.bodies, 1)
	require.True(t, strings.HasPrefix(gh.bodies[0], ghcomment.Marker("8f1e2a3b-0000-4000-8000-000000000001")+"\n"))
	require.Contains(t, gh.bodies[0], "reviews/a.yaml:3:1: apiVersion is missing")
	require.Contains(t, gh.bodies[0], "failed")
}

func TestGitHubCommentDryRun(t *testing.T) {
	t.Setenv("GITHUB_TOKEN", "")
	t.Setenv("GITHUB_EVENT_PATH", "")
	code, stdout, stderr := runArsync(t, "github", "comment", "--plan", writePlan(t, onePlan()), "--key", "prod", "--dry-run")
	require.Equal(t, exitOK, code, stderr)
	digest, err := onePlan().DigestChanges()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(stdout, ghcomment.Marker("prod")+"\n"+ghcomment.DigestLine(digest)+"\n### arsync plan for <code>prod</code>\n"), stdout)
}

func TestGitHubCommentErrors(t *testing.T) {
	dir := t.TempDir()
	push := filepath.Join(dir, "push.json")
	require.NoError(t, os.WriteFile(push, []byte(`{"ref":"refs/heads/main"}`), 0o644))
	notPlan := filepath.Join(dir, "plan.json")
	require.NoError(t, os.WriteFile(notPlan, []byte(`{"formatVersion": 9}`), 0o644))
	plan := writePlan(t, onePlan())
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"neither", nil, nil, "Error: at least one of the flags in the group [plan failed] is required\n"},
		{"both", nil, []string{"--plan", plan, "--failed", plan}, "Error: if any flags in the group [plan failed] are set none of the others can be; [failed plan] were all set\n"},
		{"no token", map[string]string{"GITHUB_TOKEN": ""}, []string{"--plan", plan},
			"Error: GITHUB_TOKEN is not set; pass the workflow's token (env: GITHUB_TOKEN: ${{ github.token }}) or use --dry-run\n"},
		{"no repository", map[string]string{"GITHUB_REPOSITORY": ""}, []string{"--plan", plan},
			"Error: no repository: GITHUB_REPOSITORY is not set; pass --repo owner/name\n"},
		{"push event", map[string]string{"GITHUB_EVENT_PATH": push, "GITHUB_EVENT_NAME": "push"}, []string{"--plan", plan},
			"Error: no pull request: the push event has none; pass --pr NUMBER, or run on pull_request\n"},
		{"missing plan", nil, []string{"--plan", filepath.Join(dir, "nope.json")}, "Error: reading the saved plan: open " + filepath.Join(dir, "nope.json") + ": no such file or directory\n"},
		{"unreadable plan", nil, []string{"--plan", notPlan}, "Error: " + notPlan + ": "},
		{"missing log", nil, []string{"--failed", filepath.Join(dir, "nope.log")}, "Error: reading the log of the failed plan: open " + filepath.Join(dir, "nope.log") + ": no such file or directory\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			githubEnv(t, "http://127.0.0.1:1", prEvent)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := runArsync(t, append([]string{"github", "comment"}, tc.args...)...)
			require.Equal(t, exitError, code)
			require.Empty(t, stdout)
			require.True(t, strings.HasPrefix(stderr, tc.want), "stderr: %q", stderr)
		})
	}
}

func TestGitHubAnnotate(t *testing.T) {
	log := "reviews/a.yaml:3:1: apiVersion is missing\n1 file: 1 error\n"
	path := filepath.Join(t.TempDir(), "v.log")
	require.NoError(t, os.WriteFile(path, []byte(log), 0o644))
	want := "::error file=tenants/prod/reviews/a.yaml,line=3,col=1,title=arsync::apiVersion is missing\n"

	code, stdout, stderr := runArsync(t, "github", "annotate", "--dir", "tenants/prod", path)
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, want, stdout)

	var out, errOut bytes.Buffer
	code = Main(t.Context(), []string{"github", "annotate", "--dir", "tenants/prod", "-"}, strings.NewReader(log), &out, &errOut)
	require.Equal(t, exitOK, code, errOut.String())
	require.Equal(t, want, out.String())

	code, _, stderr = runArsync(t, "github", "annotate", filepath.Join(t.TempDir(), "nope"))
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, "Error: reading the log: ")
}

// --- the composite action ------------------------------------------------

type actionFile struct {
	Inputs  map[string]struct{ Default string } `yaml:"inputs"`
	Outputs map[string]struct{ Value string }   `yaml:"outputs"`
	Runs    struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID   string            `yaml:"id"`
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			Env  map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

func loadAction(t *testing.T) actionFile {
	t.Helper()
	data, err := os.ReadFile("../../action.yml")
	require.NoError(t, err)
	var a actionFile
	require.NoError(t, yaml.Unmarshal(data, &a))
	return a
}

// TestActionDefinition checks action.yml's interface and that no input is
// spliced into a script (GitHub expands ${{ }} before bash runs).
func TestActionDefinition(t *testing.T) {
	a := loadAction(t)
	require.Equal(t, "composite", a.Runs.Using)
	for _, in := range []string{"command", "paths", "working-directory", "config", "tenant-id", "client-id", "cloud", "auth", "comment", "comment-key", "args", "github-token", "require-reviewed-plan"} {
		require.Contains(t, a.Inputs, in)
	}
	require.Equal(t, "github-oidc", a.Inputs["auth"].Default)
	require.Equal(t, "auto", a.Inputs["command"].Default)
	require.Equal(t, "false", a.Inputs["require-reviewed-plan"].Default)
	require.Contains(t, a.Outputs, "has-changes")
	require.Contains(t, a.Outputs, "plan-file")
	for _, s := range a.Runs.Steps {
		require.NotContains(t, s.Run, "${{", "step %q splices an expression into its script", s.ID)
	}
}

// TestActionScript runs the action's main step under bash with a stand-in
// arsync that records its calls, for each kind of event and outcome.
func TestActionScript(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	var script string
	var stepEnv map[string]string
	for _, s := range loadAction(t).Runs.Steps {
		if s.ID == "run" {
			script, stepEnv = s.Run, s.Env
		}
	}
	require.NotEmpty(t, script)

	type scenario struct {
		name     string
		event    string
		inputs   map[string]string
		planExit int
		// savesOnFail: the failed plan still wrote its --out file (a
		// coverage policy failed after planning).
		savesOnFail bool
		// verifyExit and applyExit are github verify-plan's and apply's.
		verifyExit, applyExit int
		wantExit              int
		want                  []string // calls, in order; PLAN and LOG stand for the files
		outputs               string
		summary               string
	}
	scenarios := []scenario{
		{name: "pull request with changes", event: "pull_request", inputs: map[string]string{"tenant-id": "contoso.onmicrosoft.com"}, planExit: 2,
			want: []string{
				"--config arsync.yaml plan --auth github-oidc --tenant-id contoso.onmicrosoft.com --detailed-exitcode --out PLAN",
				"github annotate --dir . LOG",
				"--config arsync.yaml github comment --tenant-id contoso.onmicrosoft.com --plan PLAN --key contoso.onmicrosoft.com --step-summary",
			},
			outputs: "has-changes=true\nplan-file=PLAN\n"},
		{name: "pull request without changes, paths and args", event: "pull_request",
			inputs:   map[string]string{"paths": "reviews more", "args": "--allow-delete", "cloud": "usgov", "working-directory": "tenants/prod"},
			planExit: 0,
			want: []string{
				"--config arsync.yaml plan --auth github-oidc --cloud usgov reviews more --detailed-exitcode --out PLAN --allow-delete",
				"github annotate --dir tenants/prod LOG",
				"--config arsync.yaml github comment --plan PLAN --key tenants/prod --step-summary",
			},
			outputs: "has-changes=false\nplan-file=PLAN\n"},
		{name: "invalid specs fail the check with a comment", event: "pull_request", planExit: 1, wantExit: 1,
			want: []string{
				"--config arsync.yaml plan --auth github-oidc --detailed-exitcode --out PLAN",
				"github annotate --dir . LOG",
				"--config arsync.yaml github comment --failed LOG --step-summary",
			}},
		{name: "a plan refused by the coverage policy posts the plan", event: "pull_request", planExit: 1, savesOnFail: true, wantExit: 1,
			want: []string{
				"--config arsync.yaml plan --auth github-oidc --detailed-exitcode --out PLAN",
				"github annotate --dir . LOG",
				"--config arsync.yaml github comment --plan PLAN --step-summary",
			}},
		{name: "comments off", event: "pull_request", inputs: map[string]string{"comment": "false"}, planExit: 2,
			want: []string{
				"--config arsync.yaml plan --auth github-oidc --detailed-exitcode --out PLAN",
				"github annotate --dir . LOG",
				"--config arsync.yaml github comment --plan PLAN --dry-run",
			},
			outputs: "has-changes=true\nplan-file=PLAN\n", summary: "dry-run comment\n"},
		{name: "push without changes applies nothing", event: "push",
			want: []string{
				"--config arsync.yaml plan --auth github-oidc --detailed-exitcode --out PLAN",
				"github annotate --dir . LOG",
			},
			summary: "### arsync apply\n\n```text\nreviews/a.yaml:1:1: a problem\n```\n"},
		{name: "push plans, checks the reviewed plan and applies the saved plan", event: "push", planExit: 2,
			inputs: map[string]string{"tenant-id": "contoso.onmicrosoft.com", "args": "--target guests-* --allow-delete --force --target-file=t.txt"},
			want: []string{
				"--config arsync.yaml plan --auth github-oidc --tenant-id contoso.onmicrosoft.com --detailed-exitcode --out PLAN --target guests-* --allow-delete --target-file=t.txt",
				"github annotate --dir . LOG",
				"--config arsync.yaml github verify-plan --plan PLAN --key contoso.onmicrosoft.com",
				"--config arsync.yaml apply --auth github-oidc --tenant-id contoso.onmicrosoft.com --plan PLAN --auto-approve --allow-delete --force",
			},
			summary: "### arsync apply\n\n```text\nreviews/a.yaml:1:1: a problem\nverified\napplied\n```\n"},
		{name: "require-reviewed-plan refuses a plan that was not reviewed", event: "push", planExit: 2, verifyExit: 1, wantExit: 1,
			inputs: map[string]string{"require-reviewed-plan": "true"},
			want: []string{
				"--config arsync.yaml plan --auth github-oidc --detailed-exitcode --out PLAN",
				"github annotate --dir . LOG",
				"--config arsync.yaml github verify-plan --plan PLAN --require",
			},
			summary: "### arsync apply\n\n```text\nreviews/a.yaml:1:1: a problem\nverified\n```\n"},
		{name: "failed apply fails", event: "push", inputs: map[string]string{"auth": "env"}, planExit: 2, applyExit: 1, wantExit: 1,
			want: []string{
				"--config arsync.yaml plan --auth env --detailed-exitcode --out PLAN",
				"github annotate --dir . LOG",
				"--config arsync.yaml github verify-plan --plan PLAN",
				"--config arsync.yaml apply --auth env --plan PLAN --auto-approve",
			},
			summary: "### arsync apply\n\n```text\nreviews/a.yaml:1:1: a problem\nverified\napplied\n```\n"},
		{name: "failed plan on push applies nothing", event: "push", planExit: 1, wantExit: 1,
			want: []string{
				"--config arsync.yaml plan --auth github-oidc --detailed-exitcode --out PLAN",
				"github annotate --dir . LOG",
			},
			summary: "### arsync apply\n\n```text\nreviews/a.yaml:1:1: a problem\n```\n"},
		{name: "scheduled plan posts no comment", event: "schedule", inputs: map[string]string{"command": "plan"}, planExit: 2,
			want: []string{
				"--config arsync.yaml plan --auth github-oidc --detailed-exitcode --out PLAN",
				"github annotate --dir . LOG",
				"--config arsync.yaml github comment --plan PLAN --dry-run",
			},
			outputs: "has-changes=true\nplan-file=PLAN\n", summary: "dry-run comment\n"},
		{name: "bad command", event: "push", inputs: map[string]string{"command": "destroy"}, wantExit: 1},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "bin")
			require.NoError(t, os.Mkdir(bin, 0o755))
			calls := filepath.Join(dir, "calls")
			// The stand-in: records its arguments; plan writes its --out
			// file and exits as told; apply prints a line.
			stub := `#!/usr/bin/env bash
printf '%s\n' "$*" >>"$FAKE_CALLS"
args=" $* "
case "$args" in
*" github comment "*) case "$args" in *" --dry-run "*) echo "dry-run comment" ;; esac; exit 0 ;;
*" github annotate "*) exit 0 ;;
*" github verify-plan "*) echo verified; exit "$FAKE_VERIFY_EXIT" ;;
*" plan "*)
  if [ "$FAKE_EXIT" != 1 ] || [ -n "$FAKE_SAVE_ON_FAIL" ]; then
    while [ $# -gt 0 ]; do if [ "$1" = --out ]; then echo '{}' >"$2"; fi; shift; done
  fi
  echo "reviews/a.yaml:1:1: a problem" >&2
  exit "$FAKE_EXIT" ;;
*" apply "*) echo applied; exit "$FAKE_APPLY_EXIT" ;;
esac
exit 99
`
			require.NoError(t, os.WriteFile(filepath.Join(bin, "arsync"), []byte(stub), 0o755))
			work := filepath.Join(dir, "work")
			require.NoError(t, os.Mkdir(work, 0o755))
			output, summary := filepath.Join(dir, "output"), filepath.Join(dir, "summary")

			inputs := map[string]string{}
			for k, v := range loadAction(t).Inputs {
				inputs[k] = v.Default
			}
			inputs["github-token"] = "ghs_test"
			for k, v := range sc.inputs {
				inputs[k] = v
			}
			env := []string{
				"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
				"GITHUB_EVENT_NAME=" + sc.event, "GITHUB_OUTPUT=" + output, "GITHUB_STEP_SUMMARY=" + summary,
				"RUNNER_TEMP=" + dir, "FAKE_CALLS=" + calls, fmt.Sprintf("FAKE_EXIT=%d", sc.planExit),
				fmt.Sprintf("FAKE_VERIFY_EXIT=%d", sc.verifyExit), fmt.Sprintf("FAKE_APPLY_EXIT=%d", sc.applyExit),
			}
			if sc.savesOnFail {
				env = append(env, "FAKE_SAVE_ON_FAIL=1")
			}
			// The step's env, with ${{ inputs.x }} as GitHub expands it.
			for k, v := range stepEnv {
				if name, ok := strings.CutPrefix(v, "${{ inputs."); ok {
					v = inputs[strings.TrimSuffix(name, " }}")]
				}
				env = append(env, k+"="+v)
			}
			// As GitHub runs a bash step: bash --noprofile --norc -eo pipefail.
			cmd := exec.Command(bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
			cmd.Dir = work
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			exit := 0
			if ee, ok := err.(*exec.ExitError); ok {
				exit = ee.ExitCode()
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, sc.wantExit, exit, "output:\n%s", out)

			got := readLines(t, calls)
			// Every call is one the real arsync accepts: each flag on a
			// command that has it.
			for _, c := range got {
				root := newRootCmd(offlineFactory(t))
				cmd, rest, err := root.Find(strings.Fields(c))
				require.NoError(t, err, c)
				require.NoError(t, cmd.ParseFlags(rest), c)
			}
			plan, log := "", ""
			for _, c := range got {
				if i := strings.Index(c, "--out "); i >= 0 {
					plan = strings.Fields(c[i:])[1]
				}
				if i := strings.Index(c, "github annotate --dir "); i >= 0 {
					log = strings.Fields(c[i:])[4]
				}
			}
			for i := range got {
				if plan != "" {
					got[i] = strings.ReplaceAll(got[i], plan, "PLAN")
				}
				if log != "" {
					got[i] = strings.ReplaceAll(got[i], log, "LOG")
				}
			}
			require.Equal(t, sc.want, got, "output:\n%s", out)
			if len(sc.want) > 0 && strings.Contains(sc.want[0], " plan ") {
				require.Contains(t, string(out), "reviews/a.yaml:1:1: a problem", "arsync's messages reach the job log")
			}
			outputs, _ := os.ReadFile(output)
			if plan != "" {
				outputs = bytes.ReplaceAll(outputs, []byte(plan), []byte("PLAN"))
			}
			require.Equal(t, sc.outputs, string(outputs))
			s, _ := os.ReadFile(summary)
			require.Equal(t, sc.summary, string(s))
		})
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}
