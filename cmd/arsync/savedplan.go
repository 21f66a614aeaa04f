package main

import (
	"bufio"
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

// isSavedPlan reports whether path is a file holding a JSON object with a
// member by which diff.ReadPlan knows a plan: formatVersion or digest. A
// plan edited since it was saved still is one, so that apply refuses it
// with ReadPlan's reason. The members are read one by one: plan --out
// writes formatVersion first, so a large plan is not read whole here.
func isSavedPlan(path string) bool {
	info, err := os.Stat(path)
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false
		}
		if key == "formatVersion" || key == "digest" {
			return true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
	return false
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
