package release

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

type goreleaser struct {
	Version int `yaml:"version"`
	Builds  []struct {
		ID      string   `yaml:"id"`
		Main    string   `yaml:"main"`
		Binary  string   `yaml:"binary"`
		Env     []string `yaml:"env"`
		Flags   []string `yaml:"flags"`
		Ldflags []string `yaml:"ldflags"`
		Goos    []string `yaml:"goos"`
		Goarch  []string `yaml:"goarch"`
	} `yaml:"builds"`
	Archives []struct {
		NameTemplate    string   `yaml:"name_template"`
		Formats         []string `yaml:"formats"`
		FormatOverrides []struct {
			Goos    string   `yaml:"goos"`
			Formats []string `yaml:"formats"`
		} `yaml:"format_overrides"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
	DockersV2 []struct {
		IDs        []string `yaml:"ids"`
		Dockerfile string   `yaml:"dockerfile"`
		Platforms  []string `yaml:"platforms"`
	} `yaml:"dockers_v2"`
}

// TestGoReleaserConfig checks what .goreleaser.yaml promises and what the
// installer (action-install.sh) relies on. "goreleaser check" and CI's
// snapshot check that GoReleaser accepts it.
func TestGoReleaserConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	require.NoError(t, err)
	var c goreleaser
	require.NoError(t, yaml.Unmarshal(data, &c))

	require.Equal(t, 2, c.Version)
	require.Len(t, c.Builds, 1)
	b := c.Builds[0]
	require.Equal(t, "./cmd/arsync", b.Main)
	require.Equal(t, "arsync", b.Binary)
	require.Equal(t, []string{"linux", "darwin", "windows"}, b.Goos)
	require.Equal(t, []string{"amd64", "arm64"}, b.Goarch)
	require.Contains(t, b.Env, "CGO_ENABLED=0", "a static binary, for any Linux and the distroless image")
	require.Contains(t, b.Flags, "-trimpath")

	// Every -X names a string variable of package main.
	vars := mainStringVars(t)
	ldflags := strings.Join(b.Ldflags, " ")
	var set []string
	for _, m := range regexp.MustCompile(`-X main\.(\w+)=`).FindAllStringSubmatch(ldflags, -1) {
		set = append(set, m[1])
		require.Contains(t, vars, m[1], "-X main.%s sets nothing", m[1])
	}
	require.Equal(t, []string{"version", "commit", "date"}, set)

	// The installer's names.
	require.Len(t, c.Archives, 1)
	a := c.Archives[0]
	require.Equal(t, "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}", a.NameTemplate)
	require.Equal(t, []string{"tar.gz"}, a.Formats)
	require.Len(t, a.FormatOverrides, 1)
	require.Equal(t, "windows", a.FormatOverrides[0].Goos)
	require.Equal(t, []string{"zip"}, a.FormatOverrides[0].Formats)
	require.Equal(t, "{{ .ProjectName }}_{{ .Version }}_checksums.txt", c.Checksum.NameTemplate)
	require.Equal(t, "sha256", c.Checksum.Algorithm)

	require.Len(t, c.DockersV2, 1)
	require.Equal(t, "release.Dockerfile", c.DockersV2[0].Dockerfile)
	require.Equal(t, []string{"linux/amd64", "linux/arm64"}, c.DockersV2[0].Platforms)
}

// mainStringVars are the package-level string variables of cmd/arsync.
func mainStringVars(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	dir := filepath.Join(root, "cmd", "arsync")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	vars := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		for _, d := range file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							vars[name.Name] = true
						}
					}
				}
			}
		}
	}
	return vars
}

// dockerfile is the instructions of a Dockerfile, continuation lines
// joined, comments dropped.
func dockerfile(t *testing.T, path string) [][2]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out [][2]string
	var cur string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		cur += line
		op, arg, _ := strings.Cut(cur, " ")
		out = append(out, [2]string{strings.ToUpper(op), strings.TrimSpace(arg)})
		cur = ""
	}
	require.NoError(t, sc.Err())
	return out
}

// TestReleaseImageIsStaticAndNonRoot reads release.Dockerfile: no Docker
// engine runs where the tests do, so the image itself is built only by the
// release workflow.
func TestReleaseImageIsStaticAndNonRoot(t *testing.T) {
	ins := dockerfile(t, filepath.Join(root, "release.Dockerfile"))
	var from, user, entrypoint string
	var copies []string
	for _, in := range ins {
		switch in[0] {
		case "FROM":
			from = in[1] // the last stage is the image
			user = ""
		case "USER":
			user = in[1]
		case "COPY":
			copies = append(copies, in[1])
		case "ENTRYPOINT":
			entrypoint = in[1]
		case "RUN":
			t.Errorf("RUN %s: a static base image has no shell", in[1])
		}
	}
	require.Regexp(t, `^(scratch|gcr\.io/distroless/static(-debian\d+)?:nonroot(@sha256:[0-9a-f]{64})?)$`, from, "a static base")

	// Numeric, so that Kubernetes' runAsNonRoot can check it without
	// an /etc/passwd.
	uid, gid, _ := strings.Cut(user, ":")
	n, err := strconv.Atoi(uid)
	require.NoError(t, err, "USER %q must be numeric", user)
	require.NotZero(t, n, "USER must not be root")
	if gid != "" {
		g, err := strconv.Atoi(gid)
		require.NoError(t, err, "USER %q: numeric group", user)
		require.NotZero(t, g, "USER's group must not be root")
	}

	if diff := cmp.Diff([]string{"$TARGETPLATFORM/arsync /usr/local/bin/arsync"}, copies); diff != "" {
		t.Errorf("COPY (-want +got): GoReleaser's dockers_v2 puts each platform's binary at <os>/<arch>/\n%s", diff)
	}
	require.Equal(t, `["/usr/local/bin/arsync"]`, entrypoint, "exec form: no shell in the image")
}
