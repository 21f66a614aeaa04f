package spec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxFileSize is the largest spec file read: thousands of definitions fit
// in a fraction of it, and a hostile file cannot exhaust memory.
const maxFileSize = 16 << 20

// Messages about files that are not read. They name the file (by its
// diagnostic's position) but never quote it: a file refused was never
// opened, so nothing of it can reach the output or a pull request's
// annotations.
const (
	msgTooLarge    = "larger than 16 MiB, the limit for a spec file; not read"
	msgOutsideTree = "a symbolic link that does not lead to a file inside %s; not read (spec files must be inside the directory searched)"
	msgNotRegular  = "%s, not a regular file; skipped"
)

// specFile is a spec file found under the paths. name is how it is shown:
// the path given, or a path under the directory given. open is what is
// read: for a symbolic link found in a directory, its target (checked to
// be inside that directory); empty when the file is refused unread.
type specFile struct {
	name, open string
}

// collector gathers the spec files under the paths, each once, with
// diagnostics for those it skips or refuses.
type collector struct {
	files []specFile
	diags Diagnostics
	seen  map[string]bool // real paths
}

// collectFiles expands paths into spec files in a stable order: the paths
// in the order given, directories in lexical order. Nothing is opened
// here: the type and size of every file are checked first, as opening a
// named pipe blocks and a device may never end.
//
// A path given (on the command line or in arsync.yaml) is followed
// wherever a symbolic link leads: the user chose it. When it is a
// directory, the tree searched is where it leads, and inside it a
// symbolic link is followed only to a file in that tree; links to
// directories are not followed (they may loop).
func collectFiles(ctx context.Context, paths []string) ([]specFile, Diagnostics, error) {
	c := &collector{seen: make(map[string]bool)}
	for _, root := range paths {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		info, err := os.Stat(root)
		if err != nil {
			return nil, nil, fmt.Errorf("reading specs: %w", err)
		}
		if !info.IsDir() {
			real, err := realPath(root)
			if err != nil {
				return nil, nil, fmt.Errorf("reading specs: %w", err)
			}
			c.add(root, root, real, info)
			continue
		}
		if err := c.walk(ctx, root); err != nil {
			return nil, nil, fmt.Errorf("reading specs: %w", err)
		}
	}
	return c.files, c.diags, nil
}

// walk adds the spec files in the directory root (hidden files and
// directories skipped).
func (c *collector) walk(ctx context.Context, root string) error {
	tree, err := realPath(root)
	if err != nil {
		return err
	}
	// WalkDir does not enter a root that is a symbolic link; with a
	// trailing separator the link is resolved, and the paths it reports
	// still start with root as given.
	start := root
	if li, err := os.Lstat(root); err == nil && li.Mode()&fs.ModeSymlink != 0 {
		start = root + string(filepath.Separator)
	}
	return filepath.WalkDir(start, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == start {
			return nil
		}
		if strings.HasPrefix(de.Name(), ".") {
			if de.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if de.IsDir() || !isSpecFile(de.Name()) {
			return nil
		}
		rel, err := filepath.Rel(start, p)
		if err != nil {
			return err
		}
		if de.Type()&fs.ModeSymlink == 0 {
			info, err := de.Info()
			if err != nil {
				return err
			}
			// The walk follows no link, so this is the file's real path.
			c.add(p, p, filepath.Join(tree, rel), info)
			return nil
		}
		// A broken link, one that loops and one that leads outside get
		// the same message, which tells nothing about files elsewhere.
		target, err := filepath.EvalSymlinks(p)
		if err == nil {
			target, err = filepath.Abs(target)
		}
		if err != nil || !within(tree, target) {
			c.refuse(p, Error, msgOutsideTree, dirName(root))
			return nil
		}
		info, err := os.Stat(target)
		if err != nil {
			return err
		}
		c.add(p, target, target, info)
		return nil
	})
}

// add lists the file name, found at real, unless it was listed already or
// is the configuration. A file that is not regular is skipped with a
// warning (and not listed); one too large is listed with an error.
func (c *collector) add(name, open, real string, info fs.FileInfo) {
	if contains(configNames, filepath.Base(name)) || c.seen[real] {
		return
	}
	c.seen[real] = true
	switch {
	case !info.Mode().IsRegular():
		c.diags.add(filePos(name), Warning, msgNotRegular, fileKind(info.Mode()))
	case info.Size() > maxFileSize:
		c.refuse(name, Error, msgTooLarge)
	default:
		c.files = append(c.files, specFile{name: name, open: open})
	}
}

// refuse lists the file name, unread, with a diagnostic.
func (c *collector) refuse(name string, s Severity, format string, args ...any) {
	c.files = append(c.files, specFile{name: name})
	c.diags.add(filePos(name), s, format, args...)
}

// filePos is where a diagnostic about a whole file goes: its first line,
// so that it is annotated on a pull request like any other.
func filePos(name string) Pos { return Pos{File: name, Line: 1, Col: 1} }

// dirName names the directory root in a message.
func dirName(root string) string {
	if root = filepath.Clean(root); root == "." {
		return "the current directory"
	}
	return root
}

// realPath is p, absolute, with every symbolic link resolved.
func realPath(p string) (string, error) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", err
	}
	return filepath.Abs(real)
}

// within reports whether the absolute path p is inside the directory dir.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// fileKind names what a file that is not regular is.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return "a special file"
}

func isSpecFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// readSpec reads the spec file f, or says why it was not read.
func readSpec(f specFile) ([]byte, *Diagnostic, error) {
	data, err := readRegular(f.open)
	var nr *notRegularError
	switch {
	case errors.As(err, &nr):
		return nil, &Diagnostic{Pos: filePos(f.name), Severity: Warning, Message: fmt.Sprintf(msgNotRegular, nr.kind)}, nil
	case errors.Is(err, errTooLarge):
		return nil, &Diagnostic{Pos: filePos(f.name), Severity: Error, Message: msgTooLarge}, nil
	case err != nil:
		return nil, nil, err
	}
	return data, nil, nil
}

// errTooLarge is readRegular's error for a file over maxFileSize.
var errTooLarge = errors.New("larger than 16 MiB")

// notRegularError is readRegular's error for a file that is not regular.
type notRegularError struct{ kind string }

func (e *notRegularError) Error() string { return e.kind + ", not a regular file" }

// readRegular reads the regular file at path, of at most maxFileSize
// bytes. Its type is checked before it is opened (opening a named pipe
// blocks; a device may never end), and again once open, in case it was
// replaced (open does not block on a named pipe, see openFlags).
func readRegular(path string) ([]byte, error) {
	// When Stat fails, open reports why.
	if info, err := os.Stat(path); err == nil && !info.Mode().IsRegular() {
		return nil, &notRegularError{fileKind(info.Mode())}
	}
	file, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, &notRegularError{fileKind(info.Mode())}
	}
	if info.Size() > maxFileSize {
		return nil, errTooLarge
	}
	data, ok, err := readLimited(file, maxFileSize)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errTooLarge
	}
	return data, nil
}

// readLimited reads r to the end if it holds at most limit bytes; ok is
// false when it holds more. It never reads more than limit+1 bytes, even
// from a file that grows while it is read.
func readLimited(r io.Reader, limit int64) (data []byte, ok bool, err error) {
	data, err = io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(data)) > limit {
		return nil, false, nil
	}
	return data, true, nil
}
