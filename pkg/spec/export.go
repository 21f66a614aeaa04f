package spec

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
)

// ObjectReader reads directory objects of any kind by id.
// *graphclient.Client implements it.
type ObjectReader interface {
	GetDirectoryObjects(ctx context.Context, ids []string) (map[string]graphclient.DirectoryObject, error)
}

// Namer is what Export reads from the directory: objects by id, to find
// their names, and the look-ups of Directory, to check that each name
// leads back to the same object. *graphclient.Client implements it.
type Namer interface {
	Directory
	ObjectReader
}

// DescribeIDs labels the ids in the queries of defs (typically the live
// definitions a plan compares with) for people: a user by
// userPrincipalName, a group or service principal by displayName. Ids the
// directory does not know are left out. It costs one getByIds call per
// 1000 ids. A plan merges the result into diff.Desired.Display so that the
// "before" side of a field change shows names too.
func DescribeIDs(ctx context.Context, r ObjectReader, defs []graph.Definition) (map[string]string, error) {
	var ids []string
	seen := map[string]bool{}
	for i := range defs {
		for _, q := range queriesOf(&defs[i]) {
			for _, m := range guidsIn(q) {
				if id := strings.ToLower(q[m[0]:m[1]]); !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
			}
		}
	}
	out := map[string]string{}
	if len(ids) == 0 || r == nil {
		return out, nil
	}
	objs, err := r.GetDirectoryObjects(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("reading the directory objects the definitions refer to: %w", err)
	}
	for _, id := range ids {
		if o, ok := objs[id]; ok {
			if name := cmp.Or(o.UserPrincipalName, o.DisplayName, o.Mail); name != "" {
				out[id] = name
			}
		}
	}
	return out, nil
}

// ExportOptions configure Export.
type ExportOptions struct {
	// All exports every definition; otherwise only those carrying arsync's
	// ownership marker.
	All bool
	// Dir is the directory ExportFile.Path is in.
	Dir string
}

// ExportFile is one exported definition: a spec file of one document.
type ExportFile struct {
	// Name is metadata.name: the marker's name, or for an unmarked
	// definition a slug of its displayName, unique among the files.
	Name string
	// Path is Dir/Name.yaml.
	Path string
	// ID and DisplayName identify the live definition.
	ID          string
	DisplayName string
	// Managed is true when the definition carries arsync's marker. An
	// unmanaged one is adopted by the next apply.
	Managed bool
	Content []byte
	// Diagnostics is what Load reports about Content: normally nothing, but
	// a live definition can break a rule arsync checks (an instance longer
	// than its recurrence, say), and such a file needs a person.
	Diagnostics Diagnostics
	// Warnings are problems of the export that are not in the file, such as
	// two unmarked definitions with one displayName, which plan cannot
	// adopt until one is renamed.
	Warnings []string
}

// Export turns live definitions into spec files. Each file, loaded and
// resolved, gives a definition equal by meaning to the live one, so that a
// plan over the exported files adopts (or, for managed ones, leaves alone)
// every definition without changing a field.
//
// The files are written as a person would write them: the ownership marker
// removed from descriptionForAdmins, values the service fills in left out
// (false settings, defaultDecision None, queryType MicrosoftGraph, the
// query scope type, the recurrence pattern's unused fields, empty lists),
// queries, durations and recurrences in pkg/graph's canonical form (the
// form plan compares in, so that what the service rewrote when it stored
// them, such as version prefixes, $count=true or a numbered range with no
// occurrences, is undone), the reviewer forms of
// docs/yaml-format.md#names-instead-of-ids ({user: ...}, {groupMembers: ...}, {owners: true}, ...)
// where a query has one of their exact shapes, and ids in queries replaced
// by ${user:UPN}, ${group:NAME}, ${servicePrincipal:NAME} or ${role:NAME}
// wherever the name leads back to that same id and no other. Anything else
// stays an id.
//
// Directory reads are batched: one getByIds call for every id of every
// definition, then one look-up per kind of object to check the names.
// Output is sorted by Name and does not depend on the order of defs.
func Export(ctx context.Context, defs []graph.Definition, n Namer, opts ExportOptions) ([]ExportFile, error) {
	selected, err := selectAndName(defs, opts.All)
	if err != nil {
		return nil, err
	}
	names, err := nameIDs(ctx, n, selected)
	if err != nil {
		return nil, err
	}
	out := make([]ExportFile, 0, len(selected))
	for _, s := range selected {
		x := &exporter{dir: names}
		content, err := x.file(s)
		if err != nil {
			return nil, fmt.Errorf("exporting definition %s (%s): %w", s.def.ID, quote(s.def.DisplayName), err)
		}
		path := filepath.Join(opts.Dir, s.name+".yaml")
		_, diags := Parse(path, content)
		out = append(out, ExportFile{
			Name:        s.name,
			Path:        path,
			ID:          s.def.ID,
			DisplayName: s.def.DisplayName,
			Managed:     s.managed,
			Content:     content,
			Diagnostics: diags,
			Warnings:    append(s.warnings, x.warnings...),
		})
	}
	slices.SortFunc(out, func(a, b ExportFile) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// selected is a definition chosen for export, with its file name.
type selected struct {
	def      *graph.Definition
	name     string
	managed  bool
	desc     string // descriptionForAdmins without the marker
	warnings []string
}

// selectAndName picks the definitions to export and names them: marked ones
// by their marker, unmarked ones (with all) by a slug of their displayName
// that no other file uses, oldest first (graph.ByMarker) so that names are
// stable.
func selectAndName(defs []graph.Definition, all bool) ([]*selected, error) {
	ptrs := make([]*graph.Definition, len(defs))
	for i := range defs {
		ptrs[i] = &defs[i]
	}
	byMarker, unmarkedDefs := graph.ByMarker(ptrs)
	var dups []string
	var marked []*selected
	for _, name := range slices.Sorted(maps.Keys(byMarker)) {
		ds := byMarker[name]
		if len(ds) > 1 {
			var ids []string
			for _, d := range ds {
				ids = append(ids, d.ID+" (created "+cmp.Or(d.CreatedDateTime, "at an unknown time")+")")
			}
			dups = append(dups, fmt.Sprintf("%d definitions carry the marker %s: %s", len(ds), graph.Marker(name), strings.Join(ids, ", ")))
			continue
		}
		marked = append(marked, &selected{def: ds[0], name: name, managed: true, desc: graph.StripMarker(ds[0].DescriptionForAdmins)})
	}
	if len(dups) > 0 {
		return nil, fmt.Errorf("%s; delete all but one (arsync plan --allow-delete plans deleting the younger ones) before exporting", strings.Join(dups, "; "))
	}

	taken := map[string]bool{}
	for _, s := range marked {
		taken[s.name] = true
	}
	if !all {
		unmarkedDefs = nil
	}
	var unmarked []*selected
	sameTitle := map[string][]*selected{}
	for _, d := range unmarkedDefs {
		s := &selected{def: d, name: uniqueName(slug(d.DisplayName), taken), desc: d.DescriptionForAdmins}
		unmarked = append(unmarked, s)
		taken[s.name] = true
		k := strings.ToLower(strings.TrimSpace(d.DisplayName))
		sameTitle[k] = append(sameTitle[k], s)
	}
	for _, ss := range sameTitle {
		if len(ss) < 2 {
			continue
		}
		for _, s := range ss {
			var others []string
			for _, o := range ss {
				if o != s {
					others = append(others, o.def.ID)
				}
			}
			s.warnings = append(s.warnings, fmt.Sprintf("unmanaged definition %s shares its displayName %s with %s; plan cannot tell which to adopt until the displayNames differ", s.def.ID, quote(s.def.DisplayName), strings.Join(others, ", ")))
		}
	}
	return append(marked, unmarked...), nil
}

// maxName is the longest metadata.name.
const maxName = 63

// slug turns a displayName into a metadata.name: lower-case ASCII letters
// and digits, other runs of characters as one dash.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	out := b.String()
	if len(out) > maxName {
		out = strings.TrimRight(out[:maxName], "-")
	}
	if out == "" {
		return "review"
	}
	return out
}

// uniqueName returns base, or base-2, base-3, ... whichever is not taken,
// within the length limit.
func uniqueName(base string, taken map[string]bool) string {
	if !taken[base] {
		return base
	}
	for i := 2; ; i++ {
		suffix := "-" + strconv.Itoa(i)
		b := base
		if len(b)+len(suffix) > maxName {
			b = strings.TrimRight(b[:maxName-len(suffix)], "-")
		}
		if name := b + suffix; !taken[name] {
			return name
		}
	}
}

var guidInTextRE = regexp.MustCompile(`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`)

// guidsIn returns the byte ranges of the GUIDs in s that stand alone (not
// part of a longer run of letters, digits and dashes).
func guidsIn(s string) [][]int {
	var out [][]int
	for _, m := range guidInTextRE.FindAllStringIndex(s, -1) {
		if m[0] > 0 && isIDByte(s[m[0]-1]) || m[1] < len(s) && isIDByte(s[m[1]]) {
			continue
		}
		out = append(out, m)
	}
	return out
}

func isIDByte(c byte) bool {
	return c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// queriesOf lists every query string of d.
func queriesOf(d *graph.Definition) []string {
	var qs []string
	var scope func(s *graph.Scope)
	scope = func(s *graph.Scope) {
		if s == nil {
			return
		}
		qs = append(qs, s.Query)
		for i := range s.PrincipalScopes {
			scope(&s.PrincipalScopes[i])
		}
		for i := range s.ResourceScopes {
			scope(&s.ResourceScopes[i])
		}
	}
	reviewers := func(rs []graph.ReviewerScope) {
		for _, r := range rs {
			qs = append(qs, r.Query)
		}
	}
	scope(d.Scope)
	scope(d.InstanceEnumerationScope)
	reviewers(d.Reviewers)
	reviewers(d.FallbackReviewers)
	for _, st := range d.StageSettings {
		reviewers(st.Reviewers)
		reviewers(st.FallbackReviewers)
	}
	for _, r := range d.AdditionalNotificationRecipients {
		scope(r.NotificationRecipientScope)
	}
	return qs
}

// idNames is what the directory said about the ids in the definitions.
// Maps are keyed by lower-case id.
type idNames struct {
	names   map[string]refKey // ids with a name that leads back to them alone
	known   map[string]bool   // ids of existing objects (users, groups, service principals, roles)
	checked bool              // the directory was asked
}

// nameIDs finds, for every id in the queries of sel, a name that resolves
// back to exactly that id.
func nameIDs(ctx context.Context, n Namer, sel []*selected) (*idNames, error) {
	var ids []string
	seen := map[string]bool{}
	for _, s := range sel {
		for _, q := range queriesOf(s.def) {
			for _, m := range guidsIn(q) {
				id := strings.ToLower(q[m[0]:m[1]])
				if !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
			}
		}
	}
	names := map[string]refKey{}
	out := &idNames{names: names, known: map[string]bool{}, checked: n != nil}
	if len(ids) == 0 || n == nil {
		return out, nil
	}
	objs, err := n.GetDirectoryObjects(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("reading the directory objects the definitions refer to: %w", err)
	}

	// Candidate names per id, best first.
	cands := map[string][]refKey{}
	var notObjects []string
	for _, id := range ids {
		o, ok := objs[id]
		if !ok {
			notObjects = append(notObjects, id)
			continue
		}
		out.known[id] = true
		switch o.Kind() {
		case "user":
			upn, mail := o.UserPrincipalName, o.Mail
			if strings.Contains(strings.ToUpper(upn), "#EXT#") {
				upn, mail = mail, upn // a guest is better known by their own address
			}
			cands[id] = []refKey{{RefUser, upn}, {RefUser, mail}}
		case "group":
			cands[id] = []refKey{{RefGroup, o.DisplayName}}
		case "servicePrincipal":
			cands[id] = []refKey{{RefServicePrincipal, o.DisplayName}}
		}
	}
	// Role definitions are not directory objects; an id getByIds does not
	// know may be one.
	if len(notObjects) > 0 {
		roles, err := n.LookupRoleDefinitions(ctx, notObjects)
		if err != nil {
			return nil, fmt.Errorf("reading the roles the definitions refer to: %w", err)
		}
		for _, id := range notObjects {
			rs := roles[id]
			out.known[id] = len(rs) > 0
			if len(rs) == 1 {
				cands[id] = []refKey{{RefRole, rs[0].DisplayName}}
			}
		}
	}

	keys := map[RefKind][]string{}
	asked := map[refKey]bool{}
	for _, id := range ids {
		for _, c := range cands[id] {
			if usableName(c.name) && !asked[c] {
				asked[c] = true
				keys[c.kind] = append(keys[c.kind], c.name)
			}
		}
	}
	if len(keys) == 0 {
		return out, nil
	}
	ix, err := lookupAll(ctx, n, keys)
	if err != nil {
		return nil, fmt.Errorf("checking that names are unique: %w", err)
	}
	for _, id := range ids {
		for _, c := range cands[id] {
			if !usableName(c.name) {
				continue
			}
			if got, _, err := ix.lookup(c.kind, c.name); err == nil && strings.EqualFold(got, id) {
				names[id] = c
				break
			}
		}
	}
	return out, nil
}

// usableName reports whether a name can stand for an id in a spec file:
// ToGraph would look it up (not id-shaped), and it survives both the
// reviewer forms (which trim it) and ${kind:name} (which ends at "}").
func usableName(s string) bool {
	if s == "" || s != strings.TrimSpace(s) || isGUID(s) || strings.ContainsAny(s, "{}$\n\r\t") {
		return false
	}
	return true
}

// exporter writes one definition as YAML nodes.
type exporter struct {
	dir      *idNames
	warnings []string
}

func (x *exporter) file(s *selected) ([]byte, error) {
	d := s.def
	spec := newMapping()
	addStr(spec, "displayName", d.DisplayName)
	addStr(spec, "descriptionForAdmins", lf(s.desc))
	addStr(spec, "descriptionForReviewers", lf(d.DescriptionForReviewers))
	add(spec, "scope", x.scope(d.Scope))
	add(spec, "instanceEnumerationScope", x.scope(d.InstanceEnumerationScope))
	add(spec, "reviewers", x.reviewers(d.Reviewers))
	add(spec, "fallbackReviewers", x.reviewers(d.FallbackReviewers))
	add(spec, "additionalNotificationRecipients", x.recipients(d.AdditionalNotificationRecipients))
	add(spec, "stageSettings", x.stages(d.StageSettings))
	add(spec, "settings", x.settings(d.Settings))

	meta := newMapping()
	addStr(meta, "name", s.name)
	doc := newMapping()
	addStr(doc, "apiVersion", APIVersion)
	addStr(doc, "kind", Kind)
	add(doc, "metadata", meta)
	add(doc, "spec", spec)

	var b bytes.Buffer
	fmt.Fprintf(&b, "# Exported by arsync from access review definition %s.\n", d.ID)
	if !s.managed {
		b.WriteString("# Not managed yet: the next apply adopts it (it writes arsync's marker\n# into descriptionForAdmins).\n")
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// lf gives a description Unix line ends: the service may store CRLF, and a
// YAML block of lines reads better than one quoted string with "\r\n".
func lf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// query writes q in canonical form (graph.WritableQuery: what the service
// adds when it stores a query, such as a version prefix, $count=true or
// '+' for spaces, undone), with its ids replaced by named references where
// known.
func (x *exporter) query(q string) string {
	q = graph.WritableQuery(q)
	ms := guidsIn(q)
	if len(ms) == 0 {
		return q
	}
	var b strings.Builder
	last := 0
	for _, m := range ms {
		b.WriteString(q[last:m[0]])
		if r, ok := x.dir.names[strings.ToLower(q[m[0]:m[1]])]; ok {
			b.WriteString("${" + string(r.kind) + ":" + r.name + "}")
		} else {
			b.WriteString(q[m[0]:m[1]])
		}
		last = m[1]
	}
	b.WriteString(q[last:])
	return b.String()
}

// ref is the value of a reviewer form for id: its name, or the id.
func (x *exporter) ref(id string) string {
	if r, ok := x.dir.names[strings.ToLower(id)]; ok {
		return r.name
	}
	return id
}

// exists reports whether id names an object in the directory. An id that
// does not (a deleted user, say) stays in a query, which resolution does
// not check, so that the file still plans; the export warns about it.
func (x *exporter) exists(id, query string) bool {
	if !x.dir.checked || x.dir.known[strings.ToLower(id)] {
		return x.dir.checked
	}
	x.warnings = append(x.warnings, fmt.Sprintf("%s refers to %s, which is not in the directory (deleted?); it is kept as an id", quote(query), id))
	return false
}

var shortScopeTypes = map[string]string{
	graph.TypeInactiveUsersQueryScope:      string(ScopeInactiveUsers),
	graph.TypePrincipalResourceMemberships: string(ScopePrincipalResourceMemberships),
}

func (x *exporter) scope(s *graph.Scope) *yaml.Node {
	if s == nil || s.ODataType == "" && s.Query == "" && len(s.PrincipalScopes) == 0 && len(s.ResourceScopes) == 0 {
		return nil
	}
	m := newMapping()
	switch t := s.ODataType; {
	case t == "" || t == graph.TypeQueryScope:
	case shortScopeTypes[t] != "":
		addStr(m, "type", shortScopeTypes[t])
	default:
		addStr(m, "@odata.type", t)
	}
	if s.ODataType == graph.TypePrincipalResourceMemberships {
		add(m, "principalScopes", x.scopeList(s.PrincipalScopes))
		add(m, "resourceScopes", x.scopeList(s.ResourceScopes))
		return m
	}
	q := x.query(s.Query)
	addStr(m, "query", q)
	x.queryTypeRoot(m, q, s.QueryType, s.QueryRoot)
	addStr(m, "inactiveDuration", graph.NormalizeDuration(s.InactiveDuration))
	return m
}

// queryTypeRoot adds queryType unless it is the default, and queryRoot
// where it means something (relative queries).
func (x *exporter) queryTypeRoot(m *yaml.Node, q, queryType, queryRoot string) {
	if queryType != "" && !strings.EqualFold(queryType, graph.QueryTypeMicrosoftGraph) {
		addStr(m, "queryType", queryType)
	}
	if queryRoot != "" && !strings.HasPrefix(q, "/") {
		if strings.EqualFold(queryRoot, "decisions") {
			queryRoot = "decisions"
		}
		addStr(m, "queryRoot", queryRoot)
	}
}

func (x *exporter) scopeList(ss []graph.Scope) *yaml.Node {
	if len(ss) == 0 {
		return nil
	}
	l := newSequence()
	for i := range ss {
		if n := x.scope(&ss[i]); n != nil {
			l.Content = append(l.Content, n)
		}
	}
	return l
}

var (
	userQueryRE          = regexp.MustCompile(`^/users/(` + guidPattern + `)$`)
	groupMembersQueryRE  = regexp.MustCompile(`^/groups/(` + guidPattern + `)/transitiveMembers/microsoft\.graph\.user$`) // the canonical form has the cast
	groupRecipientsRE    = regexp.MustCompile(`^/groups/(` + guidPattern + `)/members$`)
	groupOwnersQueryRE   = regexp.MustCompile(`^/groups/(` + guidPattern + `)/owners$`)
	guidPattern          = `[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`
	defaultQueryTypeOnly = func(t string) bool { return t == "" || strings.EqualFold(t, graph.QueryTypeMicrosoftGraph) }
)

// reviewerForm writes a reviewer (or, with recipient, a notification
// recipient) into m: as one of the short forms when the query has exactly
// that form's shape, else as a query.
func (x *exporter) reviewerForm(m *yaml.Node, query, queryType, queryRoot string, recipient bool) {
	q := graph.WritableQuery(query)
	if strings.HasPrefix(q, "/") {
		queryRoot = "" // the service ignores it on absolute queries, and may echo one anyway
	}
	if defaultQueryTypeOnly(queryType) {
		membersRE := groupMembersQueryRE
		if recipient {
			membersRE = groupRecipientsRE
		}
		sugar := func(re *regexp.Regexp) (string, bool) {
			sm := re.FindStringSubmatch(q)
			if queryRoot != "" || sm == nil || !x.exists(sm[1], q) {
				return "", false
			}
			return x.ref(sm[1]), true
		}
		if v, ok := sugar(userQueryRE); ok {
			addStr(m, "user", v)
			return
		}
		if v, ok := sugar(membersRE); ok {
			addStr(m, "groupMembers", v)
			return
		}
		if v, ok := sugar(groupOwnersQueryRE); ok {
			addStr(m, "groupOwners", v)
			return
		}
		switch {
		case !recipient && queryRoot == "" && q == "./owners":
			add(m, "owners", boolNode(true))
			return
		case !recipient && strings.EqualFold(queryRoot, "decisions") && q == "./manager":
			add(m, "managers", boolNode(true))
			return
		}
	}
	q = x.query(query)
	addStr(m, "query", q)
	x.queryTypeRoot(m, q, queryType, queryRoot)
}

func (x *exporter) reviewers(rs []graph.ReviewerScope) *yaml.Node {
	if len(rs) == 0 {
		return nil
	}
	l := newSequence()
	for _, r := range rs {
		m := newMapping()
		x.reviewerForm(m, r.Query, r.QueryType, r.QueryRoot, false)
		l.Content = append(l.Content, m)
	}
	return l
}

func (x *exporter) recipients(rs []graph.NotificationRecipientItem) *yaml.Node {
	if len(rs) == 0 {
		return nil
	}
	l := newSequence()
	for _, r := range rs {
		m := newMapping()
		if t := r.NotificationTemplateType; t != "" && t != graph.NotificationTemplateCompletedRecp {
			addStr(m, "notificationTemplateType", t)
		}
		sc := r.NotificationRecipientScope
		switch {
		case sc == nil:
		case sc.ODataType == "" || sc.ODataType == graph.TypeNotificationRecipientQuery:
			x.reviewerForm(m, sc.Query, sc.QueryType, sc.QueryRoot, true)
		default:
			inner := newMapping()
			addStr(inner, "@odata.type", sc.ODataType)
			x.reviewerForm(inner, sc.Query, sc.QueryType, sc.QueryRoot, true)
			add(m, "notificationRecipientScope", inner)
		}
		l.Content = append(l.Content, m)
	}
	return l
}

func (x *exporter) stages(ss []graph.StageSettings) *yaml.Node {
	if len(ss) == 0 {
		return nil
	}
	l := newSequence()
	for _, s := range ss {
		m := newMapping()
		addStr(m, "stageId", s.StageID)
		add(m, "dependsOn", flowStrings(s.DependsOn))
		add(m, "durationInDays", intNode(s.DurationInDays))
		add(m, "recommendationsEnabled", boolNode(s.RecommendationsEnabled != nil && *s.RecommendationsEnabled))
		add(m, "decisionsThatWillMoveToNextStage", flowStrings(s.DecisionsThatWillMoveToNextStage))
		add(m, "reviewers", x.reviewers(s.Reviewers))
		add(m, "fallbackReviewers", x.reviewers(s.FallbackReviewers))
		add(m, "recommendationInsightSettings", insights(s.RecommendationInsightSettings))
		l.Content = append(l.Content, m)
	}
	return l
}

func (x *exporter) settings(s *graph.ScheduleSettings) *yaml.Node {
	m := newMapping()
	if s == nil {
		return m
	}
	flag := func(key string, b *bool) {
		if b != nil && *b {
			add(m, key, boolNode(true))
		}
	}
	flag("mailNotificationsEnabled", s.MailNotificationsEnabled)
	flag("reminderNotificationsEnabled", s.ReminderNotificationsEnabled)
	flag("justificationRequiredOnApproval", s.JustificationRequiredOnApproval)
	flag("defaultDecisionEnabled", s.DefaultDecisionEnabled)
	if s.DefaultDecision != "" && !strings.EqualFold(s.DefaultDecision, "None") {
		addStr(m, "defaultDecision", s.DefaultDecision)
	}
	if s.InstanceDurationInDays != nil && *s.InstanceDurationInDays != 0 {
		add(m, "instanceDurationInDays", intNode(*s.InstanceDurationInDays))
	}
	flag("autoApplyDecisionsEnabled", s.AutoApplyDecisionsEnabled)
	flag("recommendationsEnabled", s.RecommendationsEnabled)
	if look := graph.NormalizeDuration(s.RecommendationLookBackDuration); look != "P30D" { // the documented default
		addStr(m, "recommendationLookBackDuration", look)
	}
	flag("decisionHistoriesForReviewersEnabled", s.DecisionHistoriesForReviewersEnabled)
	add(m, "recommendationInsightSettings", insights(s.RecommendationInsightSettings))
	add(m, "recurrence", recurrence(s.Recurrence))
	if len(s.ApplyActions) > 0 {
		l := newSequence()
		l.Style = yaml.FlowStyle
		for _, a := range s.ApplyActions {
			if short, ok := shortApplyActions[a.ODataType]; ok {
				l.Content = append(l.Content, strNode(short))
			} else {
				t := newMapping()
				addStr(t, "@odata.type", a.ODataType)
				l.Content = append(l.Content, t)
			}
		}
		add(m, "applyActions", l)
	}
	return m
}

var shortApplyActions = map[string]string{
	graph.TypeRemoveAccessApplyAction:    "removeAccessApplyAction",
	graph.TypeDisableAndDeleteUserAction: "disableAndDeleteUserApplyAction",
}

var shortInsights = map[string]string{
	graph.TypeUserLastSignInInsight:   InsightUserLastSignIn,
	graph.TypeGroupPeerOutlierInsight: InsightGroupPeerOutlier,
}

func insights(list []graph.RecommendationInsightSetting) *yaml.Node {
	if len(list) == 0 {
		return nil
	}
	l := newSequence()
	for _, in := range list {
		m := newMapping()
		if short := shortInsights[in.ODataType]; short != "" {
			addStr(m, "type", short)
		} else {
			addStr(m, "@odata.type", in.ODataType)
		}
		addStr(m, "recommendationLookBackDuration", graph.NormalizeDuration(in.RecommendationLookBackDuration))
		addStr(m, "signInScope", in.SignInScope)
		l.Content = append(l.Content, m)
	}
	return l
}

// recurrence writes a recurrence as the user would: in canonical form
// (graph.NormalizeRecurrence: the range in its plainest type, however the
// service stored it, dates without a time), the pattern's three accepted
// fields.
func recurrence(r *graph.PatternedRecurrence) *yaml.Node {
	r = graph.NormalizeRecurrence(r)
	if r == nil {
		return nil
	}
	m := newMapping()
	if p := r.Pattern; p != nil {
		pm := newMapping()
		pm.Style = yaml.FlowStyle
		addStr(pm, "type", p.Type)
		add(pm, "interval", intNode(p.Interval))
		if p.DayOfMonth != 0 {
			add(pm, "dayOfMonth", intNode(p.DayOfMonth))
		}
		add(m, "pattern", pm)
	}
	if rg := r.Range; rg != nil {
		rm := newMapping()
		rm.Style = yaml.FlowStyle
		addStr(rm, "type", rg.Type)
		add(rm, "startDate", dateNode(rg.StartDate))
		switch rg.Type {
		case "numbered":
			add(rm, "numberOfOccurrences", intNode(rg.NumberOfOccurrences))
		case "endDate":
			add(rm, "endDate", dateNode(rg.EndDate))
		}
		addStr(rm, "recurrenceTimeZone", rg.RecurrenceTimeZone)
		add(m, "range", rm)
	}
	return m
}

// --- YAML nodes ---------------------------------------------------------------

func newMapping() *yaml.Node  { return &yaml.Node{Kind: yaml.MappingNode} }
func newSequence() *yaml.Node { return &yaml.Node{Kind: yaml.SequenceNode} }

// strNode is a string scalar. yaml.v3 quotes it when YAML 1.2 would read
// it as another type; it is quoted too when a YAML 1.1 parser (PyYAML,
// js-yaml's timestamps), as other people's tools use to check a file
// against the JSON Schema, would read it as a date, a boolean, a number or
// null.
func strNode(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if yaml11Typed.MatchString(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// yaml11Typed matches the plain scalars that YAML 1.1's types resolve to
// something other than a string (https://yaml.org/type/: bool, int,
// float, null, timestamp, value, merge).
var yaml11Typed = regexp.MustCompile(`^(?:` +
	`y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF` +
	`|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+` +
	`|[-+]?(?:[0-9][0-9_]*)?\.[0-9.]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)` +
	`|~|null|Null|NULL|` +
	`|[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?` +
	`|=|<<` +
	`)$`)

func intNode(n int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(n)}
}

func boolNode(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

// dateNode writes a date quoted: a YAML 1.1 parser reads an unquoted
// 2026-01-05 as a timestamp, which the JSON Schema's string refuses
// (arsync reads either).
func dateNode(s string) *yaml.Node {
	n := strNode(s)
	n.Style = yaml.DoubleQuotedStyle
	return n
}

func flowStrings(ss []string) *yaml.Node {
	if len(ss) == 0 {
		return nil
	}
	l := newSequence()
	l.Style = yaml.FlowStyle
	for _, s := range ss {
		l.Content = append(l.Content, strNode(s))
	}
	return l
}

// add appends key: v to mapping m, unless v is nil.
func add(m *yaml.Node, key string, v *yaml.Node) {
	if v == nil {
		return
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
}

// addStr appends key: s to m, unless s is empty.
func addStr(m *yaml.Node, key, s string) {
	if s != "" {
		add(m, key, strNode(s))
	}
}

// ExistsError reports export files that already exist.
type ExistsError struct {
	Paths []string
}

func (e *ExistsError) Error() string {
	if len(e.Paths) == 1 {
		return fmt.Sprintf("%s already exists; nothing was written (overwrite with --force)", e.Paths[0])
	}
	return fmt.Sprintf("%d files already exist: %s; nothing was written (overwrite with --force)", len(e.Paths), strings.Join(e.Paths, ", "))
}

// WriteFiles writes exported files to their paths, creating directories as
// needed. Unless overwrite is set, it first checks that none of the files
// exists and, if any does, writes nothing and returns an *ExistsError. Each
// file is written to a temporary name and renamed, so no reader ever sees
// half a file.
func WriteFiles(files []ExportFile, overwrite bool) error {
	var exist []string
	for _, f := range files {
		info, err := os.Lstat(f.Path)
		switch {
		case err == nil && info.IsDir():
			return fmt.Errorf("%s is a directory; nothing was written", f.Path)
		case err == nil && !overwrite:
			exist = append(exist, f.Path)
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			// Typically ENOTDIR (--out names a file): say so about the
			// file, without Go's "lstat <the same path>".
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return fmt.Errorf("cannot write %s: %w; nothing was written", f.Path, err)
		}
	}
	if len(exist) > 0 {
		return &ExistsError{Paths: exist}
	}
	for _, f := range files {
		if err := writeAtomic(f.Path, f.Content); err != nil {
			return err
		}
	}
	return nil
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
