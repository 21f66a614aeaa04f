package ghcomment

import (
	"path"
	"regexp"
	"strings"
)

// diagRE matches arsync's "file:line:col: message" diagnostics of spec and
// config files, with "warning: " before a warning's message.
var diagRE = regexp.MustCompile(`^([^\s:][^:]*\.ya?ml):(\d+):(\d+): (warning: )?(.+)$`)

// Annotations turns the file:line:col diagnostics in log into GitHub
// Actions workflow commands ("::error file=...,line=...,col=...::msg"), so
// that each problem is shown on the pull request's diff at its line. dir is
// the directory arsync ran in, relative to the repository root; file names
// in log are relative to it. Other lines are ignored.
func Annotations(log, dir string) []string {
	var out []string
	for _, line := range strings.Split(stripANSI(log), "\n") {
		m := diagRE.FindStringSubmatch(strings.TrimRight(line, "\r"))
		if m == nil {
			continue
		}
		file := m[1]
		if !path.IsAbs(file) && dir != "" {
			file = path.Join(dir, file)
		}
		level := "error"
		if m[4] != "" {
			level = "warning"
		}
		out = append(out, "::"+level+
			" file="+escapeProperty(path.Clean(file))+
			",line="+m[2]+",col="+m[3]+
			",title=arsync::"+escapeData(m[5]))
	}
	return out
}

// escapeData and escapeProperty escape workflow command text as the
// runner expects (actions/toolkit, command.ts).
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
