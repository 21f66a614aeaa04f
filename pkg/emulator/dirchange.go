package emulator

import (
	"slices"
	"strings"
	"time"
)

// Directory changes made by applied review decisions. The tenant file stays
// the seed; each change is recorded in the state file and replayed onto the
// tenant when the emulator starts, so a guest removed in one run is still
// gone in the next.

// Directory change operations.
const (
	opRemoveMember            = "removeMember"            // Object: group, Member: the member
	opRemoveAppRoleAssignment = "removeAppRoleAssignment" // Object: service principal, Member: the principal
	opRemoveRoleAssignment    = "removeRoleAssignment"    // Object: role definition, Member: the principal
	opDisableUser             = "disableUser"             // Object: user
	opDeleteUser              = "deleteUser"              // Object: user
)

type dirChange struct {
	Time   time.Time `json:"time"`
	Op     string    `json:"op"`
	Object string    `json:"object"`
	Member string    `json:"member,omitempty"`
}

// describe names a change for a lifecycle event, before it is applied (a
// deleted user has no name afterwards).
func (d *directory) describe(c dirChange) LifecycleEvent {
	name := func(id string) string {
		if o := d.byID[id]; o != nil {
			if o.kind == kindUser {
				return o.user.UserPrincipalName
			}
			return o.name
		}
		if r := d.roleByID[id]; r != nil {
			return r.str("displayName")
		}
		return id
	}
	switch c.Op {
	case opRemoveMember:
		return LifecycleEvent{Kind: EventAccessRemoved, Resource: name(c.Object), Principal: name(c.Member), Detail: "removed from the group"}
	case opRemoveAppRoleAssignment:
		return LifecycleEvent{Kind: EventAccessRemoved, Resource: name(c.Object), Principal: name(c.Member), Detail: "app role assignments removed"}
	case opRemoveRoleAssignment:
		return LifecycleEvent{Kind: EventAccessRemoved, Resource: name(c.Object), Principal: name(c.Member), Detail: "role assignments removed"}
	case opDisableUser:
		return LifecycleEvent{Kind: EventUserDisabled, Principal: name(c.Object), Detail: "sign-in blocked; the user is deleted in 30 days"}
	case opDeleteUser:
		return LifecycleEvent{Kind: EventUserDeleted, Principal: name(c.Object), Detail: "deleted from the directory"}
	}
	return LifecycleEvent{Kind: c.Op, Principal: name(c.Object)}
}

// applyChange makes one change; false when there was nothing to change.
// Callers hold s.dirMu for writing (or own the directory exclusively).
// Slices are replaced, never edited in place.
func (d *directory) applyChange(c dirChange) bool {
	obj, member := strings.ToLower(c.Object), strings.ToLower(c.Member)
	switch c.Op {
	case opRemoveMember:
		g := d.byID[obj]
		if g == nil || g.kind != kindGroup {
			return false
		}
		kept := slices.DeleteFunc(slices.Clone(g.members), func(m *dirObject) bool { return m.id == member })
		if len(kept) == len(g.members) {
			return false
		}
		g.members = kept
		return true
	case opRemoveAppRoleAssignment:
		list := d.appAssig[obj]
		kept := slices.DeleteFunc(slices.Clone(list), func(a *object) bool { return a.str("principalId") == member })
		if len(kept) == len(list) {
			return false
		}
		d.appAssig[obj] = kept
		return true
	case opRemoveRoleAssignment:
		// A denied role review item loses the role, active or eligible.
		match := func(a *object) bool {
			return a.str("roleDefinitionId") == obj && a.str("principalId") == member
		}
		kept := slices.DeleteFunc(slices.Clone(d.assigns), match)
		keptElig := slices.DeleteFunc(slices.Clone(d.eligible), match)
		if len(kept) == len(d.assigns) && len(keptElig) == len(d.eligible) {
			return false
		}
		d.assigns, d.eligible = kept, keptElig
		return true
	case opDisableUser:
		u := d.byID[obj]
		if u == nil || u.kind != kindUser || !enabled(u) {
			return false
		}
		full := u.full.shallow()
		full.set("accountEnabled", false)
		u.full = full
		return true
	case opDeleteUser:
		u := d.byID[obj]
		if u == nil || u.kind != kindUser {
			return false
		}
		d.deleteUser(u)
		return true
	}
	return false
}

// deleteUser removes a user and every reference to it.
func (d *directory) deleteUser(u *dirObject) {
	is := func(o *dirObject) bool { return o == u }
	d.users = slices.DeleteFunc(slices.Clone(d.users), is)
	delete(d.byID, u.id)
	if key := strings.ToLower(u.user.UserPrincipalName); d.byUPN[key] == u {
		delete(d.byUPN, key)
	}
	if key := strings.ToLower(u.user.Mail); d.byMail[key] == u {
		delete(d.byMail, key)
	}
	for _, g := range d.groups {
		if slices.Contains(g.members, u) {
			g.members = slices.DeleteFunc(slices.Clone(g.members), is)
		}
		if slices.Contains(g.owners, u) {
			g.owners = slices.DeleteFunc(slices.Clone(g.owners), is)
		}
	}
	for _, sp := range d.sps {
		if slices.Contains(sp.owners, u) {
			sp.owners = slices.DeleteFunc(slices.Clone(sp.owners), is)
		}
		list := d.appAssig[sp.id]
		if kept := slices.DeleteFunc(slices.Clone(list), func(a *object) bool { return a.str("principalId") == u.id }); len(kept) != len(list) {
			d.appAssig[sp.id] = kept
		}
	}
	d.assigns = slices.DeleteFunc(slices.Clone(d.assigns), func(a *object) bool { return a.str("principalId") == u.id })
	d.eligible = slices.DeleteFunc(slices.Clone(d.eligible), func(a *object) bool { return a.str("principalId") == u.id })
	for _, o := range d.users {
		if o.manager == u {
			o.manager = nil
		}
	}
}
