package emuctl

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/arsync/arsync/pkg/emulator"
)

// tokenSettings are the settings of a token spec and whether each takes a
// value.
var tokenSettings = map[string]bool{"user": true, "app": true, "permissions": true, "read-only": false, "lifetime": true, "expired": false}

// readOnlyPermissions are what the read-only shorthand grants.
var readOnlyPermissions = []string{emulator.PermissionRead, "Directory.Read.All"}

// expiredBy is how long ago an "expired" token ran out.
const expiredBy = time.Minute

// ParseTokenSpec reads one token request of "arsync emulator --issue-token",
// e.g. "user=bob@contoso.com,read-only,lifetime=1h": settings separated by
// ',' or ';', each at most once: user=UPN|ID or app=APPID; permissions=A|B
// (empty for none) or read-only; lifetime=DURATION (see ParseStep) or
// expired (a minute ago).
func ParseTokenSpec(spec string) (emulator.TokenOptions, error) {
	var o emulator.TokenOptions
	bad := func(format string, args ...any) (emulator.TokenOptions, error) {
		return emulator.TokenOptions{}, fmt.Errorf("token %q: %s", spec, fmt.Sprintf(format, args...))
	}
	seen := map[string]bool{}
	for _, item := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == ';' }) {
		if strings.TrimSpace(item) == "" {
			continue
		}
		key, val, hasVal := strings.Cut(strings.TrimSpace(item), "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		takesValue, known := tokenSettings[key]
		switch {
		case !known:
			return bad("unknown setting %q (known: user, app, permissions, read-only, lifetime, expired)", key)
		case takesValue && !hasVal:
			return bad("%s needs a value, e.g. %s=...", key, key)
		case !takesValue && hasVal:
			return bad("%s takes no value", key)
		}
		group := key
		switch key {
		case "app":
			group = "user"
		case "read-only":
			group = "permissions"
		case "expired":
			group = "lifetime"
		}
		if seen[group] {
			return bad("%s conflicts with an earlier setting", key)
		}
		seen[group] = true
		switch key {
		case "user", "app":
			if val == "" {
				return bad("%s needs a value", key)
			}
			if key == "user" {
				o.User = val
			} else {
				o.App = val
			}
		case "permissions":
			o.Permissions = []string{}
			for _, p := range strings.Split(val, "|") {
				if p = strings.TrimSpace(p); p != "" {
					o.Permissions = append(o.Permissions, p)
				}
			}
		case "read-only":
			o.Permissions = slices.Clone(readOnlyPermissions)
		case "lifetime":
			d, err := ParseStep(val)
			if strings.HasPrefix(val, "-") || (err == nil && d == 0) {
				return bad("lifetime must be more than 0 (use expired for a token that has run out; leave lifetime out for one that never does)")
			}
			if err != nil {
				return bad("lifetime: %v", err)
			}
			o.Lifetime = d
		case "expired":
			o.Lifetime = -expiredBy
		}
	}
	if len(seen) == 0 {
		return bad("empty: give at least one setting, e.g. read-only")
	}
	return o, nil
}
