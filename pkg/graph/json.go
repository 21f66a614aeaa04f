package graph

import (
	"bytes"
	"encoding/json"
)

// MarshalNoEscape is json.Marshal without HTML escaping: queries contain
// '&', '<' and '>', and request bodies, saved plans and published files
// keep them readable. Inside a Definition's MarshalJSON it leaves escaping
// to the caller's encoder, so '&' becomes \u0026 where json.Marshal is used,
// as for any struct, and stays '&' where the caller asked for that.
func MarshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
