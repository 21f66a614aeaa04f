package emulator

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkListDefinitions measures GETs of the definitions list over real
// HTTP (loopback), a full page per request. Issue 3 asks for 2,000 GETs/s
// on a 2-core machine; see bench/emulator.md.
//
//	go test ./pkg/emulator -run '^$' -bench ListDefinitions -benchmem
func BenchmarkListDefinitions(b *testing.B) {
	for _, n := range []int{10, 100} {
		for _, parallel := range []bool{false, true} {
			name := fmt.Sprintf("defs=%d/serial", n)
			if parallel {
				name = fmt.Sprintf("defs=%d/parallel", n)
			}
			b.Run(name, func(b *testing.B) {
				h := newHarness(b, Options{})
				for i := range n {
					body := validDefinition()
					body["displayName"] = fmt.Sprintf("Review %d", i)
					h.create(body)
				}
				url := h.ts.URL + "/v1.0/" + definitionsPath
				client := h.ts.Client()
				get := func() {
					req, _ := http.NewRequest(http.MethodGet, url, nil)
					req.Header.Set("Authorization", "Bearer "+h.token)
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("status %d", resp.StatusCode)
					}
				}
				get()
				b.ReportAllocs()
				cpu0 := cpuTime()
				b.ResetTimer()
				if parallel {
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							get()
						}
					})
				} else {
					for b.Loop() {
						get()
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "GETs/s")
				// CPU time (server and client together) per GET: wall-clock
				// figures swing with other load on a shared machine, this
				// does not. 2 cores give 2e6/cpu-µs GETs/s.
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/GET")
			})
		}
	}
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkListDefinitionsHandler is the emulator's own share of a list
// GET: ServeHTTP without a network or a client.
func BenchmarkListDefinitionsHandler(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("defs=%d", n), func(b *testing.B) {
			h := newHarness(b, Options{})
			for range n {
				h.create(validDefinition())
			}
			req, _ := http.NewRequest(http.MethodGet, "http://graph.test/v1.0/"+definitionsPath, nil)
			req.Header.Set("Authorization", "Bearer "+h.token)
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				h.srv.ServeHTTP(&discardWriter{h: http.Header{}}, req)
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/GET")
		})
	}
}

// BenchmarkRecordDecisions100k is issue 14's persistence target: a reviewer
// records 100,000 decisions one PATCH at a time in an emulator with a state
// file, each saved before it is answered; under 5 s. It calls ServeHTTP
// directly (the HTTP API without loopback); close-s is the final rewrite of
// the state file that Close does, not timed in ns/op.
//
//	go test ./pkg/emulator -run '^$' -bench RecordDecisions100k -benchtime 1x
func BenchmarkRecordDecisions100k(b *testing.B) {
	const guests = 100_000
	tenant := &Tenant{TenantID: "5c1b9a52-7f0e-4a7b-9d39-0b6f2e3c4d11", Domain: "contoso.com", Admin: "admin@contoso.com",
		Users: []User{{UserPrincipalName: "admin@contoso.com", DisplayName: "Admin"}}}
	group := Group{DisplayName: "Partners", MailNickname: "partners", GroupTypes: []string{"Unified"}, Owners: []string{"admin@contoso.com"}}
	for i := range guests {
		upn := fmt.Sprintf("guest%06d_partner.com#EXT#@contoso.onmicrosoft.com", i)
		tenant.Users = append(tenant.Users, User{UserPrincipalName: upn, DisplayName: fmt.Sprintf("Guest %06d", i), UserType: "Guest"})
		group.Members = append(group.Members, upn)
	}
	tenant.Groups = []Group{group}
	path := filepath.Join(b.TempDir(), "emulator.json")
	h := newHarness(b, Options{Tenant: tenant, StateFile: path})
	start := t0.AddDate(0, 0, 1)
	id := h.create(map[string]any{
		"displayName":              "Partner guests",
		"scope":                    map[string]any{"query": "./members/microsoft.graph.user/?$filter=(userType eq 'Guest')", "queryType": "MicrosoftGraph"},
		"instanceEnumerationScope": map[string]any{"query": "/groups?$filter=(groupTypes/any(c:c eq 'Unified'))", "queryType": "MicrosoftGraph"},
		"reviewers":                []any{map[string]any{"query": "./owners", "queryType": "MicrosoftGraph"}},
		"settings": map[string]any{"instanceDurationInDays": 5, "recurrence": map[string]any{
			"pattern": map[string]any{"type": "weekly", "interval": 1},
			"range":   map[string]any{"type": "noEnd", "startDate": start.Format("2006-01-02")},
		}},
	})
	_, err := h.srv.SetNow(start.Add(time.Hour))
	require.NoError(b, err)
	in := h.srv.store.byID[id].life.instances[0]
	require.Len(b, in.Decisions, guests)
	base := "http://graph.test/v1.0/" + definitionsPath + "/" + id + "/instances/" + in.ID + "/decisions/"
	ids := make([]string, len(in.Decisions))
	for i, d := range in.Decisions {
		ids[i] = d.ID
	}
	token := "Bearer " + h.srv.Token("admin@contoso.com")
	bodies := [][]byte{[]byte(`{"decision":"Approve","justification":"still a partner"}`), []byte(`{"decision":"Deny","justification":"left"}`)}
	b.ResetTimer()
	round := 0
	for b.Loop() {
		for i, did := range ids {
			req, _ := http.NewRequest(http.MethodPatch, base+did, bytes.NewReader(bodies[(i+round)%2]))
			req.Header.Set("Authorization", token)
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.srv.ServeHTTP(w, req)
			if w.Code != http.StatusNoContent {
				b.Fatalf("PATCH %s: %d %s", did, w.Code, w.Body)
			}
		}
		round++
	}
	b.StopTimer()
	t1 := time.Now()
	require.NoError(b, h.srv.Close())
	b.ReportMetric(time.Since(t1).Seconds(), "close-s")
	// The decisions are in the state file.
	srv, err := New(Options{Tenant: tenant, StateFile: path})
	require.NoError(b, err)
	got := srv.store.byID[id].life.instances[0]
	require.Equal(b, decisionApprove, got.Decisions[0].Decision)
	require.Equal(b, decisionDeny, got.Decisions[1].Decision)
}
