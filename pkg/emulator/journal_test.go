package emulator

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// crashChildEnv makes the test binary the child of TestStateSurvivesKill.
const crashChildEnv = "ARSYNC_EMULATOR_CRASH_CHILD"

// TestStateSurvivesKill kills a process that keeps changing the state
// with SIGKILL at several points, and checks after each that the state
// loads with every change the child saw acknowledged.
func TestStateSurvivesKill(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(t, path)
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "emulator.json")
	acked := map[string]string{}  // id -> displayName last acknowledged
	deleted := map[string]bool{}  // acknowledged
	deleting := map[string]bool{} // asked for, perhaps not acknowledged
	for i, n := range []int{1, 7, 40, 90, 150} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStateSurvivesKill$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		sc := bufio.NewScanner(out)
		seen := 0
		read := func() bool {
			if !sc.Scan() {
				return false
			}
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 3 && f[0] == "put":
				acked[f[1]] = f[2]
				seen++
			case len(f) == 2 && f[0] == "deleting":
				deleting[f[1]] = true
			case len(f) == 2 && f[0] == "deleted":
				deleted[f[1]] = true
				seen++
			}
			return true
		}
		for seen < n && read() {
		}
		if seen < n {
			// stderr is written until the child is gone: read it after Wait.
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("child %d stopped early after %d changes: %s", i, seen, stderr.String())
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		// What the child printed before it died happened too.
		for read() {
		}
		_ = cmd.Wait()

		var notes []string
		srv, err := New(Options{StateFile: path, Seed: 1, Logf: func(f string, a ...any) { notes = append(notes, fmt.Sprintf(f, a...)) }})
		require.NoError(t, err, "after kill %d", i)
		got := map[string]string{}
		for _, id := range srv.defIDs() {
			got[id] = srv.store.byID[id].Object.str("displayName")
		}
		for id, name := range acked {
			if deleted[id] {
				require.NotContains(t, got, id, "kill %d: deleted %s is back", i, id)
				continue
			}
			if deleting[id] && got[id] == "" {
				continue // deleted, not acknowledged
			}
			// A change made after the last acknowledged one may be there too.
			require.Contains(t, got, id, "kill %d: acknowledged %s is lost", i, id)
			have, _ := strconv.Atoi(strings.TrimPrefix(got[id], "v"))
			want, _ := strconv.Atoi(strings.TrimPrefix(name, "v"))
			require.GreaterOrEqual(t, have, want, "kill %d: %s has an older name than acknowledged", i, id)
		}
		for _, note := range notes {
			require.Contains(t, note, "cut short", "kill %d", i)
		}
		require.NoError(t, srv.Close())
	}
}

func (s *Server) defIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, r := range s.store.defs {
		ids = append(ids, r.ID)
	}
	return ids
}

// crashChild creates, renames and deletes definitions until it is killed,
// printing each change once it is acknowledged, and a deletion also
// before it is asked for. A tiny compaction
// threshold makes it rewrite the snapshot often, so kills land in those
// rewrites too.
func crashChild(t *testing.T, path string) {
	minCompact = 2 << 10
	h := newHarness(t, Options{StateFile: path, Seed: time.Now().UnixNano(), Logf: func(string, ...any) {}})
	var ids []string
	for k := 0; ; k++ {
		switch {
		case k%5 == 4 && len(ids) > 2:
			id := ids[0]
			ids = ids[1:]
			fmt.Printf("deleting %s\n", id)
			require.Equal(t, http.StatusNoContent, h.do(http.MethodDelete, definitionsPath+"/"+id, nil).status)
			fmt.Printf("deleted %s\n", id)
		case k%3 == 2 && len(ids) > 0:
			id := ids[len(ids)-1]
			body := validDefinition()
			body["displayName"] = fmt.Sprintf("v%d", k)
			require.Equal(t, http.StatusNoContent, h.do(http.MethodPut, definitionsPath+"/"+id, body).status)
			fmt.Printf("put %s v%d\n", id, k)
		default:
			body := validDefinition()
			body["displayName"] = fmt.Sprintf("v%d", k)
			id := h.create(body)
			ids = append(ids, id)
			fmt.Printf("put %s v%d\n", id, k)
		}
	}
}

// journaled makes a state with a journal: two definitions, the second
// renamed, left unclosed (a killed process). It returns the state file.
func journaled(t *testing.T) (path, a, b string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "emulator.json")
	h := newHarness(t, Options{StateFile: path})
	a = h.create(validDefinition())
	b = h.create(validDefinition())
	body := validDefinition()
	body["displayName"] = "Renamed"
	require.Equal(t, http.StatusNoContent, h.do(http.MethodPut, definitionsPath+"/"+b, body).status)
	return path, a, b
}

func openWithNotes(t *testing.T, path string) (*Server, []string, error) {
	t.Helper()
	var notes []string
	srv, err := New(Options{StateFile: path, Logf: func(f string, a ...any) { notes = append(notes, fmt.Sprintf(f, a...)) }})
	return srv, notes, err
}

func TestJournalLoad(t *testing.T) {
	t.Parallel()
	type check func(t *testing.T, srv *Server, notes []string, err error, a, b string)
	loads := func(names map[string]string, note string) check {
		return func(t *testing.T, srv *Server, notes []string, err error, a, b string) {
			require.NoError(t, err)
			got := map[string]string{}
			for _, id := range srv.defIDs() {
				got[id] = srv.store.byID[id].Object.str("displayName")
			}
			want := map[string]string{}
			for k, v := range names {
				want[map[string]string{"a": a, "b": b}[k]] = v
			}
			require.Equal(t, want, got)
			if note == "" {
				require.Empty(t, notes)
			} else {
				require.Len(t, notes, 1)
				require.Contains(t, notes[0], note)
			}
		}
	}
	fails := func(msg ...string) check {
		return func(t *testing.T, _ *Server, _ []string, err error, _, _ string) {
			require.Error(t, err)
			for _, m := range msg {
				require.Contains(t, err.Error(), m)
			}
		}
	}
	both := map[string]string{"a": "Guests of Marketing", "b": "Renamed"}
	for _, tc := range []struct {
		name  string
		edit  func(t *testing.T, path, journal string)
		check check
	}{
		{"as written", func(*testing.T, string, string) {}, loads(both, "")},
		{"last record cut short", func(t *testing.T, _, j string) {
			data := readFile(t, j)
			require.NoError(t, os.WriteFile(j, data[:len(data)-5], 0o644))
		}, loads(map[string]string{"a": "Guests of Marketing", "b": "Guests of Marketing"}, "cut short")},
		{"last record's header cut short", func(t *testing.T, _, j string) {
			appendFile(t, j, []byte{9, 0, 0})
		}, loads(both, "cut short")},
		{"zeros after the last record", func(t *testing.T, _, j string) {
			appendFile(t, j, make([]byte, 4096))
		}, loads(both, "cut short")},
		{"a record in the middle damaged", func(t *testing.T, _, j string) {
			data := readFile(t, j)
			i := bytes.Index(data, []byte(`"op":"def"`))
			data[i+2] = 'X'
			require.NoError(t, os.WriteFile(j, data, 0o644))
		}, fails("emulator journal ", "emulator.journal is not valid: the record at byte", "fails its checksum, and more records follow", "remove it to go back to the state saved in", "or remove both files to start again")},
		{"a record that does not apply", func(t *testing.T, _, j string) {
			appendFile(t, j, frameOf(`[{"op":"delete","id":"00000000-0000-0000-0000-000000000001"}]`))
		}, fails("record 5 (at byte", "delete: definition 00000000-0000-0000-0000-000000000001 is not in the state")},
		{"a record with a bad definition", func(t *testing.T, _, j string) {
			appendFile(t, j, frameOf(`[{"op":"def","id":"00000000-0000-0000-0000-000000000001","apiVersion":"v2","createdAt":"2026-01-01T00:00:00Z","definition":{}}]`))
		}, fails(`record 5 (at byte`, `apiVersion "v2" must be v1.0 or beta`)},
		{"state file removed to start again", func(t *testing.T, p, _ string) {
			require.NoError(t, os.Remove(p))
		}, loads(map[string]string{}, "has 4 changes but")},
		{"state file replaced by another copy", func(t *testing.T, p, _ string) {
			data := bytes.Replace(readFile(t, p), []byte(`"id": "`+stateJournalID(t, p)+`"`), []byte(`"id": "other"`), 1)
			require.NoError(t, os.WriteFile(p, data, 0o644))
		}, loads(map[string]string{"a": "Guests of Marketing"}, "continues another copy")},
		{"rewritten, then stopped before the new journal", func(t *testing.T, p, j string) {
			// The snapshot names the journal's snapshot as its previous one.
			id := stateJournalID(t, p)
			data := readFile(t, p)
			data = bytes.Replace(data, []byte(`"id": "`+id+`"`), []byte(`"id": "newer", "previous": "`+id+`"`), 1)
			require.NoError(t, os.WriteFile(p, data, 0o644))
		}, loads(map[string]string{"a": "Guests of Marketing"}, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path, a, b := journaled(t)
			tc.edit(t, path, journalOf(path))
			srv, notes, err := openWithNotes(t, path)
			tc.check(t, srv, notes, err, a, b)
		})
	}
}

// stateJournalID is the snapshot id a state file names.
func stateJournalID(t *testing.T, path string) string {
	t.Helper()
	st, err := loadState(path)
	require.NoError(t, err)
	require.NotEmpty(t, st.journal.ID)
	return st.journal.ID
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

func appendFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write(b)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func frameOf(payload string) []byte {
	b := make([]byte, frameHeader+len(payload))
	copy(b[frameHeader:], payload)
	putFrame(b)
	return b
}

// TestJournalKeepsDecisions: decisions recorded one at a time are journal
// records of their items only, replayed on load, and Close writes them
// into the state file with an empty journal.
func TestJournalKeepsDecisions(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "emulator.json")
	h := lcHarness(t, "2025-12-01T09:00:00Z", Options{StateFile: path})
	id := h.create(guestReview())
	h.advanceTo("2026-01-06T00:00:00Z")
	in := h.srv.store.byID[id].life.instances[0]
	require.NotEmpty(t, in.Decisions)
	before := len(readFile(t, journalOf(path)))
	d := in.Decisions[0]
	r := h.as(firstReviewer(t, h, d)).do(http.MethodPatch, definitionsPath+"/"+id+"/instances/"+in.ID+"/decisions/"+d.ID,
		map[string]any{"decision": "Deny", "justification": "left"})
	require.Equal(t, http.StatusNoContent, r.status, "%s", r.body)
	added := readFile(t, journalOf(path))[before:]
	require.Contains(t, string(added), `"op":"decisions"`)
	require.Less(t, len(added), 1024, "one decision's record, not the instance's")

	// Killed here: the next Server replays the journal.
	second, err := New(Options{StateFile: path, Clock: h.clock.Now})
	require.NoError(t, err)
	require.Equal(t, decisionDeny, second.store.byID[id].life.instances[0].decision(d.ID).Decision)
	// A Server's first change writes the whole state, the replayed
	// decisions included.
	_, err = second.Advance(time.Minute)
	require.NoError(t, err)
	require.NoError(t, second.Close())
	require.Len(t, readFrames2(t, journalOf(path)), 1, "Close leaves a journal with its header only")
	require.NoError(t, os.Remove(journalOf(path)))
	third, err := New(Options{StateFile: path, Clock: h.clock.Now})
	require.NoError(t, err)
	require.Equal(t, decisionDeny, third.store.byID[id].life.instances[0].decision(d.ID).Decision)
}

func readFrames2(t *testing.T, path string) []frame {
	t.Helper()
	frames, torn, err := readFrames(readFile(t, path))
	require.NoError(t, err)
	require.Equal(t, -1, torn)
	return frames
}

func firstReviewer(t *testing.T, h *harness, d *decisionItem) string {
	t.Helper()
	require.NotEmpty(t, d.Reviewers)
	u := h.srv.dir.byID[d.Reviewers[0]]
	require.NotNil(t, u)
	return u.user.UserPrincipalName
}

// TestPlainStateFileLoads: a state file as earlier versions wrote it, with
// no journal, loads, and the first change starts a journal.
func TestPlainStateFileLoads(t *testing.T) {
	t.Parallel()
	id := "0b7c1a52-7f0e-4a7b-9d39-0b6f2e3c4d11"
	path := filepath.Join(t.TempDir(), "emulator.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"formatVersion":1,"definitions":[`+storedEntry(id, "[]")+`]}`), 0o644))
	h := newHarness(t, Options{StateFile: path})
	require.Equal(t, []string{id}, h.srv.defIDs())
	b := h.create(validDefinition())
	require.FileExists(t, journalOf(path))
	srv, err := New(Options{StateFile: path})
	require.NoError(t, err)
	require.Equal(t, []string{id, b}, srv.defIDs())
}
