package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/ghcomment"
)

// fakeGitHub is fakeIssueComments for pull request 12 plus the pull
// requests of a commit: "mergesha" is #12's merge commit, any other
// commit was pushed directly.
type fakeGitHub struct{ fakeIssueComments }

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/repos/contoso/reviews/commits/") && strings.HasSuffix(r.URL.Path, "/pulls") {
		if r.Header.Get("Authorization") != "Bearer ghs_test" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		sha := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/repos/contoso/reviews/commits/"), "/pulls")
		prs := []ghcomment.PullRequest{}
		if sha == "mergesha" {
			prs = append(prs,
				ghcomment.PullRequest{Number: 7, State: "closed", MergedAt: "2026-11-01T10:00:00Z", MergeCommitSHA: "older"},
				ghcomment.PullRequest{Number: 12, State: "closed", MergedAt: "2026-11-23T10:00:00Z", MergeCommitSHA: "mergesha"})
		}
		_ = json.NewEncoder(w).Encode(prs)
		return
	}
	f.fakeIssueComments.ServeHTTP(w, r)
}

// pushEnv turns githubEnv's pull_request job into the push job of sha.
func pushEnv(t *testing.T, sha string) {
	t.Helper()
	event := filepath.Join(t.TempDir(), "push.json")
	require.NoError(t, os.WriteFile(event, []byte(`{"ref":"refs/heads/main"}`), 0o644))
	t.Setenv("GITHUB_EVENT_NAME", "push")
	t.Setenv("GITHUB_EVENT_PATH", event)
	t.Setenv("GITHUB_SHA", sha)
}

// TestGitHubVerifyPlan runs the reviewed-plan check end to end: a plan
// posted on a pull request, the emulator's clock moved on (review
// instances start), the same specs planned again on merge: same changes
// digest, so the check passes; the tenant changed after review: it fails,
// says why on the pull request, and without --require only warns.
func TestGitHubVerifyPlan(t *testing.T) {
	examples, err := filepath.Abs("../../examples/reviews")
	require.NoError(t, err)
	t.Chdir(t.TempDir())
	require.NoError(t, os.CopyFS("reviews", os.DirFS(examples)))
	gh := &fakeGitHub{}
	srv := httptest.NewServer(gh)
	defer srv.Close()

	// Applied once; the pull request edits one review.
	code, out := docRun(t, nil, "apply", "--emulator", "--auto-approve", "reviews")
	require.Equal(t, exitOK, code, out)
	editFile(t, "reviews/guests-m365-groups.yaml", "Remove guests who no longer need access to your group.", "Remove guests who left.")
	code, out = docRun(t, nil, "plan", "--emulator", "--out", "pr.json", "reviews")
	require.Equal(t, exitOK, code, out)
	githubEnv(t, srv.URL, prEvent)
	code, out = docRun(t, nil, "github", "comment", "--plan", "pr.json", "--key", "prod")
	require.Equal(t, exitOK, code, out)
	prPlan, err := readPlanFile("pr.json")
	require.NoError(t, err)
	require.Contains(t, gh.bodies[0], "\n"+ghcomment.DigestLine(prPlan.ChangesDigest)+"\n")

	// Weeks later, the merge: instances have started, nothing else moved.
	code, out = docRun(t, nil, "emulator", "advance", "45d")
	require.Equal(t, exitOK, code, out)
	code, out = docRun(t, nil, "plan", "--emulator", "--out", "merge.json", "reviews")
	require.Equal(t, exitOK, code, out)
	mergePlan, err := readPlanFile("merge.json")
	require.NoError(t, err)
	require.NotEqual(t, prPlan.CreatedAt, mergePlan.CreatedAt)
	require.NotEqual(t, prPlan.Digest, mergePlan.Digest, "the saved plan's digest covers its time")
	require.Equal(t, prPlan.ChangesDigest, mergePlan.ChangesDigest, "the changes digest does not")

	pushEnv(t, "mergesha")
	code, stdout, stderr := docRunSplit(t, nil, "github", "verify-plan", "--plan", "merge.json", "--key", "prod", "--require")
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, "::notice title=arsync::the plan matches the last plan shown on pull request #12 ("+prPlan.ChangesDigest+")\n", stdout)

	// Someone changes the review in the tenant after the review.
	code, out = docRun(t, nil, "apply", "--emulator", "--auto-approve", "--target", "guests-m365-quarterly", "reviews")
	require.Equal(t, exitOK, code, out)
	editFile(t, "reviews/guests-m365-groups.yaml", "Remove guests who left.", "Remove guests who left us.")
	code, out = docRun(t, nil, "plan", "--emulator", "--out", "merge.json", "reviews")
	require.Equal(t, exitOK, code, out)
	mergePlan, err = readPlanFile("merge.json")
	require.NoError(t, err)

	code, stdout, _ = docRunSplit(t, nil, "github", "verify-plan", "--plan", "merge.json", "--key", "prod")
	require.Equal(t, exitOK, code)
	require.True(t, strings.HasPrefix(stdout, "::warning title=arsync::the plan made on merge ("+mergePlan.ChangesDigest+") is not the last plan shown on pull request #12 ("+prPlan.ChangesDigest+")"), stdout)
	require.True(t, strings.HasSuffix(stdout, "; applying it anyway (require-reviewed-plan is off)\n"), stdout)
	require.Len(t, gh.bodies, 1, "without --require nothing is posted")

	code, stdout, stderr = docRunSplit(t, nil, "github", "verify-plan", "--plan", "merge.json", "--key", "prod", "--require")
	require.Equal(t, exitError, code)
	require.True(t, strings.HasPrefix(stdout, "::error title=arsync::the plan made on merge ("), stdout)
	require.True(t, strings.HasPrefix(stderr, "Error: refusing to apply: the plan made on merge ("), stderr)
	require.Len(t, gh.bodies, 2, "why, on the pull request")
	require.True(t, strings.HasPrefix(gh.bodies[1], ghcomment.CheckMarker("prod")+"\n### arsync did not apply this pull request to <code>prod</code>"), gh.bodies[1])
	require.Contains(t, gh.bodies[1], prPlan.ChangesDigest)
	require.Equal(t, prPlan.ChangesDigest, mustLastDigest(t, gh), "the check's comment is not taken for a plan")

	// A direct push, and a pull request without a plan comment.
	pushEnv(t, "directsha")
	code, stdout, stderr = docRunSplit(t, nil, "github", "verify-plan", "--plan", "merge.json", "--require")
	require.Equal(t, exitError, code)
	require.Equal(t, "::error title=arsync::no merged pull request brought commit directsha in: its plan was not reviewed on a pull request; nothing was applied\n", stdout)
	require.Equal(t, "Error: refusing to apply: no merged pull request brought commit directsha in: its plan was not reviewed on a pull request\n", stderr)
	code, stdout, _ = docRunSplit(t, nil, "github", "verify-plan", "--plan", "merge.json", "--pr", "12", "--key", "staging")
	require.Equal(t, exitOK, code)
	require.Contains(t, stdout, "::warning title=arsync::pull request #12 shows no arsync plan for staging")
}

func mustLastDigest(t *testing.T, gh *fakeGitHub) string {
	t.Helper()
	for i := len(gh.bodies) - 1; i >= 0; i-- {
		if strings.HasPrefix(gh.bodies[i], ghcomment.Marker("prod")) {
			d, ok := ghcomment.DigestIn(gh.bodies[i])
			require.True(t, ok)
			return d
		}
	}
	t.Fatal("no plan comment")
	return ""
}
