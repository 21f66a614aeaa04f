package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/schematest"
	"github.com/arsync/arsync/pkg/spec"
)

func fixInitClock(t *testing.T) {
	t.Helper()
	saved := initNow
	initNow = func() time.Time { return time.Date(2026, 11, 23, 15, 4, 5, 0, time.UTC) }
	t.Cleanup(func() { initNow = saved })
}

// TestInitThenValidate is a newcomer's first minutes: init into a new
// directory, then validate there passes.
func TestInitThenValidate(t *testing.T) {
	fixInitClock(t)
	dir := filepath.Join(t.TempDir(), "access-reviews")

	code, stdout, stderr := runArsync(t, "init", dir, "--tenant-id", "contoso.onmicrosoft.com")
	require.Equal(t, exitOK, code, stderr)
	require.Empty(t, stderr)
	for _, f := range []string{"arsync.yaml", "reviews/guests-m365-groups.yaml", ".github/workflows/arsync.yml"} {
		require.Contains(t, stdout, "wrote "+filepath.Join(dir, filepath.FromSlash(f))+"\n")
		require.FileExists(t, filepath.Join(dir, filepath.FromSlash(f)))
	}
	require.Contains(t, stdout, "cd "+dir+"\n")

	cfg, err := spec.LoadConfig(filepath.Join(dir, "arsync.yaml"))
	require.NoError(t, err)
	require.Equal(t, "contoso.onmicrosoft.com", cfg.TenantID)
	review, err := os.ReadFile(filepath.Join(dir, "reviews", "guests-m365-groups.yaml"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(review), "# yaml-language-server: $schema="+spec.SchemaBaseURL+spec.SpecSchemaFile+"\n"))
	require.Contains(t, string(review), `startDate: "2026-12-01"}`, "the series starts on the first of next month, quoted for YAML 1.1 parsers")

	t.Chdir(dir)
	code, stdout, stderr = runArsync(t, "validate")
	require.Equal(t, exitOK, code, stderr)
	require.Equal(t, "1 file, 1 definition: valid\n", stdout)
	require.Empty(t, stderr, "the starter review has no warnings either")
}

// TestInitOutputPassesAjv: the files init writes validate against the
// published schemas in other people's tools (ajv with js-yaml).
func TestInitOutputPassesAjv(t *testing.T) {
	fixInitClock(t)
	dir := t.TempDir()
	code, _, stderr := runArsync(t, "init", dir, "--tenant-id", "contoso.onmicrosoft.com")
	require.Equal(t, exitOK, code, stderr)
	var files []schematest.File
	for name, schema := range map[string]string{"arsync.yaml": schematest.ConfigSchema, "reviews/guests-m365-groups.yaml": schematest.SpecSchema} {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		require.NoError(t, err)
		files = append(files, schematest.File{Name: name, Schema: schema, Text: b})
	}
	for _, r := range schematest.Validate(t, files) {
		require.Empty(t, r.ParseError, r.Name)
		require.Len(t, r.Docs, 1, r.Name)
		require.True(t, r.Docs[0].Valid, "%s: %v", r.Name, r.Docs[0].Errors)
	}
}

// TestInitRefusesToOverwrite: any existing file stops init before it
// writes anything; --force replaces.
func TestInitRefusesToOverwrite(t *testing.T) {
	fixInitClock(t)
	dir := t.TempDir()
	mine := filepath.Join(dir, "arsync.yaml")
	require.NoError(t, os.WriteFile(mine, []byte("tenantId: mine.onmicrosoft.com\n"), 0o644))

	code, stdout, stderr := runArsync(t, "init", dir)
	require.Equal(t, exitError, code)
	require.Empty(t, stdout)
	require.Equal(t, "Error: not overwriting "+mine+"; use --force to replace them\n", stderr)
	require.NoDirExists(t, filepath.Join(dir, "reviews"), "nothing is written after a refusal")
	data, err := os.ReadFile(mine)
	require.NoError(t, err)
	require.Equal(t, "tenantId: mine.onmicrosoft.com\n", string(data))

	code, _, stderr = runArsync(t, "init", dir, "--force")
	require.Equal(t, exitOK, code, stderr)
	data, err = os.ReadFile(mine)
	require.NoError(t, err)
	require.Contains(t, string(data), "# tenantId: contoso.onmicrosoft.com", "replaced with the template")
}

// TestInitLocalSchema: with --local-schema the files name schema files
// written next to them, by relative paths that resolve.
func TestInitLocalSchema(t *testing.T) {
	fixInitClock(t)
	dir := t.TempDir()
	code, _, stderr := runArsync(t, "init", dir, "--local-schema", "--cloud", "usgov")
	require.Equal(t, exitOK, code, stderr)

	for file, schemaFile := range map[string]string{
		"arsync.yaml":                     spec.ConfigSchemaFile,
		"reviews/guests-m365-groups.yaml": spec.SpecSchemaFile,
	} {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
		require.NoError(t, err)
		first, _, _ := strings.Cut(string(data), "\n")
		ref, ok := strings.CutPrefix(first, "# yaml-language-server: $schema=")
		require.True(t, ok, first)
		got, err := os.ReadFile(filepath.Join(dir, filepath.Dir(filepath.FromSlash(file)), filepath.FromSlash(ref)))
		require.NoError(t, err, "%s names %s", file, ref)
		want, err := os.ReadFile(filepath.Join("../../schema", schemaFile))
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	}
	cfg, err := spec.LoadConfig(filepath.Join(dir, "arsync.yaml"))
	require.NoError(t, err)
	require.Equal(t, "usgov", cfg.Cloud)
}

func TestInitBadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "taken", "arsync.yaml"), 0o755))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"init", file}, "Error: " + file + " is a file, not a directory\n"},
		{[]string{"init", filepath.Join(dir, "taken")}, "Error: " + filepath.Join(dir, "taken", "arsync.yaml") + " is a directory; init writes a file there\n"},
		{[]string{"init", dir, "--tenant-id", "not a tenant"}, "Error: --tenant-id \"not a tenant\" is not a tenant id (GUID) or domain\n"},
		{[]string{"init", dir, "--cloud", "germany"}, "Error: --cloud \"germany\" is not one of global, usgov, usgovdod, china\n"},
		{[]string{"init", "a", "b"}, "Error: accepts at most 1 arg(s), received 2\n"},
	} {
		code, stdout, stderr := runArsync(t, tc.args...)
		require.Equal(t, exitError, code, tc.args)
		require.Empty(t, stdout)
		require.Equal(t, tc.want, stderr)
	}
}

// TestInitWorkflowIsPublished: the workflow init writes is the single-tenant
// example in examples/github.
func TestInitWorkflowIsPublished(t *testing.T) {
	data, err := os.ReadFile("../../examples/github/single-tenant.yml")
	require.NoError(t, err)
	require.Equal(t, initWorkflow, string(data))
}

// TestInitIgnoresEmulatorState: init keeps .arsync/ (the --emulator state)
// out of Git: it writes a .gitignore, adds the line to an existing one
// (whatever --force says, the file is never replaced), and adds nothing
// when a line already ignores the directory.
func TestInitIgnoresEmulatorState(t *testing.T) {
	fixInitClock(t)
	read := func(t *testing.T, path string) string {
		t.Helper()
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		return string(data)
	}

	t.Run("new", func(t *testing.T) {
		dir := t.TempDir()
		code, stdout, stderr := runArsync(t, "init", dir)
		require.Equal(t, exitOK, code, stderr)
		ignore := filepath.Join(dir, ".gitignore")
		require.Contains(t, stdout, "wrote "+ignore+"\n")
		require.Equal(t, "# arsync --emulator keeps its state here\n.arsync/\n", read(t, ignore))
	})

	t.Run("existing", func(t *testing.T) {
		dir := t.TempDir()
		ignore := filepath.Join(dir, ".gitignore")
		require.NoError(t, os.WriteFile(ignore, []byte("node_modules/\n*.log"), 0o644))
		code, stdout, stderr := runArsync(t, "init", dir)
		require.Equal(t, exitOK, code, stderr)
		require.Contains(t, stdout, "added .arsync/ to "+ignore+"\n")
		require.Equal(t, "node_modules/\n*.log\n# arsync --emulator keeps its state here\n.arsync/\n", read(t, ignore))

		// Run again with --force: the templates are replaced, the
		// .gitignore already has the line and stays as it is.
		before := read(t, ignore)
		code, stdout, stderr = runArsync(t, "init", dir, "--force")
		require.Equal(t, exitOK, code, stderr)
		require.NotContains(t, stdout, ".gitignore")
		require.Equal(t, before, read(t, ignore))
	})

	t.Run("already ignored", func(t *testing.T) {
		for _, line := range []string{".arsync", "/.arsync/", "  .arsync/  "} {
			dir := t.TempDir()
			ignore := filepath.Join(dir, ".gitignore")
			require.NoError(t, os.WriteFile(ignore, []byte("bin/\n"+line+"\n"), 0o644))
			code, stdout, stderr := runArsync(t, "init", dir)
			require.Equal(t, exitOK, code, stderr)
			require.NotContains(t, stdout, ".gitignore", line)
			require.Equal(t, "bin/\n"+line+"\n", read(t, ignore), line)
		}
	})

	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		ignore := filepath.Join(dir, ".gitignore")
		require.NoError(t, os.Mkdir(ignore, 0o755))
		code, stdout, stderr := runArsync(t, "init", dir)
		require.Equal(t, exitError, code)
		require.Empty(t, stdout)
		require.Equal(t, "Error: "+ignore+" is a directory; init adds a line to the file there\n", stderr)
		require.NoFileExists(t, filepath.Join(dir, "arsync.yaml"), "nothing is written after a refusal")
	})
}
