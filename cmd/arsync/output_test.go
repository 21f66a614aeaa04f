package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMain keeps the developer's or CI's colour variables out of every
// test that compares plan text.
func TestMain(m *testing.M) {
	// The test binary stands in for arsync itself when a test runs it
	// as a child process (signal_test.go): main, with its signal handling.
	if os.Getenv("ARSYNC_TEST_MAIN") == "1" {
		os.Args = append(os.Args[:1], strings.Fields(os.Getenv("ARSYNC_TEST_ARGS"))...)
		if hwm := os.Getenv("ARSYNC_TEST_HWM"); hwm != "" {
			// A benchmark's child: run as main does, then record the
			// process's peak resident set (VmHWM, of this program's own
			// address space since exec) before exiting.
			code := Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
			if status, err := os.ReadFile("/proc/self/status"); err == nil {
				_ = os.WriteFile(hwm, status, 0o644)
			}
			os.Exit(code)
		}
		main()
	}
	for _, k := range []string{"NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE"} {
		os.Unsetenv(k)
	}
	os.Exit(m.Run())
}

func TestColorOutput(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	require.NoError(t, err)
	defer f.Close()
	// /dev/null is a character device but not a terminal: no colour in a CI
	// job whose output goes there.
	dev, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer dev.Close()
	require.False(t, colorOutput("auto", &bytes.Buffer{}, env()), "not a terminal")
	require.False(t, colorOutput("auto", f, env()), "a regular file")
	require.False(t, colorOutput("auto", dev, env()), "/dev/null")

	// A terminal is injected: a test cannot open one.
	tty := func(int) bool { return true }
	notTTY := func(int) bool { return false }
	for _, tt := range []struct {
		name     string
		mode     string
		env      []string
		terminal bool
		want     bool
	}{
		{name: "auto, terminal", mode: "auto", terminal: true, want: true},
		{name: "auto, no terminal", mode: "auto"},
		{name: "unset mode is auto", mode: "", terminal: true, want: true},
		{name: "NO_COLOR", mode: "auto", env: []string{"NO_COLOR", "1"}, terminal: true},
		{name: "NO_COLOR empty is unset", mode: "auto", env: []string{"NO_COLOR", ""}, terminal: true, want: true},
		{name: "TERM=dumb", mode: "auto", env: []string{"TERM", "dumb"}, terminal: true},
		{name: "FORCE_COLOR, no terminal", mode: "auto", env: []string{"FORCE_COLOR", "1"}, want: true},
		{name: "FORCE_COLOR=3", mode: "auto", env: []string{"FORCE_COLOR", "3"}, want: true},
		{name: "FORCE_COLOR=0 forces nothing", mode: "auto", env: []string{"FORCE_COLOR", "0"}},
		{name: "FORCE_COLOR=false forces nothing", mode: "auto", env: []string{"FORCE_COLOR", "false"}},
		{name: "FORCE_COLOR=0 on a terminal", mode: "auto", env: []string{"FORCE_COLOR", "0"}, terminal: true, want: true},
		{name: "CLICOLOR_FORCE", mode: "auto", env: []string{"CLICOLOR_FORCE", "1"}, want: true},
		{name: "CLICOLOR_FORCE=0", mode: "auto", env: []string{"CLICOLOR_FORCE", "0"}},
		{name: "FORCE_COLOR and TERM=dumb", mode: "auto", env: []string{"FORCE_COLOR", "1", "TERM", "dumb"}, want: true},
		{name: "NO_COLOR wins over FORCE_COLOR", mode: "auto", env: []string{"NO_COLOR", "1", "FORCE_COLOR", "1"}},
		{name: "always", mode: "always", want: true},
		{name: "always wins over NO_COLOR", mode: "always", env: []string{"NO_COLOR", "1", "TERM", "dumb"}, want: true},
		{name: "never", mode: "never", terminal: true},
		{name: "never wins over FORCE_COLOR", mode: "never", env: []string{"FORCE_COLOR", "1", "CLICOLOR_FORCE", "1"}, terminal: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			isTerminal := notTTY
			if tt.terminal {
				isTerminal = tty
			}
			require.Equal(t, tt.want, colorFor(tt.mode, dev, env(tt.env...), isTerminal))
		})
	}
	require.False(t, colorFor("auto", &bytes.Buffer{}, env(), tty), "no file descriptor")
	require.True(t, colorFor("auto", &bytes.Buffer{}, env("FORCE_COLOR", "1"), tty), "forced, even without a file descriptor")
}
