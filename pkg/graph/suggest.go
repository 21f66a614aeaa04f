package graph

import (
	"strings"
	"unicode/utf8"
)

// Suggest returns the candidate closest to s (a property, a value, a query
// segment someone misspelt), or "" when none is close
// enough to be a likely misspelling. Letter case is ignored, so "DisplayName"
// suggests "displayName". Ties go to the earlier candidate, which keeps
// messages deterministic.
func Suggest(s string, candidates []string) string {
	ls := strings.ToLower(s)
	best, bestDist := "", -1
	for _, c := range candidates {
		d := editDistance(ls, strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	if best != "" && bestDist <= closeEnough(s, best) {
		return best
	}
	// A truncated name ("removeAccess") suggests the one name it starts.
	if len(ls) >= 4 {
		match := ""
		for _, c := range candidates {
			if strings.HasPrefix(strings.ToLower(c), ls) {
				if match != "" {
					return ""
				}
				match = c
			}
		}
		return match
	}
	return ""
}

// closeEnough is the largest edit distance still treated as a misspelling:
// one edit for short words, up to a third of the longer word otherwise.
func closeEnough(a, b string) int {
	n := max(utf8.RuneCountInString(a), utf8.RuneCountInString(b))
	return max(1, min(4, n/3))
}

// editDistance is the optimal-string-alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent runes each
// cost one.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 256 || len(rb) > 256 {
		// Field names are short; a huge key is never a misspelling, and
		// this keeps the cost bounded on hostile input.
		return max(len(ra), len(rb))
	}
	// Three rolling rows: i-2, i-1 and i.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
