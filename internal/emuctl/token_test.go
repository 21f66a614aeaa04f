package emuctl

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/emulator"
)

func TestParseTokenSpec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec string
		want emulator.TokenOptions
		err  string
	}{
		{spec: "read-only", want: emulator.TokenOptions{Permissions: []string{"AccessReview.Read.All", "Directory.Read.All"}}},
		{spec: "user=bob@contoso.com, lifetime=1h", want: emulator.TokenOptions{User: "bob@contoso.com", Lifetime: time.Hour}},
		{spec: "app=f61a366e-53e5-42b9-bb85-4825c728a87a;permissions=AccessReview.Read.All|User.Read.All;lifetime=2d",
			want: emulator.TokenOptions{App: "f61a366e-53e5-42b9-bb85-4825c728a87a", Permissions: []string{"AccessReview.Read.All", "User.Read.All"}, Lifetime: 48 * time.Hour}},
		{spec: "permissions=", want: emulator.TokenOptions{Permissions: []string{}}},
		{spec: "expired", want: emulator.TokenOptions{Lifetime: -time.Minute}},
		{spec: "user=alice@contoso.com,read-only,expired", want: emulator.TokenOptions{User: "alice@contoso.com", Permissions: []string{"AccessReview.Read.All", "Directory.Read.All"}, Lifetime: -time.Minute}},

		{spec: "", err: `token "": empty`},
		{spec: " , ", err: "empty"},
		{spec: "admin", err: `unknown setting "admin"`},
		{spec: "user", err: "user needs a value"},
		{spec: "user=", err: "user needs a value"},
		{spec: "read-only=yes", err: "read-only takes no value"},
		{spec: "user=a@contoso.com,app=x", err: "app conflicts with an earlier setting"},
		{spec: "read-only,permissions=User.Read", err: "permissions conflicts"},
		{spec: "lifetime=1h,expired", err: "expired conflicts"},
		{spec: "lifetime=soon", err: `lifetime: "soon" is not a duration`},
		{spec: "lifetime=0s", err: "more than 0"},
		{spec: "lifetime=-1h", err: "more than 0 (use expired"},
	}
	for _, tt := range tests {
		got, err := ParseTokenSpec(tt.spec)
		if tt.err != "" {
			require.ErrorContains(t, err, tt.err, tt.spec)
			continue
		}
		require.NoError(t, err, tt.spec)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.spec, diff)
		}
	}
}
