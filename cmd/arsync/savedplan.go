package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// savedPlanIn returns the first of paths that is a plan saved by plan
// --out: Terraform's users give it where spec paths go ("apply
// plan.json"), and read as YAML it would only be a list of spec errors.
func savedPlanIn(paths []string) (string, bool) {
	for _, p := range paths {
		if isSavedPlan(p) {
			return p, true
		}
	}
	return "", false
}

// isSavedPlan reports whether path is a file holding a JSON object with the
// members by which diff.ReadPlan knows a plan: formatVersion or digest. A
// plan edited since it was saved still is one, so that apply refuses it
// with ReadPlan's reason.
func isSavedPlan(path string) bool {
	info, err := os.Stat(path)
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	data, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		return false
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(data, &members) != nil {
		return false
	}
	_, version := members["formatVersion"]
	_, digest := members["digest"]
	return version || digest
}

// refuseSavedPlan is the answer of a command that reads spec files (plan,
// validate) to a saved plan among its paths.
func refuseSavedPlan(paths []string) error {
	if p, ok := savedPlanIn(paths); ok {
		return fmt.Errorf("%s is a plan saved by arsync plan --out, not a spec file; to apply exactly that plan: arsync apply --plan %s", p, shellQuote(p))
	}
	return nil
}

// shellSafe are the characters a path may have and still be pasted into a
// shell as it is.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,\\-]+$`)

// shellQuote quotes path for a command line the user may paste.
func shellQuote(path string) string {
	if shellSafe.MatchString(path) {
		return path
	}
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}
