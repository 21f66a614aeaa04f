package spec

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// --- settings ---------------------------------------------------------------

var settingsFields = fields{
	known: []string{
		"mailNotificationsEnabled", "reminderNotificationsEnabled", "justificationRequiredOnApproval",
		"defaultDecisionEnabled", "defaultDecision", "instanceDurationInDays", "autoApplyDecisionsEnabled",
		"recommendationsEnabled", "recommendationLookBackDuration", "decisionHistoriesForReviewersEnabled",
		"recurrence", "applyActions", "recommendationInsightSettings",
	},
	hints: map[string]string{
		"isAgenticExperienceEnabled": "is a beta-only setting, not in Graph v1.0",
		"@odata.type":                "is not needed on settings; remove it",
	},
}

func (d *decoder) decodeSettings(n, at *yaml.Node, path string, hasStages bool) *Settings {
	ps, ok := d.mapping(n, path, settingsFields)
	if !ok {
		return nil
	}
	st := &Settings{Pos: d.pos(n)}
	var durationNode, decisionNode *yaml.Node
	for _, p := range ps.list {
		fp := join(path, p.key)
		switch p.key {
		case "mailNotificationsEnabled":
			st.MailNotificationsEnabled = d.boolean(p.v, fp)
		case "reminderNotificationsEnabled":
			st.ReminderNotificationsEnabled = d.boolean(p.v, fp)
		case "justificationRequiredOnApproval":
			st.JustificationRequiredOnApproval = d.boolean(p.v, fp)
		case "defaultDecisionEnabled":
			st.DefaultDecisionEnabled = d.boolean(p.v, fp)
		case "defaultDecision":
			st.DefaultDecision, _ = d.enum(p.v, fp, defaultDecisions)
			decisionNode = p.v
		case "instanceDurationInDays":
			if v, ok := d.positive(p.v, fp); ok {
				st.InstanceDurationInDays = &v
				durationNode = p.v
			}
		case "autoApplyDecisionsEnabled":
			st.AutoApplyDecisionsEnabled = d.boolean(p.v, fp)
		case "recommendationsEnabled":
			st.RecommendationsEnabled = d.boolean(p.v, fp)
		case "recommendationLookBackDuration":
			st.RecommendationLookBackDuration, _, _ = d.duration(p.v, fp)
			st.lookBackPos = d.pos(p.v)
		case "decisionHistoriesForReviewersEnabled":
			st.DecisionHistoriesForReviewersEnabled = d.boolean(p.v, fp)
		case "recurrence":
			if isNull(p.v) {
				continue
			}
			st.Recurrence = d.decodeRecurrence(p.v, p.k, fp)
		case "applyActions":
			st.ApplyActions = d.decodeApplyActions(p.v, fp)
		case "recommendationInsightSettings":
			st.RecommendationInsightSettings = d.decodeInsights(p.v, fp)
		}
	}
	if st.Recurrence == nil {
		switch p := ps.get("recurrence"); {
		case p == nil && !ps.misspelt("recurrence"):
			d.errf(at, "%s.recurrence is required: it sets the start date (range.startDate) and, with a pattern, how often the review repeats", path)
		case p != nil && isNull(p.v):
			d.errf(p.k, "%s.recurrence is required: it sets the start date (range.startDate)", path)
		}
	}

	on := func(b *bool) bool { return b != nil && *b }
	if on(st.AutoApplyDecisionsEnabled) && on(st.DefaultDecisionEnabled) && st.DefaultDecision == "Deny" {
		d.warnf(decisionNode, "%s.autoApplyDecisionsEnabled with defaultDecision Deny removes the access of everyone whose reviewer does not answer", path)
	}
	if decisionNode != nil && st.DefaultDecision != "" && st.DefaultDecision != "None" && !on(st.DefaultDecisionEnabled) {
		d.warnf(decisionNode, "%s.defaultDecision %s has no effect unless defaultDecisionEnabled is true", path, st.DefaultDecision)
	}
	if durationNode != nil {
		if hasStages {
			d.warnf(durationNode, "%s.instanceDurationInDays is ignored when stageSettings is set (the stages' durationInDays add up to the review's length)", path)
		} else if st.Recurrence != nil && st.Recurrence.Pattern != nil {
			if period, ok := periodDays(st.Recurrence.Pattern); ok && *st.InstanceDurationInDays > period {
				d.errf(durationNode, "%s.instanceDurationInDays %d is longer than one %s recurrence (%d days); a review must end before the next one starts", path, *st.InstanceDurationInDays, describePattern(st.Recurrence.Pattern), period)
			}
		}
	}
	return st
}

// --- recurrence -------------------------------------------------------------

var (
	recurrenceFields = fields{known: []string{"pattern", "range"}}
	patternFields    = fields{
		known: []string{"type", "interval", "dayOfMonth"},
		hints: map[string]string{
			"month":          "is not supported for access reviews; a pattern has only type, interval and dayOfMonth",
			"daysOfWeek":     "is not supported for access reviews; a pattern has only type, interval and dayOfMonth",
			"firstDayOfWeek": "is not supported for access reviews; a pattern has only type, interval and dayOfMonth",
			"index":          "is not supported for access reviews; a pattern has only type, interval and dayOfMonth",
		},
	}
	rangeFields = fields{known: []string{"type", "startDate", "endDate", "numberOfOccurrences", "recurrenceTimeZone"}}
)

func (d *decoder) decodeRecurrence(n, at *yaml.Node, path string) *Recurrence {
	ps, ok := d.mapping(n, path, recurrenceFields)
	if !ok {
		return nil
	}
	rec := &Recurrence{Pos: d.pos(n)}
	if p := ps.get("pattern"); p != nil && !isNull(p.v) {
		rec.Pattern = d.decodePattern(p.v, p.k, join(path, "pattern"))
	}
	if p := ps.get("range"); p != nil && !isNull(p.v) {
		rec.Range = d.decodeRange(p.v, p.k, join(path, "range"), rec.Pattern == nil && (ps.get("pattern") == nil || isNull(ps.get("pattern").v)))
	} else if !ps.misspelt("range") {
		d.errf(keyOr(p, at), "%s.range is required (at least type and startDate)", path)
	}
	return rec
}

func (d *decoder) decodePattern(n, at *yaml.Node, path string) *Pattern {
	ps, ok := d.mapping(n, path, patternFields)
	if !ok {
		return nil
	}
	pat := &Pattern{Pos: d.pos(n)}
	var dayNode *yaml.Node
	if p := ps.get("type"); p != nil {
		fp := join(path, "type")
		if s, ok := d.str(p.v, fp); ok {
			switch {
			case contains(patternTypes, s):
				pat.Type = s
			case contains(unsupportedPatterns, s):
				d.errf(p.v, "%s %s is not supported for access reviews; use weekly or absoluteMonthly (quarterly is absoluteMonthly with interval 3)", fp, quote(s))
			default:
				hint := didYouMean(s, patternTypes)
				switch strings.ToLower(s) {
				case "monthly":
					hint = `; did you mean "absoluteMonthly"?`
				case "quarterly":
					hint = "; quarterly is absoluteMonthly with interval 3"
				case "yearly", "annually", "annual":
					hint = "; yearly is absoluteMonthly with interval 12"
				}
				d.errf(p.v, "%s must be weekly or absoluteMonthly, got %s%s", fp, quote(s), hint)
			}
		}
	} else if !ps.misspelt("type") {
		d.errf(at, "%s.type is required (weekly or absoluteMonthly); leave the pattern out for a one-time review", path)
	}
	if p := ps.get("interval"); p != nil {
		if v, ok := d.positive(p.v, join(path, "interval")); ok {
			pat.Interval = v
		}
	} else if !ps.misspelt("interval") {
		d.errf(at, "%s.interval is required (1 = every week or month, 3 = quarterly with absoluteMonthly)", path)
	}
	if p := ps.get("dayOfMonth"); p != nil {
		if v, ok := d.integer(p.v, join(path, "dayOfMonth")); ok {
			dayNode = p.v
			if v < 1 || v > 31 {
				d.errf(p.v, "%s.dayOfMonth must be between 1 and 31, got %d", path, v)
			} else {
				pat.DayOfMonth = v
			}
		}
	}
	if dayNode != nil && pat.Type == "weekly" {
		d.errf(dayNode, "%s.dayOfMonth is only used with type absoluteMonthly", path)
	}
	return pat
}

func (d *decoder) decodeRange(n, at *yaml.Node, path string, oneTime bool) *Range {
	ps, ok := d.mapping(n, path, rangeFields)
	if !ok {
		return nil
	}
	rg := &Range{Pos: d.pos(n)}
	var typeNode *yaml.Node
	if p := ps.get("type"); p != nil {
		rg.Type, _ = d.enum(p.v, join(path, "type"), rangeTypes)
		typeNode = p.v
	} else if !ps.misspelt("type") {
		d.errf(at, "%s.type is required (endDate, noEnd or numbered)", path)
	}
	var start, end *yaml.Node
	if p := ps.get("startDate"); p != nil {
		if s, ok := d.date(p.v, join(path, "startDate")); ok {
			rg.StartDate, start = s, p.v
		}
	} else if !ps.misspelt("startDate") {
		d.errf(at, "%s.startDate is required (YYYY-MM-DD): the day the review starts", path)
	}
	if p := ps.get("endDate"); p != nil {
		if s, ok := d.date(p.v, join(path, "endDate")); ok {
			rg.EndDate, end = s, p.v
		}
		if rg.Type != "" && rg.Type != "endDate" {
			d.errf(p.k, "%s.endDate is only used with type endDate (type is %s)", path, rg.Type)
		}
	} else if rg.Type == "endDate" && !ps.misspelt("endDate") {
		d.errf(at, "%s.endDate is required when type is endDate", path)
	}
	if start != nil && end != nil && rg.EndDate < rg.StartDate {
		d.errf(end, "%s.endDate %s is before startDate %s", path, rg.EndDate, rg.StartDate)
	}
	if p := ps.get("numberOfOccurrences"); p != nil {
		if v, ok := d.integer(p.v, join(path, "numberOfOccurrences")); ok {
			switch {
			case rg.Type != "" && rg.Type != "numbered":
				d.errf(p.k, "%s.numberOfOccurrences is only used with type numbered (type is %s)", path, rg.Type)
			case v < 1:
				d.errf(p.v, "%s.numberOfOccurrences must be positive, got %d", path, v)
			default:
				rg.NumberOfOccurrences = v
			}
		}
	} else if rg.Type == "numbered" && !ps.misspelt("numberOfOccurrences") {
		d.errf(at, "%s.numberOfOccurrences is required when type is numbered", path)
	}
	if p := ps.get("recurrenceTimeZone"); p != nil {
		rg.RecurrenceTimeZone, _ = d.str(p.v, join(path, "recurrenceTimeZone"))
	}
	if oneTime && typeNode != nil {
		switch {
		case rg.Type == "noEnd":
			d.errf(typeNode, "%s.type noEnd needs a recurrence pattern; a one-time review (no pattern) uses type endDate with the review's endDate", path)
		case rg.Type == "numbered" && rg.NumberOfOccurrences > 1:
			d.errf(typeNode, "%s has %d occurrences but no recurrence pattern; add a pattern or use type endDate for a one-time review", path, rg.NumberOfOccurrences)
		}
	}
	return rg
}

// date reads a YYYY-MM-DD date. YAML's unquoted 2024-03-21 is a timestamp
// scalar; its text is what counts.
func (d *decoder) date(n *yaml.Node, path string) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		if isNull(n) {
			d.errf(n, "%s must be a date (YYYY-MM-DD)", path)
		}
		return "", false
	}
	if _, err := parseDate(s); err != nil {
		d.errf(n, "%s must be a date (YYYY-MM-DD), got %s", path, quote(s))
		return "", false
	}
	return s, true
}

// --- apply actions and insight settings -------------------------------------

var (
	typedFields   = fields{known: []string{"type", "@odata.type"}}
	insightFields = fields{known: []string{"type", "@odata.type", "recommendationLookBackDuration", "signInScope"}}
)

func (d *decoder) decodeApplyActions(n *yaml.Node, path string) []ApplyAction {
	items, ok := d.list(n, path)
	if !ok {
		return nil
	}
	out := make([]ApplyAction, 0, len(items))
	for i, it := range items {
		ip := index(path, i)
		short, ok := d.typedItem(it, ip, applyActionTypes, typedFields)
		if !ok {
			continue
		}
		if dup := findAction(out, short); dup != nil {
			d.errf(it, "%s lists %s twice (first at line %d)", path, short, dup.Pos.Line)
			continue
		}
		out = append(out, ApplyAction{Type: short, Pos: d.pos(it)})
	}
	return out
}

func findAction(list []ApplyAction, t string) *ApplyAction {
	for i := range list {
		if list[i].Type == t {
			return &list[i]
		}
	}
	return nil
}

// typedItem reads a polymorphic list item written as a bare type name
// (removeAccessApplyAction) or as a mapping with type or @odata.type.
func (d *decoder) typedItem(n *yaml.Node, path string, names []typeName, f fields) (string, bool) {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		short, ok := lookupType(names, n.Value)
		if !ok {
			choices := typeChoices(names)
			d.errf(n, "%s must be one of %s, got %s%s", path, strings.Join(choices[:len(names)], ", "), quote(n.Value), didYouMean(n.Value, choices))
		}
		return short, ok
	}
	ps, ok := d.mapping(n, path, f)
	if !ok {
		if isNull(n) {
			d.errf(n, "%s is empty", path)
		}
		return "", false
	}
	short, _, found := d.readType(ps, path, names)
	if !found {
		d.errf(n, "%s needs a type (%s)", path, strings.Join(typeChoices(names)[:len(names)], " or "))
		return "", false
	}
	return short, short != ""
}

func (d *decoder) decodeInsights(n *yaml.Node, path string) []InsightSetting {
	items, ok := d.list(n, path)
	if !ok {
		return nil
	}
	out := make([]InsightSetting, 0, len(items))
	for i, it := range items {
		ip := index(path, i)
		short, ok := d.typedItem(it, ip, insightTypes, insightFields)
		if !ok {
			continue
		}
		in := InsightSetting{Type: short, Pos: d.pos(it)}
		if it.Kind == yaml.MappingNode {
			ps, _ := d.mapping(it, ip, fields{known: insightFields.known})
			for _, p := range ps.list {
				switch p.key {
				case "recommendationLookBackDuration", "signInScope":
					if short != InsightUserLastSignIn {
						d.errf(p.k, "%s.%s is only used by type %s", ip, p.key, InsightUserLastSignIn)
						continue
					}
				}
				switch p.key {
				case "recommendationLookBackDuration":
					in.RecommendationLookBackDuration, _, _ = d.duration(p.v, join(ip, p.key))
				case "signInScope":
					in.SignInScope, _ = d.enum(p.v, join(ip, p.key), signInScopes)
				}
			}
		}
		dup := false
		for _, prev := range out {
			if prev.Type == short {
				d.errf(it, "%s lists %s twice (first at line %d)", path, short, prev.Pos.Line)
				dup = true
			}
		}
		if !dup {
			out = append(out, in)
		}
	}
	return out
}

// --- stages -----------------------------------------------------------------

var stageFields = fields{
	known: []string{
		"stageId", "dependsOn", "durationInDays", "recommendationsEnabled",
		"decisionsThatWillMoveToNextStage", "reviewers", "fallbackReviewers", "recommendationInsightSettings",
	},
	hints: map[string]string{
		"recommendationLookBackDuration": "is not a v1.0 stage property (beta only); use recommendationInsightSettings",
	},
}

func (d *decoder) decodeStages(n *yaml.Node, path string) []Stage {
	items, ok := d.list(n, path)
	if !ok {
		return nil
	}
	if len(items) > maxStages {
		d.errf(items[maxStages], "%s has %d stages; access reviews allow at most %d", path, len(items), maxStages)
	}
	out := make([]Stage, 0, len(items))
	for i, it := range items {
		ip := index(path, i)
		ps, ok := d.mapping(it, ip, stageFields)
		if !ok {
			if isNull(it) {
				d.errf(it, "%s is empty", ip)
			}
			continue
		}
		st := Stage{Pos: d.pos(it)}
		want := strconv.Itoa(i + 1)
		if p := ps.get("stageId"); p != nil {
			if s, ok := d.str(p.v, join(ip, "stageId")); ok {
				st.StageID = s
				if s != want {
					d.errf(p.v, "%s.stageId must be %q: stages are sequential and numbered from 1 in the order listed", ip, want)
				}
			}
		} else if !ps.misspelt("stageId") {
			d.errf(it, "%s.stageId is required (%q)", ip, want)
		}
		if p := ps.get("dependsOn"); p != nil {
			if deps, ok := d.list(p.v, join(ip, "dependsOn")); ok {
				for j, dn := range deps {
					if s, ok := d.str(dn, index(join(ip, "dependsOn"), j)); ok {
						st.DependsOn = append(st.DependsOn, s)
					}
				}
			}
			switch {
			case i == 0 && len(st.DependsOn) > 0:
				d.errf(p.k, "%s.dependsOn must be left out for the first stage", ip)
			case i > 0 && (len(st.DependsOn) != 1 || st.DependsOn[0] != strconv.Itoa(i)):
				d.errf(p.k, "%s.dependsOn must be [\"%d\"]: each stage depends on the one before it", ip, i)
			}
		} else if i > 0 && !ps.misspelt("dependsOn") {
			d.errf(it, "%s.dependsOn is required: write dependsOn: [\"%d\"]", ip, i)
		}
		if p := ps.get("durationInDays"); p != nil {
			if v, ok := d.positive(p.v, join(ip, "durationInDays")); ok {
				st.DurationInDays = v
			}
		} else if !ps.misspelt("durationInDays") {
			d.errf(it, "%s.durationInDays is required", ip)
		}
		if p := ps.get("recommendationsEnabled"); p != nil {
			st.RecommendationsEnabled = d.boolean(p.v, join(ip, "recommendationsEnabled"))
		} else if !ps.misspelt("recommendationsEnabled") {
			d.errf(it, "%s.recommendationsEnabled is required (true or false)", ip)
		}
		if p := ps.get("decisionsThatWillMoveToNextStage"); p != nil {
			fp := join(ip, "decisionsThatWillMoveToNextStage")
			if ds, ok := d.list(p.v, fp); ok {
				for j, dn := range ds {
					if s, ok := d.enum(dn, index(fp, j), stageMoveDecisions); ok {
						if contains(st.DecisionsThatWillMoveToNextStage, s) {
							d.errf(dn, "%s lists %s twice", fp, s)
							continue
						}
						st.DecisionsThatWillMoveToNextStage = append(st.DecisionsThatWillMoveToNextStage, s)
					}
				}
			}
		}
		if p := ps.get("reviewers"); p != nil {
			st.Reviewers = d.decodeReviewers(p.v, join(ip, "reviewers"))
		}
		if p := ps.get("fallbackReviewers"); p != nil {
			st.FallbackReviewers = d.decodeReviewers(p.v, join(ip, "fallbackReviewers"))
		}
		if p := ps.get("recommendationInsightSettings"); p != nil {
			st.RecommendationInsightSettings = d.decodeInsights(p.v, join(ip, "recommendationInsightSettings"))
		}
		out = append(out, st)
	}
	return out
}
