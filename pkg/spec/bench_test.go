package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/arsync/arsync/internal/benchutil"
)

// benchDefinition is a realistic definition (about 45 lines, like the
// examples): a guest review with references, settings and recurrence.
const benchDefinition = `apiVersion: arsync/v1
kind: AccessReviewDefinition
metadata:
  name: guests-%[1]d
spec:
  displayName: Guest access review %[1]d
  descriptionForAdmins: Quarterly review of guest users in group %[1]d.
  descriptionForReviewers: Remove guests who no longer need access to your group.
  scope:
    type: query
    query: /groups/${group:Group %[1]d}/transitiveMembers/microsoft.graph.user/?$filter=(userType eq 'Guest')
    queryType: MicrosoftGraph
  reviewers:
    - groupOwners: Group %[1]d
    - user: owner%[1]d@contoso.com
  fallbackReviewers:
    - query: /users/fc9a2c2b-1ddc-486d-a211-5fe8ca77fa1f
      queryType: MicrosoftGraph
  additionalNotificationRecipients:
    - user: auditor@contoso.com
  settings:
    mailNotificationsEnabled: true
    reminderNotificationsEnabled: true
    justificationRequiredOnApproval: true
    defaultDecisionEnabled: true
    defaultDecision: Recommendation
    instanceDurationInDays: 14
    autoApplyDecisionsEnabled: true
    recommendationsEnabled: true
    recommendationLookBackDuration: P30D
    recommendationInsightSettings:
      - type: userLastSignIn
        recommendationLookBackDuration: P30D
        signInScope: tenant
    recurrence:
      pattern:
        type: absoluteMonthly
        interval: 3
        dayOfMonth: 5
      range:
        type: endDate
        startDate: 2026-01-05
        endDate: 2027-01-05
    applyActions:
      - removeAccessApplyAction
`

// writeBenchTree writes files files of perFile definitions each into dir.
func writeBenchTree(tb testing.TB, dir string, files, perFile int) {
	tb.Helper()
	n := 0
	for f := range files {
		var b strings.Builder
		for range perFile {
			if b.Len() > 0 {
				b.WriteString("---\n")
			}
			fmt.Fprintf(&b, benchDefinition, n)
			n++
		}
		path := filepath.Join(dir, fmt.Sprintf("team-%03d", f/10), fmt.Sprintf("reviews-%03d.yaml", f))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkLoad10k validates 10,000 definitions spread over 100 files. The
// target (issue 2) is under 1 s and under 200 MB on a 2-core machine.
func BenchmarkLoad10k(b *testing.B) {
	dir := b.TempDir()
	writeBenchTree(b, dir, 100, 100)
	b.ReportAllocs()
	var peak float64
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		runtime.GC() // each load starts from the same heap, so the peak is its own
		b.StartTimer()
		stop := benchutil.PeakHeap()
		res, err := Load(dir)
		peak = max(peak, stop())
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Definitions) != 10000 || len(res.Diagnostics) != 0 {
			b.Fatalf("got %d definitions, diagnostics:\n%.2000s", len(res.Definitions), res.Diagnostics.Error())
		}
	}
	b.ReportMetric(peak, "peak-heap-MB")
}

// BenchmarkToGraph10k maps 10,000 loaded definitions to request bodies.
func BenchmarkToGraph10k(b *testing.B) {
	dir := b.TempDir()
	writeBenchTree(b, dir, 100, 100)
	res, err := Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	dirRes := &fakeDirectory{}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, def := range res.Definitions {
			if _, err := def.ToGraph(dirRes); err != nil {
				b.Fatal(err)
			}
		}
	}
}
