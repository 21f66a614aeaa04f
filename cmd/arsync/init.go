package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/pkg/spec"
)

// initNow is the clock init dates the starter review by; tests fix it.
var initNow = time.Now

// InitOptions are init's flags and argument; --tenant-id and --cloud are
// written into arsync.yaml (init signs in nowhere).
type InitOptions struct {
	IO *streams

	Dir         string
	Force       bool
	LocalSchema bool
	TenantID    string
	Cloud       string
}

// NewCmdInit is "arsync init". With a non-nil runF the command calls it
// with the parsed options instead of writing files.
func NewCmdInit(f *Factory, runF func(*InitOptions) error) *cobra.Command {
	o := &InitOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Start a repository: arsync.yaml, an example review and a GitHub workflow",
		Long: `Init writes a starting point into DIR (default: the current directory, which
may not exist yet):

  arsync.yaml                      the tenant and where the specs are
  reviews/guests-m365-groups.yaml  a quarterly review of guests in Microsoft 365 groups
  .github/workflows/arsync.yml     plan on pull requests, apply on merge
  .gitignore                       .arsync/ (the --emulator state), added to an existing one

The YAML files start with a yaml-language-server line naming arsync's JSON
Schema, so editors with the YAML extension complete and check fields. By
default it points at the schema published in arsync's repository; with
--local-schema the schema files are written to DIR/schema and referenced
by relative path, which works offline.

Init never overwrites a file unless --force is given; it only ever adds a
line to .gitignore.`,
		Example: `  arsync init access-reviews --tenant-id contoso.onmicrosoft.com
  cd access-reviews && arsync validate`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			o.Dir = "."
			if len(args) == 1 {
				o.Dir = args[0]
			}
			if o.TenantID != "" {
				if _, err := spec.ParseConfig("--tenant-id", []byte("tenantId: "+yamlQuote(o.TenantID))); err != nil {
					return fmt.Errorf("--tenant-id %q is not a tenant id (GUID) or domain", o.TenantID)
				}
			}
			if o.Cloud != "" && !slices.Contains(spec.Clouds, o.Cloud) {
				return fmt.Errorf("--cloud %q is not one of %s", o.Cloud, strings.Join(spec.Clouds, ", "))
			}
			if runF != nil {
				return runF(o)
			}
			return runInit(o)
		},
	}
	cmd.Flags().BoolVar(&o.Force, "force", false, "overwrite files that already exist")
	cmd.Flags().BoolVar(&o.LocalSchema, "local-schema", false, "write the JSON Schemas to DIR/schema and point the YAML files at them")
	cmd.Flags().StringVar(&o.TenantID, "tenant-id", "", "Entra tenant ID to write into arsync.yaml")
	cmd.Flags().StringVar(&o.Cloud, "cloud", "", "national cloud to write into arsync.yaml: global, usgov, usgovdod or china")
	completeFlag(cmd, "cloud", spec.Clouds...)
	return cmd
}

type initFile struct {
	path string // slash-separated, relative to the directory
	data []byte
}

func runInit(o *InitOptions) error {
	s, dir := o.IO, o.Dir
	files, err := initFiles(o)
	if err != nil {
		return err
	}

	// Check everything before writing anything: a refusal leaves DIR as it
	// was.
	if info, err := os.Stat(dir); err == nil && !info.IsDir() {
		return fmt.Errorf("%s is a file, not a directory", dir)
	}
	var existing []string
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.path))
		switch info, err := os.Lstat(p); {
		case err == nil && info.IsDir():
			return fmt.Errorf("%s is a directory; init writes a file there", p)
		case err == nil:
			existing = append(existing, p)
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
	}
	if len(existing) > 0 && !o.Force {
		return fmt.Errorf("not overwriting %s; use --force to replace them", strings.Join(existing, ", "))
	}
	ignore := filepath.Join(dir, ".gitignore")
	if info, err := os.Lstat(ignore); err == nil && info.IsDir() {
		return fmt.Errorf("%s is a directory; init adds a line to the file there", ignore)
	}

	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(s.Out, "wrote %s\n", p)
	}
	switch added, err := ignoreEmulatorState(ignore); {
	case err != nil:
		return fmt.Errorf("adding %s to %s: %w", emulatorStateDir, ignore, err)
	case added == ignoreCreated:
		fmt.Fprintf(s.Out, "wrote %s\n", ignore)
	case added == ignoreAppended:
		fmt.Fprintf(s.Out, "added %s to %s\n", emulatorStateDir, ignore)
	}
	fmt.Fprintln(s.Out, nextSteps(dir, o.TenantID != ""))
	return nil
}

// What ignoreEmulatorState did to .gitignore.
const (
	ignoreUnchanged = iota // a line already ignores the directory
	ignoreCreated
	ignoreAppended
)

// ignoreEmulatorState makes the .gitignore at path ignore the --emulator
// state directory: it creates the file, or appends a line to it unless one
// already names the directory (.arsync, /.arsync/ and the like).
func ignoreEmulatorState(path string) (int, error) {
	data, err := os.ReadFile(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	name := strings.Trim(emulatorStateDir, "/")
	for line := range strings.SplitSeq(string(data), "\n") {
		if strings.Trim(strings.TrimSpace(line), "/") == name {
			return ignoreUnchanged, nil
		}
	}
	text := "# arsync --emulator keeps its state here\n" + emulatorStateDir + "\n"
	if len(data) > 0 && !strings.HasSuffix(string(data), "\n") {
		text = "\n" + text
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return 0, err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	if exists {
		return ignoreAppended, nil
	}
	return ignoreCreated, nil
}

func nextSteps(dir string, haveTenant bool) string {
	var b strings.Builder
	b.WriteString("\nNext:\n")
	if dir != "." {
		fmt.Fprintf(&b, "  cd %s\n", dir)
	}
	b.WriteString("  arsync validate                 # check the specs offline\n")
	b.WriteString("  arsync plan --emulator          # the plan against a local Graph emulator\n")
	if !haveTenant {
		b.WriteString("  set tenantId in arsync.yaml\n")
	}
	b.WriteString("  set up sign-in for the workflow: docs/github-action.md in arsync's repository")
	return b.String()
}

func initFiles(o *InitOptions) ([]initFile, error) {
	specRef := spec.SchemaBaseURL + spec.SpecSchemaFile
	configRef := spec.SchemaBaseURL + spec.ConfigSchemaFile
	var files []initFile
	if o.LocalSchema {
		specRef = "../schema/" + spec.SpecSchemaFile
		configRef = "schema/" + spec.ConfigSchemaFile
		for _, s := range []struct {
			name string
			gen  func() ([]byte, error)
		}{{spec.SpecSchemaFile, spec.SpecSchema}, {spec.ConfigSchemaFile, spec.ConfigSchema}} {
			b, err := s.gen()
			if err != nil {
				return nil, err
			}
			files = append(files, initFile{"schema/" + s.name, b})
		}
	}
	start := firstOfNextMonth(initNow())
	files = append(files,
		initFile{"arsync.yaml", []byte(initConfig(configRef, o.TenantID, o.Cloud))},
		initFile{"reviews/guests-m365-groups.yaml", []byte(initReview(specRef, start))},
		initFile{".github/workflows/arsync.yml", []byte(initWorkflow)},
	)
	return files, nil
}

func firstOfNextMonth(t time.Time) string {
	y, m, _ := t.Date()
	return time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

// yamlQuote quotes s as a YAML double-quoted scalar.
func yamlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func initConfig(schemaRef, tenant, cloud string) string {
	tenantLine := "# tenantId: contoso.onmicrosoft.com"
	if tenant != "" {
		tenantLine = "tenantId: " + yamlQuote(tenant)
	}
	cloudLine := "# cloud: global"
	if cloud != "" {
		cloudLine = "cloud: " + cloud
	}
	return `# yaml-language-server: $schema=` + schemaRef + `
# arsync configuration. Flags (--tenant-id, --cloud, ...) override it.

# The Entra tenant the reviews are applied to: its id or a verified domain.
` + tenantLine + `
# global, or usgov, usgovdod or china for a national cloud.
` + cloudLine + `

# Where the review definitions are, relative to this file.
paths:
  - reviews

# Deleting a definition (its YAML is gone) or replacing one (a field Graph
# cannot update, such as scope, changed) also deletes its review history.
# apply refuses both unless they are allowed here or by --allow-delete and
# --allow-replace.
allowDelete: false
allowReplace: false
`
}

func initReview(schemaRef, startDate string) string {
	return `# yaml-language-server: $schema=` + schemaRef + `
# Guests in every Microsoft 365 group, reviewed every quarter by the owners
# of each group. One definition covers all groups: instanceEnumerationScope
# lists them, and Graph creates one review instance per group.
apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  # The stable key: arsync finds the definition again by it, whatever
  # happens to displayName.
  name: guests-m365-quarterly
spec:
  displayName: Guest access to Microsoft 365 groups
  descriptionForAdmins: Quarterly review of guest users in every Microsoft 365 group.
  descriptionForReviewers: Remove guests who no longer need access to your group.
  scope:
    type: query
    query: ./members/microsoft.graph.user/?$filter=(userType eq 'Guest')
  instanceEnumerationScope:
    query: /groups?$filter=(groupTypes/any(c:c eq 'Unified'))
  reviewers:
    - owners: true
  # Reviews the guests of groups without owners, which would otherwise get
  # no reviewer and never be done. admin@contoso.com is the emulator's demo
  # administrator: name someone in your tenant (UPN or mail) before plan.
  fallbackReviewers:
    - user: admin@contoso.com
  settings:
    mailNotificationsEnabled: true
    reminderNotificationsEnabled: true
    justificationRequiredOnApproval: true
    defaultDecisionEnabled: false
    instanceDurationInDays: 14
    # Set to true to remove denied guests automatically when a review ends.
    autoApplyDecisionsEnabled: false
    recommendationsEnabled: true
    recurrence:
      pattern: {type: absoluteMonthly, interval: 3}
      range: {type: noEnd, startDate: "` + startDate + `"}
    applyActions: [removeAccessApplyAction]
`
}

// initWorkflow is also published as examples/github/single-tenant.yml; a
// test keeps the two the same.
const initWorkflow = `# arsync: the plan as a comment on every pull request, applied on merge.
# Setup (no secrets stored): docs/github-action.md in arsync's repository.
#  1. An Entra app registration with the Microsoft Graph application
#     permissions AccessReview.ReadWrite.All, User.Read.All and
#     GroupMember.Read.All (names in the specs are looked up), with admin
#     consent.
#  2. Federated credentials on it for this repository, issuer
#     https://token.actions.githubusercontent.com, subjects
#     repo:OWNER/REPO:pull_request and repo:OWNER/REPO:ref:refs/heads/main.
#  3. Repository variables AZURE_TENANT_ID and AZURE_CLIENT_ID.
name: arsync

on:
  pull_request:
    paths: [arsync.yaml, "reviews/**", .github/workflows/arsync.yml]
  push:
    branches: [main]
    paths: [arsync.yaml, "reviews/**", .github/workflows/arsync.yml]
  workflow_dispatch:

permissions:
  contents: read
  id-token: write      # sign in to Entra with GitHub OIDC
  pull-requests: write # the plan comment

# One apply at a time per tenant, never cancelled half-way; a pull
# request's plans queue per pull request, a newer push replacing an older
# one.
concurrency:
  group: arsync-${{ vars.AZURE_TENANT_ID }}-${{ github.event.pull_request.number || 'apply' }}
  cancel-in-progress: ${{ github.event_name == 'pull_request' }}

jobs:
  arsync:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      # plan on pull requests, apply --auto-approve on main
      - uses: arsync/arsync@main
        with:
          tenant-id: ${{ vars.AZURE_TENANT_ID }}
          client-id: ${{ vars.AZURE_CLIENT_ID }}
`
