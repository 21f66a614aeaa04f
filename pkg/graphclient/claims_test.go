package graphclient

import (
	"encoding/base64"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// unsignedJWT builds a JWT-shaped token with payload as its claims and no
// valid signature: claims are read, never verified.
func unsignedJWT(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"typ":"JWT","alg":"RS256"}`)) + "." + enc([]byte(payload)) + ".c2ln"
}

func TestReadClaims(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		want    *Claims
		wantApp bool
	}{
		{
			name:  "app-only v1.0",
			token: unsignedJWT(`{"aud":"https://graph.microsoft.com","iss":"https://sts.windows.net/t1/","tid":"t1","oid":"o1","appid":"a1","app_displayname":"arsync-ci","idtyp":"app","roles":["AccessReview.ReadWrite.All","User.Read.All"]}`),
			want: &Claims{TenantID: "t1", ObjectID: "o1", AppID: "a1", AppDisplayName: "arsync-ci", IDType: "app",
				Roles: []string{"AccessReview.ReadWrite.All", "User.Read.All"}, Audience: "https://graph.microsoft.com", Issuer: "https://sts.windows.net/t1/"},
			wantApp: true,
		},
		{
			name:  "delegated v2.0 with wids",
			token: unsignedJWT(`{"aud":["00000003-0000-0000-c000-000000000000"],"tid":"t1","oid":"u1","azp":"c1","preferred_username":"ann@contoso.com","name":"Ann","scp":"AccessReview.Read.All  User.Read.All","wids":["f2ef992c-3afb-46b9-b7cf-a126ee74c451"]}`),
			want: &Claims{TenantID: "t1", ObjectID: "u1", AppID: "c1", UPN: "ann@contoso.com", Name: "Ann",
				Scopes: []string{"AccessReview.Read.All", "User.Read.All"}, DirectoryRoles: []string{"f2ef992c-3afb-46b9-b7cf-a126ee74c451"},
				HasDirectoryRoles: true, Audience: "00000003-0000-0000-c000-000000000000"},
		},
		{
			name:  "unique_name, empty wids, idtyp user without scp",
			token: unsignedJWT(`{"tid":"t1","unique_name":"bob@contoso.com","idtyp":"user","wids":[]}`),
			want:  &Claims{TenantID: "t1", UPN: "bob@contoso.com", IDType: "user", HasDirectoryRoles: true},
		},
		{
			name:    "no idtyp and no scp is app-only",
			token:   unsignedJWT(`{"tid":"t1","roles":"AccessReview.Read.All"}`),
			want:    &Claims{TenantID: "t1", Roles: []string{"AccessReview.Read.All"}},
			wantApp: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadClaims(tt.token)
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(tt.want, got))
			require.Equal(t, tt.wantApp, got.App())
		})
	}
}

func TestReadClaimsOpaque(t *testing.T) {
	for _, tok := range []string{"", "garbage", "EwBwA8l6BAAU.opaque", "a.b.c", "a.!!!.c", unsignedJWT(`[1,2]`), unsignedJWT(`{"tid": 5}`), "a.b.c.d.e"} {
		_, err := ReadClaims(tok)
		require.ErrorIs(t, err, ErrOpaqueToken, "token %q", tok)
	}
}
