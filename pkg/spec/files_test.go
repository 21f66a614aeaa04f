package spec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// secret is the content of files outside the spec tree: it must never
// appear in anything Load returns.
const secret = "SECRET_TOKEN=hunter2-do-not-print-this"

// TestLoadFileTypes checks which files Load reads: symbolic links are
// followed only to files inside the directory searched, and files too large
// are refused without being read. Paths in the expectations are relative to
// a temporary directory holding tree/ (searched) and outside/.
func TestLoadFileTypes(t *testing.T) {
	spec := func(name string) string {
		return strings.Replace(baseSpec("  scope:\n    query: /groups/02f3bafb-448c-487c-88c2-5fd65ce49a41/members\n"), "name: t", "name: "+name, 1)
	}
	const refused = "a symbolic link that does not lead to a file inside tree; not read (spec files must be inside the directory searched)"
	tests := []struct {
		name      string
		files     map[string]string // path: content
		links     map[string]string // path: target, as written in the link
		sizes     map[string]int64  // path: size of a sparse file
		paths     []string          // default: tree
		wantFiles []string
		wantDefs  []string
		wantDiags []string
	}{
		{
			name:      "link to a file outside the tree",
			files:     map[string]string{"outside/creds": secret + "\n", "tree/a.yaml": spec("a")},
			links:     map[string]string{"tree/creds.yaml": "../outside/creds"},
			wantFiles: []string{"tree/a.yaml", "tree/creds.yaml"},
			wantDefs:  []string{"a"},
			wantDiags: []string{"tree/creds.yaml:1:1: " + refused},
		},
		{
			name:      "absolute link to a spec outside the tree",
			files:     map[string]string{"outside/x.yaml": spec("x")},
			links:     map[string]string{"tree/x.yaml": "ABS/outside/x.yaml"},
			wantFiles: []string{"tree/x.yaml"},
			wantDiags: []string{"tree/x.yaml:1:1: " + refused},
		},
		{
			name:      "link through a directory outside the tree",
			files:     map[string]string{"outside/d/x.yaml": spec("x"), "tree/a.yaml": spec("a")},
			links:     map[string]string{"tree/d": "../outside/d", "tree/x.yaml": "d/x.yaml"},
			wantFiles: []string{"tree/a.yaml", "tree/x.yaml"},
			wantDefs:  []string{"a"},
			wantDiags: []string{"tree/x.yaml:1:1: " + refused},
		},
		{
			name:      "broken link reads like one leading outside",
			files:     map[string]string{"tree/a.yaml": spec("a")},
			links:     map[string]string{"tree/gone.yaml": "nowhere.yaml"},
			wantFiles: []string{"tree/a.yaml", "tree/gone.yaml"},
			wantDefs:  []string{"a"},
			wantDiags: []string{"tree/gone.yaml:1:1: " + refused},
		},
		{
			name: "link inside the tree is followed, and its target read once",
			files: map[string]string{
				"tree/2026/q1.yaml":      spec("q1"),
				"tree/.shared/only.yaml": spec("only"), // hidden: read only through the link
			},
			links: map[string]string{
				"tree/current.yaml": "2026/q1.yaml",
				"tree/only.yaml":    ".shared/only.yaml",
			},
			wantFiles: []string{"tree/2026/q1.yaml", "tree/only.yaml"},
			wantDefs:  []string{"q1", "only"},
		},
		{
			name:      "link to a directory named like a spec file",
			files:     map[string]string{"tree/d/a.yaml": spec("a")},
			links:     map[string]string{"tree/d.yaml": "d"},
			wantFiles: []string{"tree/d/a.yaml"},
			wantDefs:  []string{"a"},
			wantDiags: []string{"tree/d.yaml:1:1: warning: a directory, not a regular file; skipped"},
		},
		{
			name:      "PATH that is a link to a directory",
			files:     map[string]string{"tree/a.yaml": spec("a"), "outside/creds": secret},
			links:     map[string]string{"reviews": "tree", "tree/b.yaml": "a.yaml", "tree/creds.yaml": "../outside/creds"},
			paths:     []string{"reviews"},
			wantFiles: []string{"reviews/a.yaml", "reviews/creds.yaml"},
			wantDefs:  []string{"a"},
			wantDiags: []string{"reviews/creds.yaml:1:1: a symbolic link that does not lead to a file inside reviews; not read (spec files must be inside the directory searched)"},
		},
		{
			name:      "PATH that is a link to a directory, with a trailing slash",
			files:     map[string]string{"tree/a.yaml": spec("a")},
			links:     map[string]string{"reviews": "tree"},
			paths:     []string{"reviews" + string(filepath.Separator)},
			wantFiles: []string{"reviews/a.yaml"},
			wantDefs:  []string{"a"},
		},
		{
			name:      "PATH that is a link to a file is followed wherever it leads",
			files:     map[string]string{"outside/x.yaml": spec("x")},
			links:     map[string]string{"x.yaml": "outside/x.yaml"},
			paths:     []string{"x.yaml"},
			wantFiles: []string{"x.yaml"},
			wantDefs:  []string{"x"},
		},
		{
			name:      "file over the size limit",
			files:     map[string]string{"tree/a.yaml": spec("a")},
			sizes:     map[string]int64{"tree/big.yaml": 17 << 20},
			wantFiles: []string{"tree/a.yaml", "tree/big.yaml"},
			wantDefs:  []string{"a"},
			wantDiags: []string{"tree/big.yaml:1:1: larger than 16 MiB, the limit for a spec file; not read"},
		},
		{
			name:      "file over the size limit given by name",
			sizes:     map[string]int64{"big.yaml": maxFileSize + 1},
			paths:     []string{"big.yaml"},
			wantFiles: []string{"big.yaml"},
			wantDiags: []string{"big.yaml:1:1: larger than 16 MiB, the limit for a spec file; not read"},
		},
		{
			name:      "file at the size limit",
			files:     map[string]string{"tree/a.yaml": spec("a") + "#" + strings.Repeat("x", maxFileSize-len(spec("a"))-2) + "\n"},
			wantFiles: []string{"tree/a.yaml"},
			wantDefs:  []string{"a"},
		},
	}
	requireSymlinks(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			for p, content := range tt.files {
				write(t, p, content)
			}
			for p, size := range tt.sizes {
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				f, err := os.Create(p)
				require.NoError(t, err)
				require.NoError(t, f.Truncate(size))
				require.NoError(t, f.Close())
			}
			for p, target := range tt.links {
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				require.NoError(t, os.Symlink(filepath.FromSlash(strings.Replace(target, "ABS", dir, 1)), p))
			}
			paths := tt.paths
			if paths == nil {
				paths = []string{"tree"}
			}
			res, err := Load(paths...)
			require.NoError(t, err)
			var files, defs, diags []string
			for _, f := range res.Files {
				files = append(files, filepath.ToSlash(f))
			}
			for _, d := range res.Definitions {
				defs = append(defs, d.Name)
			}
			for _, d := range res.Diagnostics {
				diags = append(diags, filepath.ToSlash(d.String()))
			}
			require.Equal(t, tt.wantFiles, files)
			require.ElementsMatch(t, tt.wantDefs, defs)
			require.Equal(t, tt.wantDiags, diags)
			require.NotContains(t, res.Diagnostics.Error(), "SECRET")
		})
	}
}

// requireSymlinks skips the test where symbolic links cannot be made
// (Windows without the privilege).
func requireSymlinks(t *testing.T) {
	t.Helper()
	if err := os.Symlink("target", filepath.Join(t.TempDir(), "link")); err != nil {
		t.Skipf("symbolic links are not available: %v", err)
	}
}

// TestReadLimited covers a file that grows between the size check and the
// read: what is read is bounded by the limit anyway.
func TestReadLimited(t *testing.T) {
	data, ok, err := readLimited(strings.NewReader("12345"), 5)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "12345", string(data))

	_, ok, err = readLimited(strings.NewReader("123456"), 5)
	require.NoError(t, err)
	require.False(t, ok)
}

func TestLoadCancelled(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.yaml"), "")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := LoadContext(ctx, dir)
	require.ErrorIs(t, err, context.Canceled)
}

// TestTextPositions checks that bytes YAML cannot read are reported where
// they are; yaml.v3 reports them without a position.
func TestTextPositions(t *testing.T) {
	head := "apiVersion: arsync/v1\nkind: AccessReviewDefinition\nmetadata:\n  name: x\nspec:\n"
	tests := []struct {
		name string
		data string
		want string
	}{
		{"invalid UTF-8 on line 6", head + "  displayName: \"Caf\xe9 review\"\n", "f.yaml:6:20: invalid UTF-8 (byte 0xE9); save the file as UTF-8"},
		{"after multi-byte characters", head + "  displayName: \"Café ☕ \xff\"\n", "f.yaml:6:24: invalid UTF-8 (byte 0xFF); save the file as UTF-8"},
		{"truncated sequence at the end", "a: b\xc3", "f.yaml:1:5: invalid UTF-8 (byte 0xC3); save the file as UTF-8"},
		{"overlong encoding", "a: \xc0\x80\n", "f.yaml:1:4: invalid UTF-8 (byte 0xC0); save the file as UTF-8"},
		{"encoded surrogate", "a: \xed\xa0\x80\n", "f.yaml:1:4: invalid UTF-8 (byte 0xED); save the file as UTF-8"},
		{"control character", head + "  displayName: x\x01\n", "f.yaml:6:17: character U+0001 is not allowed in YAML; remove it"},
		{"NUL", "a: b\n\x00", "f.yaml:2:1: character U+0000 is not allowed in YAML; remove it"},
		{"DEL", "a:\t\x7f\n", "f.yaml:1:4: character U+007F is not allowed in YAML; remove it"},
		{"C1 control", "a: \u0080\n", "f.yaml:1:4: character U+0080 is not allowed in YAML; remove it"},
		{"noncharacter", "a: \uffff\n", "f.yaml:1:4: character U+FFFF is not allowed in YAML; remove it"},
		{"after a byte order mark", "\xef\xbb\xbfa: \xff\n", "f.yaml:1:4: invalid UTF-8 (byte 0xFF); save the file as UTF-8"},
		{"CRLF lines", "a: 1\r\nb: \xff\r\n", "f.yaml:2:4: invalid UTF-8 (byte 0xFF); save the file as UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Parse("f.yaml", []byte(tt.data))
			require.Equal(t, tt.want, diags.Error())
			_, err := ParseConfig("f.yaml", []byte(tt.data))
			require.EqualError(t, err, tt.want)
		})
	}

	// Text YAML accepts is not reported: tabs, CR, NEL, U+FEFF inside a
	// value, U+FFFD written out, the last code point.
	_, diags := Parse("f.yaml", []byte("# \t x\ufeffy \ufffd \U0010FFFF\r\n#\u0085\n"))
	require.Empty(t, diags)

	// UTF-16 (which Windows PowerShell writes) is left to yaml.v3.
	utf16 := []byte{0xff, 0xfe}
	for _, c := range "tenantId: contoso.onmicrosoft.com\n" {
		utf16 = append(utf16, byte(c), 0)
	}
	cfg, err := ParseConfig("f.yaml", utf16)
	require.NoError(t, err)
	require.Equal(t, "contoso.onmicrosoft.com", cfg.TenantID)
}

// TestLoadConfigFileTypes: arsync.yaml found in the current directory is
// read like a spec file found in a directory; one named by --config is
// followed wherever a link leads. Nothing of a refused file is quoted.
func TestLoadConfigFileTypes(t *testing.T) {
	requireSymlinks(t)
	const outside = "a symbolic link that does not lead to a file inside the current directory; not read (pass --config to use it)"
	tests := []struct {
		name     string
		files    map[string]string
		links    map[string]string
		sizes    map[string]int64
		path     string // default: arsync.yaml
		explicit bool
		want     string // the config's tenant, or the error
	}{
		{
			name:  "link to a file outside",
			files: map[string]string{"outside/creds": secret + "\n"},
			links: map[string]string{"ci/arsync.yaml": "../outside/creds"},
			want:  "reading config: arsync.yaml is " + outside,
		},
		{
			name:  "broken link",
			links: map[string]string{"ci/arsync.yaml": "gone.yaml"},
			want:  "reading config: arsync.yaml is " + outside,
		},
		{
			name:  "link inside the directory",
			files: map[string]string{"ci/conf/prod.yaml": "tenantId: contoso.onmicrosoft.com\n"},
			links: map[string]string{"ci/arsync.yaml": "conf/prod.yaml"},
			want:  "contoso.onmicrosoft.com",
		},
		{
			name:     "--config is followed",
			files:    map[string]string{"outside/arsync.yaml": "tenantId: fabrikam.onmicrosoft.com\n"},
			links:    map[string]string{"ci/arsync.yaml": "../outside/arsync.yaml"},
			explicit: true,
			want:     "fabrikam.onmicrosoft.com",
		},
		{
			name:  "too large",
			sizes: map[string]int64{"ci/arsync.yaml": maxFileSize + 1},
			want:  "reading config: arsync.yaml is larger than 16 MiB; not read",
		},
		{
			name:  "a directory",
			files: map[string]string{"ci/arsync.yaml/x": ""},
			want:  "reading config: arsync.yaml is a directory, not a regular file; not read",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			require.NoError(t, os.Mkdir("ci", 0o755))
			for p, content := range tt.files {
				write(t, p, content)
			}
			for p, size := range tt.sizes {
				f, err := os.Create(p)
				require.NoError(t, err)
				require.NoError(t, f.Truncate(size))
				require.NoError(t, f.Close())
			}
			for p, target := range tt.links {
				require.NoError(t, os.Symlink(filepath.FromSlash(target), p))
			}
			t.Chdir("ci")
			cfg, err := LoadConfigFile("arsync.yaml", tt.explicit)
			if strings.HasPrefix(tt.want, "reading config: ") {
				require.EqualError(t, err, tt.want)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, cfg.TenantID)
		})
	}
}
