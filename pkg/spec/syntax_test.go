package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/internal/golden"
)

// TestSyntaxErrors: YAML syntax errors are reported at the line and column
// of what is wrong (not where yaml.v3's context starts), naming tabs as
// tabs and suggesting indentation or quotes. The ok-* files are neighbours
// that must stay valid.
func TestSyntaxErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/syntax/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			_, diags := Parse(file, data)
			if strings.HasPrefix(name, "ok-") {
				require.False(t, diags.HasErrors(), "must be valid:\n%s", diags)
			} else {
				require.True(t, diags.HasErrors(), "must be an error")
			}
			lines := strings.Split(string(data), "\n")
			for _, d := range diags {
				require.True(t, d.Pos.Line >= 1 && d.Pos.Line <= len(lines), "line %d out of range", d.Pos.Line)
				require.True(t, d.Pos.Col >= 1 && d.Pos.Col <= utf8.RuneCountInString(lines[d.Pos.Line-1])+1, "column %d out of range", d.Pos.Col)
			}
			golden.Assert(t, filepath.Join("testdata/syntax", name+".golden"), []byte(diags.Error()+"\n"))
		})
	}
}
