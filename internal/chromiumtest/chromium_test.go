package chromiumtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLoadSeesWhatAPersonsBrowserWould: the checks can fail. A page that
// logs an error, throws, loads an image from the network and draws an
// unlabelled chart is caught on each count; a clean page is not.
func TestLoadSeesWhatAPersonsBrowserWould(t *testing.T) {
	chromium := Need(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.html")
	require.NoError(t, os.WriteFile(bad, []byte(`<!DOCTYPE html><html><head><title>bad</title></head><body>
<img src="http://127.0.0.1:9/x.png" alt="">
<svg width="10" height="10"><rect width="10" height="10"/></svg>
<svg role="img" aria-labelledby="nothere"><rect width="10" height="10"/></svg>
<script>console.error("boom"); throw new Error("thrown");</script>
</body></html>`), 0o644))
	res, err := Load(context.Background(), chromium, bad, Options{})
	require.NoError(t, err)
	require.Equal(t, 2, res.SVGs)
	require.Len(t, res.Unlabelled, 2)
	require.Contains(t, res.Requests, "http://127.0.0.1:9/x.png")
	var boom, thrown bool
	for _, e := range res.ConsoleErrors {
		boom = boom || e == "console.error: boom"
		thrown = thrown || strings.Contains(e, "thrown")
	}
	require.True(t, boom && thrown, "%q", res.ConsoleErrors)

	good := filepath.Join(dir, "good.html")
	require.NoError(t, os.WriteFile(good, []byte(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>good</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head><body>
<svg role="img" aria-labelledby="t"><title id="t">A chart</title><rect width="10" height="10"/></svg></body></html>`), 0o644))
	res, err = Load(context.Background(), chromium, good, Options{Width: 400, MaxHeight: 300})
	require.NoError(t, err)
	require.Empty(t, res.ConsoleErrors)
	require.Empty(t, res.Requests)
	require.Empty(t, res.Unlabelled)
	require.Equal(t, 1, res.SVGs)
	require.Equal(t, "\x89PNG", string(res.Screenshot[:4]))
}
