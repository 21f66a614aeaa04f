package graphclient

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

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

// FuzzDecision decodes arbitrary JSON as a decision item: whatever decodes
// re-encodes, and the re-encoded JSON decodes to the same value, unknown
// properties byte for byte, and encodes to the same bytes: nothing Graph
// sent is lost or changed on its way through arsync. It encodes as arsync
// does, without HTML escaping (json.Marshal would turn a ">" inside an
// unknown property into "\u003e": the same JSON, other bytes). Seeds:
// testdata/decision-roundtrip.json and testdata/fuzz/FuzzDecision (a user,
// a service principal and a group principal, as the emulator and Graph
// send them).
func FuzzDecision(f *testing.F) {
	f.Add([]byte(decisionJSON))
	f.Add([]byte(`{"id":"x","Extra":1,"resource":{"type":"Group","x":[1]}}`))
	roundtrip, err := os.ReadFile(filepath.Join("testdata", "decision-roundtrip.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(roundtrip)
	f.Fuzz(func(t *testing.T, b []byte) {
		var d graph.Decision
		if json.Unmarshal(b, &d) != nil {
			return
		}
		out, err := graph.MarshalNoEscape(d)
		if err != nil {
			t.Fatalf("re-encoding a decoded decision: %v", err)
		}
		var again graph.Decision
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("decoding re-encoded decision %s: %v", out, err)
		}
		if diff := cmp.Diff(d, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("the decision changed through JSON (-decoded +re-decoded):\n%s", diff)
		}
		if out2, err := graph.MarshalNoEscape(again); err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("encoding is not stable: %v\n%s\n%s", err, out, out2)
		}
	})
}
