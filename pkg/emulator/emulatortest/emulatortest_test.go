package emulatortest_test

import (
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
