// Package report reads back what access reviews produced: the instances of
// each definition, their decision items, and what was applied. It backs
// "arsync status" (each managed definition with its current instance per
// resource and decision counts) and "arsync decisions" (every decision item
// as a row, streamed page by page so memory stays flat in the number of
// decisions).
//
// All reads go through a Source, which *graphclient.Client satisfies; the
// package does no writes.
//
// Multi-stage reviews (docs/graph-behaviour.md#stages) are read stage by
// stage too: status shows each current instance's stages with their
// decision counts, and decisions can list one stage's items.
package report

import (
	"context"
	"errors"
	"iter"
	"net/url"
	"regexp"
	"strings"

	"github.com/arsync/arsync/pkg/graph"
	"github.com/arsync/arsync/pkg/graphclient"
)

// Source is the part of the Graph client the reports read.
type Source interface {
	ListDefinitions(ctx context.Context, opts *graph.ListOptions) iter.Seq2[*graph.Definition, error]
	ListInstances(ctx context.Context, defID string, opts *graph.ListOptions) iter.Seq2[*graph.Instance, error]
	ListDecisions(ctx context.Context, defID, instID string, opts *graph.ListOptions) iter.Seq2[*graph.Decision, error]
	ListStages(ctx context.Context, defID, instID string, opts *graph.ListOptions) iter.Seq2[*graph.Stage, error]
	ListStageDecisions(ctx context.Context, defID, instID, stageID string, opts *graph.ListOptions) iter.Seq2[*graph.Decision, error]
	LookupUsers(ctx context.Context, keys []string) (map[string][]graphclient.User, error)
	GetDirectoryObjects(ctx context.Context, ids []string) (map[string]graphclient.DirectoryObject, error)
	LookupRoleDefinitions(ctx context.Context, keys []string) (map[string][]graphclient.RoleDefinition, error)
}

// ErrNoSuchReview is returned (wrapped) when --review names no definition.
var ErrNoSuchReview = errors.New("no such access review")

// ErrNoSuchInstance is returned (wrapped) when --instance names no
// instance of the reviews read.
var ErrNoSuchInstance = errors.New("no such access review instance")

// ErrNoSuchStage is returned (wrapped) when --stage names a stage no
// instance of the reviews read has reached.
var ErrNoSuchStage = errors.New("no such access review stage")

// Resource kinds a scope query can name.
const (
	kindGroup = "Group"
	kindApp   = "ServicePrincipal"
	kindRole  = "DirectoryRole"
)

var scopeResourceRE = regexp.MustCompile(`(?i)^(?:/(?:v1\.0|beta))?/(groups|servicePrincipals|roleManagement/directory/roleDefinitions)/([0-9a-f-]{36})(?:[/?]|$)`)

// scopeResource finds the one resource an instance's scope names
// (/v1.0/groups/{id}/members/..., /servicePrincipals/{id}, a role
// definition); ok is false for other scopes (principal resource
// memberships, ...).
func scopeResource(s *graph.Scope) (kind, id string, ok bool) {
	if s == nil {
		return "", "", false
	}
	q := s.Query
	if u, err := url.PathUnescape(q); err == nil {
		q = u
	}
	m := scopeResourceRE.FindStringSubmatch(q)
	if m == nil {
		return "", "", false
	}
	switch strings.ToLower(m[1]) {
	case "groups":
		kind = kindGroup
	case "serviceprincipals":
		kind = kindApp
	default:
		kind = kindRole
	}
	return kind, strings.ToLower(m[2]), true
}

// names resolves resource ids to display names, remembering them; a
// resource that cannot be read keeps its id.
type names struct {
	src   Source
	known map[string]string
}

func newNames(src Source) *names { return &names{src: src, known: map[string]string{}} }

func (n *names) resolve(ctx context.Context, kind, id string) (string, error) {
	if name, ok := n.known[id]; ok {
		return name, nil
	}
	name := ""
	switch kind {
	case kindRole:
		found, err := n.src.LookupRoleDefinitions(ctx, []string{id})
		if err != nil && !graph.IsForbidden(err) {
			return "", err
		}
		if rs := found[id]; len(rs) == 1 {
			name = rs[0].DisplayName
		}
	default:
		found, err := n.src.GetDirectoryObjects(ctx, []string{id})
		if err != nil && !graph.IsForbidden(err) {
			return "", err
		}
		name = found[id].DisplayName
	}
	// Names are a courtesy: without directory read permission (403) the
	// report still comes out, with ids.
	n.known[id] = name
	return name, nil
}

// isZeroID reports an unset identity (Graph sends the all-zero GUID).
func isZeroID(id string) bool {
	return id == "" || strings.Trim(id, "0-") == ""
}
