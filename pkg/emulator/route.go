package emulator

import (
	"context"
	"net/http"
	"strings"
)

// route dispatches a request by its path after the version segment. Graph
// matches segment names without regard to case.
func (s *Server) route(ctx context.Context, rc *reqCtx, req *request) *response {
	segs := req.segs
	if len(segs) == 0 {
		return rc.fail(badRequest("Resource not found for the segment ''."))
	}
	head := strings.ToLower(segs[0])
	if head != "$batch" && head != "identitygovernance" {
		if gerr := requireDirectoryRead(rc, segs); gerr != nil {
			return rc.fail(gerr)
		}
		// Directory reads; applied review decisions change the directory.
		s.dirMu.RLock()
		defer s.dirMu.RUnlock()
	}
	switch head {
	case "$batch":
		if len(segs) > 1 {
			return rc.fail(segmentNotFound(segs[1]))
		}
		if rc.inBatch {
			return rc.fail(badRequest("A batch request cannot contain another batch request."))
		}
		if req.method != http.MethodPost {
			return methodNotAllowed(rc, req, "POST")
		}
		return s.batch(ctx, rc, req)
	case "identitygovernance":
		if gerr := requireReviewAccess(rc); gerr != nil {
			return rc.fail(gerr)
		}
		if len(segs) < 2 || !strings.EqualFold(segs[1], "accessReviews") {
			if len(segs) < 2 {
				return rc.fail(badRequest("Listing identityGovernance is not supported; use identityGovernance/accessReviews/definitions."))
			}
			return rc.fail(segmentNotFound(segs[1]))
		}
		if len(segs) == 2 {
			if !isRead(req) {
				return methodNotAllowed(rc, req, "GET")
			}
			body := newObject().set("@odata.context", rc.base+"/$metadata#identityGovernance/accessReviews/$entity").set("id", "")
			return jsonResponse(http.StatusOK, marshal(body))
		}
		if !strings.EqualFold(segs[2], "definitions") {
			return rc.fail(segmentNotFound(segs[2]))
		}
		return s.routeDefinitions(rc, req, segs[3:])
	case "users":
		return s.routeUsers(rc, req, segs[1:])
	case "groups":
		return s.routeGroups(rc, req, segs[1:])
	case "serviceprincipals":
		return s.routeServicePrincipals(rc, req, segs[1:])
	case "rolemanagement":
		return s.routeRoleManagement(rc, req, segs[1:])
	case "directoryobjects":
		return s.routeDirectoryObjects(rc, req, segs[1:])
	case "organization":
		return s.routeOrganization(rc, req, segs[1:])
	case "me":
		return s.routeMe(rc, req, segs[1:])
	}
	// servicePrincipals(appId='...'): the alternate key.
	if strings.HasPrefix(head, "serviceprincipals(appid=") && strings.HasSuffix(head, ")") {
		v := segs[0][len("servicePrincipals(appId=") : len(segs[0])-1]
		v = strings.Trim(v, "'")
		if !isRead(req) {
			return readOnlyDirectory(rc, req)
		}
		sp := s.dir.spByAppID(v)
		if sp == nil {
			return rc.fail(dirNotFound(v))
		}
		return s.spNav(rc, req, sp, segs[1:])
	}
	return rc.fail(segmentNotFound(segs[0]))
}
