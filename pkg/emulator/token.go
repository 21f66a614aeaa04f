package emulator

import (
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The emulator accepts only the tokens it issued: JWT-shaped tokens signed
// with HMAC-SHA256 under a key drawn at random when the Server is built, so
// a token from another emulator, from an earlier run or from Microsoft Entra
// is refused the way Graph refuses a token it cannot validate
// (docs/graph-behaviour.md#errors).

// identity is who a bearer token says the caller is.
type identity struct {
	ID          string
	DisplayName string
	UPN         string // "" for an application
	// ReadOnly: no AccessReview.ReadWrite.All, so writes get 403.
	ReadOnly bool
	// NoReviewAccess: neither AccessReview permission, so every
	// access-review request gets 403 (docs/graph-behaviour.md#permissions).
	NoReviewAccess bool
	// Perms are the token's permissions (roles or scp), for the directory
	// reads' checks (requireDirectoryRead).
	Perms []string
}

// Permission names in a token's scp (delegated) or roles (application)
// claim that the emulator checks.
const (
	PermissionReadWrite = "AccessReview.ReadWrite.All"
	PermissionRead      = "AccessReview.Read.All"
)

// defaultPermissions are those of a token whose TokenOptions name none:
// what every arsync command needs, coverage's role schedules included
// (Directory.Read.All does not grant those).
var defaultPermissions = []string{PermissionReadWrite, "Directory.Read.All", "RoleManagement.Read.Directory"}

// TokenOptions describe a token for [Server.IssueToken]. The zero value is
// a read-write token for the tenant's admin that does not expire.
type TokenOptions struct {
	// User is the signed-in user (a delegated token): a userPrincipalName
	// or an object id of the tenant. Default: the tenant's admin, unless App
	// is set.
	User string
	// App is an application's appId (an app-only token, as from a client
	// secret or a managed identity); its service principal must be in the
	// tenant. Not together with User.
	App string
	// Permissions go into the scp claim (delegated) or the roles claim
	// (app-only). nil means AccessReview.ReadWrite.All, Directory.Read.All
	// and RoleManagement.Read.Directory; an empty, non-nil slice means none. Without
	// AccessReview.ReadWrite.All writes get 403; without it and
	// AccessReview.Read.All every access-review request does.
	Permissions []string
	// DirectoryRoles are the role template ids in a delegated token's wids
	// claim. nil means the user's tenant-wide role assignments in the
	// tenant (Global Administrator for a default admin the tenant does not
	// list), and no wids claim when there are none; an empty, non-nil
	// slice gives an empty wids claim. The emulator carries them but does
	// not check them. Not with App.
	DirectoryRoles []string
	// Lifetime is how long the token is valid on the emulator's clock
	// ([Server.Now], so [Server.Advance] can expire it). 0 means it never
	// expires; a negative lifetime gives a token that has already expired.
	Lifetime time.Duration
}

// tokenHeader is the JOSE header of every token the emulator issues.
var tokenHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256","kid":"arsync-emulator"}`))

// Graph's audiences: its URI or its application id.
const graphAudience = "https://graph.microsoft.com"

var graphAudiences = []string{graphAudience, graphAudience + "/", "00000003-0000-0000-c000-000000000000"}

// initTokens draws the key that signs this server's tokens. It is never
// saved: tokens do not outlive the Server, as a restarted service would not
// know an emulator's earlier sign-ins either.
func (s *Server) initTokens() error {
	s.tokenKey = make([]byte, 32)
	if _, err := crand.Read(s.tokenKey); err != nil {
		return fmt.Errorf("drawing the emulator's token key: %w", err)
	}
	return nil
}

// IssueToken returns a bearer token that this server accepts (and no other
// emulator does). See [TokenOptions] for what it may carry.
func (s *Server) IssueToken(o TokenOptions) (string, error) {
	if o.User != "" && o.App != "" {
		return "", errors.New("a token is for a user or for an application, not both")
	}
	if o.App != "" && o.DirectoryRoles != nil {
		return "", errors.New("directory roles (wids) are for a user's token, not an application's")
	}
	perms := o.Permissions
	if perms == nil {
		perms = defaultPermissions
	}
	for _, p := range perms {
		if p == "" || strings.ContainsAny(p, " \t\r\n") {
			return "", fmt.Errorf("permission %q: a permission is one name without spaces, e.g. %s", p, PermissionRead)
		}
	}
	s.dirMu.RLock()
	defer s.dirMu.RUnlock()
	now := s.clock()
	claims := newObject().
		set("aud", graphAudience).
		set("iss", "https://arsync-emulator.invalid/"+s.tenantID()+"/").
		set("iat", now.Unix())
	if o.Lifetime != 0 {
		exp := now.Add(o.Lifetime)
		e := exp.Unix()
		if o.Lifetime > 0 && exp.After(time.Unix(e, 0)) {
			e++ // valid for at least the lifetime
		}
		claims.set("exp", e)
	}
	switch {
	case o.App != "":
		sp := s.dir.spByAppID(o.App)
		if sp == nil {
			return "", fmt.Errorf("application %q: no service principal with that appId in the emulator's tenant", o.App)
		}
		claims.set("idtyp", "app").set("appid", sp.sp.AppID).set("app_displayname", sp.name).set("oid", sp.id).set("roles", slices.Clone(perms))
	case o.User != "" && s.dir.userByKey(o.User) == nil:
		return "", fmt.Errorf("user %q: not a user of the emulator's tenant", o.User)
	default:
		// The admin of a tenant file that does not list it acts with an id
		// derived from its name, as the package documentation says.
		id := s.userIdentity(firstNonEmpty(o.User, s.dir.adminUPN), "", "")
		claims.set("idtyp", "user").set("upn", id.UPN).set("oid", id.ID).
			set("name", id.DisplayName).set("scp", strings.Join(perms, " "))
		wids := o.DirectoryRoles
		if wids == nil {
			wids = s.dir.directoryRolesOf(id.ID, o.User == "" || strings.EqualFold(o.User, s.dir.adminUPN))
		}
		if wids != nil {
			claims.set("wids", slices.Clone(wids))
		}
	}
	claims.set("tid", s.tenantID()).set("ver", "1.0")
	signed := tokenHeader + "." + base64.RawURLEncoding.EncodeToString(marshal(claims))
	return signed + "." + base64.RawURLEncoding.EncodeToString(s.sign(signed)), nil
}

// Token returns a read-write token for the user upn (a userPrincipalName or
// object id) that does not expire, or "" when upn is not a user of the
// tenant (a request with it then gets 401).
func (s *Server) Token(upn string) string {
	tok, _ := s.IssueToken(TokenOptions{User: upn})
	return tok
}

// adminToken is Running.Token: the default token, which works even for a
// tenant that does not list its admin.
func (s *Server) adminToken() string {
	tok, _ := s.IssueToken(TokenOptions{})
	return tok
}

// ReadOnlyToken is [Server.Token] with AccessReview.Read.All instead of
// AccessReview.ReadWrite.All: writes get 403.
func (s *Server) ReadOnlyToken(upn string) string {
	tok, _ := s.IssueToken(TokenOptions{User: upn, Permissions: []string{PermissionRead, "Directory.Read.All"}})
	return tok
}

func (s *Server) sign(signed string) []byte {
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

// tenantID is the tenant's id, as GET /organization shows it.
func (s *Server) tenantID() string {
	t := s.dir.tenant
	return strings.ToLower(firstNonEmpty(t.TenantID, nameGUID("tenant:"+firstNonEmpty(t.Domain, "contoso.com"))))
}

// The messages of Graph's 401 answers (docs/graph-behaviour.md#errors).
const (
	msgTokenEmpty     = "Access token is empty."
	msgTokenNull      = "ArgumentNull"
	msgTokenMalformed = "IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format. (JWS): 'EncodedHeader.EncodedPayload.EncodedSignature'. (JWE): 'EncodedProtectedHeader.EncodedEncryptedKey.EncodedInitializationVector.EncodedCiphertext.EncodedAuthenticationTag'."
	msgTokenInvalid   = "Access token validation failure."
	msgTokenAudience  = "Access token validation failure. Invalid audience."
	msgTokenExpired   = "Lifetime validation failed, the token is expired."
)

// unauthorized is Graph's 401, with the challenge Graph sends
// (docs/graph-behaviour.md#errors).
func unauthorized(msg string) *graphError {
	e := errorf(http.StatusUnauthorized, codeInvalidAuth, "%s", msg)
	e.header = http.Header{"Www-Authenticate": {`Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`}}
	return e
}

// authenticate checks the bearer token and fills rc.ident.
func (s *Server) authenticate(rc *reqCtx, req *request) *graphError {
	authz := strings.TrimSpace(req.header.Get("Authorization"))
	scheme, tok, _ := strings.Cut(authz, " ")
	tok = strings.TrimSpace(tok)
	switch {
	case authz == "" || !strings.EqualFold(scheme, "Bearer"):
		// Another scheme is no bearer token at all.
		return unauthorized(msgTokenEmpty)
	case tok == "":
		return unauthorized(msgTokenNull)
	}
	c, msg := s.verify(tok, rc.now)
	if msg != "" {
		return unauthorized(msg)
	}
	s.dirMu.RLock() // the caller is looked up in the directory
	rc.ident = s.identify(c)
	s.dirMu.RUnlock()
	rc.authz = authz
	return nil
}

// tokenClaims are the claims of a token the emulator issued.
type tokenClaims struct {
	UPN   string   `json:"upn"`
	OID   string   `json:"oid"`
	Name  string   `json:"name"`
	AppID string   `json:"appid"`
	Roles []string `json:"roles"`
	SCP   string   `json:"scp"`
	Exp   *int64   `json:"exp"`
}

// verify checks that tok is a token this server issued and has not
// expired; otherwise it returns the message of Graph's 401.
func (s *Server) verify(tok string, now time.Time) (tokenClaims, string) {
	var c tokenClaims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c, msgTokenMalformed
	}
	var header struct {
		Alg string `json:"alg"`
	}
	var payload map[string]any
	if !decodeSegment(parts[0], &header) || !decodeSegment(parts[1], &payload) || payload == nil {
		return c, msgTokenMalformed
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || header.Alg != "HS256" || !hmac.Equal(sig, s.sign(parts[0]+"."+parts[1])) {
		// Not ours: a token for another resource says so; any other is
		// refused without saying why, as Graph does.
		if aud, _ := payload["aud"].(string); !slices.Contains(graphAudiences, aud) {
			return c, msgTokenAudience
		}
		return c, msgTokenInvalid
	}
	if !decodeSegment(parts[1], &c) {
		return c, msgTokenInvalid
	}
	if c.Exp != nil && now.Unix() >= *c.Exp {
		return c, msgTokenExpired
	}
	return c, ""
}

// decodeSegment decodes one base64url segment of a JWT as JSON into v.
func decodeSegment(seg string, v any) bool {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	return err == nil && json.Unmarshal(raw, v) == nil
}

// identify maps verified claims to the caller. A user or application
// removed from the directory since the token was issued keeps the id and
// name the token carries.
func (s *Server) identify(c tokenClaims) identity {
	var id identity
	if c.AppID != "" {
		id = s.appIdentity(c.AppID, c.OID)
	} else {
		id = s.userIdentity(c.UPN, c.OID, c.Name)
	}
	perms := append(slices.Clone(c.Roles), strings.Fields(c.SCP)...)
	id.ReadOnly = !slices.Contains(perms, PermissionReadWrite)
	id.NoReviewAccess = id.ReadOnly && !slices.Contains(perms, PermissionRead)
	id.Perms = perms
	return id
}

// userIdentity looks upn up in the directory; a user no longer there keeps
// what the token says.
func (s *Server) userIdentity(upn, oid, name string) identity {
	if u := s.dir.userByKey(upn); u != nil {
		return identity{ID: u.id, DisplayName: u.name, UPN: u.user.UserPrincipalName}
	}
	if oid == "" {
		oid = nameGUID("user:" + strings.ToLower(upn))
	}
	return identity{ID: oid, DisplayName: firstNonEmpty(name, upn), UPN: upn}
}

func (s *Server) appIdentity(appID, oid string) identity {
	if sp := s.dir.spByAppID(appID); sp != nil {
		return identity{ID: sp.id, DisplayName: sp.name}
	}
	if oid == "" {
		oid = nameGUID("app:" + strings.ToLower(appID))
	}
	return identity{ID: oid, DisplayName: appID}
}

// requireReviewAccess answers 403 for tokens with neither AccessReview
// permission (docs/graph-behaviour.md#permissions).
func requireReviewAccess(rc *reqCtx) *graphError {
	if rc.ident.NoReviewAccess {
		return errorf(http.StatusForbidden, codeForbidden, "You cannot perform the requested operation, required scopes are missing in the token.")
	}
	return nil
}

// Directory reads and the permissions that allow them: any one of a
// collection's list suffices (write permissions include read). From each
// List operation's permission table in Microsoft Graph's API reference
// (docs/graph-behaviour.md#permissions): Directory.Read.All reads users,
// groups, service principals, role definitions and role assignments, but
// not Privileged Identity Management's schedules.
var (
	readUsers                = []string{"User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	readGroups               = []string{"GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	readApps                 = []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	readRoles                = []string{"RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory", "Directory.Read.All", "Directory.ReadWrite.All"}
	readObjs                 = []string{"Directory.Read.All", "Directory.ReadWrite.All"}
	readAssignmentSchedules  = []string{"RoleAssignmentSchedule.Read.Directory", "RoleAssignmentSchedule.ReadWrite.Directory", "RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory"}
	readEligibilitySchedules = []string{"RoleEligibilitySchedule.Read.Directory", "RoleEligibilitySchedule.ReadWrite.Directory", "RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory"}
)

// directoryReadPermissions returns the permissions that allow reading
// segs (a directory path), or nil when the emulator does not check it.
func directoryReadPermissions(segs []string) []string {
	switch strings.ToLower(segs[0]) {
	case "users":
		return readUsers
	case "groups":
		return readGroups
	case "serviceprincipals":
		return readApps
	case "directoryobjects":
		return readObjs
	case "rolemanagement":
		if len(segs) < 3 {
			return readRoles
		}
		switch strings.ToLower(segs[2]) {
		case "roleassignmentscheduleinstances", "roleassignmentschedules":
			return readAssignmentSchedules
		case "roleeligibilityscheduleinstances", "roleeligibilityschedules":
			return readEligibilitySchedules
		}
		return readRoles
	}
	if strings.HasPrefix(strings.ToLower(segs[0]), "serviceprincipals(") {
		return readApps
	}
	return nil
}

// requireDirectoryRead answers 403 Authorization_RequestDenied, as the
// directory does, for a token with none of the permissions that read segs.
func requireDirectoryRead(rc *reqCtx, segs []string) *graphError {
	allowed := directoryReadPermissions(segs)
	if allowed == nil || slices.ContainsFunc(rc.ident.Perms, func(p string) bool { return slices.Contains(allowed, p) }) {
		return nil
	}
	return errorf(http.StatusForbidden, codeAuthDenied, "Insufficient privileges to complete the operation.")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
