package emulator

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStatePersistsAcrossServers(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nested", "emulator.json")
	first := newHarness(t, Options{StateFile: path, Seed: 5})
	a := first.create(validDefinition())
	b := validDefinition()
	b["displayName"] = "Second"
	setPath(b, "scope.query", "./members/microsoft.graph.user/?$filter=(userType eq 'Guest')")
	b["instanceEnumerationScope"] = map[string]any{"queryType": "MicrosoftGraph", "query": "/groups?$filter=(groupTypes/any(c:c+eq+'Unified'))"}
	bID := first.create(b)
	first.clock.Advance(time.Hour)
	upd := validDefinition()
	upd["displayName"] = "Renamed & kept"
	require.Equal(t, http.StatusNoContent, first.do(http.MethodPut, definitionsPath+"/"+a, upd).status)
	c := first.create(validDefinition())
	require.Equal(t, http.StatusNoContent, first.do(http.MethodDelete, definitionsPath+"/"+c, nil).status)
	before := first.do(http.MethodGet, definitionsPath, nil)

	// Only the state file and its journal are left behind; temporary files
	// are renamed.
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 2)
	require.Equal(t, []string{"emulator.journal", "emulator.json"}, []string{entries[0].Name(), entries[1].Name()})
	data, err := os.ReadFile(journalOf(path))
	require.NoError(t, err)
	require.Contains(t, string(data), `"Renamed & kept"`, "the file is readable JSON without HTML escapes")

	// Same seed: the id generator repeats, and must skip ids already stored.
	second := newHarness(t, Options{StateFile: path, Seed: 5})
	second.clock.Advance(time.Hour)
	after := second.do(http.MethodGet, definitionsPath, nil)
	require.Equal(t, before.json(t)["value"], after.json(t)["value"])
	require.Equal(t, "Renamed & kept", second.do(http.MethodGet, definitionsPath+"/"+a, nil).json(t)["displayName"])
	require.Equal(t, "Second", second.do(http.MethodGet, definitionsPath+"/"+bID, nil).json(t)["displayName"])
	d := second.create(validDefinition())
	require.NotContains(t, []string{a, bID}, d)
	require.Len(t, second.srv.Definitions(), 3)
}

// storedEntry is a definitions[] entry of a state file as the emulator
// writes it, with the given instances (a JSON list).
func storedEntry(id, instances string) string {
	return `{"id":"` + id + `","apiVersion":"v1.0","createdAt":"2026-01-01T00:00:00Z","definition":{"id":"` + id + `","displayName":"x",
		"createdDateTime":"2026-01-01T00:00:00Z","lastModifiedDateTime":"2026-01-01T00:00:00Z","createdBy":{"id":"` + demoAdmin + `"},
		"scope":{"query":"/groups/` + demoEng + `/members","queryType":"MicrosoftGraph"},"settings":{"recurrence":{"range":{"type":"noEnd","startDate":"2026-01-01"}}}},"instances":` + instances + `}`
}

func TestStateFileErrors(t *testing.T) {
	t.Parallel()
	const id = "11111111-2222-3333-4444-555555555555"
	tests := []struct {
		name    string
		content string
		err     string
	}{
		{"valid", `{"formatVersion": 1, "definitions": [` + storedEntry(id, "[]") + `]}`, ""},
		{"not JSON", "{", "is not valid"},
		{"wrong format", `{"formatVersion": 9, "definitions": []}`, "format version 9"},
		{"bad id", `{"formatVersion": 1, "definitions": [{"id": "x", "apiVersion": "v1.0", "definition": {}}]}`, "is not a GUID"},
		{"no content", `{"formatVersion": 1, "definitions": [{"id": "` + id + `", "apiVersion": "v1.0", "createdAt": "2026-01-01T00:00:00Z"}]}`, "definition is missing"},
		{"bad version", `{"formatVersion": 1, "definitions": [{"id": "` + id + `", "apiVersion": "v2", "definition": {}}]}`, "apiVersion"},
		{"duplicate", `{"formatVersion": 1, "definitions": [` + storedEntry(id, "[]") + `,` + storedEntry(id, "[]") + `]}`, "definitions[1]: id " + id + " is also definitions[0]'s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o644))
			_, err := New(Options{StateFile: path})
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.err)
		})
	}
}

func TestStateSaveFailureIsReported(t *testing.T) {
	t.Parallel()
	blocker := filepath.Join(t.TempDir(), "state")
	h := newHarness(t, Options{StateFile: filepath.Join(blocker, "state.json")})
	// The state file's directory turns out to be a regular file, so saving
	// fails (permissions would not stop a root user).
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	r := h.do(http.MethodPost, definitionsPath, validDefinition())
	require.Equal(t, http.StatusInternalServerError, r.status)
	require.Contains(t, r.errMessage(t), "could not save its state")
	require.Empty(t, h.srv.Definitions(), "an unsaved create is rolled back")
}
