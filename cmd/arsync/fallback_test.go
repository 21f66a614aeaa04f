package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/emuctl"
)

// TestFallbackReviewersEndToEnd is issue 16's "silent gap": a review of
// each Microsoft 365 group's guests by the group's owners. Without a
// fallback reviewer, validate and plan warn at the reviewer, and on the
// emulator Project Falcon (no owners) gets an instance nobody is asked to
// review. The review init writes names a fallback reviewer: no warning,
// and the fallback reviewer is asked for Project Falcon.
func TestFallbackReviewersEndToEnd(t *testing.T) {
	t.Chdir(t.TempDir())
	mustRun(t, "init", ".")
	review := filepath.Join("reviews", "guests-m365-groups.yaml")
	src, err := os.ReadFile(review)
	require.NoError(t, err)
	withFallback := string(src)
	const fallback = "  fallbackReviewers:\n    - user: admin@contoso.com\n"
	require.Contains(t, withFallback, fallback, "init's review names a fallback reviewer")

	// Without it: a warning at the reviewer, exit code unchanged.
	require.NoError(t, os.WriteFile(review, []byte(strings.Replace(withFallback, fallback, "", 1)), 0o644))
	line := lineOf(t, review, "    - owners: true")
	warning := review + ":" + line + ":7: warning: spec.reviewers are the owners of each reviewed group: a group without owners gets no reviewer and its review is never done; add spec.fallbackReviewers, who review when the reviewers are nobody\n"
	code, out, errOut := arsync(t, "validate")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "1 file, 1 definition: valid, 1 warning\n", out)
	require.Equal(t, warning, errOut)
	code, out, errOut = arsync(t, "plan", "--emulator")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "+ create")
	require.Equal(t, warning, errOut, "plan shows the spec's warnings")

	// The gap it warns about: the instance of the group without owners has
	// nobody to review it.
	mustRun(t, "apply", "--emulator", "--auto-approve")
	started := instanceEvents(t, mustRun(t, "emulator", "advance", "32d"))
	require.Equal(t, "2 decision item(s), 0 reviewer(s) contacted", started["Project Falcon"])
	require.Equal(t, "1 decision item(s), 2 reviewer(s) contacted", started["Sales"])
	require.NoError(t, os.RemoveAll(".arsync"))

	// init's review as written: no warning, and the fallback reviewer is
	// asked where the owners are nobody.
	require.NoError(t, os.WriteFile(review, []byte(withFallback), 0o644))
	code, out, errOut = arsync(t, "validate")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "1 file, 1 definition: valid\n", out)
	require.Empty(t, errOut)
	mustRun(t, "apply", "--emulator", "--auto-approve")
	started = instanceEvents(t, mustRun(t, "emulator", "advance", "32d"))
	require.Equal(t, "2 decision item(s), 1 reviewer(s) contacted", started["Project Falcon"])
	require.Equal(t, "1 decision item(s), 2 reviewer(s) contacted", started["Sales"], "groups with owners: the owners only")
	require.Equal(t, []string{"admin@contoso.com"}, contactedInState(t, "Project Falcon"))
}

// lineOf is the 1-based line number of the first line of file equal to s.
func lineOf(t *testing.T, file, s string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	for i, l := range strings.Split(string(b), "\n") {
		if l == s {
			return strconv.Itoa(i + 1)
		}
	}
	t.Fatalf("%s has no line %q", file, s)
	return ""
}

var startedRE = regexp.MustCompile(`InstanceStarted\s+".*" / (.+): (\d+ decision item\(s\), \d+ reviewer\(s\) contacted)$`)

// instanceEvents maps each started instance's resource to its detail, from
// "arsync emulator advance".
func instanceEvents(t *testing.T, out string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if m := startedRE.FindStringSubmatch(l); m != nil {
			got[m[1]] = m[2]
		}
	}
	require.NotEmpty(t, got, out)
	return got
}

// contactedInState lists the UPNs of the reviewers contacted for the
// instance of the given group, from the emulator's state file.
func contactedInState(t *testing.T, group string) []string {
	t.Helper()
	srv, err := emuctl.Open(emulatorStateFile, "", emulatorTenantFile)
	require.NoError(t, err)
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	get := func(path string, v any) {
		req, err := http.NewRequest(http.MethodGet, ts.URL+"/v1.0"+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+srv.Token("admin@contoso.com"))
		resp, err := ts.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	}
	const defs = "/identityGovernance/accessReviews/definitions"
	var list struct {
		Value []struct{ ID string } `json:"value"`
	}
	get(defs, &list)
	require.Len(t, list.Value, 1)
	var insts struct {
		Value []struct {
			ID    string `json:"id"`
			Scope struct {
				Query string `json:"query"`
			} `json:"scope"`
		} `json:"value"`
	}
	get(defs+"/"+list.Value[0].ID+"/instances", &insts)
	var groups struct {
		Value []struct{ ID string } `json:"value"`
	}
	get("/groups?$filter=displayName%20eq%20'"+strings.ReplaceAll(group, " ", "%20")+"'", &groups)
	require.Len(t, groups.Value, 1)
	for _, in := range insts.Value {
		if !strings.Contains(in.Scope.Query, groups.Value[0].ID) {
			continue
		}
		var contacted struct {
			Value []struct {
				UPN string `json:"userPrincipalName"`
			} `json:"value"`
		}
		get(defs+"/"+list.Value[0].ID+"/instances/"+in.ID+"/contactedReviewers", &contacted)
		var upns []string
		for _, c := range contacted.Value {
			upns = append(upns, c.UPN)
		}
		return upns
	}
	t.Fatalf("no instance for %s", group)
	return nil
}
