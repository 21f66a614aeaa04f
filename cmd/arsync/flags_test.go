package main

// Each command's flags and arguments, parsed into its options without a
// server: the commands get a runF that records the options, and a Factory
// whose Config and Connect fail the test if a command calls them while
// parsing.

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/report"
	"github.com/arsync/arsync/pkg/spec"
)

// offlineFactory is a Factory that reaches nothing.
func offlineFactory(t *testing.T) *Factory {
	t.Helper()
	return &Factory{
		IO:      &streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard},
		Globals: &globalOptions{},
		Config: func() (*spec.Config, error) {
			t.Error("parsing flags loaded the config")
			return nil, errors.New("no config here")
		},
		Connect: func(context.Context, *spec.Config) (*session, error) {
			t.Error("parsing flags connected")
			return nil, errors.New("no Graph here")
		},
		Getenv: func(string) string { return "" },
	}
}

// flagCase is one command line: args (after the command's name) and the
// options they parse into, or the error they end with.
type flagCase[O any] struct {
	name string
	args []string
	want O
	err  string
}

// ignoreWiring leaves the streams and the Factory's functions out of the
// comparison: they are not parsed from flags.
var ignoreWiring = cmp.FilterPath(func(p cmp.Path) bool {
	t := p.Last().Type()
	return t.Kind() == reflect.Func || t == reflect.TypeFor[*streams]()
}, cmp.Ignore())

// testFlags runs each case through newCmd mounted at path (its parents'
// names) under a root with the global flags, and compares.
func testFlags[O any](t *testing.T, path []string, newCmd func(*Factory, func(*O) error) *cobra.Command, cases []flagCase[O]) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			f := offlineFactory(t)
			var got *O
			cmd := newCmd(f, func(o *O) error { got = o; return nil })
			root := newRootShell(f)
			parent := root
			for _, name := range path {
				p := &cobra.Command{Use: name}
				parent.AddCommand(p)
				parent = p
			}
			parent.AddCommand(cmd)
			root.SetOut(io.Discard)
			root.SetErr(io.Discard)
			err := execute(context.Background(), root, append(append(append([]string{}, path...), cmd.Name()), tt.args...))
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				require.Nil(t, got, "runF is not called after a flag error")
				return
			}
			require.NoError(t, err)
			require.NotNil(t, got, "runF was not called")
			if d := cmp.Diff(tt.want, *got, ignoreWiring, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("options (-want +got):\n%s", d)
			}
		})
	}
}

// TestOptionsCarryTheFactory: the options hold the Factory's streams and
// functions, so run uses what a test put there.
func TestOptionsCarryTheFactory(t *testing.T) {
	f := offlineFactory(t)
	var got *PlanOptions
	cmd := NewCmdPlan(f, func(o *PlanOptions) error { got = o; return nil })
	cmd.SetArgs(nil)
	require.NoError(t, cmd.Execute())
	require.Same(t, f.IO, got.IO)
	require.NotNil(t, got.Config)
	require.NotNil(t, got.Connect)
}

func TestValidateFlags(t *testing.T) {
	testFlags(t, nil, NewCmdValidate, []flagCase[ValidateOptions]{
		{name: "defaults", want: ValidateOptions{}},
		{name: "paths", args: []string{"a", "b.yaml"}, want: ValidateOptions{Paths: []string{"a", "b.yaml"}}},
		{name: "unknown flag", args: []string{"--strict"}, err: "unknown flag: --strict"},
		{name: "validate does not sign in", args: []string{"--emulator"}, err: "unknown flag: --emulator"},
	})
}

func TestPlanFlags(t *testing.T) {
	testFlags(t, nil, NewCmdPlan, []flagCase[PlanOptions]{
		{name: "defaults", want: PlanOptions{Output: "text"}},
		{name: "everything", args: []string{"-o", "json", "--out", "plan.json", "--detailed-exitcode", "--allow-delete", "a", "b"},
			want: PlanOptions{Paths: []string{"a", "b"}, Output: "json", Out: "plan.json", DetailedExitCode: true, DeleteDuplicates: true}},
		{name: "markdown, long flag", args: []string{"--output=markdown"}, want: PlanOptions{Output: "markdown"}},
		{name: "global flags are not the command's", args: []string{"--emulator", "-v", "reviews"},
			want: PlanOptions{Output: "text", Paths: []string{"reviews"}}},
		{name: "unknown format", args: []string{"-o", "yaml"}, err: `unknown output format "yaml": use text, markdown or json`},
		{name: "bad bool", args: []string{"--detailed-exitcode=maybe"},
			err: `invalid argument "maybe" for "--detailed-exitcode" flag: strconv.ParseBool: parsing "maybe": invalid syntax`},
		{name: "missing value", args: []string{"--out"}, err: "flag needs an argument: --out"},
		{name: "emulator and endpoint", args: []string{"--emulator", "--graph-endpoint", "https://graph.microsoft.us/v1.0"},
			err: "--emulator cannot be combined with --graph-endpoint: the emulator is its own endpoint and needs no sign-in; drop one"},
		{name: "emulator and auth", args: []string{"--auth", "bogus", "--emulator"},
			err: "--emulator cannot be combined with --auth: the emulator is its own endpoint and needs no sign-in; drop one"},
		{name: "emulator and auth auto, explicitly", args: []string{"--emulator", "--auth=auto"},
			err: "--emulator cannot be combined with --auth: the emulator is its own endpoint and needs no sign-in; drop one"},
		{name: "emulator and every sign-in flag", args: []string{"--emulator", "--tenant-id", "t", "--cloud", "china", "--graph-endpoint", "u", "--auth", "env"},
			err: "--emulator cannot be combined with --tenant-id, --cloud, --graph-endpoint or --auth: the emulator is its own endpoint and needs no sign-in; drop one"},
		{name: "terraform's -out", args: []string{"-out", "plan.json", "reviews"}, err: "-out: arsync's long flags take two dashes: --out plan.json"},
		{name: "terraform's -out=", args: []string{"-out=plan.json"}, err: "-out=plan.json: arsync's long flags take two dashes: --out=plan.json"},
		{name: "single-dash bool and global flags", args: []string{"-detailed-exitcode", "-out", "p.json", "-emulator", "-debug"},
			err: "-detailed-exitcode, -out, -emulator, -debug: arsync's long flags take two dashes: --detailed-exitcode --out p.json --emulator --debug"},
		{name: "single-dash -help", args: []string{"-help"}, err: "-help: arsync's long flags take two dashes: --help"},
		{name: "shorthand with its value", args: []string{"-ojson", "-v"}, want: PlanOptions{Output: "json"}},
		{name: "shorthand =value", args: []string{"-o=markdown"}, want: PlanOptions{Output: "markdown"}},
		{name: "shorthands together", args: []string{"-vo", "json"}, want: PlanOptions{Output: "json"}},
		{name: "a value that looks like -out", args: []string{"--out", "-out"}, want: PlanOptions{Output: "text", Out: "-out"}},
		{name: "a shorthand's value that looks like -out", args: []string{"-o", "-out"}, err: `unknown output format "-out": use text, markdown or json`},
		{name: "a path named like a command", args: []string{"--emulator", "status"}, want: PlanOptions{Output: "text", Paths: []string{"status"}}},
		{name: "after --", args: []string{"--", "-out"}, want: PlanOptions{Output: "text", Paths: []string{"-out"}}},
		{name: "terraform's -no-color", args: []string{"-no-color", "reviews"}, err: "-no-color: arsync turns colour off with --color never (or NO_COLOR=1)"},
		{name: "--no-color", args: []string{"--no-color"}, err: "--no-color: arsync turns colour off with --color never (or NO_COLOR=1)"},
		{name: "emulator=false and endpoint", args: []string{"--emulator=false", "--graph-endpoint", "u"}, want: PlanOptions{Output: "text"}},
	})
}

func TestApplyFlags(t *testing.T) {
	saved := filepath.Join(t.TempDir(), "plan.json")
	require.NoError(t, os.WriteFile(saved, []byte(`{"formatVersion": 1}`), 0o644))
	testFlags(t, nil, NewCmdApply, []flagCase[ApplyOptions]{
		{name: "a saved plan where paths go", args: []string{saved}, want: ApplyOptions{PlanFile: saved}},
		{name: "a saved plan and paths", args: []string{"reviews", saved},
			err: saved + " is a saved plan: apply it alone (arsync apply --plan " + saved + "), not with spec paths"},
		{name: "defaults", want: ApplyOptions{}},
		{name: "paths and gates", args: []string{"--auto-approve", "--allow-delete", "--allow-replace", "--force", "reviews"},
			want: ApplyOptions{Paths: []string{"reviews"}, AutoApprove: true, AllowDelete: true, AllowReplace: true, Force: true}},
		{name: "saved plan", args: []string{"--plan", "plan.json"}, want: ApplyOptions{PlanFile: "plan.json"}},
		{name: "saved plan and paths", args: []string{"--plan", "plan.json", "reviews"},
			err: "give either --plan or spec paths, not both: a saved plan already says what to apply"},
		{name: "unknown flag", args: []string{"--yes"}, err: "unknown flag: --yes"},
		{name: "terraform's -auto-approve", args: []string{"-auto-approve", "reviews"}, err: "-auto-approve: arsync's long flags take two dashes: --auto-approve"},
		{name: "terraform's -auto-approve=false", args: []string{"-auto-approve=false"}, err: "-auto-approve=false: arsync's long flags take two dashes: --auto-approve=false"},
		{name: "-plan", args: []string{"-plan", "plan.json"}, err: "-plan: arsync's long flags take two dashes: --plan plan.json"},
	})
}

func TestExportFlags(t *testing.T) {
	testFlags(t, nil, NewCmdExport, []flagCase[ExportOptions]{
		{name: "defaults", want: ExportOptions{Out: "."}},
		{name: "everything", args: []string{"--out", "reviews", "--all", "--force"}, want: ExportOptions{Out: "reviews", All: true, Force: true}},
		{name: "arguments", args: []string{"reviews"}, err: `unknown command "reviews" for "arsync export"`},
	})
}

func TestVersionFlags(t *testing.T) {
	testFlags(t, nil, NewCmdVersion, []flagCase[VersionOptions]{
		{name: "no flags", want: VersionOptions{}},
		{name: "arguments", args: []string{"now"}, err: `unknown command "now" for "arsync version"`},
		{name: "version does not sign in", args: []string{"--auth", "env"}, err: "unknown flag: --auth"},
	})
}

func TestInitFlags(t *testing.T) {
	testFlags(t, nil, NewCmdInit, []flagCase[InitOptions]{
		{name: "defaults", want: InitOptions{Dir: "."}},
		{name: "everything", args: []string{"repo", "--force", "--local-schema", "--tenant-id", "contoso.onmicrosoft.com", "--cloud", "usgov"},
			want: InitOptions{Dir: "repo", Force: true, LocalSchema: true, TenantID: "contoso.onmicrosoft.com", Cloud: "usgov"}},
		{name: "bad tenant", args: []string{"--tenant-id", "not a tenant"}, err: `--tenant-id "not a tenant" is not a tenant id (GUID) or domain`},
		{name: "bad cloud", args: []string{"--cloud", "mars"}, err: `--cloud "mars" is not one of global, usgov, usgovdod, china`},
		{name: "two directories", args: []string{"a", "b"}, err: "accepts at most 1 arg(s), received 2"},
		{name: "init does not sign in", args: []string{"--graph-endpoint", "u"}, err: "unknown flag: --graph-endpoint"},
	})
}

func TestGitHubCommentFlags(t *testing.T) {
	testFlags(t, []string{"github"}, NewCmdGitHubComment, []flagCase[CommentOptions]{
		{name: "plan", args: []string{"--plan", "plan.json"}, want: CommentOptions{Plan: "plan.json"}},
		{name: "everything", args: []string{"--failed", "plan.log", "--key", "prod", "--repo", "o/r", "--pr", "7", "--dry-run", "--step-summary", "--tenant-id", "contoso"},
			want: CommentOptions{Failed: "plan.log", Key: "prod", Repo: "o/r", PR: 7, DryRun: true, StepSummary: true, TenantID: "contoso"}},
		{name: "neither", err: "at least one of the flags in the group [plan failed] is required"},
		{name: "both", args: []string{"--plan", "p", "--failed", "f"},
			err: "if any flags in the group [plan failed] are set none of the others can be; [failed plan] were all set"},
		{name: "bad number", args: []string{"--plan", "p", "--pr", "seven"},
			err: `invalid argument "seven" for "--pr" flag: strconv.ParseInt: parsing "seven": invalid syntax`},
		{name: "arguments", args: []string{"--plan", "p", "extra"}, err: `unknown command "extra" for "arsync github comment"`},
		{name: "comment does not sign in", args: []string{"--plan", "p", "--auth", "env"}, err: "unknown flag: --auth"},
	})
}

func TestGitHubAnnotateFlags(t *testing.T) {
	testFlags(t, []string{"github"}, NewCmdGitHubAnnotate, []flagCase[AnnotateOptions]{
		{name: "log", args: []string{"plan.log"}, want: AnnotateOptions{Log: "plan.log"}},
		{name: "stdin and dir", args: []string{"-", "--dir", "tenants/prod"}, want: AnnotateOptions{Log: "-", Dir: "tenants/prod"}},
		{name: "no log", err: "accepts 1 arg(s), received 0"},
	})
}

func TestEmulatorFlags(t *testing.T) {
	defaults := EmulatorOptions{Listen: "127.0.0.1:0", PageSize: 100, RangeStyle: "as-sent"}
	testFlags(t, nil, NewCmdEmulator, []flagCase[EmulatorOptions]{
		{name: "defaults", want: defaults},
		{name: "everything", args: []string{"--listen", "0.0.0.0:8080", "--allow-remote", "--state", "s.json", "--tenant", "t.yaml",
			"--faults", "seed=7;429:0.2", "--page-size", "5", "--seed", "3", "--range-style", "numbered"},
			want: EmulatorOptions{Listen: "0.0.0.0:8080", AllowRemote: true, State: "s.json", Tenant: "t.yaml",
				Faults: "seed=7;429:0.2", PageSize: 5, Seed: 3, RangeStyle: "numbered"}},
		{name: "bad page size", args: []string{"--page-size", "0"}, err: "--page-size must be at least 1 (got 0)"},
		{name: "bad range style", args: []string{"--range-style", "sideways"}, err: `--range-style must be as-sent or numbered, not "sideways"`},
		{name: "tokens", args: []string{"--issue-token", "user=bob@contoso.com,read-only", "--issue-token", "expired"},
			want: EmulatorOptions{Listen: "127.0.0.1:0", PageSize: 100, RangeStyle: "as-sent", IssueTokens: []string{"user=bob@contoso.com,read-only", "expired"}}},
		{name: "bad token", args: []string{"--issue-token", "lifetime=soon"}, err: `--issue-token: token "lifetime=soon": lifetime: "soon" is not a duration: use e.g. 30d, 2w, 12h or 90m`},
		{name: "bad faults", args: []string{"--faults", "teapot"}, err: `--faults: fault clause "teapot": unknown fault kind "teapot" (known: 429, 500, 503, 504, drop, reset, commit-then-fail, commit-then-drop)`},
		{name: "arguments", args: []string{"extra"}, err: `unknown command "extra" for "arsync emulator"`},
	})
}

func TestEmulatorAdvanceFlags(t *testing.T) {
	to := time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	state := EmulatorStateOptions{State: emulatorStateFile}
	testFlags(t, []string{"emulator"}, NewCmdEmulatorAdvance, []flagCase[EmulatorAdvanceOptions]{
		{name: "duration", args: []string{"30d"}, want: EmulatorAdvanceOptions{EmulatorStateOptions: state, Step: 30 * 24 * time.Hour}},
		{name: "to, state and tenant", args: []string{"--to", "2027-02-01", "--state", "s.json", "--tenant", "t.yaml"},
			want: EmulatorAdvanceOptions{EmulatorStateOptions: EmulatorStateOptions{State: "s.json", Tenant: "t.yaml"}, To: &to}},
		{name: "neither", err: "give either a DURATION or --to TIME"},
		{name: "both", args: []string{"1d", "--to", "2027-02-01"}, err: "give either a DURATION or --to TIME"},
		{name: "bad duration", args: []string{"soon"}, err: `"soon" is not a duration: use e.g. 30d, 2w, 12h or 90m`},
		{name: "backwards", args: []string{"-2h"}, err: "unknown shorthand flag: '2' in -2h"},
		{name: "bad time", args: []string{"--to", "next monday"},
			err: `--to: "next monday" is not a time: use RFC 3339 (2026-01-06T09:00:00Z) or a date (2026-01-06)`},
	})
}

func TestEmulatorDecideFlags(t *testing.T) {
	state := EmulatorStateOptions{State: emulatorStateFile}
	testFlags(t, []string{"emulator"}, NewCmdEmulatorDecide, []flagCase[EmulatorDecideOptions]{
		{name: "required, decision made canonical", args: []string{"--review", "r", "--principal", "sam", "--decision", "approve"},
			want: EmulatorDecideOptions{EmulatorStateOptions: state, Review: "r", Input: emulator.DecisionInput{Principal: "sam", Decision: "Approve"}}},
		{name: "everything", args: []string{"--review", "r", "--principal", "sam", "--decision", "Deny", "--justification", "gone",
			"--reviewer", "alice", "--resource", "Sales", "--instance", "i1", "--state", "s.json"},
			want: EmulatorDecideOptions{EmulatorStateOptions: EmulatorStateOptions{State: "s.json"}, Review: "r",
				Input: emulator.DecisionInput{Principal: "sam", Decision: "Deny", Justification: "gone", Reviewer: "alice", Resource: "Sales", InstanceID: "i1"}}},
		{name: "missing principal", args: []string{"--review", "r", "--decision", "Deny"}, err: "--review, --principal and --decision are required"},
		{name: "bad decision", args: []string{"--review", "r", "--principal", "sam", "--decision", "Maybe"},
			err: `--decision: "Maybe" is not a decision: use Approve, Deny, NotReviewed or DontKnow`},
	})
}

func TestEmulatorNowFlags(t *testing.T) {
	testFlags(t, []string{"emulator"}, NewCmdEmulatorNow, []flagCase[EmulatorNowOptions]{
		{name: "defaults", want: EmulatorNowOptions{EmulatorStateOptions: EmulatorStateOptions{State: emulatorStateFile}}},
		{name: "state", args: []string{"--state", "s.json"}, want: EmulatorNowOptions{EmulatorStateOptions: EmulatorStateOptions{State: "s.json"}}},
		{name: "arguments", args: []string{"later"}, err: `unknown command "later" for "arsync emulator now"`},
	})
}

func TestStatusFlags(t *testing.T) {
	testFlags(t, nil, NewCmdStatus, []flagCase[StatusOptions]{
		{name: "defaults", want: StatusOptions{Output: "text"}},
		{name: "json and paths", args: []string{"-o", "json", "reviews"}, want: StatusOptions{Output: "json", Paths: []string{"reviews"}}},
		{name: "csv", args: []string{"-o", "csv"}, want: StatusOptions{Output: "csv"}},
		{name: "all", args: []string{"--all", "-o", "markdown"}, want: StatusOptions{Output: "markdown", All: true}},
		{name: "all and paths", args: []string{"--all", "reviews"}, err: "--all shows every review in the tenant; it cannot be combined with PATHs (reviews)"},
		{name: "unknown format", args: []string{"-o", "yaml"}, err: `unknown output format "yaml": use text, json, csv or markdown`},
	})
}

func TestDecisionsFlags(t *testing.T) {
	day := report.DefaultCursorOverlap
	testFlags(t, nil, NewCmdDecisions, []flagCase[DecisionsOptions]{
		{name: "defaults", want: DecisionsOptions{Overlap: day, Output: "table"}},
		{name: "everything, cleaned", args: []string{"--review", " guests ", "--instance", "i1", "--decision", "deny", "--since", "7d", "-o", "jsonl"},
			want: DecisionsOptions{Overlap: day, Review: "guests", Instance: "i1", Decision: "Deny", Since: "7d", Output: "jsonl"}},
		{name: "bad decision", args: []string{"--decision", "nope"}, err: `--decision: "nope" is not a decision: use Approve, Deny, NotReviewed or DontKnow`},
		{name: "bad since", args: []string{"--since", "yesterday"},
			err: `--since "yesterday": use an RFC 3339 time (2026-01-31T12:00:00Z), a date (2026-01-31) or a duration such as 24h or 7d`},
		{name: "unknown format", args: []string{"-o", "xml"}, err: `unknown output format "xml": use table, csv, json, jsonl`},
		{name: "arguments", args: []string{"guests"}, err: `unknown command "guests" for "arsync decisions"`},
		{name: "stage", args: []string{"--stage", "2"}, want: DecisionsOptions{Overlap: day, Stage: 2, Output: "table"}},
		{name: "single-dash -review", args: []string{"-review", "guests"}, err: "-review: arsync's long flags take two dashes: --review guests"},
		{name: "-ojsonl", args: []string{"-ojsonl"}, want: DecisionsOptions{Overlap: day, Output: "jsonl"}},
		{name: "filters and cursor", args: []string{"--reviewer", "bob@contoso.com", "--principal", "Sam Taylor", "--resource", "Marketing",
			"--pending", "--cursor", "c.json", "--cursor-overlap", "2h"},
			want: DecisionsOptions{Reviewer: "bob@contoso.com", Principal: "Sam Taylor", Resource: "Marketing", Pending: true,
				Cursor: "c.json", Overlap: 2 * time.Hour, Output: "table"}},
		{name: "pending and another decision", args: []string{"--pending", "--decision", "Deny"},
			err: "--pending lists NotReviewed items; it cannot be combined with --decision Deny"},
		{name: "pending and NotReviewed", args: []string{"--pending", "--decision", "notreviewed"},
			want: DecisionsOptions{Overlap: day, Pending: true, Decision: "NotReviewed", Output: "table"}},
		{name: "no overlap", args: []string{"--cursor-overlap", "0s"}, err: "--cursor-overlap 0s: give a positive duration such as 24h"},
		{name: "stage 0", args: []string{"--stage", "0"}, err: `--stage: stage 0: a review has stages 1 to 3`},
		{name: "stage 4", args: []string{"--stage", "4"}, err: `--stage: stage 4: a review has stages 1 to 3`},
		{name: "stage not a number", args: []string{"--stage", "two"}, err: `invalid argument "two" for "--stage" flag: strconv.ParseInt: parsing "two": invalid syntax`},
	})
}

// TestSignInFlags: the commands that sign in to Graph have the sign-in
// flags, which fill in the Factory's Globals; the others have none of them
// (init and github comment keep --tenant-id, and init --cloud, for what
// they write). --config and --debug are everyone's.
func TestSignInFlags(t *testing.T) {
	signIn := []string{"tenant-id", "cloud", "graph-endpoint", "emulator", "auth"}
	cases := map[string][]string{
		"plan":             signIn,
		"apply":            signIn,
		"export":           signIn,
		"status":           signIn,
		"decisions":        signIn,
		"report":           signIn,
		"auth status":      signIn,
		"validate":         nil,
		"version":          nil,
		"init":             {"tenant-id", "cloud"},
		"github comment":   {"tenant-id"},
		"github annotate":  nil,
		"emulator":         nil,
		"emulator advance": nil,
		"completion bash":  nil,
	}
	root := newRootCmd(offlineFactory(t))
	root.InitDefaultCompletionCmd()
	for path, want := range cases {
		t.Run(path, func(t *testing.T) {
			cmd, rest, err := root.Find(strings.Fields(path))
			require.NoError(t, err)
			require.Empty(t, rest)
			var got []string
			for _, name := range signIn {
				if cmd.Flags().Lookup(name) != nil || cmd.InheritedFlags().Lookup(name) != nil {
					got = append(got, name)
				}
			}
			require.Equal(t, want, got)
			for _, name := range []string{"config", "debug"} {
				require.NotNil(t, cmd.InheritedFlags().Lookup(name), "--%s is global", name)
			}
		})
	}

	f := offlineFactory(t)
	root = newRootShell(f)
	root.AddCommand(NewCmdPlan(f, func(*PlanOptions) error { return nil }))
	root.SetArgs([]string{"--config", "c.yaml", "plan", "--tenant-id", "contoso", "--cloud", "usgov", "--graph-endpoint", "https://e/v1.0", "--auth", "env", "-v", "--color", "never"})
	require.NoError(t, root.Execute())
	want := globalOptions{ConfigFile: "c.yaml", TenantID: "contoso", Cloud: "usgov", GraphEndpoint: "https://e/v1.0", Auth: "env", Debug: true, Color: "never", configSet: true}
	require.Equal(t, want, *f.Globals)
	require.Equal(t, "never", f.IO.ColorMode)
}
