package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
)

// syncBuffer lets the test read what a running command has printed.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startEmulatorCmd runs "arsync emulator args..." until the returned stop
// is called; it waits for the printed URL and token.
func startEmulatorCmd(t *testing.T, args ...string) (url, token string, stop func() (int, string)) {
	t.Helper()
	url, token, _, stop = startEmulatorCmdOut(t, args...)
	return url, token, stop
}

// startEmulatorCmdOut is startEmulatorCmd that also returns what the
// command printed before serving.
func startEmulatorCmdOut(t *testing.T, args ...string) (url, token, printed string, stop func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- Main(ctx, append([]string{"emulator"}, args...), strings.NewReader(""), out, errOut) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case code := <-done:
			cancel()
			t.Fatalf("emulator exited with %d: %s", code, errOut.String())
		default:
		}
		for _, line := range strings.Split(out.String(), "\n") {
			if v, ok := strings.CutPrefix(line, "url: "); ok {
				url = v
			}
			if v, ok := strings.CutPrefix(line, "token: "); ok {
				token = v
			}
		}
		// The export line comes after every token.
		if url != "" && token != "" && strings.Contains(out.String(), "export ARSYNC_ACCESS_TOKEN=") {
			break
		}
		require.True(t, time.Now().Before(deadline), "no URL printed: %q", out.String())
		time.Sleep(5 * time.Millisecond)
	}
	stopped := false
	stop = func() (int, string) {
		stopped = true
		cancel()
		return <-done, errOut.String()
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	require.Contains(t, out.String(), "export ARSYNC_ACCESS_TOKEN='"+token+"'")
	return url, token, out.String(), stop
}

func emulatorRequest(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const emulatorTestDefinition = `{"displayName":"Guests of Sales",
 "scope":{"query":"/groups/119cc181-22f0-4e18-8537-264e7524ee0b/transitiveMembers","queryType":"MicrosoftGraph"},
 "settings":{"recurrence":{"pattern":{"type":"weekly","interval":1},"range":{"type":"noEnd","startDate":"2030-01-01"}}}}`

func TestEmulatorCommandServesAndStops(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	url, token, stop := startEmulatorCmd(t, "--state", state, "--page-size", "5", "--seed", "3")
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)

	code, body := emulatorRequest(t, http.MethodPost, url+"/identityGovernance/accessReviews/definitions", token, emulatorTestDefinition)
	require.Equal(t, http.StatusCreated, code, body)
	code, body = emulatorRequest(t, http.MethodGet, url+"/users?$select=id", token, "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "@odata.nextLink", "--page-size applies")

	exit, stderr := stop()
	require.Equal(t, 0, exit, stderr)
	require.Contains(t, stderr, "stopped")
	_, err := os.Stat(state)
	require.NoError(t, err, "the state file was written")

	// A second run continues from the state file.
	url, token, stop = startEmulatorCmd(t, "--state", state)
	code, body = emulatorRequest(t, http.MethodGet, url+"/identityGovernance/accessReviews/definitions", token, "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "Guests of Sales")
	exit, _ = stop()
	require.Equal(t, 0, exit)
}

func TestEmulatorCommandIssuesTokens(t *testing.T) {
	url, admin, printed, stop := startEmulatorCmdOut(t,
		"--issue-token", "user=bob@contoso.com,read-only", "--issue-token", "expired", "--issue-token", "permissions=User.Read.All", "--issue-token", "lifetime=1h")
	defer stop()
	extra := map[string]string{}
	for _, line := range strings.Split(printed, "\n") {
		if rest, ok := strings.CutPrefix(line, "token ("); ok {
			label, tok, ok := strings.Cut(rest, "): ")
			require.True(t, ok, line)
			extra[label] = tok
		}
	}
	require.Len(t, extra, 4, printed)
	defs := url + "/identityGovernance/accessReviews/definitions"
	expiredAt := regexp.MustCompile(`^expired, expired \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	var expired, hour string
	for label, tok := range extra {
		switch {
		case expiredAt.MatchString(label):
			expired = tok
		case strings.HasPrefix(label, "lifetime=1h, expires "):
			hour = tok
		}
	}
	require.NotEmpty(t, expired, printed)
	require.NotEmpty(t, hour, printed)

	tests := []struct {
		name, method, url, token string
		status                   int
		message                  string
	}{
		{"the admin's token", http.MethodGet, defs, admin, 200, ""},
		{"a token of nobody's", http.MethodGet, defs, "garbage", 401, "IDX14100: JWT is not well formed"},
		{"read-only reads", http.MethodGet, defs, extra["user=bob@contoso.com,read-only"], 200, ""},
		{"read-only writes", http.MethodPost, defs, extra["user=bob@contoso.com,read-only"], 403, "required scopes are missing"},
		{"expired", http.MethodGet, defs, expired, 401, "Lifetime validation failed, the token is expired."},
		{"no access-review permission", http.MethodGet, defs, extra["permissions=User.Read.All"], 403, "required scopes are missing"},
		{"no access-review permission reads users", http.MethodGet, url + "/users", extra["permissions=User.Read.All"], 200, ""},
		{"an hour's token", http.MethodGet, defs, hour, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := emulatorRequest(t, tt.method, tt.url, tt.token, emulatorTestDefinition)
			require.Equal(t, tt.status, code, body)
			require.Contains(t, body, tt.message)
		})
	}
}

func TestEmulatorCommandOptions(t *testing.T) {
	t.Run("tenant file and faults", func(t *testing.T) {
		tenant := filepath.Join(t.TempDir(), "tenant.yaml")
		require.NoError(t, os.WriteFile(tenant, []byte("admin: root@fabrikam.com\nusers: [{userPrincipalName: root@fabrikam.com, displayName: Root}]\n"), 0o644))
		url, token, stop := startEmulatorCmd(t, "--tenant", tenant, "--faults", "503:GET:/groups:#1;retry-after=0", "--range-style", "numbered")
		code, body := emulatorRequest(t, http.MethodGet, url+"/users", token, "")
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, "root@fabrikam.com")
		require.NotContains(t, body, "alice@contoso.com")
		code, _ = emulatorRequest(t, http.MethodGet, url+"/groups", token, "")
		require.Equal(t, http.StatusServiceUnavailable, code)
		code, body = emulatorRequest(t, http.MethodPost, url+"/identityGovernance/accessReviews/definitions", token, emulatorTestDefinition)
		require.Equal(t, http.StatusCreated, code, body)
		require.Contains(t, body, `"endDate":"9999-12-31"`)
		stop()
	})
	bad := []struct {
		name string
		args []string
		err  string
	}{
		{"remote listen", []string{"--listen", "0.0.0.0:0"}, "listens only on loopback"},
		{"bad faults", []string{"--faults", "teapot"}, "--faults: fault clause \"teapot\""},
		{"bad page size", []string{"--page-size", "0"}, "--page-size must be at least 1"},
		{"bad range style", []string{"--range-style", "sideways"}, "--range-style"},
		{"missing tenant", []string{"--tenant", filepath.Join(t.TempDir(), "none.yaml")}, "reading tenant"},
		{"arguments", []string{"extra"}, "unknown command"},
		{"bad token spec", []string{"--issue-token", "admin"}, `--issue-token: token "admin": unknown setting "admin"`},
		{"token for nobody", []string{"--issue-token", "user=nobody@contoso.com"}, `--issue-token user=nobody@contoso.com: user "nobody@contoso.com": not a user of the emulator's tenant`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(t.Context(), append([]string{"emulator"}, tt.args...), strings.NewReader(""), &out, &errOut)
			require.Equal(t, 1, code)
			require.Contains(t, errOut.String(), tt.err)
			require.Empty(t, out.String())
		})
	}
}

// addReviews creates n reviews in the session's emulator.
func addReviews(ctx context.Context, sess *session, prefix string, n int) error {
	for i := range n {
		_, err := sess.Client.CreateDefinition(ctx, &graph.Definition{
			DisplayName: fmt.Sprintf("%s %d", prefix, i),
			Scope:       &graph.Scope{ODataType: graph.TypeQueryScope, Query: "/groups/ea1ee477-0a50-41ac-8699-c70d0c1f868a/members", QueryType: graph.QueryTypeMicrosoftGraph},
			Settings: &graph.ScheduleSettings{Recurrence: &graph.PatternedRecurrence{
				Range: &graph.RecurrenceRange{Type: "noEnd", StartDate: "2030-01-01"}}},
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// reviewNames lists the displayNames in the --emulator state.
func reviewNames(t *testing.T) []string {
	t.Helper()
	sess, err := connectEmulator(graphclient.Options{})
	require.NoError(t, err)
	defer sess.Close()
	var names []string
	for d, err := range sess.Client.ListDefinitions(t.Context(), nil) {
		require.NoError(t, err)
		names = append(names, d.DisplayName)
	}
	sort.Strings(names)
	return names
}

// TestEmulatorSessionsLoseNoUpdates: two --emulator runs in one directory,
// each adding two reviews, used to both load the state, and the last to
// save won. Now both start together: one holds the state, the other is
// refused, waits for it and runs after; no review is lost.
func TestEmulatorSessionsLoseNoUpdates(t *testing.T) {
	for trial := range 3 {
		t.Run(fmt.Sprint("trial ", trial), func(t *testing.T) {
			t.Chdir(t.TempDir())
			var started sync.WaitGroup
			started.Add(2)
			done := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
			var refused atomic.Int32
			run := func(i int) {
				defer close(done[i])
				sess, err := connectEmulator(graphclient.Options{})
				started.Done()
				started.Wait() // both have tried before either writes
				if errors.Is(err, emulator.ErrStateLocked) {
					refused.Add(1)
					<-done[1-i]
					sess, err = connectEmulator(graphclient.Options{})
				}
				if !assert.NoError(t, err) {
					return
				}
				defer sess.Close()
				assert.NoError(t, addReviews(t.Context(), sess, fmt.Sprint("Run ", i), 2))
			}
			go run(0)
			go run(1)
			<-done[0]
			<-done[1]
			require.Equal(t, []string{"Run 0 0", "Run 0 1", "Run 1 0", "Run 1 1"}, reviewNames(t))
			require.EqualValues(t, 1, refused.Load(), "one run waited for the other")
		})
	}
}

// TestEmulatorStateInUse: while an --emulator session holds
// .arsync/emulator.json, every other user of it is refused, saying who
// holds it: another session, the emulator's controls and server.
func TestEmulatorStateInUse(t *testing.T) {
	page, err := filepath.Abs(docPages["troubleshooting"])
	require.NoError(t, err)
	docPages["troubleshooting"] = page // the scenario runs elsewhere
	t.Chdir(t.TempDir())
	docEnv(t, nil)
	sess, err := connectEmulator(graphclient.Options{})
	require.NoError(t, err)
	require.NoError(t, addReviews(t.Context(), sess, "Held", 1))

	_, err = connectEmulator(graphclient.Options{})
	require.ErrorIs(t, err, emulator.ErrStateLocked)
	want := regexp.MustCompile(`^another arsync is using \.arsync/emulator\.json \(pid ` + strconv.Itoa(os.Getpid()) +
		`, since \d{4}-\d\d-\d\dT[0-9:]+(Z|[+-]\d\d:\d\d)\); wait for it to finish, or stop it$`)
	require.Regexp(t, want, err.Error())

	for _, args := range [][]string{
		{"plan", "--emulator", "reviews"},
		{"emulator", "now"},
		{"emulator", "advance", "1d"},
		{"emulator", "decide", "--review", "Held 0", "--principal", "alice@contoso.com", "--decision", "Approve"},
		{"emulator", "--state", ".arsync/emulator.json"},
	} {
		docWrite(t, map[string]string{"reviews/r.yaml": docReview("r", "R", docNoRefScope, 7)})
		code, out := docRun(t, nil, args...)
		require.Equal(t, exitError, code, "arsync %v", args)
		require.Contains(t, out, "Error: another arsync is using .arsync/emulator.json (pid ")
		if args[0] == "plan" {
			documented(t, "troubleshooting", out, "another arsync")
		}
	}

	// Released at the end of the session: the next run sees its work.
	sess.Close()
	require.Equal(t, []string{"Held 0"}, reviewNames(t))
	code, _ := docRun(t, nil, "emulator", "now")
	require.Equal(t, exitOK, code)
}

// TestEmulatorBrokenState: a state file edited by hand into something the
// emulator cannot use is one error naming the place, for every command
// that reads it.
func TestEmulatorBrokenState(t *testing.T) {
	page, err := filepath.Abs(docPages["troubleshooting"])
	require.NoError(t, err)
	docPages["troubleshooting"] = page // the scenario runs elsewhere
	t.Chdir(t.TempDir())
	docEnv(t, nil)
	docWrite(t, map[string]string{"reviews/r.yaml": docReview("r", "R", docNoRefScope, 7)})
	sess, err := connectEmulator(graphclient.Options{})
	require.NoError(t, err)
	require.NoError(t, addReviews(t.Context(), sess, "Review", 2))
	sess.Close()

	edit := func(change func(state map[string]any)) {
		data, err := os.ReadFile(emulatorStateFile)
		require.NoError(t, err)
		var state map[string]any
		require.NoError(t, json.Unmarshal(data, &state))
		change(state)
		data, err = json.Marshal(state)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(emulatorStateFile, data, 0o644))
	}
	// The reported crash: a definition without its id.
	edit(func(state map[string]any) {
		second := state["definitions"].([]any)[1].(map[string]any)
		delete(second["definition"].(map[string]any), "id")
	})
	for _, args := range [][]string{{"plan", "--emulator", "reviews"}, {"emulator", "now"}, {"emulator", "--state", emulatorStateFile}} {
		code, out := docRun(t, nil, args...)
		require.Equal(t, exitError, code)
		require.Contains(t, out, "Error: emulator state .arsync/emulator.json is not valid: definitions[1] (id ")
		require.Contains(t, out, "): definition.id is missing; fix the file, or remove it to start again")
		if args[0] == "plan" {
			documented(t, "troubleshooting", out, "emulator state")
		}
	}
	edit(func(state map[string]any) { state["formatVersion"] = 2 })
	_, out := docRun(t, nil, "plan", "--emulator", "reviews")
	documented(t, "troubleshooting", out, "emulator state")
	// The way out the message gives.
	require.NoError(t, os.Remove(emulatorStateFile))
	code, _ := docRun(t, nil, "plan", "--emulator", "reviews")
	require.Equal(t, exitOK, code)
}
