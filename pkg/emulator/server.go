package emulator

import (
	"bytes"
	"compress/gzip"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arsync/arsync/internal/clock"
)

// Options configures a Server. The zero value is a working emulator with
// the built-in demo tenant.
type Options struct {
	// Tenant is the directory. nil means the built-in demo tenant, the same
	// content as examples/tenant.yaml.
	Tenant *Tenant
	// PageSize is the server-side page size of every collection; default 100.
	PageSize int
	// Clock returns the current time; default time.Now. It drives
	// timestamps, definition status, Retry-After windows and lag.
	Clock func() time.Time
	// Seed makes generated ids, request-ids and fault choices
	// deterministic. 0 picks a random seed.
	Seed int64
	// Faults optionally injects failures; see Faults and ParseFaults.
	Faults *Faults
	// StateFile, when set, is loaded at start (if it exists) with its
	// journal, and every change is appended to the journal before it is
	// answered (see journal.go), so separate processes can chain.
	StateFile string
	// Logf reports notes about the state file, such as a journal record
	// cut short by a crash that was dropped; default standard error.
	Logf func(format string, args ...any)
	// LockState makes New take an exclusive lock on StateFile before
	// reading it, held until Close: another Server on the same file, in
	// this process or another, then fails with ErrStateLocked instead of
	// overwriting this one's changes with its own (each rewrites the whole
	// state from its copy). The lock is a .lock file next to the state file, locked with
	// flock (LockFileEx on Windows), so it ends with its process.
	LockState bool
	// RangeStyle chooses how stored recurrence ranges come back; see
	// RangeStyle. Default RangeAsSent.
	RangeStyle RangeStyle
	// PlainScopeQueries turns off the /v1.0 (or /beta) prefix Graph adds to
	// absolute scope queries; some documentation examples show them
	// without it.
	PlainScopeQueries bool
	// Sleep waits for injected latency; default a timer that honours ctx.
	// Tests inject a recorder so they never sleep for real.
	Sleep func(ctx context.Context, d time.Duration) error
	// Addr is the listen address for Start; default "127.0.0.1:0".
	Addr string
	// AllowRemote lets Start listen on a non-loopback address. The emulator
	// serves plain HTTP and its tokens are test credentials, so this is off
	// by default.
	AllowRemote bool
	// The HTTP server's timeouts for Start; zero picks the default, so a
	// slow or idle client cannot hold a connection forever.
	// ReadHeaderTimeout (default 10s) bounds reading a request's headers,
	// ReadTimeout (default 1m) the whole request with its body, WriteTimeout
	// (default 5m, generous for clients that page through long lists
	// slowly) the answer, and IdleTimeout (default 1m) a kept-alive
	// connection between requests.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// RangeStyle selects how the emulator stores recurrence ranges. Graph's
// examples show both forms for the same input.
type RangeStyle int

const (
	// RangeAsSent keeps the range type: noEnd comes back as noEnd with
	// endDate null and numberOfOccurrences 0 (the create example).
	RangeAsSent RangeStyle = iota
	// RangeNumbered stores noEnd and endDate ranges as type numbered with
	// numberOfOccurrences 0; noEnd gets endDate 9999-12-31 (the list and get
	// examples).
	RangeNumbered
)

// RequestRecord is one request the server answered.
type RequestRecord struct {
	Method string
	Path   string // URL path including the version segment
	Query  string // raw query
	Status int    // 0 when the connection was dropped
	Batch  bool   // a request inside a $batch (not a round trip)
	Fault  string // the injected fault, if any
}

// Server is the emulator: an http.Handler over an in-memory store.
type Server struct {
	opts     Options
	clock    func() time.Time
	sleep    func(context.Context, time.Duration) error
	pageSize int
	dir      *directory
	faults   *faultState
	tokenKey []byte // signs the tokens this server issues (token.go)
	// dirMu guards the directory against the review lifecycle's changes
	// (applied decisions): those hold s.mu and dirMu; reads hold either.
	dirMu    sync.RWMutex
	clockOff atomic.Int64 // the virtual clock's offset (clock.go)
	// lifeNextDue is when the review lifecycle next has work, valid while
	// lifeQuiet (catchUp); both are guarded by mu.
	lifeNextDue time.Time
	lifeQuiet   bool
	// reviewersDecide turns on simulated reviewers (simulate.go); guarded
	// by mu.
	reviewersDecide bool

	mu       sync.Mutex // guards everything below
	lock     *stateLock // Options.LockState's lock, until Close
	journal  *journal   // the state file's journal, from the first change
	closed   bool
	store    *store
	ids      *rand.Rand
	reqIDs   *rand.Rand
	requests []RequestRecord
}

// maxBody is Graph's request size limit (4 MB).
const maxBody = 4 << 20

// New builds a Server. It loads Options.StateFile when the file exists
// (locking it first with Options.LockState).
func New(opts Options) (_ *Server, err error) {
	if opts.PageSize < 0 {
		return nil, fmt.Errorf("page size %d: must be positive", opts.PageSize)
	}
	for _, t := range []struct {
		name string
		d    time.Duration
	}{{"read header", opts.ReadHeaderTimeout}, {"read", opts.ReadTimeout}, {"write", opts.WriteTimeout}, {"idle", opts.IdleTimeout}} {
		if t.d < 0 {
			return nil, fmt.Errorf("%s timeout %s: must not be negative", t.name, t.d)
		}
	}
	s := &Server{opts: opts, clock: opts.Clock, sleep: opts.Sleep, pageSize: opts.PageSize}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.sleep == nil {
		s.sleep = clock.Sleep
	}
	if s.pageSize == 0 {
		s.pageSize = 100
	}
	seed := opts.Seed
	if seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:])
		seed = int64(binary.LittleEndian.Uint64(b[:]))
	}
	s.ids = rand.New(rand.NewPCG(uint64(seed), 1))
	s.reqIDs = rand.New(rand.NewPCG(uint64(seed), 2))

	tenant := opts.Tenant
	if tenant == nil {
		t, err := DemoTenant()
		if err != nil {
			return nil, err
		}
		tenant = t
	}
	dir, err := newDirectory(tenant)
	if err != nil {
		return nil, err
	}
	s.dir = dir
	s.faults = newFaultState(opts.Faults, seed)
	if err := s.initTokens(); err != nil {
		return nil, err
	}

	s.store = newStore()
	if opts.StateFile != "" && opts.LockState {
		if s.lock, err = lockState(opts.StateFile); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				_ = s.lock.release()
			}
		}()
	}
	if opts.StateFile != "" {
		st, notes, err := openState(opts.StateFile)
		if err != nil {
			return nil, err
		}
		logf := opts.Logf
		if logf == nil {
			logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "arsync: "+format+"\n", args...) }
		}
		for _, n := range notes {
			logf("%s", n)
		}
		if st != nil {
			s.store = st
		}
	}
	if err := s.initLifecycle(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close writes the state file's journal into a new snapshot and releases
// the state file's lock (Options.LockState). Afterwards the Server saves
// nothing: a request that would change the state fails (another Server may
// own the file by then). It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	jerr := s.closeJournal()
	err := s.lock.release()
	s.lock = nil
	return errors.Join(jerr, err)
}

// RetryAfterViolations counts requests that came back before the
// Retry-After of an earlier throttled answer to the same request had passed.
func (s *Server) RetryAfterViolations() int { return s.faults.violationCount() }

// Requests returns every request answered so far, in order.
func (s *Server) Requests() []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RequestRecord(nil), s.requests...)
}

// ResetRequests forgets the recorded requests (counters in tests).
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.requests = nil
	s.mu.Unlock()
}

// reqCtx is what one request carries through the handlers.
type reqCtx struct {
	requestID       string
	clientRequestID string
	now             time.Time
	version         string // "v1.0" or "beta"
	base            string // absolute URL of the version root, for links
	ident           identity
	authz           string // the Authorization header, for $batch items
	inBatch         bool
}

// request is a parsed request, independent of net/http so $batch items go
// through the same code.
type request struct {
	method   string
	path     string // the URL path after the version, without leading "/"
	escPath  string // the same, still escaped, for links
	segs     []string
	query    url.Values
	rawQuery string
	header   http.Header
	body     []byte
}

// response is a handler's answer.
type response struct {
	status int
	header http.Header
	body   []byte
	drop   bool   // close the connection without an answer
	fault  string // name of the injected fault
}

const contentTypeJSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

func jsonResponse(status int, body []byte) *response {
	h := http.Header{}
	h.Set("Content-Type", contentTypeJSON)
	return &response{status: status, header: h, body: body}
}

func (rc *reqCtx) fail(e *graphError) *response {
	h := http.Header{}
	for k, v := range e.header {
		h[k] = v
	}
	h.Set("Content-Type", "application/json")
	return &response{status: e.status, header: h, body: rc.errorBody(e)}
}

// ServeHTTP answers one Graph request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := &reqCtx{now: s.clock()}
	s.mu.Lock()
	rc.requestID = newGUID(s.reqIDs)
	s.mu.Unlock()
	rc.clientRequestID = r.Header.Get("client-request-id")
	if rc.clientRequestID == "" {
		rc.clientRequestID = rc.requestID
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}

	var resp *response
	req, version, gerr := readRequest(r)
	if gerr != nil {
		resp = rc.fail(gerr)
	} else {
		rc.version = version
		rc.base = scheme + "://" + r.Host + "/" + version
		resp = s.serve(r.Context(), rc, req)
	}

	rec := RequestRecord{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: resp.status, Fault: resp.fault}
	if resp.drop {
		rec.Status = 0
	}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()

	if resp.drop {
		dropConnection(w)
		return
	}
	h := w.Header()
	for k, v := range resp.header {
		h[k] = v
	}
	h.Set("request-id", rc.requestID)
	h.Set("client-request-id", rc.clientRequestID)
	h.Set("Date", rc.now.UTC().Format(http.TimeFormat))
	h.Set("x-ms-ags-diagnostic", `{"ServerInfo":{"DataCenter":"Emulator","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"arsync-emulator"}}`)
	h.Set("Cache-Control", "no-cache")
	if resp.body != nil {
		h.Set("OData-Version", "4.0")
	}
	w.WriteHeader(resp.status)
	if resp.body != nil && r.Method != http.MethodHead {
		_, _ = w.Write(resp.body)
	}
}

// dropConnection closes the client connection without an answer, like a
// reset or a load balancer timing out.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// net/http turns this sentinel into an aborted response (HTTP/1 closes
	// the connection, HTTP/2 resets the stream) without logging it.
	panic(http.ErrAbortHandler)
}

// readRequest checks the version segment and reads the (possibly gzip
// compressed) body.
func readRequest(r *http.Request) (*request, string, *graphError) {
	p := r.URL.Path
	version, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	switch version {
	case "v1.0", "beta":
	case "":
		return nil, "", badRequest("Invalid version.")
	default:
		return nil, "", badRequest("Invalid version: %s", version)
	}
	body, gerr := readBody(r)
	if gerr != nil {
		return nil, "", gerr
	}
	req := &request{
		method:   r.Method,
		path:     rest,
		escPath:  strings.TrimPrefix(strings.TrimPrefix(r.URL.EscapedPath(), "/"+version), "/"),
		segs:     splitPath(rest),
		rawQuery: r.URL.RawQuery,
		header:   r.Header,
		body:     body,
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, "", badRequest("The query string is malformed: %v", err)
	}
	req.query = q
	return req, version, nil
}

func readBody(r *http.Request) ([]byte, *graphError) {
	if r.Body == nil {
		return nil, nil
	}
	var rd io.Reader = r.Body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return nil, badRequest("The request body is not valid gzip: %v", err)
		}
		defer zr.Close()
		rd = zr
	default:
		return nil, errorf(http.StatusUnsupportedMediaType, codeUnsupportedMedia, "Content-Encoding %q is not supported; use gzip or none.", enc)
	}
	b, err := io.ReadAll(io.LimitReader(rd, maxBody+1))
	if err != nil {
		if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, badRequest("The request body is not valid gzip: %v", err)
		}
		return nil, badRequest("Reading the request body: %v", err)
	}
	if len(b) > maxBody {
		return nil, errorf(http.StatusRequestEntityTooLarge, codeTooLarge, "The request body exceeds the limit of 4 MB.")
	}
	return b, nil
}

// splitPath splits a path into segments, dropping empty ones, and turns the
// OData key form name('key') into two segments.
func splitPath(p string) []string {
	var segs []string
	for _, s := range strings.Split(p, "/") {
		if s == "" {
			continue
		}
		if i := strings.IndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
			inner := s[i+1 : len(s)-1]
			if len(inner) >= 2 && inner[0] == '\'' && inner[len(inner)-1] == '\'' && !strings.Contains(inner, "=") {
				segs = append(segs, s[:i], strings.ReplaceAll(inner[1:len(inner)-1], "''", "'"))
				continue
			}
		}
		segs = append(segs, s)
	}
	return segs
}

// serve authenticates, applies faults and routes one request.
func (s *Server) serve(ctx context.Context, rc *reqCtx, req *request) *response {
	if gerr := s.authenticate(rc, req); gerr != nil {
		return rc.fail(gerr)
	}
	// The review lifecycle catches up with the clock before any answer.
	if gerr := s.catchUp(rc.now); gerr != nil {
		return rc.fail(gerr)
	}
	d := s.faults.decide(rc, req)
	if d.latency > 0 && !rc.inBatch {
		if err := s.sleep(ctx, d.latency); err != nil {
			return &response{drop: true, fault: "latency"}
		}
	}
	if d.kind != "" && !d.kind.commits() {
		return s.faultResponse(rc, d)
	}
	resp := s.route(ctx, rc, req)
	if req.method != http.MethodGet && req.method != http.MethodHead {
		s.mu.Lock()
		s.changed()
		s.mu.Unlock()
	}
	if d.kind != "" && d.kind.commits() && resp.status < 300 {
		// The write happened; the client is told otherwise.
		return s.faultResponse(rc, d)
	}
	return resp
}

func (s *Server) faultResponse(rc *reqCtx, d decision) *response {
	var resp *response
	switch d.kind {
	case FaultDrop, FaultCommitThenDrop:
		if rc.inBatch {
			resp = rc.fail(errorf(http.StatusGatewayTimeout, codeGatewayTimeout, "The request timed out."))
		} else {
			resp = &response{drop: true}
		}
	case Fault429:
		e := errorf(http.StatusTooManyRequests, codeTooMany, "%s", d.message)
		e.header = d.header
		resp = rc.fail(e)
	case Fault503:
		e := errorf(http.StatusServiceUnavailable, codeUnavailable, "The service is temporarily unavailable. Retry the request later.")
		e.header = d.header
		resp = rc.fail(e)
	case Fault500:
		resp = rc.fail(errorf(http.StatusInternalServerError, codeGeneral, "An unexpected error occurred."))
	default: // 504, commit-then-fail
		resp = rc.fail(errorf(http.StatusGatewayTimeout, codeGatewayTimeout, "The request timed out."))
	}
	resp.fault = string(d.kind)
	return resp
}

// newGUID draws a random (version 4) GUID from r.
func newGUID(r *rand.Rand) string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], r.Uint64())
	binary.LittleEndian.PutUint64(b[8:], r.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// decodeBody parses a JSON request body into an object.
func decodeBody(body []byte) (*object, *graphError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("Empty Payload. JSON content expected.")
	}
	v, err := decodeJSON(bytes.NewReader(body))
	if err != nil {
		return nil, badRequest("Unable to read JSON request payload: %v. Please ensure Content-Type header is set and payload is of valid JSON format.", err)
	}
	o, ok := v.(*object)
	if !ok {
		return nil, badRequest("The request body must be a JSON object.")
	}
	return o, nil
}

// Definitions returns the stored definitions as JSON, in creation order,
// each as the API version that created it shows it, including any still
// hidden by read-after-create lag. Tests use it to check
// the store without going through HTTP.
func (s *Server) Definitions() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	out := make([]json.RawMessage, 0, len(s.store.defs))
	for _, r := range s.store.defs {
		out = append(out, json.RawMessage(bytes.Clone(r.body(now, r.Version))))
	}
	return out
}
