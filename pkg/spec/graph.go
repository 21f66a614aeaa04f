package spec

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/arsync/arsync/pkg/graph"
)

// Resolver turns a directory reference into an object id. Issue 7's
// directory look-up implements it (batched); tests use a map.
type Resolver interface {
	ResolveID(kind RefKind, name string) (id string, err error)
}

// ErrUnresolved is the cause of a RefError when ToGraph has no Resolver and
// a reference is a name rather than an id.
var ErrUnresolved = errors.New("is a name, not an id, and no directory was given to look it up")

// RefError is a reference that could not be turned into an id. Its message
// starts with the reference's file:line:col.
type RefError struct {
	Ref Reference
	Err error
}

func (e *RefError) Error() string {
	return fmt.Sprintf("%s: %s %s %v", e.Ref.Pos, e.Ref.Kind, quote(e.Ref.Name), e.Err)
}

func (e *RefError) Unwrap() error { return e.Err }

// References lists every reference in d (reviewer and recipient sugar, and
// ${kind:name} in any query string) in the order they appear in the file,
// including those already written as ids, so that a resolver can look all
// of a run's names up in a few batched requests. ToGraph uses ids (see
// IsGUID) as they are without asking the resolver, except service
// principal ids, which may be appIds.
func (d *Definition) References() []Reference {
	var out []Reference
	s := &d.Spec
	var scope func(sc *Scope)
	scope = func(sc *Scope) {
		if sc == nil {
			return
		}
		out = append(out, sc.refs...)
		for i := range sc.PrincipalScopes {
			scope(&sc.PrincipalScopes[i])
		}
		for i := range sc.ResourceScopes {
			scope(&sc.ResourceScopes[i])
		}
	}
	reviewers := func(rs []Reviewer) {
		for _, r := range rs {
			out = append(out, r.refs...)
		}
	}
	scope(s.Scope)
	scope(s.InstanceEnumerationScope)
	reviewers(s.Reviewers)
	reviewers(s.FallbackReviewers)
	for _, rc := range s.AdditionalNotificationRecipients {
		out = append(out, rc.Recipient.refs...)
	}
	for _, st := range s.StageSettings {
		reviewers(st.Reviewers)
		reviewers(st.FallbackReviewers)
	}
	slices.SortStableFunc(out, func(a, b Reference) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	return out
}

// ToGraph maps d to the body of a Graph create (POST) request. It does not
// add the ownership marker; callers use WithMarker. References become ids
// through r; with a nil r only references that are already ids are
// accepted. Every unresolved reference is reported, each as a *RefError.
//
// What it writes is what the user wrote, with three documented fill-ins:
// @odata.type on every scope (Graph requires it for inactive-user and
// principal-resource-membership scopes and recommends it for all),
// queryType MicrosoftGraph where a query's queryType is left out, and
// notificationTemplateType CompletedAdditionalRecipients (the only value)
// where a recipient's is left out. The same definition always encodes to
// the same JSON bytes, and lists keep the user's order.
func (d *Definition) ToGraph(r Resolver) (graph.Definition, error) {
	m := &mapper{resolver: r, ids: make(map[refKey]string)}
	s := &d.Spec
	out := graph.Definition{
		DisplayName:                      s.DisplayName,
		DescriptionForAdmins:             s.DescriptionForAdmins,
		DescriptionForReviewers:          s.DescriptionForReviewers,
		Scope:                            m.scope(s.Scope),
		InstanceEnumerationScope:         m.scope(s.InstanceEnumerationScope),
		Reviewers:                        m.reviewers(s.Reviewers),
		FallbackReviewers:                m.reviewers(s.FallbackReviewers),
		Settings:                         settingsToGraph(s.Settings),
		AdditionalNotificationRecipients: m.recipients(s.AdditionalNotificationRecipients),
	}
	for _, st := range s.StageSettings {
		out.StageSettings = append(out.StageSettings, graph.StageSettings{
			StageID:                          st.StageID,
			DependsOn:                        slices.Clone(st.DependsOn),
			DurationInDays:                   st.DurationInDays,
			RecommendationsEnabled:           clonePtr(st.RecommendationsEnabled),
			DecisionsThatWillMoveToNextStage: slices.Clone(st.DecisionsThatWillMoveToNextStage),
			Reviewers:                        m.reviewers(st.Reviewers),
			FallbackReviewers:                m.reviewers(st.FallbackReviewers),
			RecommendationInsightSettings:    insightsToGraph(st.RecommendationInsightSettings),
		})
	}
	if len(m.errs) > 0 {
		return graph.Definition{}, errors.Join(m.errs...)
	}
	return out, nil
}

// refKey is a reference by kind and name: how a spec file names an object.
type refKey struct {
	kind RefKind
	name string
}

// mapper converts the spec model to wire types, resolving each distinct
// reference once.
type mapper struct {
	resolver Resolver
	ids      map[refKey]string
	errs     []error
}

func (m *mapper) resolve(ref Reference) string {
	// An id is used as written, except a service principal's, which may be
	// its appId: a resolver maps that to the object id.
	if isGUID(ref.Name) && (m.resolver == nil || ref.Kind != RefServicePrincipal) {
		return ref.Name
	}
	k := refKey{ref.Kind, ref.Name}
	if id, ok := m.ids[k]; ok {
		return id
	}
	var id string
	var err error
	if m.resolver == nil {
		err = ErrUnresolved
	} else if id, err = m.resolver.ResolveID(ref.Kind, ref.Name); err == nil && id == "" {
		err = errors.New("resolved to an empty id")
	}
	if err != nil {
		m.errs = append(m.errs, &RefError{Ref: ref, Err: err})
		id = ""
	}
	m.ids[k] = id
	return id
}

// query replaces each ${kind:name} in q with its id. refs are the
// references decoded from q, in the same order as parseQueryRefs finds them.
func (m *mapper) query(q string, refs []Reference) string {
	found, _ := parseQueryRefs(q)
	if len(found) == 0 {
		return q
	}
	var b strings.Builder
	last := 0
	for i, f := range found {
		ref := Reference{Kind: f.kind, Name: f.name}
		if i < len(refs) {
			ref = refs[i]
		}
		b.WriteString(q[last:f.start])
		b.WriteString(m.resolve(ref))
		last = f.end
	}
	b.WriteString(q[last:])
	return b.String()
}

func (m *mapper) scope(sc *Scope) *graph.Scope {
	if sc == nil {
		return nil
	}
	out := &graph.Scope{ODataType: odataType(scopeTypes, string(sc.Type))}
	switch sc.Type {
	case ScopePrincipalResourceMemberships:
		for i := range sc.PrincipalScopes {
			out.PrincipalScopes = append(out.PrincipalScopes, *m.scope(&sc.PrincipalScopes[i]))
		}
		for i := range sc.ResourceScopes {
			out.ResourceScopes = append(out.ResourceScopes, *m.scope(&sc.ResourceScopes[i]))
		}
	default:
		out.Query = m.query(sc.Query, sc.refs)
		out.QueryType = cmp.Or(sc.QueryType, graph.QueryTypeMicrosoftGraph)
		out.QueryRoot = sc.QueryRoot
		out.InactiveDuration = sc.InactiveDuration
	}
	return out
}

func (m *mapper) reviewers(rs []Reviewer) []graph.ReviewerScope {
	if rs == nil {
		return nil
	}
	out := make([]graph.ReviewerScope, 0, len(rs))
	for _, r := range rs {
		q, root := m.reviewerQuery(r, false)
		out = append(out, graph.ReviewerScope{
			Query:     q,
			QueryType: cmp.Or(r.QueryType, graph.QueryTypeMicrosoftGraph),
			QueryRoot: root,
		})
	}
	return out
}

// reviewerQuery is the Graph query for a reviewer entry or, with recipient
// set, a notification recipient. The group forms follow the documented
// queries of each: transitiveMembers for reviewers, members for
// notification recipients.
func (m *mapper) reviewerQuery(r Reviewer, recipient bool) (query, queryRoot string) {
	ref := func() Reference {
		if len(r.refs) > 0 {
			return r.refs[0]
		}
		return Reference{}
	}
	switch {
	case r.User != "":
		return "/users/" + m.resolve(ref()), ""
	case r.GroupMembers != "":
		if recipient {
			return "/groups/" + m.resolve(ref()) + "/members", ""
		}
		return "/groups/" + m.resolve(ref()) + "/transitiveMembers", ""
	case r.GroupOwners != "":
		return "/groups/" + m.resolve(ref()) + "/owners", ""
	case r.Owners:
		return "./owners", ""
	case r.Managers:
		return "./manager", "decisions"
	}
	return m.query(r.Query, r.refs), r.QueryRoot
}

func (m *mapper) recipients(rs []NotificationRecipient) []graph.NotificationRecipientItem {
	if rs == nil {
		return nil
	}
	out := make([]graph.NotificationRecipientItem, 0, len(rs))
	for _, rc := range rs {
		q, root := m.reviewerQuery(rc.Recipient, true)
		out = append(out, graph.NotificationRecipientItem{
			NotificationTemplateType: cmp.Or(rc.NotificationTemplateType, graph.NotificationTemplateCompletedRecp),
			NotificationRecipientScope: &graph.Scope{
				ODataType: graph.TypeNotificationRecipientQuery,
				Query:     q,
				QueryType: cmp.Or(rc.Recipient.QueryType, graph.QueryTypeMicrosoftGraph),
				QueryRoot: root,
			},
		})
	}
	return out
}

func settingsToGraph(s *Settings) *graph.ScheduleSettings {
	if s == nil {
		return nil
	}
	out := &graph.ScheduleSettings{
		MailNotificationsEnabled:             clonePtr(s.MailNotificationsEnabled),
		ReminderNotificationsEnabled:         clonePtr(s.ReminderNotificationsEnabled),
		JustificationRequiredOnApproval:      clonePtr(s.JustificationRequiredOnApproval),
		DefaultDecisionEnabled:               clonePtr(s.DefaultDecisionEnabled),
		DefaultDecision:                      s.DefaultDecision,
		InstanceDurationInDays:               clonePtr(s.InstanceDurationInDays),
		AutoApplyDecisionsEnabled:            clonePtr(s.AutoApplyDecisionsEnabled),
		RecommendationsEnabled:               clonePtr(s.RecommendationsEnabled),
		RecommendationLookBackDuration:       s.RecommendationLookBackDuration,
		DecisionHistoriesForReviewersEnabled: clonePtr(s.DecisionHistoriesForReviewersEnabled),
		RecommendationInsightSettings:        insightsToGraph(s.RecommendationInsightSettings),
	}
	if rec := s.Recurrence; rec != nil {
		out.Recurrence = &graph.PatternedRecurrence{}
		if p := rec.Pattern; p != nil {
			out.Recurrence.Pattern = &graph.RecurrencePattern{Type: p.Type, Interval: p.Interval, DayOfMonth: p.DayOfMonth}
		}
		if rg := rec.Range; rg != nil {
			out.Recurrence.Range = &graph.RecurrenceRange{
				Type:                rg.Type,
				NumberOfOccurrences: rg.NumberOfOccurrences,
				RecurrenceTimeZone:  rg.RecurrenceTimeZone,
				StartDate:           rg.StartDate,
				EndDate:             rg.EndDate,
			}
		}
	}
	for _, a := range s.ApplyActions {
		out.ApplyActions = append(out.ApplyActions, graph.ApplyAction{ODataType: odataType(applyActionTypes, a.Type)})
	}
	return out
}

func insightsToGraph(list []InsightSetting) []graph.RecommendationInsightSetting {
	var out []graph.RecommendationInsightSetting
	for _, in := range list {
		out = append(out, graph.RecommendationInsightSetting{
			ODataType:                      odataType(insightTypes, in.Type),
			RecommendationLookBackDuration: in.RecommendationLookBackDuration,
			SignInScope:                    in.SignInScope,
		})
	}
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
