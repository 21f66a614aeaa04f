package spec

import (
	"strings"
)

// Reviewers that can resolve to nobody. Graph asks the fallback reviewers
// only when the reviewers give nobody (docs/graph-behaviour.md#reviewers);
// without them, an item whose reviewers are nobody is never reviewed, and
// nothing says so. validate warns about such lists.

// emptyCase describes who a reviewer entry stands for and when that is
// nobody, e.g. "the owners of each reviewed group" and "a group without
// owners gets no reviewer". ok is false for entries that always name
// someone fixed (a user, a group's members) or that arsync cannot judge
// (ARM queries, unknown forms).
func emptyCase(r Reviewer) (who, gap string, ok bool) {
	switch {
	case r.Owners:
		return "the owners of each reviewed group", "a group without owners gets no reviewer and its review is never done", true
	case r.Managers:
		return "each reviewed user's manager", "a user without a manager gets no reviewer and is never reviewed", true
	case r.GroupOwners != "":
		return "the owners of group " + quote(r.GroupOwners), "if it has none, nobody reviews and the review is never done", true
	case r.Query == "" || r.QueryType == "ARM":
		return "", "", false
	}
	q := strings.TrimSpace(r.Query)
	lower := strings.ToLower(q)
	for _, v := range []string{"/v1.0/", "/beta/"} {
		if strings.HasPrefix(lower, v) {
			q = q[len(v)-1:]
			break
		}
	}
	path, _, _ := strings.Cut(q, "?")
	segs := strings.Split(strings.TrimSuffix(path, "/"), "/")
	switch {
	case len(segs) == 2 && segs[0] == "." && strings.EqualFold(segs[1], "owners"):
		return "the owners of each reviewed group", "a group without owners gets no reviewer and its review is never done", true
	case len(segs) == 2 && segs[0] == "." && strings.EqualFold(segs[1], "manager"):
		return "each reviewed user's manager", "a user without a manager gets no reviewer and is never reviewed", true
	case len(segs) == 4 && segs[0] == "" && strings.EqualFold(segs[1], "groups") && strings.EqualFold(segs[3], "owners"):
		return "the owners of group " + refShown(segs[2]), "if it has none, nobody reviews and the review is never done", true
	case len(segs) == 4 && segs[0] == "" && strings.EqualFold(segs[1], "servicePrincipals") && strings.EqualFold(segs[3], "owners"):
		return "the owners of application " + refShown(segs[2]), "if it has none, nobody reviews and the review is never done", true
	}
	return "", "", false
}

// refShown is a query segment as a message shows it: the name of a
// ${kind:NAME} reference, else the segment (an id).
func refShown(seg string) string {
	if strings.HasPrefix(seg, "${") && strings.HasSuffix(seg, "}") {
		if _, name, ok := strings.Cut(seg[2:len(seg)-1], ":"); ok {
			return quote(name)
		}
	}
	return seg
}

// canBeNobody reports whether every entry of a non-empty reviewer list can
// resolve to nobody, and returns the first entry's description. A list with
// one fixed reviewer (a user, a group's members) always names someone.
func canBeNobody(list []Reviewer) (first Reviewer, who, gap string, ok bool) {
	if len(list) == 0 {
		return Reviewer{}, "", "", false
	}
	for i, r := range list {
		w, g, can := emptyCase(r)
		if !can {
			return Reviewer{}, "", "", false
		}
		if i == 0 {
			first, who, gap = r, w, g
		}
	}
	return first, who, gap, true
}

// checkFallbacks warns about each reviewer list that can resolve to nobody
// without fallback reviewers that always name someone. A stage is checked
// with its own fallbackReviewers: Graph documents a stage's as overriding
// the definition's (docs/graph-behaviour.md#stages), and a stage names
// its own. spec.reviewers is checked unless the stages name reviewers
// (then Graph ignores it).
func (d *decoder) checkFallbacks(s *DefinitionSpec) {
	check := func(reviewers, fallback []Reviewer, path string) {
		first, who, gap, ok := canBeNobody(reviewers)
		if !ok {
			return
		}
		if len(fallback) == 0 {
			d.addAt(first.Pos, Warning, "%s.reviewers are %s: %s; add %s.fallbackReviewers, who review when the reviewers are nobody", path, who, gap, path)
			return
		}
		if _, fwho, _, ok := canBeNobody(fallback); ok {
			d.addAt(first.Pos, Warning, "%s.reviewers are %s: %s; %s.fallbackReviewers (%s) can be nobody too: add a user to them", path, who, gap, path, fwho)
		}
	}
	if stagesHaveReviewers(s.StageSettings) {
		for i, st := range s.StageSettings {
			check(st.Reviewers, st.FallbackReviewers, index("spec.stageSettings", i))
		}
		return
	}
	check(s.Reviewers, s.FallbackReviewers, "spec")
}
