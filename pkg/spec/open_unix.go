//go:build unix

package spec

import "syscall"

// openFlags makes opening a named pipe return at once instead of waiting
// for a writer, should one replace a spec file after its type was checked.
// It changes nothing for regular files.
const openFlags = syscall.O_NONBLOCK
