package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestConfigCoverage(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       *CoveragePolicy
		err        string
	}{
		{"absent", "paths: [reviews]\n", nil, ""},
		{"full", "coverage:\n  guestGroups: required\n  roles: [Global Administrator, Privileged Role Administrator]\n  applications: [Payroll App]\n",
			&CoveragePolicy{GuestGroups: true, Roles: []string{"Global Administrator", "Privileged Role Administrator"}, Applications: []string{"Payroll App"}}, ""},
		{"optional", "coverage: {guestGroups: optional}\n", &CoveragePolicy{}, ""},
		{"bad value", "coverage: {guestGroups: yes}\n", nil, "coverage.guestGroups"},
		{"unknown key", "coverage: {groups: required}\n", nil, "groups"},
		{"empty role", "coverage: {roles: ['']}\n", nil, "coverage.roles[0] must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseConfig("arsync.yaml", []byte(tt.yaml))
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			if diff := cmp.Diff(tt.want, cfg.Coverage); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
