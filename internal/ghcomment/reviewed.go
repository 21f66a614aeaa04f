package ghcomment

// The reviewed plan is the applied plan: the plan comment records the
// plan's changes digest (diff.Plan.DigestChanges) in a hidden line, and
// on merge the Action compares a fresh plan's digest with the last one
// the merged pull request showed (docs/github-action.md#the-reviewed-plan-is-the-applied-plan).

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// digestPrefix starts the hidden line that records a plan's digest.
const digestPrefix = "<!-- arsync-plan-digest: "

// DigestLine is the hidden line of a plan comment that records the plan's
// changes digest.
func DigestLine(digest string) string { return digestPrefix + digest + " -->" }

var digestLineRE = regexp.MustCompile(`(?m)^<!-- arsync-plan-digest: (sha256:[0-9a-f]{64}) -->$`)

// DigestIn returns the digest a plan comment's body records, if any.
func DigestIn(body string) (string, bool) {
	m := digestLineRE.FindStringSubmatch(body)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// CheckMarker is the hidden first line of the comment that says why a
// merge was not applied, one per tenant.
func CheckMarker(key string) string {
	return "<!-- arsync-plan-check: " + markerKey(key) + " -->"
}

// PullRequest is a pull request as GitHub lists those of a commit.
type PullRequest struct {
	Number         int    `json:"number"`
	State          string `json:"state"`
	MergedAt       string `json:"merged_at"`
	MergeCommitSHA string `json:"merge_commit_sha"`
	HTMLURL        string `json:"html_url"`
}

// MergedPullRequest returns the merged pull request that brought commit
// sha into its branch: the one whose merge commit it is, else the only
// (or most recently) merged one that contains it. nil when none did (a
// direct push).
func (c *Client) MergedPullRequest(ctx context.Context, repo, sha string) (*PullRequest, error) {
	if !repoRE.MatchString(repo) {
		return nil, fmt.Errorf("repository %q is not owner/name", repo)
	}
	if sha == "" {
		return nil, fmt.Errorf("no commit: GITHUB_SHA is not set; pass --sha")
	}
	var prs []PullRequest
	path := fmt.Sprintf("/repos/%s/commits/%s/pulls?per_page=100", repo, url.PathEscape(sha))
	if _, err := c.get(ctx, path, &prs); err != nil {
		return nil, err
	}
	var best *PullRequest
	for i := range prs {
		pr := &prs[i]
		if pr.MergedAt == "" {
			continue
		}
		if pr.MergeCommitSHA == sha {
			return pr, nil
		}
		if best == nil || pr.MergedAt > best.MergedAt {
			best = pr
		}
	}
	return best, nil
}

// LastDigest returns the digest recorded by the last comment of pull
// request number that starts with marker and records one; "" when none
// does. The plan comment is edited on every push, so this is the plan
// the pull request showed last.
func (c *Client) LastDigest(ctx context.Context, repo string, number int, marker string) (string, error) {
	last := ""
	err := c.walk(ctx, repo, number, func(cm *comment) bool {
		if strings.HasPrefix(cm.Body, marker) {
			if d, ok := DigestIn(cm.Body); ok {
				last = d
			}
		}
		return true
	})
	return last, err
}
