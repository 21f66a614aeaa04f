package emulator

import (
	"bytes"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The state journal. Rewriting the whole state file after every change
// costs time in proportion to the state (100,000 decisions make a 40 MB
// file), so a change is appended to a journal next to it (emulator.json:
// emulator.journal) and the file, the snapshot, is rewritten only now and
// then: at a Server's first change, when the journal has grown past twice
// the snapshot's size (so a rewrite is paid for by twice its bytes of
// changes: each change costs a constant share of it, and a load replays at
// most twice the snapshot), and at Close.
//
// A record is a frame: its payload's length and CRC-32C (4 bytes each,
// little-endian), then the payload: one change, a JSON list of the
// operations (recordOut) that make it, so that a change is kept whole or
// not at all. The first record, the header, is one JSON object; it names
// the snapshot the journal continues (journalRef.ID, a random id written
// into both); a journal that names another snapshot is not replayed onto
// this one. A rewrite writes the new snapshot (temporary file, synced,
// renamed), then a new journal the same way: a crash between the two leaves
// the old journal, which names the snapshot's previous id and is dropped
// silently, since the snapshot holds its changes.
//
// Each record is one write(2) made before the change is answered, so an
// acknowledged change survives the emulator being killed (the kernel has the
// bytes). Records are not fsynced: an emulator is a test tool, and a sync
// per change would cost milliseconds each; after a power loss the last
// changes may be missing, but the state still loads. A crash can only cut
// the last record short: a last record that is short or fails its checksum
// is dropped with a note (it was never acknowledged). A bad record with
// good ones after it is corruption, and an error.

// journalRef names a snapshot, in the snapshot and the journal's header.
type journalRef struct {
	ID       string `json:"id"`
	Previous string `json:"previous,omitempty"`
}

// journalOf names the journal of a state file: its name with the
// extension replaced by .journal.
func journalOf(stateFile string) string {
	base := strings.TrimSuffix(stateFile, filepath.Ext(stateFile))
	if base+".journal" == stateFile {
		return stateFile + ".journal"
	}
	return base + ".journal"
}

// minCompact is the journal size below which it is never compacted; a
// variable so the crash test can compact often.
var minCompact int64 = 8 << 20

const frameHeader = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// The records. Op is one of the rec* constants.
const (
	recHeader    = "journal"   // Snapshot: the snapshot this journal continues
	recDef       = "def"       // a definition created or replaced, without its instances
	recDelete    = "delete"    // definition ID deleted
	recInstances = "instances" // definition ID's instances, all of them
	recDecisions = "decisions" // some decision items of one instance
	recLifecycle = "lifecycle" // the lifecycle's part of the state, all of it
)

type recordOut struct {
	Op         string            `json:"op"`
	Snapshot   string            `json:"snapshot,omitempty"`
	ID         string            `json:"id,omitempty"`
	APIVersion string            `json:"apiVersion,omitempty"`
	CreatedAt  *time.Time        `json:"createdAt,omitempty"`
	VisibleAt  *time.Time        `json:"visibleAt,omitempty"`
	Definition *object           `json:"definition,omitempty"`
	Instances  []json.RawMessage `json:"instances,omitempty"`
	Instance   string            `json:"instance,omitempty"`
	Decisions  []*decisionItem   `json:"decisions,omitempty"`
	Lifecycle  *lifeState        `json:"lifecycle,omitempty"`
}

// recordIn is a journal record as read: a definition's members are those
// of a state file's entry.
type recordIn struct {
	Op       string `json:"op"`
	Snapshot string `json:"snapshot"`
	entryIn
	Instance  string          `json:"instance"`
	Decisions []*decisionItem `json:"decisions"`
	Lifecycle *lifeState      `json:"lifecycle"`
}

func defRecordOut(r *defRecord) recordOut {
	created := r.CreatedAt.UTC()
	rec := recordOut{Op: recDef, ID: r.ID, APIVersion: r.Version, CreatedAt: &created, Definition: r.Object}
	if !r.VisibleAt.IsZero() {
		v := r.VisibleAt.UTC()
		rec.VisibleAt = &v
	}
	return rec
}

// journal is an open journal, appended to.
type journal struct {
	f       *os.File
	size    int64
	records int   // after the header
	limit   int64 // compact when size passes it
	buf     bytes.Buffer
}

// appendRecord writes one record, the header or a change's list of
// operations, with one write.
func (j *journal) appendRecord(rec any) error {
	j.buf.Reset()
	j.buf.Write(make([]byte, frameHeader))
	enc := json.NewEncoder(&j.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return fmt.Errorf("encoding a journal record: %w", err)
	}
	b := j.buf.Bytes()
	putFrame(b)
	n, err := j.f.Write(b)
	j.size += int64(n)
	if err != nil {
		return fmt.Errorf("writing the emulator's journal: %w", err)
	}
	j.records++
	return nil
}

func (j *journal) close() {
	if j != nil && j.f != nil {
		_ = j.f.Close()
		j.f = nil
	}
}

// putFrame fills in the frame header at the start of b, before the payload.
func putFrame(b []byte) {
	payload := b[frameHeader:]
	binary.LittleEndian.PutUint32(b[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[4:8], crc32.Checksum(payload, castagnoli))
}

// newSnapshotID is a random id for a snapshot.
func newSnapshotID() string {
	var b [12]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// writeChanges appends the records of one change to the journal, opening
// it (with a new snapshot) at a Server's first change and compacting it
// when it has grown. Callers hold s.mu and have already made the change in
// memory, which a new snapshot includes.
func (s *Server) writeChanges(recs ...recordOut) error {
	if s.journal == nil {
		return s.compact()
	}
	if err := s.journal.appendRecord(recs); err != nil {
		// The journal may end in part of a record now: the next change
		// starts a new one from memory.
		s.journal.close()
		s.journal = nil
		return err
	}
	if s.journal.size > s.journal.limit {
		// The change is saved in the journal, or in the new snapshot: a
		// failed rewrite is not the change's failure, and the next change
		// tries again (or reports it, when it cannot start a journal).
		_ = s.compact()
	}
	return nil
}

// compact writes the whole state as a new snapshot and starts an empty
// journal that continues it. Callers hold s.mu.
func (s *Server) compact() error {
	path := s.opts.StateFile
	old := s.store.journal
	s.store.journal = journalRef{ID: newSnapshotID(), Previous: old.ID}
	if err := s.encodeDirtyInstances(); err != nil {
		s.store.journal = old
		return err
	}
	n, err := s.store.save(path)
	if err != nil {
		s.store.journal = old
		return err
	}
	s.journal.close()
	s.journal = nil
	j, err := createJournal(journalOf(path), s.store.journal.ID)
	if err != nil {
		return err
	}
	j.limit = max(minCompact, 2*n)
	s.journal = j
	return nil
}

// encodeDirtyInstances re-encodes the instances whose decisions changed
// since they were last encoded (only the journal has those changes).
func (s *Server) encodeDirtyInstances() error {
	for _, r := range s.store.defs {
		if r.instDirty {
			raw, err := encodeInstances(r.life.instances)
			if err != nil {
				return err
			}
			r.Instances, r.instDirty = raw, false
		}
	}
	return nil
}

func encodeInstances(ins []*instance) ([]json.RawMessage, error) {
	raw := make([]json.RawMessage, 0, len(ins))
	for _, in := range ins {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encoding instance %s: %w", in.ID, err)
		}
		raw = append(raw, b)
	}
	return raw, nil
}

// createJournal writes a journal holding only its header to a temporary
// file and renames it over path: a Server appends only to a journal it
// made, so two Servers on one file without Options.LockState never mix
// their records in one journal.
func createJournal(path, snapshot string) (*journal, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("starting the emulator's journal: %w", err)
	}
	j := &journal{f: f}
	fail := func(err error) (*journal, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("starting the emulator's journal: %w", err)
	}
	if err := j.appendRecord(recordOut{Op: recHeader, Snapshot: snapshot}); err != nil {
		return fail(err)
	}
	j.records = 0
	if err := os.Rename(f.Name(), path); err != nil {
		return fail(err)
	}
	return j, nil
}

// closeJournal compacts a journal with changes into the snapshot and
// closes it; Close calls it.
func (s *Server) closeJournal() error {
	if s.journal == nil {
		return nil
	}
	var err error
	if s.journal.records > 0 {
		err = s.compact()
	}
	s.journal.close()
	s.journal = nil
	return err
}

// openState loads a state file and replays its journal; notes says what
// was dropped on the way.
func openState(path string) (st *store, notes []string, err error) {
	st, err = loadState(path)
	if err != nil {
		return nil, nil, err
	}
	jpath := journalOf(path)
	data, err := os.ReadFile(jpath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return st, nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("reading the emulator's journal: %w", err)
	}
	frames, torn, ferr := readFrames(data)
	bad := func(err error) error {
		return fmt.Errorf("emulator journal %s is not valid: %w; remove it to go back to the state saved in %s (losing the changes since), or remove both files to start again", jpath, err, path)
	}
	if ferr != nil {
		return nil, nil, bad(ferr)
	}
	if torn >= 0 {
		notes = append(notes, fmt.Sprintf("emulator journal %s ends in a record cut short at byte %d (a write the emulator was stopped in, never acknowledged); it was dropped", jpath, torn))
	}
	if len(frames) == 0 {
		return st, notes, nil
	}
	var head recordIn
	if err := json.Unmarshal(frames[0].payload, &head); err != nil || head.Op != recHeader || head.Snapshot == "" {
		return nil, nil, bad(errors.New("it does not start with its header"))
	}
	changes := len(frames) - 1
	switch {
	case st == nil:
		if changes > 0 {
			notes = append(notes, fmt.Sprintf("emulator journal %s has %d changes but %s is missing; starting again without them", jpath, changes, path))
		}
		return nil, notes, nil
	case head.Snapshot == st.journal.Previous:
		return st, notes, nil // compacted into the snapshot, then stopped
	case head.Snapshot != st.journal.ID:
		if changes > 0 {
			notes = append(notes, fmt.Sprintf("emulator journal %s continues another copy of %s; its %d changes were not applied", jpath, path, changes))
		}
		return st, notes, nil
	}
	for i, fr := range frames[1:] {
		var ops []json.RawMessage
		if err := json.Unmarshal(fr.payload, &ops); err != nil {
			return nil, nil, bad(fmt.Errorf("record %d (at byte %d): %w", i+1, fr.offset, jsonError("change", err)))
		}
		for k, op := range ops {
			if err := st.replay(op); err != nil {
				return nil, nil, bad(fmt.Errorf("record %d (at byte %d): [%d]: %w", i+1, fr.offset, k, err))
			}
		}
	}
	if err := checkPeriods(st); err != nil {
		return nil, nil, bad(fmt.Errorf("after its %d changes: %w", changes, err))
	}
	return st, notes, nil
}

type frame struct {
	offset  int
	payload []byte
}

// readFrames splits a journal into its records. torn is the offset of a
// last record cut short, or -1; a bad record followed by anything but zeros
// is an error.
func readFrames(data []byte) (frames []frame, torn int, err error) {
	off := 0
	for off < len(data) {
		rest := data[off:]
		ok := false
		var n int
		if len(rest) >= frameHeader {
			n = int(binary.LittleEndian.Uint32(rest[0:4]))
			ok = n > 0 && n <= len(rest)-frameHeader &&
				crc32.Checksum(rest[frameHeader:frameHeader+n], castagnoli) == binary.LittleEndian.Uint32(rest[4:8])
		}
		if !ok {
			end := len(rest) < frameHeader || n > len(rest)-frameHeader || n == len(rest)-frameHeader
			if end || allZero(rest) {
				return frames, off, nil
			}
			return nil, -1, fmt.Errorf("the record at byte %d fails its checksum, and more records follow", off)
		}
		frames = append(frames, frame{offset: off, payload: rest[frameHeader : frameHeader+n]})
		off += frameHeader + n
	}
	return frames, -1, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// replay applies one journal record to the store, with the checks a state
// file's values get.
func (st *store) replay(payload []byte) error {
	var rec recordIn
	if err := json.Unmarshal(payload, &rec); err != nil {
		return jsonError(rec.Op, err)
	}
	id := strings.ToLower(rec.ID)
	r := st.byID[id]
	needDef := func() error {
		if r == nil {
			return fmt.Errorf("%s: definition %s is not in the state", rec.Op, rec.ID)
		}
		return nil
	}
	switch rec.Op {
	case recDef:
		nr, err := makeRecord(recDef, &entryIn{ID: rec.ID, APIVersion: rec.APIVersion, CreatedAt: rec.CreatedAt, VisibleAt: rec.VisibleAt, Definition: rec.Definition})
		if err != nil {
			return err
		}
		if r == nil {
			st.add(nr)
			return nil
		}
		r.Version, r.CreatedAt, r.VisibleAt, r.Object = nr.Version, nr.CreatedAt, nr.VisibleAt, nr.Object
		r.replaced()
	case recDelete:
		if err := needDef(); err != nil {
			return err
		}
		st.remove(r.ID)
	case recInstances:
		if err := needDef(); err != nil {
			return err
		}
		nr, err := makeRecord(recInstances, &entryIn{ID: r.ID, APIVersion: r.Version, CreatedAt: r.CreatedAt, Definition: r.Object, Instances: rec.Instances})
		if err != nil {
			return err
		}
		r.Instances, r.instDirty = nr.Instances, false
		r.life = nr.life
	case recDecisions:
		if err := needDef(); err != nil {
			return err
		}
		in := r.life.find(rec.Instance)
		if in == nil {
			return fmt.Errorf("decisions: definition %s has no instance %s", r.ID, rec.Instance)
		}
		for i, d := range rec.Decisions {
			where := fmt.Sprintf("decisions[%d]", i)
			if d == nil {
				return fmt.Errorf("%s is null", where)
			}
			if err := checkDecision(where, d); err != nil {
				return err
			}
			old := in.decision(d.ID)
			if old == nil {
				return fmt.Errorf("%s: instance %s has no decision item %s", where, in.ID, d.ID)
			}
			*old = *d
		}
		r.instDirty = true
	case recLifecycle:
		if rec.Lifecycle == nil {
			return errors.New("lifecycle is missing")
		}
		if err := checkLifecycle(rec.Lifecycle); err != nil {
			return err
		}
		st.life = rec.Lifecycle
	default:
		return fmt.Errorf("op %q is not one of def, delete, instances, decisions, lifecycle", rec.Op)
	}
	return nil
}
