package graphclient

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// redacted replaces a secret, or a part of one, in anything printed.
	redacted = "[REDACTED]"
	// minSecret is the shortest secret scrubbed: a shorter one (a test
	// token such as "x") would blank out ordinary words.
	minSecret = 8
	// fragmentLen is the shortest part of a secret scrubbed on its own: a
	// service or proxy that cuts or wraps what it echoes must not leave
	// a readable piece of the token.
	fragmentLen = 8
	// maxTokens is how many of the tokens handed out are remembered.
	maxTokens = 4
	// maxErrorField bounds what one field of an error (a code, an id, a
	// date) may print; maxErrorMessage bounds a JSON error message.
	maxErrorField   = 200
	maxErrorMessage = 2000
)

// secretSet is what is scrubbed from every string the client prints:
// the tokens it has used and Options.Secrets. It is never changed once
// built, so scrubbing takes no lock.
type secretSet struct {
	fixed  []string // Options.Secrets
	tokens []string // the tokens handed out, oldest first
	// windows holds every fragmentLen-byte window of every secret. Any
	// part of a secret of fragmentLen bytes or more is a run of such
	// windows, so marking them finds every part worth hiding.
	windows map[string]struct{}
}

func newSecretSet(fixed []string) *secretSet {
	var keep []string
	for _, s := range fixed {
		if len(s) >= minSecret && !slices.Contains(keep, s) {
			keep = append(keep, s)
		}
	}
	return (&secretSet{fixed: keep}).build()
}

// withToken returns the set with tok added (dropping the oldest token
// beyond maxTokens), or s itself when tok is already in it or too short.
func (s *secretSet) withToken(tok string) *secretSet {
	if len(tok) < minSecret || slices.Contains(s.fixed, tok) || slices.Contains(s.tokens, tok) {
		return s
	}
	tokens := append(slices.Clone(s.tokens), tok)
	if len(tokens) > maxTokens {
		tokens = tokens[len(tokens)-maxTokens:]
	}
	return (&secretSet{fixed: s.fixed, tokens: tokens}).build()
}

func (s *secretSet) build() *secretSet {
	s.windows = map[string]struct{}{}
	for _, sec := range s.all() {
		for i := 0; i+fragmentLen <= len(sec); i++ {
			s.windows[sec[i:i+fragmentLen]] = struct{}{}
		}
	}
	return s
}

func (s *secretSet) all() []string { return slices.Concat(s.fixed, s.tokens) }

// replaceWhole replaces every whole secret in str. It is cheap on any
// length, so it runs before anything is cut.
func (s *secretSet) replaceWhole(str string) string {
	if s == nil {
		return str
	}
	for _, sec := range s.all() {
		str = strings.ReplaceAll(str, sec, redacted)
	}
	return str
}

// scrub replaces every secret, and every part of one of fragmentLen
// bytes or more, in str.
func (s *secretSet) scrub(str string) string {
	if s == nil || len(s.windows) == 0 {
		return str
	}
	str = s.replaceWhole(str)
	if len(str) < fragmentLen {
		return str
	}
	var spans [][2]int // to redact: sorted, disjoint, not touching
	for i := 0; i+fragmentLen <= len(str); i++ {
		if _, ok := s.windows[str[i:i+fragmentLen]]; !ok {
			continue
		}
		lo, hi := i, i+fragmentLen
		// A secret with non-ASCII text may match from inside a rune:
		// never leave half a character behind.
		for lo > 0 && !utf8.RuneStart(str[lo]) {
			lo--
		}
		for hi < len(str) && !utf8.RuneStart(str[hi]) {
			hi++
		}
		if n := len(spans); n > 0 && lo <= spans[n-1][1] {
			spans[n-1][1] = max(spans[n-1][1], hi)
			continue
		}
		spans = append(spans, [2]int{lo, hi})
	}
	if len(spans) == 0 {
		return str
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(str[last:sp[0]])
		b.WriteString(redacted)
		last = sp[1]
	}
	b.WriteString(str[last:])
	return b.String()
}

// clean turns text from the service into one printable line of at most
// maxRunes characters: whole secrets are replaced first, so that cutting
// the text cannot leave a piece of one, then the rest is scrubbed.
func (s *secretSet) clean(str string, maxRunes int) string {
	return s.scrub(oneLine(s.replaceWhole(str), maxRunes))
}

// oneLine collapses each run of white space in str to one space, trims
// both ends, and cuts the result after maxRunes characters, marking the
// cut with "…". It reads no further than it keeps, so a huge body costs
// little.
func oneLine(str string, maxRunes int) string {
	var b strings.Builder
	n, space := 0, false
	emit := func(r rune) bool {
		if n == maxRunes {
			b.WriteString("…")
			return false
		}
		b.WriteRune(r)
		n++
		return true
	}
	for _, r := range str {
		if unicode.IsSpace(r) {
			space = n > 0
			continue
		}
		if space && !emit(' ') || !emit(r) {
			break
		}
		space = false
	}
	return b.String()
}
