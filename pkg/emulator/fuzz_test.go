package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// freshServers hands out fresh servers (an empty store, the clock at its
// start) over the demo tenant, for fuzz targets whose inputs must not see
// each other's state. Parsing the tenant and building its directory are
// nearly all of a new server's cost, so the tenant is parsed once and the
// servers share one directory until an input changes it. Every change
// after New goes through changeDirectory, which records it in the store's
// lifecycle state: a server that recorded none left the shared directory
// as it found it; one that did gets it rebuilt for the next input.
type freshServers struct {
	opts   Options // as for New; Tenant is the demo tenant
	tenant *Tenant
	dir    *directory
}

func newFreshServers(f *testing.F, opts Options) *freshServers {
	f.Helper()
	tenant, err := DemoTenant()
	if err != nil {
		f.Fatal(err)
	}
	return &freshServers{opts: opts, tenant: tenant}
}

func (p *freshServers) get(t testing.TB) *Server {
	t.Helper()
	if p.dir == nil {
		d, err := newDirectory(p.tenant)
		if err != nil {
			t.Fatal(err)
		}
		p.dir = d
	}
	opts := p.opts
	opts.Tenant = &Tenant{} // New's own directory then costs nothing
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.dir = p.dir
	t.Cleanup(func() {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		if len(srv.store.life.Directory) > 0 {
			p.dir = nil
		}
	})
	return srv
}

func TestFreshServersShareOnlyAnUnchangedDirectory(t *testing.T) {
	tenant, err := DemoTenant()
	require.NoError(t, err)
	servers := &freshServers{opts: Options{Seed: 1, Clock: func() time.Time { return t0 }}, tenant: tenant}
	var first, second, third *directory
	var group, member string
	t.Run("unchanged", func(t *testing.T) { first = servers.get(t).dir })
	t.Run("changes", func(t *testing.T) {
		srv := servers.get(t)
		second = srv.dir
		for _, g := range srv.dir.groups {
			if len(g.members) > 0 {
				group, member = g.id, g.members[0].id
				break
			}
		}
		srv.mu.Lock()
		defer srv.mu.Unlock()
		_, ok := srv.changeDirectory(dirChange{Time: t0, Op: opRemoveMember, Object: group, Member: member})
		require.True(t, ok)
	})
	t.Run("after", func(t *testing.T) { third = servers.get(t).dir })
	require.True(t, first == second, "an unchanged directory was rebuilt")
	require.True(t, second != third, "a changed directory was handed on")
	require.True(t, slices.ContainsFunc(third.byID[group].members, func(o *dirObject) bool { return o.id == member }),
		"the next server's directory still has the removed member")
}

// fuzzServer is shared by the iterations of one fuzz target.
func fuzzServer(f *testing.F) *Server {
	f.Helper()
	srv, err := New(Options{Seed: 1, PageSize: 5, Clock: func() time.Time { return t0 }})
	if err != nil {
		f.Fatal(err)
	}
	return srv
}

func serve(srv *Server, method, target string, body []byte) *httptest.ResponseRecorder {
	return serveAs(srv, "admin@contoso.com", method, target, body)
}

// serveAs answers a request in-process, made by the user with that
// userPrincipalName.
func serveAs(srv *Server, upn, method, target string, body []byte) *httptest.ResponseRecorder {
	u := &url.URL{Path: target}
	if p, q, ok := cutQuery(target); ok {
		u = &url.URL{Path: p, RawQuery: q}
	}
	req := &http.Request{Method: method, URL: u, Host: "graph.test", Header: http.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	if body != nil {
		req.Body = nopCloser{bytes.NewReader(body)}
		req.ContentLength = int64(len(body))
	}
	req.Header.Set("Authorization", "Bearer "+srv.Token(upn))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

func cutQuery(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// checkAnswer fails on a server error or an error body not in Graph's shape.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s: status %d: %s", what, rec.Code, rec.Body.Bytes())
	}
	if rec.Code >= 400 {
		var e struct {
			Error *struct {
				Code       *string        `json:"code"`
				Message    string         `json:"message"`
				InnerError map[string]any `json:"innerError"`
			} `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == nil || e.Error.Code == nil || e.Error.Message == "" || e.Error.InnerError["request-id"] == nil {
			t.Fatalf("%s: status %d with a body not in Graph's error shape: %s", what, rec.Code, rec.Body.Bytes())
		}
	}
}

// FuzzDefinitionBody sends arbitrary bodies to the write endpoints. No
// input may panic or give a 5xx; and whatever POST accepts must round-trip:
// sending the stored object back with PUT is "no change" (204) and leaves
// it as it was. Every input gets a fresh server (freshServers), so what
// one input stored (a $batch or beta POST keeps it) is not there for the
// next, and a failing input fails the same way when re-run alone.
func FuzzDefinitionBody(f *testing.F) {
	for _, name := range []string{"20.1-create-request.json", "20.2-create-request.json", "20.3-create-request.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "graph-api", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(0), b)
		f.Add(uint8(3), b)
		f.Add(uint8(1), []byte(`{"requests":[{"id":"1","method":"POST","url":"/identityGovernance/accessReviews/definitions","headers":{"Content-Type":"application/json"},"body":`+
			string(b)+`},{"id":"2","method":"GET","url":"/identityGovernance/accessReviews/definitions?$top=1","dependsOn":["1"]}]}`))
	}
	valid, _ := json.Marshal(validDefinition())
	f.Add(uint8(0), valid)
	f.Add(uint8(1), []byte(`{"requests":[{"id":"1","method":"GET","url":"/users"},{"id":"2","method":"GET","url":"/groups","dependsOn":["1"]}]}`))
	f.Add(uint8(2), []byte(`{"ids":["398164b1-5196-49dd-ada2-364b49f99b27"],"types":["user"]}`))
	for _, s := range []string{"", "null", "[]", "{", `{"displayName":null}`, `{"scope":[]}`, `{"settings":{"recurrence":{"range":{}}}}`,
		`{"displayName":"x","scope":{"query":"/a"},"settings":{"recurrence":{"pattern":{"type":"weekly","interval":1e40},"range":{"type":"noEnd","startDate":"2021-01-01"}}}}`,
		"\x1f\x8b\x08", `{"requests":"x"}`, `{"ids":[1,2]}`, `{"a":` + string(bytes.Repeat([]byte("["), 100))} {
		f.Add(uint8(0), []byte(s))
		f.Add(uint8(1), []byte(s))
	}
	servers := newFreshServers(f, Options{Seed: 1, PageSize: 5, Clock: func() time.Time { return t0 }})
	const base = "/v1.0/" + definitionsPath
	f.Fuzz(func(t *testing.T, target uint8, body []byte) {
		srv := servers.get(t)
		switch target % 4 {
		case 1:
			r := serve(srv, http.MethodPost, "/v1.0/$batch", body)
			checkAnswer(t, r, "$batch")
			return
		case 2:
			checkAnswer(t, serve(srv, http.MethodPost, "/v1.0/directoryObjects/getByIds", body), "getByIds")
			return
		case 3:
			checkAnswer(t, serve(srv, http.MethodPost, "/beta/"+definitionsPath, body), "beta POST")
			return
		}
		rec := serve(srv, http.MethodPost, base, body)
		checkAnswer(t, rec, "POST")
		if rec.Code != http.StatusCreated {
			return
		}
		var echoed map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &echoed); err != nil {
			t.Fatalf("201 body is not JSON: %v", err)
		}
		id, _ := echoed["id"].(string)
		put := serve(srv, http.MethodPut, base+"/"+id, rec.Body.Bytes())
		if put.Code != http.StatusNoContent {
			t.Fatalf("PUT of the stored object: status %d: %s\nstored: %s", put.Code, put.Body.Bytes(), rec.Body.Bytes())
		}
		get := serve(srv, http.MethodGet, base+"/"+id, nil)
		if !bytes.Equal(get.Body.Bytes(), rec.Body.Bytes()) {
			t.Fatalf("the object changed after a no-op PUT:\nbefore: %s\nafter:  %s", rec.Body.Bytes(), get.Body.Bytes())
		}
		if del := serve(srv, http.MethodDelete, base+"/"+id, nil); del.Code != http.StatusNoContent {
			t.Fatalf("DELETE: %d", del.Code)
		}
	})
}

// FuzzQuery sends arbitrary paths and query strings to the collections.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		"identityGovernance/accessReviews/definitions?$top=2&$skip=1&$count=true",
		"identityGovernance/accessReviews/definitions?$filter=contains(scope/microsoft.graph.accessReviewQueryScope/query,'/groups')",
		"users?$filter=userType eq 'Guest' and (mail eq 'x' or not startswith(displayName,'a'))",
		"users?$filter=userPrincipalName in ('a','b'",
		"groups?$filter=groupTypes/any(c:c eq 'Unified')&$select=id,displayName&$orderby=displayName desc",
		"groups/ea1ee477-0a50-41ac-8699-c70d0c1f868a/transitiveMembers/microsoft.graph.user/$count",
		"users?$skiptoken=ZW11MTo1",
		"roleManagement/directory/roleDefinitions?$filter=displayName eq 'Global Administrator'",
		"servicePrincipals(appId='f61a366e-53e5-42b9-bb85-4825c728a87a')/appRoleAssignedTo",
		"users?$filter=((((((((((a eq 1))))))))))",
		"users?$filter=signInActivity/lastSignInDateTime le 2025-01-01T00:00:00Z",
		"users?%zz",
		"definitions('x')/instances('y')",
	} {
		f.Add(s)
	}
	srv := fuzzServer(f)
	// Something to list.
	valid, _ := json.Marshal(validDefinition())
	for range 7 {
		serve(srv, http.MethodPost, "/v1.0/"+definitionsPath, valid)
	}
	f.Fuzz(func(t *testing.T, target string) {
		rec := serve(srv, http.MethodGet, "/v1.0/"+target, nil)
		checkAnswer(t, rec, target)
		if _, err := parseFilter(target); err == nil {
			_ = err // parsing arbitrary text must not panic either
		}
	})
}
