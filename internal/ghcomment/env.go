package ghcomment

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Env is what a GitHub Actions job tells a step about itself, read from the
// variables the runner sets
// (https://docs.github.com/actions/reference/variables-reference).
type Env struct {
	Repo        string // GITHUB_REPOSITORY, owner/name
	PullRequest int    // from the event payload (GITHUB_EVENT_PATH); 0 if none
	EventName   string // GITHUB_EVENT_NAME
	APIURL      string // GITHUB_API_URL
	Token       string // GITHUB_TOKEN
	Commit      string // the pull request's head commit, else GITHUB_SHA
	RunURL      string // GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID
	StepSummary string // GITHUB_STEP_SUMMARY, a file for the job summary
}

// FromEnv reads Env through getenv (os.Getenv in production). Only an
// event file that exists but cannot be read is an error; anything missing
// is left empty for the caller to report or override.
func FromEnv(getenv func(string) string) (Env, error) {
	e := Env{
		Repo:        getenv("GITHUB_REPOSITORY"),
		EventName:   getenv("GITHUB_EVENT_NAME"),
		APIURL:      getenv("GITHUB_API_URL"),
		Token:       getenv("GITHUB_TOKEN"),
		Commit:      getenv("GITHUB_SHA"),
		StepSummary: getenv("GITHUB_STEP_SUMMARY"),
	}
	if e.APIURL == "" {
		e.APIURL = DefaultAPIURL
	}
	if server, run := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_RUN_ID"); server != "" && run != "" && e.Repo != "" {
		e.RunURL = strings.TrimSuffix(server, "/") + "/" + e.Repo + "/actions/runs/" + run
	}
	if path := getenv("GITHUB_EVENT_PATH"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return e, fmt.Errorf("reading the GitHub event (GITHUB_EVENT_PATH): %w", err)
		}
		number, head, err := parseEvent(data)
		if err != nil {
			return e, fmt.Errorf("reading the GitHub event %s: %w", path, err)
		}
		e.PullRequest = number
		if head != "" {
			// GITHUB_SHA of a pull_request event is a merge commit nobody
			// pushed; the head is what the author recognises.
			e.Commit = head
		}
	}
	return e, nil
}

// parseEvent finds the pull request of an event payload: pull_request and
// pull_request_target events carry pull_request, issue_comment events on a
// pull request carry issue with a pull_request link.
func parseEvent(data []byte) (number int, head string, err error) {
	var ev struct {
		PullRequest *struct {
			Number int `json:"number"`
			Head   struct {
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
		Issue *struct {
			Number      int             `json:"number"`
			PullRequest json.RawMessage `json:"pull_request"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return 0, "", err
	}
	switch {
	case ev.PullRequest != nil:
		return ev.PullRequest.Number, ev.PullRequest.Head.SHA, nil
	case ev.Issue != nil && len(ev.Issue.PullRequest) > 0 && string(ev.Issue.PullRequest) != "null":
		return ev.Issue.Number, "", nil
	}
	return 0, "", nil
}
