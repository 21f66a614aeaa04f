package main

// The messages quoted in docs/troubleshooting.md (and a few in
// docs/safety.md and docs/auth.md) are real: this file runs the scenarios
// that produce them and checks that every line it selects from arsync's
// output appears in the page, once ids, timestamps, durations and ports
// (which change from run to run) are masked on both sides. When a message
// changes, the test names the page and the line to update.
//
// Run with -v to see each scenario's whole output, e.g. to paste it.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/diff"
	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
)

// docPages are the pages whose quoted messages this test keeps true.
var docPages = map[string]string{
	"troubleshooting": "../../docs/troubleshooting.md",
	"safety":          "../../docs/safety.md",
	"auth":            "../../docs/auth.md",
}

// docVolatile masks what differs between runs: object and request ids,
// timestamps, loopback ports, durations, digests and process ids.
var docVolatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`), "<id>"},
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?`), "<time>"},
	{regexp.MustCompile(`(127\.0\.0\.1|localhost):\d+`), "$1:<port>"},
	{regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|ms|s|m|h)(\d+(\.\d+)?(ms|s))*\b`), "<dur>"},
	{regexp.MustCompile(`sha256:[0-9a-f]{64}`), "sha256:<digest>"},
	{regexp.MustCompile(`\bpid \d+`), "pid <pid>"},
}

func docMask(s string) string {
	for _, v := range docVolatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

// docEnv clears every variable that could make arsync sign in some other
// way, then sets env.
func docEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range []string{
		graphclient.EnvAccessToken, graphclient.EnvTenantID, graphclient.EnvClientID,
		graphclient.EnvClientSecret, graphclient.EnvClientCertPath, graphclient.EnvClientCertPassword,
		graphclient.EnvFederatedTokenFile, graphclient.EnvGitHubOIDCRequestURL, graphclient.EnvGitHubOIDCToken,
		"NO_COLOR",
	} {
		t.Setenv(k, "")
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// docRun runs arsync in the current directory and returns its exit code
// and its output, stdout then stderr.
func docRun(t *testing.T, stdin io.Reader, args ...string) (int, string) {
	t.Helper()
	code, out, errOut := docRunSplit(t, stdin, args...)
	return code, out + errOut
}

func docRunSplit(t *testing.T, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, stdin, &out, &errOut)
	t.Logf("$ arsync %s\n%s%s(exit %d)", strings.Join(args, " "), out.String(), errOut.String(), code)
	return code, out.String(), errOut.String()
}

// docWrite writes files (path -> content) under the current directory.
func docWrite(t *testing.T, files map[string]string) {
	t.Helper()
	for p, content := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

// documented checks that every line of out containing one of selectors is
// quoted in the page, and that each selector selects at least one line.
func documented(t *testing.T, page, out string, selectors ...string) {
	t.Helper()
	data, err := os.ReadFile(docPages[page])
	require.NoError(t, err)
	doc := docMask(string(data))
	for _, sel := range selectors {
		n := 0
		for _, line := range strings.Split(out, "\n") {
			if !strings.Contains(line, sel) {
				continue
			}
			n++
			line = strings.TrimRight(line, " ")
			if !strings.Contains(doc, docMask(line)) {
				t.Errorf("docs/%s.md does not quote this line of arsync's output (selected by %q):\n%s", page, sel, line)
			}
		}
		if n == 0 {
			t.Errorf("no line of the output contains %q:\n%s", sel, out)
		}
	}
}

// docReview is a small valid review of the Marketing group's members.
func docReview(name, display, scopeQuery string, days int) string {
	return fmt.Sprintf(`apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: %s
spec:
  displayName: %s
  scope:
    query: %s
  reviewers:
    - user: alice@contoso.com
  settings:
    instanceDurationInDays: %d
    recurrence:
      pattern: {type: absoluteMonthly, interval: 1}
      range: {type: noEnd, startDate: 2026-02-01}
`, name, display, scopeQuery, days)
}

const docMarketingMembers = "/groups/${group:Marketing}/transitiveMembers/microsoft.graph.user"

// docNoRefScope is a scope query that names no directory object by name:
// the Global Administrator role's assignees, by the role's template id.
const docNoRefScope = "/roleManagement/directory/roleDefinitions/62e90394-69f5-4237-9190-012177145e10"

// docEmulator starts a test emulator and points arsync at it through
// ARSYNC_ACCESS_TOKEN (the token issue mints, or the emulator's own when
// issue is nil); it returns the emulator and the --graph-endpoint arguments.
func docEmulator(t *testing.T, opts emulator.Options, issue func(*emulator.Server) (string, error)) (*emulator.Running, []string) {
	t.Helper()
	run := emulatortest.New(t, opts)
	token := run.Token
	if issue != nil {
		var err error
		token, err = issue(run.Server)
		require.NoError(t, err)
	}
	docEnv(t, map[string]string{graphclient.EnvAccessToken: token})
	return run, []string{"--graph-endpoint", run.URL}
}

func TestTroubleshootingMessages(t *testing.T) {
	// The scenarios run in temporary directories: find the pages first.
	for k, p := range docPages {
		abs, err := filepath.Abs(p)
		require.NoError(t, err)
		docPages[k] = abs
	}

	t.Run("spec typo", func(t *testing.T) {
		t.Chdir(t.TempDir())
		docWrite(t, map[string]string{"bad/typo.yaml": `apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: marketing-members
spec:
  displayName: Marketing group membership
  scope:
    query: /groups/${group:Marketing}/transitiveMembers/microsoft.graph.user
  reviewers:
    - user: alice@contoso.com
  settings:
    instanceDurationInDays: 7
    recurence:
      pattern: {type: absoluteMonthly, interval: 1}
      range: {type: noEnd, startDate: 2026-02-01}
`})
		code, out := docRun(t, nil, "validate", "bad")
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "typo.yaml:", "1 file: 1 error")
	})

	t.Run("spec values", func(t *testing.T) {
		t.Chdir(t.TempDir())
		docWrite(t, map[string]string{"bad/many.yaml": `apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: Quarterly_Review
spec:
  displayName: Quarterly review
  id: 1234
  descriptionForReviewers: ok
  scope:
    query: groups/abc/members
  settings:
    defaultDecision: Reject
    instanceDurationInDays: 40
    recommendationLookBackDuration: 30 days
    recurrence:
      pattern: {type: daily, interval: 1}
      range: {type: endDate, startDate: 2026-13-01}
`})
		code, out := docRun(t, nil, "validate", "bad")
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "many.yaml:", "1 file: 8 errors")
	})

	t.Run("spec rules", func(t *testing.T) {
		t.Chdir(t.TempDir())
		docWrite(t, map[string]string{
			"bad/syntax.yaml": "apiVersion: arsync/v1\nkind: AccessReviewDefinition\nmetadata:\n  name: broken\nspec:\n  displayName: \"Broken\n  scope:\n    query: /users\n",
			"bad/rules.yaml": `apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: monthly-too-long
spec:
  displayName: Monthly, too long
  descriptionForAdmins: "Owned by IAM [arsync:other]"
  scope:
    query: ./members
  reviewers:
    - owners: true
      user: alice@contoso.com
  settings:
    instanceDurationInDays: 30
    defaultDecisionEnabled: true
    defaultDecision: Deny
    autoApplyDecisionsEnabled: true
    recurrence:
      pattern: {type: absoluteMonthly, interval: 1}
      range: {type: noEnd, startDate: 2026-02-01}
---
apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: monthly-too-long
spec:
  displayName: Copy
  scope:
    query: /roleManagement/directory/roleDefinitions/62e90394-69f5-4237-9190-012177145e10
  settings:
    recurrence:
      range: {type: noEnd, startDate: 2026-02-01}
---
apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: stages
spec:
  displayName: Stages
  scope:
    query: /roleManagement/directory/roleDefinitions/62e90394-69f5-4237-9190-012177145e10
  settings:
    recurrence:
      pattern: {type: weekly, interval: 2}
      range: {type: noEnd, startDate: 2026-02-01}
  stageSettings:
    - stageId: "1"
      durationInDays: 7
      recommendationsEnabled: true
    - stageId: "3"
      dependsOn: ["1"]
      durationInDays: 10
      recommendationsEnabled: false
      decisionsThatWillMoveToNextStage: [Maybe]
`})
		code, out := docRun(t, nil, "validate", "bad")
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "syntax.yaml:", "rules.yaml:", "2 files: 10 errors, 1 warning")
	})

	t.Run("spec reviewers without fallback", func(t *testing.T) {
		t.Chdir(t.TempDir())
		docWrite(t, map[string]string{
			"reviews/guests.yaml": `apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: guests-m365-quarterly
spec:
  displayName: Guest access to Microsoft 365 groups
  scope:
    query: ./members/microsoft.graph.user/?$filter=(userType eq 'Guest')
  instanceEnumerationScope:
    query: /groups?$filter=(groupTypes/any(c:c eq 'Unified'))
  reviewers:
    - owners: true
  settings:
    instanceDurationInDays: 14
    recurrence:
      pattern: {type: absoluteMonthly, interval: 3}
      range: {type: noEnd, startDate: "2026-01-05"}
`,
			"reviews/payroll.yaml": `apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: payroll-two-stage
spec:
  displayName: Payroll App, two stages
  scope:
    type: principalResourceMemberships
    principalScopes: [{query: /users}]
    resourceScopes: [{query: "/servicePrincipals/${servicePrincipal:Payroll App}"}]
  stageSettings:
    - stageId: "1"
      durationInDays: 7
      recommendationsEnabled: true
      reviewers:
        - managers: true
      fallbackReviewers:
        - user: admin@contoso.com
    - stageId: "2"
      dependsOn: ["1"]
      durationInDays: 7
      recommendationsEnabled: false
      reviewers:
        - query: "/servicePrincipals/${servicePrincipal:Payroll App}/owners"
  settings:
    recurrence:
      pattern: {type: absoluteMonthly, interval: 1}
      range: {type: noEnd, startDate: "2026-01-05"}
`,
		})
		code, out := docRun(t, nil, "validate", "reviews")
		require.Equal(t, exitOK, code, "a warning does not fail validate")
		documented(t, "troubleshooting", out, "guests.yaml:", "payroll.yaml:", "2 files, 2 definitions: valid, 2 warnings")
	})

	t.Run("spec syntax", func(t *testing.T) {
		t.Chdir(t.TempDir())
		head := "apiVersion: arsync/v1\nkind: AccessReviewDefinition\nmetadata:\n  name: %s\nspec:\n  displayName: %s\n"
		rest := "  scope:\n    query: /groups/${group:Marketing}/transitiveMembers/microsoft.graph.user\n" +
			"  reviewers:\n    - user: alice@contoso.com\n  settings:\n    recurrence:\n" +
			"      pattern: {type: absoluteMonthly, interval: 1}\n      range: {type: noEnd, startDate: \"2026-02-01\"}\n"
		docWrite(t, map[string]string{
			"bad/indent.yaml": fmt.Sprintf(head, "indent", "Indent") + strings.Replace(rest, "  reviewers:", "   reviewers:", 1),
			"bad/tab.yaml":    fmt.Sprintf(head, "tab", "Tab") + "\tdescriptionForAdmins: Owned by IAM.\n" + rest,
			"bad/colon.yaml":  fmt.Sprintf(head, "colon", "Colon") + "  descriptionForReviewers: Please: remove guests who left.\n" + rest,
		})
		code, out := docRun(t, nil, "validate", "bad")
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "indent.yaml:", "tab.yaml:", "colon.yaml:", "3 files: 3 errors")
	})

	t.Run("files not read", func(t *testing.T) {
		if err := os.Symlink("target", filepath.Join(t.TempDir(), "link")); err != nil {
			t.Skipf("symbolic links are not available: %v", err)
		}
		// The repository is checked out in repo/; runner/ is elsewhere on
		// the machine.
		t.Chdir(t.TempDir())
		docWrite(t, map[string]string{"runner/creds": "SECRET_TOKEN=hunter2\n"})
		require.NoError(t, os.Mkdir("repo", 0o755))
		t.Chdir("repo")
		docWrite(t, map[string]string{
			"reviews/encoding.yaml": "apiVersion: arsync/v1\nkind: AccessReviewDefinition\nmetadata:\n  name: latin1\nspec:\n  displayName: \"Caf\xe9 access\"\n",
			"reviews/control.yaml":  "apiVersion: arsync/v1\nkind: AccessReviewDefinition\nmetadata:\n  name: pasted\nspec:\n  displayName: Pasted\x0c\n",
		})
		require.NoError(t, os.Symlink("../../runner/creds", "reviews/creds.yaml"))
		big, err := os.Create("reviews/big.yaml")
		require.NoError(t, err)
		require.NoError(t, big.Truncate(17<<20))
		require.NoError(t, big.Close())
		code, out := docRun(t, nil, "validate", "reviews")
		require.Equal(t, exitError, code)
		require.NotContains(t, out, "SECRET")
		documented(t, "troubleshooting", out, "reviews/", "4 files")

		require.NoError(t, os.Symlink("../runner/creds", "arsync.yaml"))
		_, out = docRun(t, nil, "validate", "reviews")
		require.NotContains(t, out, "SECRET")
		documented(t, "troubleshooting", out, "reading config")
	})

	t.Run("no spec files", func(t *testing.T) {
		t.Chdir(t.TempDir())
		require.NoError(t, os.Mkdir("empty", 0o755))
		_, out := docRun(t, nil, "validate", "empty")
		documented(t, "troubleshooting", out, "no spec files")
		_, out = docRun(t, nil, "validate", "nowhere")
		documented(t, "troubleshooting", out, "reading specs")
	})

	t.Run("config", func(t *testing.T) {
		t.Chdir(t.TempDir())
		docWrite(t, map[string]string{
			"arsync.yaml":    "tenantId: contoso.onmicrosoft.com\npath: [reviews]\nclientSecret: abc\nmaxChangePercent: 300\ngraphEndpoint: http://graph.example.com/v1.0\ncloud: gcc\n",
			"reviews/r.yaml": docReview("r", "R", docNoRefScope, 7),
		})
		code, out := docRun(t, nil, "validate", "reviews")
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "arsync.yaml:")
		_, out = docRun(t, nil, "validate", "--config", "nope.yaml", "reviews")
		documented(t, "troubleshooting", out, "reading config")
	})

	t.Run("names", func(t *testing.T) {
		t.Chdir(t.TempDir())
		_, endpoint := docEmulator(t, emulator.Options{Seed: 1}, nil)
		docWrite(t, map[string]string{"bad/names.yaml": `apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: contractors-members
spec:
  displayName: Contractors membership
  scope:
    query: /groups/${group:Contractors}/transitiveMembers/microsoft.graph.user
  reviewers:
    - user: alise@contoso.com
  fallbackReviewers:
    - groupOwners: Markting
  settings:
    instanceDurationInDays: 7
    recurrence:
      pattern: {type: absoluteMonthly, interval: 1}
      range: {type: noEnd, startDate: 2026-02-01}
`})
		code, out := docRun(t, nil, append([]string{"plan", "bad"}, endpoint...)...)
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "names.yaml:")
	})

	t.Run("gates", func(t *testing.T) {
		t.Chdir(t.TempDir())
		_, endpoint := docEmulator(t, emulator.Options{Seed: 1}, nil)
		docWrite(t, map[string]string{
			"reviews/marketing.yaml": docReview("marketing-members-monthly", "Marketing group membership", docMarketingMembers, 7),
			"reviews/admins.yaml":    docReview("global-admins-2026", "Global Administrator assignments, 2026 audit", docNoRefScope, 7),
		})
		code, _ := docRun(t, nil, append([]string{"apply", "--auto-approve", "reviews"}, endpoint...)...)
		require.Equal(t, exitOK, code)

		require.NoError(t, os.Remove("reviews/admins.yaml"))
		docWrite(t, map[string]string{"reviews/marketing.yaml": docReview("marketing-members-monthly", "Marketing group membership",
			"/groups/${group:Marketing}/members/microsoft.graph.user", 7)})
		code, out := docRun(t, nil, append([]string{"apply", "--auto-approve", "reviews"}, endpoint...)...)
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "refusing to delete", "refusing to replace")
		documented(t, "safety", out, "refusing to delete", "refusing to replace")
	})

	t.Run("change limit", func(t *testing.T) {
		t.Chdir(t.TempDir())
		_, endpoint := docEmulator(t, emulator.Options{Seed: 1}, nil)
		for i := 1; i <= 10; i++ {
			docWrite(t, map[string]string{fmt.Sprintf("ten/r%d.yaml", i): docReview(fmt.Sprintf("review-%d", i), fmt.Sprintf("Review %d", i), docMarketingMembers, 7)})
		}
		code, _ := docRun(t, nil, append([]string{"apply", "--auto-approve", "ten"}, endpoint...)...)
		require.Equal(t, exitOK, code)
		for i := 1; i <= 4; i++ {
			docWrite(t, map[string]string{fmt.Sprintf("ten/r%d.yaml", i): docReview(fmt.Sprintf("review-%d", i), fmt.Sprintf("Review %d", i), docMarketingMembers, 8)})
		}
		code, out := docRun(t, nil, append([]string{"apply", "--auto-approve", "ten"}, endpoint...)...)
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "refusing to update, replace or delete")
		documented(t, "safety", out, "refusing to update, replace or delete")
	})

	t.Run("saved plans", func(t *testing.T) {
		t.Chdir(t.TempDir())
		run, endpoint := docEmulator(t, emulator.Options{Seed: 1}, nil)
		docWrite(t, map[string]string{"reviews/sales.yaml": docReview("sales-guests", "Guests in Sales", "/groups/${group:Sales}/transitiveMembers/microsoft.graph.user", 7)})
		code, _ := docRun(t, nil, append([]string{"apply", "--auto-approve", "reviews"}, endpoint...)...)
		require.Equal(t, exitOK, code)

		// Plan a change, then let the tenant move on before applying it.
		docWrite(t, map[string]string{"reviews/sales.yaml": docReview("sales-guests", "Guests in Sales", "/groups/${group:Sales}/transitiveMembers/microsoft.graph.user", 10)})
		code, _ = docRun(t, nil, append([]string{"plan", "--out", "plan.json", "reviews"}, endpoint...)...)
		require.Equal(t, exitOK, code)
		docWrite(t, map[string]string{"reviews/sales.yaml": docReview("sales-guests", "Guests in Sales", "/groups/${group:Sales}/transitiveMembers/microsoft.graph.user", 12)})
		code, _ = docRun(t, nil, append([]string{"apply", "--auto-approve", "reviews"}, endpoint...)...)
		require.Equal(t, exitOK, code)
		code, out := docRun(t, nil, append([]string{"apply", "--plan", "plan.json"}, endpoint...)...)
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "stale plan")

		// The same plan against another endpoint, and in another tenant.
		otherRun, other := docEmulator(t, emulator.Options{Seed: 2}, nil)
		_, out = docRun(t, nil, append([]string{"apply", "--plan", "plan.json"}, other...)...)
		documented(t, "troubleshooting", out, "this plan was made for")
		foreign, err := diff.ReadPlan(strings.NewReader(mustRead(t, "plan.json")))
		require.NoError(t, err)
		foreign.TenantID, foreign.GraphEndpoint = "0b8e6a1c-3f2d-4e5a-9c7b-1d2e3f4a5b6c", otherRun.URL
		var fb bytes.Buffer
		require.NoError(t, diff.RenderJSON(&fb, foreign))
		docWrite(t, map[string]string{"foreign.json": fb.String()})
		_, out = docRun(t, nil, append([]string{"apply", "--plan", "foreign.json"}, other...)...)
		documented(t, "troubleshooting", out, "this plan was made for")
		// A plan made against the in-process emulator, applied elsewhere.
		code, _ = docRun(t, nil, "plan", "--emulator", "--out", "emu.json", "reviews")
		require.Equal(t, exitOK, code)
		_, out = docRun(t, nil, append([]string{"apply", "--plan", "emu.json"}, other...)...)
		documented(t, "troubleshooting", out, "made against the emulator")
		// Back to the first emulator, which accepts only its own tokens.
		docEnv(t, map[string]string{graphclient.EnvAccessToken: run.Token})

		_, out = docRun(t, nil, append([]string{"apply", "--plan", "plan.json", "reviews"}, endpoint...)...)
		documented(t, "troubleshooting", out, "give either --plan")

		var p2 bytes.Buffer
		require.NoError(t, diff.RenderJSON(&p2, &diff.Plan{FormatVersion: 2}))
		docWrite(t, map[string]string{"p2.json": p2.String(), "p3.json": "{"})
		_, out = docRun(t, nil, append([]string{"apply", "--plan", "p2.json"}, endpoint...)...)
		documented(t, "troubleshooting", out, "read plan")
		_, out = docRun(t, nil, append([]string{"apply", "--plan", "p3.json"}, endpoint...)...)
		documented(t, "troubleshooting", out, "read plan")

		// A saved plan edited by hand, and one from before plans had a digest.
		code, _ = docRun(t, nil, append([]string{"plan", "--out", "plan.json", "reviews"}, endpoint...)...)
		require.Equal(t, exitOK, code)
		data, err := os.ReadFile("plan.json")
		require.NoError(t, err)
		edited := strings.Replace(string(data), `"displayName": "Guests in Sales"`, `"displayName": "Guests in Marketing"`, 1)
		require.NotEqual(t, string(data), edited)
		old := regexp.MustCompile(`\s*"digest": "[^"]*",`).ReplaceAllString(string(data), "")
		docWrite(t, map[string]string{"plan.json": edited, "old-plan.json": old})
		code, out = docRun(t, nil, append([]string{"apply", "--plan", "plan.json"}, endpoint...)...)
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "the saved plan was edited")
		documented(t, "safety", out, "the saved plan was edited")
		_, out = docRun(t, nil, append([]string{"apply", "--plan", "old-plan.json"}, endpoint...)...)
		documented(t, "troubleshooting", out, "the saved plan was edited")
	})

	t.Run("a saved plan edited with its digest recomputed", func(t *testing.T) {
		t.Chdir(t.TempDir())
		run, endpoint := docEmulator(t, emulator.Options{Seed: 1}, nil)
		docWrite(t, map[string]string{"reviews/legacy.yaml": docReview("legacy", "Legacy portal review", "/groups/${group:Sales}/transitiveMembers/microsoft.graph.user", 7)})
		code, _ := docRun(t, nil, append([]string{"plan", "--out", "create.json", "reviews"}, endpoint...)...)
		require.Equal(t, exitOK, code)
		// The review exists already, made in the portal: no marker.
		var create diff.Plan
		data, err := os.ReadFile("create.json")
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &create))
		body := create.Changes[0].After
		body.DescriptionForAdmins = graph.StripMarker(body.DescriptionForAdmins)
		_, err = clientFor(t, run).CreateDefinition(context.Background(), body)
		require.NoError(t, err)

		// Its adopt, saved, then turned into a delete by someone who
		// recomputes the digest.
		code, _ = docRun(t, nil, append([]string{"plan", "--out", "plan.json", "reviews"}, endpoint...)...)
		require.Equal(t, exitOK, code)
		var p diff.Plan
		data, err = os.ReadFile("plan.json")
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &p))
		require.Equal(t, diff.Adopt, p.Changes[0].Action)
		p.Changes[0].Action, p.Changes[0].After, p.Summary = diff.Delete, nil, diff.Summary{Delete: 1}
		var b bytes.Buffer
		require.NoError(t, diff.RenderJSON(&b, &p))
		docWrite(t, map[string]string{"plan.json": b.String()})
		code, out := docRun(t, nil, append([]string{"apply", "--allow-delete", "--plan", "plan.json"}, endpoint...)...)
		require.Equal(t, exitError, code)
		documented(t, "safety", out, "stale plan")
		documented(t, "troubleshooting", out, "stale plan")
	})

	t.Run("confirmation and output", func(t *testing.T) {
		t.Chdir(t.TempDir())
		_, endpoint := docEmulator(t, emulator.Options{Seed: 1}, nil)
		docWrite(t, map[string]string{"reviews/r.yaml": docReview("all-users", "All users", docNoRefScope, 7)})
		code, out := docRun(t, nil, append([]string{"apply", "reviews"}, endpoint...)...)
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "refusing to apply without confirmation")
		_, out = docRun(t, nil, append([]string{"plan", "-o", "yaml", "reviews"}, endpoint...)...)
		documented(t, "troubleshooting", out, "unknown output format")
	})

	t.Run("adopt and duplicates", func(t *testing.T) {
		t.Chdir(t.TempDir())
		run, endpoint := docEmulator(t, emulator.Options{Seed: 1}, nil)
		docWrite(t, map[string]string{"one/marketing.yaml": docReview("marketing-members-monthly", "Marketing group membership", docMarketingMembers, 7)})
		code, js, _ := docRunSplit(t, nil, append([]string{"plan", "-o", "json", "one"}, endpoint...)...)
		require.Equal(t, exitOK, code)
		p, err := diff.ReadPlan(strings.NewReader(js))
		require.NoError(t, err)
		body := *p.Changes[0].After
		c, err := graphclient.New(graphclient.Options{BaseURL: run.URL, Credential: graphclient.StaticToken(run.Token)})
		require.NoError(t, err)
		create := func(desc string) {
			b := body
			b.DescriptionForAdmins = desc
			_, err := c.CreateDefinition(context.Background(), &b)
			require.NoError(t, err)
		}

		create("made in the portal")
		create("made in the portal, twice")
		code, out := docRun(t, nil, append([]string{"plan", "one"}, endpoint...)...)
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "cannot adopt")
		documented(t, "safety", out, "cannot adopt")

		run2, endpoint2 := docEmulator(t, emulator.Options{Seed: 3}, nil)
		c, err = graphclient.New(graphclient.Options{BaseURL: run2.URL, Credential: graphclient.StaticToken(run2.Token)})
		require.NoError(t, err)
		create(body.DescriptionForAdmins)
		create(body.DescriptionForAdmins)
		code, out = docRun(t, nil, append([]string{"plan", "one"}, endpoint2...)...)
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "live definitions carry the marker")
		documented(t, "safety", out, "live definitions carry the marker")
	})

	t.Run("unknown outcome", func(t *testing.T) {
		t.Chdir(t.TempDir())
		faults, err := emulator.ParseFaults("commit-then-fail:POST:#1:/identityGovernance")
		require.NoError(t, err)
		_, endpoint := docEmulator(t, emulator.Options{Seed: 1, Faults: faults}, nil)
		docWrite(t, map[string]string{"one/marketing.yaml": docReview("marketing-members-monthly", "Marketing group membership", docMarketingMembers, 7)})
		code, out := docRun(t, nil, append([]string{"apply", "--auto-approve", "one"}, endpoint...)...)
		require.Equal(t, exitOK, code)
		documented(t, "troubleshooting", out, "carries the marker and was adopted")
	})

	t.Run("403 read-only token", func(t *testing.T) {
		t.Chdir(t.TempDir())
		_, endpoint := docEmulator(t, emulator.Options{Seed: 1}, func(s *emulator.Server) (string, error) {
			return s.IssueToken(emulator.TokenOptions{Permissions: []string{emulator.PermissionRead}})
		})
		docWrite(t, map[string]string{
			"reviews/r.yaml":  docReview("all-users", "All users", docNoRefScope, 7),
			"reviews/r2.yaml": docReview("all-users-quarterly", "All users, quarterly", docNoRefScope, 14),
			"reviews/r3.yaml": docReview("all-users-yearly", "All users, yearly", docNoRefScope, 21),
		})
		code, out := docRun(t, nil, append([]string{"apply", "--auto-approve", "reviews"}, endpoint...)...)
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "the sign-in cannot apply")
		code, out = docRun(t, nil, append([]string{"auth", "status"}, endpoint...)...)
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "the sign-in cannot apply")
		documented(t, "auth", out, "Signed in as", "Permissions:", "  apply ")
	})

	t.Run("403 on a write", func(t *testing.T) {
		// A token arsync cannot read goes on past the up-front check;
		// Graph (here the emulator, behind a proxy that swaps in a
		// read-only token) then refuses the first write.
		t.Chdir(t.TempDir())
		run := emulatortest.New(t, emulator.Options{Seed: 1})
		readOnly, err := run.Server.IssueToken(emulator.TokenOptions{Permissions: []string{emulator.PermissionRead, "Directory.Read.All"}})
		require.NoError(t, err)
		endpoint, _ := proxyWithToken(t, run, readOnly, "opaque-token-0123456789")
		docWrite(t, map[string]string{
			"reviews/r.yaml":  docReview("all-users", "All users", docNoRefScope, 7),
			"reviews/r2.yaml": docReview("all-users-quarterly", "All users, quarterly", docNoRefScope, 14),
			"reviews/r3.yaml": docReview("all-users-yearly", "All users, yearly", docNoRefScope, 21),
		})
		code, out := docRun(t, nil, append([]string{"apply", "--auto-approve", "reviews"}, endpoint...)...)
		require.Equal(t, exitError, code)
		require.Equal(t, 1, strings.Count(out, "AccessReview.ReadWrite.All"), "the permission is named once")
		require.Len(t, writeRequests(run), 1, "one write was sent")
		documented(t, "troubleshooting", out, "403 Forbidden", "apply incomplete", "Apply incomplete", "see [1]", "stopped after [1]", "[1/3]", "AccessReview.ReadWrite.All")
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		t.Chdir(t.TempDir())
		srv := httptest.NewUnstartedServer(http.NotFoundHandler())
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // its handshake errors
		srv.StartTLS()
		defer srv.Close()
		docEnv(t, map[string]string{graphclient.EnvAccessToken: "not-a-real-token-0123456789"})
		docWrite(t, map[string]string{"reviews/r.yaml": docReview("all-users", "All users", docNoRefScope, 7)})
		// No backoff either: the client's real sleeper would take minutes.
		code, out := docRun(t, nil, "plan", "reviews", "--graph-endpoint", srv.URL+"/v1.0")
		require.Equal(t, exitError, code)
		require.Equal(t, 1, strings.Count(out, "SSL_CERT_FILE"), out)
		documented(t, "troubleshooting", out, "x509")
	})

	t.Run("401 expired token", func(t *testing.T) {
		t.Chdir(t.TempDir())
		_, endpoint := docEmulator(t, emulator.Options{Seed: 1}, func(s *emulator.Server) (string, error) {
			return s.IssueToken(emulator.TokenOptions{Lifetime: -time.Hour})
		})
		docWrite(t, map[string]string{"reviews/r.yaml": docReview("all-users", "All users", "/groups/${group:Sales}/transitiveMembers/microsoft.graph.user", 7)})
		code, out := docRun(t, nil, append([]string{"plan", "reviews"}, endpoint...)...)
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "401 Unauthorized")
	})

	t.Run("throttling", func(t *testing.T) {
		t.Chdir(t.TempDir())
		// Two throttled attempts (Retry-After is whole seconds), then success.
		faults, err := emulator.ParseFaults("429:GET:#1:/identityGovernance;429:GET:#1:/identityGovernance;retry-after=1")
		require.NoError(t, err)
		_, endpoint := docEmulator(t, emulator.Options{Seed: 1, Faults: faults}, nil)
		docWrite(t, map[string]string{"noref/r.yaml": docReview("all-users", "All users", docNoRefScope, 7)})
		// No names: the only requests are the definition list's attempts.
		require.NoError(t, os.WriteFile("noref/r.yaml", []byte(strings.Replace(docReview("all-users", "All users", docNoRefScope, 7),
			"  reviewers:\n    - user: alice@contoso.com\n", "", 1)), 0o644))
		code, out := docRun(t, nil, append([]string{"plan", "-v", "noref"}, endpoint...)...)
		require.Equal(t, exitOK, code)
		documented(t, "troubleshooting", out, "graph: ")
	})

	t.Run("foreign nextLink", func(t *testing.T) {
		t.Chdir(t.TempDir())
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"value":[],"@odata.nextLink":"https://graph.evil.example/v1.0/identityGovernance/accessReviews/definitions?$skiptoken=abc"}`)
		}))
		t.Cleanup(srv.Close)
		docEnv(t, map[string]string{graphclient.EnvAccessToken: "x"})
		require.NoError(t, os.MkdirAll("noref", 0o755))
		require.NoError(t, os.WriteFile("noref/r.yaml", []byte(strings.Replace(docReview("all-users", "All users", docNoRefScope, 7),
			"  reviewers:\n    - user: alice@contoso.com\n", "", 1)), 0o644))
		code, out := docRun(t, nil, "plan", "--graph-endpoint", srv.URL+"/v1.0", "noref")
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "refusing to send the token")
	})

	t.Run("endpoints and sign-in", func(t *testing.T) {
		t.Chdir(t.TempDir())
		docWrite(t, map[string]string{"reviews/r.yaml": docReview("all-users", "All users", docNoRefScope, 7)})
		docEnv(t, map[string]string{graphclient.EnvAccessToken: "x"})
		for _, e := range []string{"http://graph.microsoft.com/v1.0", "graph.microsoft.com", "https://graph.microsoft.com/v1.0?x=1"} {
			code, out := docRun(t, nil, "plan", "--graph-endpoint", e, "reviews")
			require.Equal(t, exitError, code)
			documented(t, "troubleshooting", out, "Graph endpoint")
		}

		docEnv(t, nil)
		for _, m := range []string{"github-oidc", "env", "workload-identity", "bogus"} {
			code, out := docRun(t, nil, "plan", "--auth", m, "reviews")
			require.Equal(t, exitError, code)
			documented(t, "troubleshooting", out, "Error:")
		}
		code, out := docRun(t, nil, "plan", "--auth", "env", "--cloud", "mars", "reviews")
		require.Equal(t, exitError, code)
		documented(t, "troubleshooting", out, "unknown cloud")

		docEnv(t, map[string]string{graphclient.EnvClientID: "abc", graphclient.EnvClientSecret: "s"})
		_, out = docRun(t, nil, "plan", "--auth", "env", "reviews")
		documented(t, "troubleshooting", out, "AZURE_TENANT_ID")

		docEnv(t, map[string]string{graphclient.EnvClientID: "abc", graphclient.EnvTenantID: "contoso.onmicrosoft.com", graphclient.EnvClientCertPath: "/nope.pem"})
		_, out = docRun(t, nil, "plan", "reviews")
		documented(t, "troubleshooting", out, "reading the client certificate")
		documented(t, "auth", out, "reading the client certificate")
	})
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}
