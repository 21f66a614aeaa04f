package spec

import "github.com/arsync/arsync/pkg/graph"

// didYouMean formats a suggestion for an error message: `; did you mean "x"?`
// or "".
func didYouMean(s string, candidates []string) string {
	if m := graph.Suggest(s, candidates); m != "" {
		return `; did you mean "` + m + `"?`
	}
	return ""
}
