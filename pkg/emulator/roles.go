package emulator

import "time"

// Role assignments as Privileged Identity Management shows them. The tenant
// file gives each assignment an optional schedule (start, end); the
// emulator's clock decides which are current. Times are kept as UTC
// RFC 3339 strings of one layout, so they compare as strings.

// schedule returns an assignment's start and end (nil: none).
func (d *directory) schedule(o *object) (start, end any) {
	if o.has("endDateTime") { // eligibility instances carry their own
		return o.vals["startDateTime"], o.vals["endDateTime"]
	}
	t := d.assignTimes[o.str("id")]
	return t[0], t[1]
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// current keeps the assignments in effect at now: started (or with no
// start) and not yet ended.
func (d *directory) current(items []*object, now time.Time) []*object {
	n := stamp(now)
	out := make([]*object, 0, len(items))
	for _, o := range items {
		start, end := d.schedule(o)
		if s, ok := start.(string); ok && s > n {
			continue
		}
		if e, ok := end.(string); ok && e <= n {
			continue
		}
		out = append(out, o)
	}
	return out
}

// assignmentInstances renders the current active assignments as
// unifiedRoleAssignmentScheduleInstances: assigned directly, with the
// assignment's id as origin and schedule id, as Graph shows assignments
// made through the role assignments API.
func (d *directory) assignmentInstances(now time.Time) []*object {
	cur := d.current(d.assigns, now)
	out := make([]*object, 0, len(cur))
	for _, a := range cur {
		start, end := d.schedule(a)
		out = append(out, newObject().
			set("id", a.str("id")).
			set("principalId", a.str("principalId")).
			set("roleDefinitionId", a.str("roleDefinitionId")).
			set("directoryScopeId", a.str("directoryScopeId")).
			set("appScopeId", nil).
			set("startDateTime", start).
			set("endDateTime", end).
			set("assignmentType", "Assigned").
			set("memberType", "Direct").
			set("roleAssignmentOriginId", a.str("id")).
			set("roleAssignmentScheduleId", a.str("id")))
	}
	return out
}

// eligibilitySchedules renders the eligible assignments that have not
// ended as unifiedRoleEligibilitySchedules (one schedule per eligibility,
// created by an administrator, no recurrence).
func (d *directory) eligibilitySchedules(now time.Time) []*object {
	n := stamp(now)
	out := make([]*object, 0, len(d.eligible))
	for _, e := range d.eligible {
		start, end := d.schedule(e)
		if s, ok := end.(string); ok && s <= n {
			continue
		}
		expiration := newObject().set("type", "noExpiration").set("endDateTime", nil).set("duration", nil)
		if end != nil {
			expiration.set("type", "afterDateTime").set("endDateTime", end)
		}
		out = append(out, newObject().
			set("id", e.str("id")).
			set("principalId", e.str("principalId")).
			set("roleDefinitionId", e.str("roleDefinitionId")).
			set("directoryScopeId", e.str("directoryScopeId")).
			set("appScopeId", nil).
			set("createdUsing", e.str("id")).
			set("createdDateTime", start).
			set("modifiedDateTime", nil).
			set("status", "Provisioned").
			set("scheduleInfo", newObject().
				set("startDateTime", start).
				set("recurrence", nil).
				set("expiration", expiration)).
			set("memberType", "Direct"))
	}
	return out
}
