//go:build unix

package spec

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLoadSpecialFiles checks that named pipes and devices are never
// opened: opening a pipe blocks until a writer comes, and a device such
// as /dev/zero never ends.
func TestLoadSpecialFiles(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(t *testing.T) // in the current directory
		paths     []string
		wantFiles []string
		wantDiags []string
	}{
		{
			name:      "named pipe in the tree",
			setup:     func(t *testing.T) { mkfifo(t, "tree/pipe.yaml") },
			paths:     []string{"tree"},
			wantDiags: []string{"tree/pipe.yaml:1:1: warning: a named pipe, not a regular file; skipped"},
		},
		{
			name:      "named pipe given by name",
			setup:     func(t *testing.T) { mkfifo(t, "pipe.yaml") },
			paths:     []string{"pipe.yaml"},
			wantDiags: []string{"pipe.yaml:1:1: warning: a named pipe, not a regular file; skipped"},
		},
		{
			name:      "link to a named pipe inside the tree",
			setup:     func(t *testing.T) { mkfifo(t, "tree/.p"); symlink(t, ".p", "tree/p.yaml") },
			paths:     []string{"tree"},
			wantDiags: []string{"tree/p.yaml:1:1: warning: a named pipe, not a regular file; skipped"},
		},
		{
			name:      "link to /dev/zero",
			setup:     func(t *testing.T) { symlink(t, "/dev/zero", "tree/z.yaml") },
			paths:     []string{"tree"},
			wantFiles: []string{"tree/z.yaml"},
			wantDiags: []string{"tree/z.yaml:1:1: a symbolic link that does not lead to a file inside tree; not read (spec files must be inside the directory searched)"},
		},
		{
			name:      "/dev/zero given by name",
			paths:     []string{"/dev/zero"},
			wantDiags: []string{"/dev/zero:1:1: warning: a device, not a regular file; skipped"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			require.NoError(t, os.Mkdir("tree", 0o755))
			if tt.setup != nil {
				tt.setup(t)
			}
			type result struct {
				res *Result
				err error
			}
			done := make(chan result, 1)
			go func() {
				res, err := Load(tt.paths...)
				done <- result{res, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(10 * time.Second): // a guard, not a wait: a correct Load returns at once
				t.Fatal("Load did not return: it opened a special file")
			}
			require.NoError(t, r.err)
			require.Equal(t, tt.wantFiles, r.res.Files)
			var diags []string
			for _, d := range r.res.Diagnostics {
				diags = append(diags, d.String())
			}
			require.Equal(t, tt.wantDiags, diags)
		})
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, syscall.Mkfifo(path, 0o644))
}

func symlink(t *testing.T, target, path string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.Symlink(target, path))
}

// TestReadSpecRechecks covers a file replaced after it was found: it is
// checked again once open, and opening a named pipe does not block.
func TestReadSpecRechecks(t *testing.T) {
	t.Chdir(t.TempDir())
	mkfifo(t, "pipe.yaml")
	f, err := os.Create("big.yaml")
	require.NoError(t, err)
	require.NoError(t, f.Truncate(maxFileSize+1))
	require.NoError(t, f.Close())

	tests := []struct {
		open, want string
	}{
		{"pipe.yaml", "x.yaml:1:1: warning: a named pipe, not a regular file; skipped"},
		{"big.yaml", "x.yaml:1:1: larger than 16 MiB, the limit for a spec file; not read"},
	}
	for _, tt := range tests {
		t.Run(tt.open, func(t *testing.T) {
			data, diag, err := readSpec(specFile{name: "x.yaml", open: tt.open})
			require.NoError(t, err)
			require.Nil(t, data)
			require.NotNil(t, diag)
			require.Equal(t, tt.want, diag.String())
		})
	}
}

// TestLoadConfigSpecialFiles: a named pipe or device as arsync.yaml is an
// error, never opened.
func TestLoadConfigSpecialFiles(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T)
		path     string
		explicit bool
		want     string
	}{
		{
			name:  "named pipe",
			setup: func(t *testing.T) { mkfifo(t, "arsync.yaml") },
			path:  "arsync.yaml",
			want:  "reading config: arsync.yaml is a named pipe, not a regular file; not read",
		},
		{
			name:  "link to /dev/zero",
			setup: func(t *testing.T) { symlink(t, "/dev/zero", "arsync.yaml") },
			path:  "arsync.yaml",
			want:  "reading config: arsync.yaml is a symbolic link that does not lead to a file inside the current directory; not read (pass --config to use it)",
		},
		{
			name:     "--config /dev/zero",
			path:     "/dev/zero",
			explicit: true,
			want:     "reading config: /dev/zero is a device, not a regular file; not read",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			if tt.setup != nil {
				tt.setup(t)
			}
			done := make(chan error, 1)
			go func() {
				_, err := LoadConfigFile(tt.path, tt.explicit)
				done <- err
			}()
			select {
			case err := <-done:
				require.EqualError(t, err, tt.want)
			case <-time.After(10 * time.Second): // a guard, not a wait
				t.Fatal("LoadConfigFile did not return: it opened a special file")
			}
		})
	}
}
