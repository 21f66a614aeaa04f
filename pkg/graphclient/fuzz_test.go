package graphclient

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/arsync/arsync/pkg/graph"
)

// Inputs from the service must never panic the client.

func FuzzErrorBody(f *testing.F) {
	f.Add(503, graphError("TooManyRequests", "x"), "2.5")
	f.Add(400, `{"error":{"code":"","message":"m","innerError":{"innerError":{"innerError":{"code":"deep"}}}}}`, "")
	f.Add(502, "<html>", "Sun, 01 Mar 2026 12:00:07 GMT")
	f.Add(500, "\xff\xfe", "1e400")
	f.Add(400, `{"error":{"code":"c","message":"line one\nline two"}}`, "")
	f.Fuzz(func(t *testing.T, status int, body, retryAfter string) {
		h := http.Header{"Retry-After": {retryAfter}}
		e := newError(nil, "GET", "https://graph.microsoft.com/v1.0/x", status, h, []byte(body))
		msg := e.Error()
		if strings.Contains(msg, "\n") {
			t.Fatalf("error message spans lines: %q", msg)
		}
		if d, ok := parseRetryAfter(retryAfter, time.Unix(0, 0)); ok && d < 0 {
			t.Fatalf("negative wait %v for %q", d, retryAfter)
		}
	})
}

func FuzzDecision(f *testing.F) {
	f.Add([]byte(decisionJSON))
	f.Add([]byte(`{"id":"x","Extra":1,"resource":{"type":"Group","x":[1]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d graph.Decision
		if json.Unmarshal(b, &d) != nil {
			return
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("re-encoding a decoded decision: %v", err)
		}
		var again graph.Decision
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("decoding re-encoded decision %s: %v", out, err)
		}
	})
}
