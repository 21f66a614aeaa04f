package graph

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMembers: the walk over an object's members that finds Extra's
// properties, on the tokens that could mislead it.
func TestMembers(t *testing.T) {
	t.Parallel()
	data := []byte(" {\n \"a\\\"b\" : \"x\\\\\" , \"ID\":\"}\",\t\"n\": -1.5e3 ,\"o\":{\"a\":[1,{\"b\":\"]}\"}]},\"t\":true,\"z\":null } ")
	var got []string
	for k, v := range members(data) {
		got = append(got, string(k)+"="+string(v))
	}
	require.Equal(t, []string{`"a\"b"="x\\"`, `"ID"="}"`, `"n"=-1.5e3`, `"o"={"a":[1,{"b":"]}"}]}`, `"t"=true`, `"z"=null`}, got)
	for _, notObject := range []string{`null`, `[1]`, `"s"`, ` 1 `, `{}`, ` { } `} {
		for range members([]byte(notObject)) {
			t.Errorf("%s: members yielded something", notObject)
		}
	}
}
