package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// store holds the access-review data. The directory is read-only and comes
// from the tenant; only definitions (and, later, their instances) change.
type store struct {
	defs []*defRecord // creation order
	byID map[string]*defRecord
	life *lifeState // virtual clock, periods and directory changes (lifecycle.go)
	// journal names the snapshot last written or read (journal.go).
	journal journalRef
}

// defRecord is one stored definition.
type defRecord struct {
	ID        string
	Version   string    // API version of the create, for query prefixes
	CreatedAt time.Time // when the POST happened
	VisibleAt time.Time // read-after-create lag: hidden from reads until then
	Object    *object   // as Graph stores it; status is refreshed on read
	// Instances are the instances (with their decisions) the lifecycle
	// generated, as persisted; life is their live form (lifecycle.go).
	Instances []json.RawMessage
	life      *defLife
	// lifeStatus is the status the lifecycle gives the definition ("":
	// the dates decide); see defRecord.status.
	lifeStatus string
	// instDirty: decisions changed since Instances was encoded; the
	// journal has the changes, and the next snapshot encodes them.
	instDirty bool

	// views are Object as v1.0 and beta show it (renderDefinition),
	// rendered on demand while cacheStatus holds.
	views       [2]*defView
	fresh       bool // cacheStatus and cacheDay are set for this Object
	cacheStatus string
	// cacheDay is the UTC day cacheStatus was computed for: status depends
	// only on the date, so a list needs no per-definition work within a day.
	cacheDay int64
}

// defView is a definition as one API version shows it.
type defView struct {
	obj  *object // shares values with the stored object: read only
	body []byte
}

func newStore() *store { return &store{byID: map[string]*defRecord{}} }

func (st *store) add(r *defRecord) {
	st.defs = append(st.defs, r)
	st.byID[r.ID] = r
}

func (st *store) remove(id string) {
	delete(st.byID, id)
	for i, r := range st.defs {
		if r.ID == id {
			st.defs = append(st.defs[:i:i], st.defs[i+1:]...)
			return
		}
	}
}

// The state file format. formatVersion changes when it stops being
// readable by an older emulator.
type stateFile struct {
	FormatVersion int          `json:"formatVersion"`
	Definitions   []stateEntry `json:"definitions"`
	Lifecycle     *lifeState   `json:"lifecycle,omitempty"`
	Journal       *journalRef  `json:"journal,omitempty"`
}

type stateEntry struct {
	ID         string            `json:"id"`
	APIVersion string            `json:"apiVersion"`
	CreatedAt  time.Time         `json:"createdAt"`
	VisibleAt  *time.Time        `json:"visibleAt,omitempty"`
	Definition *object           `json:"definition"`
	Instances  []json.RawMessage `json:"instances"`
}

const stateFormat = 1

// save writes the store to path atomically: a temporary file in the same
// directory, synced, then renamed over the old one. It returns the file's
// size.
func (st *store) save(path string) (int64, error) {
	sf := stateFile{FormatVersion: stateFormat, Definitions: []stateEntry{}, Lifecycle: st.life}
	if st.journal.ID != "" {
		sf.Journal = &st.journal
	}
	for _, r := range st.defs {
		e := stateEntry{ID: r.ID, APIVersion: r.Version, CreatedAt: r.CreatedAt.UTC(), Definition: r.Object, Instances: r.Instances}
		if e.Instances == nil {
			e.Instances = []json.RawMessage{}
		}
		if !r.VisibleAt.IsZero() {
			v := r.VisibleAt.UTC()
			e.VisibleAt = &v
		}
		sf.Definitions = append(sf.Definitions, e)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sf); err != nil {
		return 0, fmt.Errorf("encoding emulator state: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("saving emulator state: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return 0, fmt.Errorf("saving emulator state: %w", err)
	}
	tmp := f.Name()
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		os.Remove(tmp)
		return 0, fmt.Errorf("saving emulator state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return 0, fmt.Errorf("saving emulator state: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("saving emulator state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("saving emulator state: %w", err)
	}
	syncDir(dir)
	return int64(b.Len()), nil
}

// syncDir makes a rename in dir durable where the system allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
