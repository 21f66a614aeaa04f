package graphclient

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Claims are what an access token says about itself, read without
// verifying its signature: for advice only (arsync auth status, and plan
// and apply refusing up front a token that cannot do the job). Graph, not
// arsync, decides what a token may do; a client may read a token's claims
// but must not rely on them, and a token need not be a JWT at all
// (docs/graph-behaviour.md#permissions).
type Claims struct {
	TenantID string `json:"tid"`
	// ObjectID is the user's or the service principal's object id.
	ObjectID string `json:"oid"`
	// AppID is the client application's id (appid in v1.0 tokens, azp in
	// v2.0 tokens).
	AppID          string `json:"appid"`
	AppDisplayName string `json:"app_displayname"`
	// UPN is the signed-in user's name (upn, else preferred_username, else
	// unique_name); "" for an application.
	UPN  string `json:"upn"`
	Name string `json:"name"`
	// IDType is "app" or "user" when the token says (idtyp).
	IDType string `json:"idtyp"`
	// Roles are the application permissions of an app-only token.
	Roles []string `json:"-"`
	// Scopes are the delegated permissions (scp, space-separated).
	Scopes []string `json:"-"`
	// DirectoryRoles are the template ids of the user's directory roles
	// (wids); HasDirectoryRoles says whether the token has the claim at all.
	DirectoryRoles    []string `json:"-"`
	HasDirectoryRoles bool     `json:"-"`
	Audience          string   `json:"-"`
	Issuer            string   `json:"iss"`
}

// ErrOpaqueToken: the token is not a JWT whose claims can be read. That is
// allowed (Graph's tokens are opaque to clients); arsync then cannot check
// what the token may do, and goes on.
var ErrOpaqueToken = errors.New("the token's claims cannot be read (not a JWT)")

// App reports whether the token is app-only: idtyp says so, or, without
// idtyp, it carries no delegated scopes.
func (c *Claims) App() bool {
	switch strings.ToLower(c.IDType) {
	case "app":
		return true
	case "user":
		return false
	}
	return len(c.Scopes) == 0
}

// Permissions are the Graph permissions the token carries: its roles for an
// app-only token, its scopes for a delegated one.
func (c *Claims) Permissions() []string {
	if c.App() {
		return c.Roles
	}
	return c.Scopes
}

// ReadClaims reads the claims of a JWT access token without verifying it.
// Anything else (an opaque token, an encrypted JWT, garbage) is
// ErrOpaqueToken.
func ReadClaims(token string) (*Claims, error) {
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return nil, ErrOpaqueToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, ErrOpaqueToken
	}
	var raw struct {
		Claims
		AZP               string `json:"azp"`
		PreferredUsername string `json:"preferred_username"`
		UniqueName        string `json:"unique_name"`
		SCP               any    `json:"scp"`
		AUD               any    `json:"aud"`
		Roles             any    `json:"roles"`
		WIDs              any    `json:"wids"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOpaqueToken, err)
	}
	c := raw.Claims
	c.AppID = firstNonEmpty(c.AppID, raw.AZP)
	c.UPN = firstNonEmpty(c.UPN, raw.PreferredUsername, raw.UniqueName)
	c.Scopes = stringsOf(raw.SCP, true)
	if aud := stringsOf(raw.AUD, false); len(aud) > 0 {
		c.Audience = aud[0]
	}
	c.Roles = stringsOf(raw.Roles, false)
	c.DirectoryRoles = stringsOf(raw.WIDs, false)
	c.HasDirectoryRoles = raw.WIDs != nil
	return &c, nil
}

// stringsOf reads a claim that is a string (space-separated when split) or
// an array of strings.
func stringsOf(v any, split bool) []string {
	switch v := v.(type) {
	case string:
		if split {
			return strings.Fields(v)
		}
		if v == "" {
			return nil
		}
		return []string{v}
	case []any:
		var out []string
		for _, s := range v {
			if s, ok := s.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}
