package spec

import (
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "arsync.yaml")
	write(t, path, `# arsync settings for the Contoso tenant
tenantId: 5c1b9a52-7f0e-4a7b-9d39-0b6f2e3c4d11
cloud: usgov
graphEndpoint: https://graph.microsoft.us/v1.0
paths: [reviews, /abs/reviews]
allowDelete: true
allowReplace: false
maxChangePercent: 50
`)
	cfg, err := LoadConfig(path)
	require.NoError(t, err)
	fifty := 50
	want := &Config{
		TenantID:         "5c1b9a52-7f0e-4a7b-9d39-0b6f2e3c4d11",
		Cloud:            "usgov",
		GraphEndpoint:    "https://graph.microsoft.us/v1.0",
		Paths:            []string{filepath.Join(dir, "reviews"), "/abs/reviews"},
		AllowDelete:      true,
		MaxChangePercent: &fifty,
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("LoadConfig mismatch (-want +got):\n%s", diff)
	}

	empty := filepath.Join(dir, "empty.yaml")
	write(t, empty, "# nothing set\n")
	cfg, err = LoadConfig(empty)
	require.NoError(t, err)
	require.Equal(t, &Config{}, cfg)

	_, err = LoadConfig(filepath.Join(dir, "missing.yaml"))
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"misspelt key", "tenantID: x\n", `c.yaml:1:1: unknown field "tenantID" in the document; did you mean "tenantId"?`},
		{"bad cloud", "cloud: gov\n", `c.yaml:1:8: cloud must be one of global, usgov, usgovdod, china, got "gov"`},
		{"plain http", "graphEndpoint: http://graph.example.com/v1.0\n", `c.yaml:1:16: graphEndpoint must use https; plain http is allowed only to a loopback address, got "http://graph.example.com/v1.0"`},
		{"relative url", "graphEndpoint: graph.microsoft.com\n", `c.yaml:1:16: graphEndpoint must be an absolute URL such as https://graph.microsoft.com/v1.0, got "graph.microsoft.com"`},
		{"percent", "maxChangePercent: 120\n", `c.yaml:1:19: maxChangePercent must be between 0 and 100, got 120`},
		{"paths scalar", "paths: reviews\n", `c.yaml:1:8: paths must be a list, got "reviews"`},
		{"bool", "allowDelete: sure\n", `c.yaml:1:14: allowDelete must be true or false, got "sure"`},
		{"secret", "clientSecret: abc\n", `c.yaml:1:1: clientSecret must not be stored in arsync.yaml; use AZURE_CLIENT_SECRET or workload identity`},
		{"tenant", "tenantId: 'contoso tenant'\n", `c.yaml:1:11: tenantId must be a tenant id (GUID) or domain such as contoso.onmicrosoft.com, got "contoso tenant"`},
		{"two documents", "cloud: global\n---\ncloud: china\n", `c.yaml:2:1: arsync.yaml must hold one YAML document`},
		{"syntax", "cloud: [global\n", `c.yaml:1:1: YAML syntax error: did not find expected ',' or ']'`},
		{"not a mapping", "- cloud\n", `c.yaml:1:1: the document must be a mapping, got a list`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("c.yaml", []byte(tt.src))
			require.EqualError(t, err, tt.want)
			var ds Diagnostics
			require.ErrorAs(t, err, &ds)
		})
	}
}

func TestCheckGraphEndpoint(t *testing.T) {
	for _, ok := range []string{"https://graph.microsoft.com/v1.0", "http://127.0.0.1:8080/v1.0", "http://localhost:1234/v1.0", "http://[::1]:80/beta"} {
		require.NoError(t, CheckGraphEndpoint(ok), ok)
	}
	for _, bad := range []string{"ftp://graph.microsoft.com", "http://10.0.0.1/v1.0", "https://", "", "mailto:x@y"} {
		require.Error(t, CheckGraphEndpoint(bad), bad)
	}
}
