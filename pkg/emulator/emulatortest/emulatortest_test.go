package emulatortest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/arsync/arsync/pkg/emulator"
	"github.com/arsync/arsync/pkg/emulator/emulatortest"
	"github.com/stretchr/testify/require"
)

func TestNew(t *testing.T) {
	var url string
	t.Run("inner", func(t *testing.T) {
		r := emulatortest.New(t, emulator.Options{PageSize: 3})
		url = r.URL
		require.True(t, strings.HasSuffix(r.URL, "/v1.0"))
		req, _ := http.NewRequest(http.MethodGet, r.URL+"/identityGovernance/accessReviews/definitions", nil)
		req.Header.Set("Authorization", "Bearer "+r.Token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Len(t, r.Server.Requests(), 1)
	})
	// The server is gone once the test that started it has ended.
	_, err := http.Get(url + "/users")
	require.Error(t, err)
}

func TestNewSynthetic(t *testing.T) {
	spec := emulator.SyntheticSpec{Groups: 50, Users: 200, Seed: 7}
	r := emulatortest.NewSynthetic(t, spec, 16, emulator.Options{})
	require.Len(t, r.Server.Definitions(), 16)
	require.Empty(t, r.Server.Requests(), "setup requests are not counted")

	get := func(path string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, r.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+r.Token)
		req.Header.Set("ConsistencyLevel", "eventual")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		return resp
	}
	var page struct {
		Count int `json:"@odata.count"`
	}
	require.NoError(t, json.NewDecoder(get("/groups?$count=true&$top=1").Body).Decode(&page))
	require.Equal(t, 50, page.Count)
	require.NoError(t, json.NewDecoder(get("/users?$count=true&$top=1&$filter=userType%20eq%20'Guest'").Body).Decode(&page))
	require.Equal(t, 39, page.Count, "a fifth of the users after the admin are guests")

	// The same seed builds the same tenant.
	a, err := emulator.SyntheticTenant(spec)
	require.NoError(t, err)
	b, err := emulator.SyntheticTenant(spec)
	require.NoError(t, err)
	require.Equal(t, a, b)
	_, err = emulator.SyntheticTenant(emulator.SyntheticSpec{Groups: 1})
	require.Error(t, err)
}
