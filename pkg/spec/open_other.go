//go:build !unix

package spec

// openFlags: outside Unix there are no named pipes in the file system to
// guard against.
const openFlags = 0
