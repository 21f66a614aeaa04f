package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// identity is who a bearer token says the caller is.
type identity struct {
	ID          string
	DisplayName string
	UPN         string // "" for an application
	ReadOnly    bool
}

// Scope names in a token's roles (application) or scp (delegated) claim.
const (
	scopeReadWrite = "AccessReview.ReadWrite.All"
	scopeRead      = "AccessReview.Read.All"
)

// Token returns a bearer token for upn that may read and write: an unsigned
// JWT whose upn claim becomes createdBy and whose roles claim carries
// AccessReview.ReadWrite.All.
func Token(upn string) string {
	return makeJWT(upn, []string{scopeReadWrite, "Directory.Read.All"})
}

// ReadOnlyToken returns a bearer token for upn that may only read (roles
// AccessReview.Read.All): writes get 403.
func ReadOnlyToken(upn string) string {
	return makeJWT(upn, []string{scopeRead, "Directory.Read.All"})
}

func makeJWT(upn string, roles []string) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	claims := newObject().
		set("aud", "https://graph.microsoft.com").
		set("iss", "https://arsync-emulator.invalid/").
		set("upn", upn).
		set("roles", roles)
	return header + "." + enc.EncodeToString(marshal(claims)) + "."
}

// jwtClaims are the claims the emulator reads from a JWT. Signatures are
// not checked.
type jwtClaims struct {
	UPN               string   `json:"upn"`
	PreferredUsername string   `json:"preferred_username"`
	UniqueName        string   `json:"unique_name"`
	Email             string   `json:"email"`
	OID               string   `json:"oid"`
	Name              string   `json:"name"`
	AppID             string   `json:"appid"`
	AZP               string   `json:"azp"`
	Roles             []string `json:"roles"`
	SCP               string   `json:"scp"`
	Exp               *float64 `json:"exp"`
}

// authenticate checks the bearer token and fills rc.ident.
func (s *Server) authenticate(rc *reqCtx, req *request) *graphError {
	authz := req.header.Get("Authorization")
	unauth := func(msg string) *graphError {
		e := errorf(http.StatusUnauthorized, codeInvalidAuth, "%s", msg)
		e.header = http.Header{"Www-Authenticate": {`Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`}}
		return e
	}
	if strings.TrimSpace(authz) == "" {
		return unauth("Access token is empty.")
	}
	scheme, tok, _ := strings.Cut(strings.TrimSpace(authz), " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return unauth("Access token validation failure. Invalid audience.")
	}
	s.dirMu.RLock() // identify looks the caller up in the directory
	id, expired := s.identify(tok, rc.now)
	s.dirMu.RUnlock()
	if expired {
		return unauth("Lifetime validation failed, the token is expired.")
	}
	rc.ident = id
	rc.authz = authz
	return nil
}

// identify maps a token to an identity; see the package documentation for
// the conventions. Unparseable tokens are the tenant's administrator.
func (s *Server) identify(tok string, now time.Time) (id identity, expired bool) {
	switch {
	case strings.HasPrefix(tok, "emu-readonly:"):
		id = s.userIdentity(strings.TrimPrefix(tok, "emu-readonly:"), "", "")
		id.ReadOnly = true
		return id, false
	case strings.HasPrefix(tok, "emu:"):
		return s.userIdentity(strings.TrimPrefix(tok, "emu:"), "", ""), false
	}
	c, ok := parseJWT(tok)
	if !ok {
		return s.userIdentity("", "", ""), false
	}
	if c.Exp != nil && now.After(time.Unix(int64(*c.Exp), 0)) {
		return identity{}, true
	}
	upn := firstNonEmpty(c.UPN, c.PreferredUsername, c.UniqueName, c.Email)
	switch {
	case upn != "":
		id = s.userIdentity(upn, c.OID, c.Name)
	case c.AppID != "" || c.AZP != "":
		id = s.appIdentity(firstNonEmpty(c.AppID, c.AZP), c.OID)
	default:
		id = s.userIdentity("", c.OID, c.Name)
	}
	scopes := append(slices.Clone(c.Roles), strings.Fields(c.SCP)...)
	if len(scopes) > 0 && !slices.Contains(scopes, scopeReadWrite) {
		id.ReadOnly = true
	}
	return id, false
}

func parseJWT(tok string) (jwtClaims, bool) {
	var c jwtClaims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return c, false
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, false
	}
	return c, true
}

// userIdentity looks upn up in the directory; unknown users keep what the
// token says, with an id derived from the name.
func (s *Server) userIdentity(upn, oid, name string) identity {
	if upn == "" {
		upn = s.dir.adminUPN
	}
	if u := s.dir.userByKey(upn); u != nil {
		return identity{ID: u.id, DisplayName: u.name, UPN: u.user.UserPrincipalName}
	}
	if oid == "" {
		oid = nameGUID("user:" + strings.ToLower(upn))
	}
	if name == "" {
		name = upn
	}
	return identity{ID: oid, DisplayName: name, UPN: upn}
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

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
