package ghcomment

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestFromEnv(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	base := map[string]string{
		"GITHUB_REPOSITORY":   "contoso/access-reviews",
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_RUN_ID":       "42",
		"GITHUB_SHA":          "mergecommit",
		"GITHUB_TOKEN":        "ghs_x",
		"GITHUB_STEP_SUMMARY": "/tmp/summary",
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    Env
		wantErr string
	}{
		{
			name: "pull_request",
			env:  map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": write("pr.json", `{"action":"synchronize","number":17,"pull_request":{"number":17,"head":{"sha":"headsha"}}}`)},
			want: Env{Repo: "contoso/access-reviews", PullRequest: 17, EventName: "pull_request", APIURL: DefaultAPIURL, Token: "ghs_x",
				Commit: "headsha", RunURL: "https://github.com/contoso/access-reviews/actions/runs/42", StepSummary: "/tmp/summary"},
		},
		{
			name: "issue_comment on a pull request, GitHub Enterprise Server",
			env: map[string]string{"GITHUB_EVENT_NAME": "issue_comment", "GITHUB_API_URL": "https://ghe.contoso.com/api/v3", "GITHUB_SERVER_URL": "https://ghe.contoso.com",
				"GITHUB_EVENT_PATH": write("ic.json", `{"issue":{"number":5,"pull_request":{"url":"x"}}}`)},
			want: Env{Repo: "contoso/access-reviews", PullRequest: 5, EventName: "issue_comment", APIURL: "https://ghe.contoso.com/api/v3", Token: "ghs_x",
				Commit: "mergecommit", RunURL: "https://ghe.contoso.com/contoso/access-reviews/actions/runs/42", StepSummary: "/tmp/summary"},
		},
		{
			name: "push has no pull request",
			env:  map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": write("push.json", `{"ref":"refs/heads/main"}`)},
			want: Env{Repo: "contoso/access-reviews", EventName: "push", APIURL: DefaultAPIURL, Token: "ghs_x",
				Commit: "mergecommit", RunURL: "https://github.com/contoso/access-reviews/actions/runs/42", StepSummary: "/tmp/summary"},
		},
		{
			name: "issue comment on an issue",
			env:  map[string]string{"GITHUB_EVENT_PATH": write("issue.json", `{"issue":{"number":5,"pull_request":null}}`)},
			want: Env{Repo: "contoso/access-reviews", APIURL: DefaultAPIURL, Token: "ghs_x",
				Commit: "mergecommit", RunURL: "https://github.com/contoso/access-reviews/actions/runs/42", StepSummary: "/tmp/summary"},
		},
		{
			name:    "event file missing",
			env:     map[string]string{"GITHUB_EVENT_PATH": filepath.Join(dir, "nope.json")},
			wantErr: "reading the GitHub event (GITHUB_EVENT_PATH)",
		},
		{
			name:    "event file not JSON",
			env:     map[string]string{"GITHUB_EVENT_PATH": write("bad.json", `{`)},
			wantErr: "bad.json: unexpected end of JSON input",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			got, err := FromEnv(func(k string) string { return env[k] })
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestAnnotations(t *testing.T) {
	log := "reviews/guests.yaml:12:5: unknown field \"instanceDurationInDay\" in spec.settings; did you mean \"instanceDurationInDays\"?\n" +
		"reviews/a,b.yml:3:1: warning: 100% sure\r\n" +
		"/abs/arsync.yaml:2:10: cloud must be one of global, usgov\n" +
		"Error: listing the tenant's access review definitions: GET https://graph.microsoft.com:443/v1.0: 403\n" +
		"1 file: 1 error, 1 warning\n"
	got := Annotations(log, "tenants/prod")
	want := []string{
		`::error file=tenants/prod/reviews/guests.yaml,line=12,col=5,title=arsync::unknown field "instanceDurationInDay" in spec.settings; did you mean "instanceDurationInDays"?`,
		`::warning file=tenants/prod/reviews/a%2Cb.yml,line=3,col=1,title=arsync::100%25 sure`,
		`::error file=/abs/arsync.yaml,line=2,col=10,title=arsync::cloud must be one of global, usgov`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	require.Equal(t, "::error file=r.yaml,line=1,col=1,title=arsync::x", Annotations("r.yaml:1:1: x", ".")[0])
	require.Empty(t, Annotations("", ""))
}
