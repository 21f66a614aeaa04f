package spec_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/arsync/arsync/pkg/apply"
	"github.com/arsync/arsync/pkg/spec"
)

// TestChangeLimitDocumented: the config schema states the default that
// apply really uses (the constant lives in pkg/apply, which pkg/spec must
// not import).
func TestChangeLimitDocumented(t *testing.T) {
	b, err := spec.ConfigSchema()
	require.NoError(t, err)
	want := "without --force. Default " + strconv.Itoa(apply.DefaultMaxChangePercent) + "."
	require.True(t, strings.Contains(string(b), want), "config schema lacks %q", want)
}
