package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Clouds are the national clouds --cloud and the config's cloud accept.
var Clouds = []string{"global", "usgov", "usgovdod", "china"}

// Config is arsync.yaml. Zero values mean "not set"; flags override it.
type Config struct {
	TenantID      string
	Cloud         string
	GraphEndpoint string
	// Paths are where the spec files are, relative paths already joined to
	// the config file's directory.
	Paths        []string
	AllowDelete  bool
	AllowReplace bool
	// MaxChangePercent is nil when not set (apply.DefaultMaxChangePercent).
	MaxChangePercent *int
	// Coverage is the coverage section: what plan requires to be under
	// review once the plan is applied. nil when absent.
	Coverage *CoveragePolicy
}

// CoveragePolicy is arsync.yaml's coverage section.
type CoveragePolicy struct {
	// GuestGroups: every group with guest members must be covered.
	GuestGroups bool
	// Roles are directory roles (display names or role ids) whose
	// assignments must be covered.
	Roles []string
	// Applications are service principals (display names, appIds or
	// object ids) whose assignments must be covered.
	Applications []string
}

// GuestGroupsValues are the values of coverage.guestGroups.
var GuestGroupsValues = []string{"required", "optional"}

var (
	configFields = fields{
		known: []string{"tenantId", "cloud", "graphEndpoint", "paths", "allowDelete", "allowReplace", "maxChangePercent", "coverage"},
		hints: map[string]string{
			"apiVersion":   "is not used in arsync.yaml; it holds settings only (definitions go in other files)",
			"kind":         "is not used in arsync.yaml; it holds settings only (definitions go in other files)",
			"clientSecret": "must not be stored in arsync.yaml; use AZURE_CLIENT_SECRET or workload identity",
		},
	}
	tenantRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$`)
)

// LoadConfig reads the configuration file at path strictly: unknown keys,
// wrong types and bad values are reported as Diagnostics (returned as the
// error, each with file:line:col).
//
// A missing file is an error that satisfies errors.Is(err, fs.ErrNotExist).
// Callers that read the default ./arsync.yaml (no --config given) treat it
// as an empty configuration; an explicit --config that is missing is an
// error.
//
// Like a spec file, it must be a regular file of at most 16 MiB; a named
// pipe or a device is never opened. A symbolic link is followed.
func LoadConfig(path string) (*Config, error) {
	return loadConfig(path, false)
}

// LoadConfigFile is LoadConfig for the CLI's --config: when explicit is
// false (the default ./arsync.yaml), a missing file is an empty
// configuration rather than an error, and the file is read like a spec
// file found in a directory: a symbolic link is followed only to a file
// in the same directory, as a pull request could otherwise make it quote
// a file elsewhere on the machine.
func LoadConfigFile(path string, explicit bool) (*Config, error) {
	cfg, err := loadConfig(path, !explicit)
	if err != nil && !explicit && errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	return cfg, err
}

// loadConfig reads the configuration at path; found says it was not
// named by the user, so a link must stay in its directory. Nothing of a
// file refused is read, so nothing of it is quoted.
func loadConfig(path string, found bool) (*Config, error) {
	if found {
		if li, err := os.Lstat(path); err == nil && li.Mode()&fs.ModeSymlink != 0 {
			dir, derr := realPath(filepath.Dir(path))
			target, terr := realPath(path)
			// A broken link gets the same message as one leading outside.
			if derr != nil || terr != nil || !within(dir, target) {
				return nil, fmt.Errorf("reading config: %s is a symbolic link that does not lead to a file inside %s; not read (pass --config to use it)", path, dirName(filepath.Dir(path)))
			}
		}
	}
	data, err := readRegular(path)
	var nr *notRegularError
	switch {
	case errors.As(err, &nr):
		return nil, fmt.Errorf("reading config: %s is %s, not a regular file; not read", path, nr.kind)
	case errors.Is(err, errTooLarge):
		return nil, fmt.Errorf("reading config: %s is larger than 16 MiB; not read", path)
	case err != nil:
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return ParseConfig(path, data)
}

// SpecPaths returns where to look for spec files: args if any, else the
// configuration's paths, else the current directory.
func (c *Config) SpecPaths(args []string) []string {
	switch {
	case len(args) > 0:
		return args
	case c != nil && len(c.Paths) > 0:
		return c.Paths
	}
	return []string{"."}
}

// ParseConfig decodes a configuration read from file. Relative paths in
// it are joined to file's directory.
func ParseConfig(file string, data []byte) (*Config, error) {
	if diag, ok := checkText(file, data); !ok {
		return nil, Diagnostics{diag}
	}
	d := newDecoder(file, len(data))
	cfg := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	switch err := decodeNode(dec, &doc); {
	case err == nil:
		d.decodeConfig(cfg, &doc, filepath.Dir(file))
		var extra yaml.Node
		if decodeNode(dec, &extra) == nil {
			d.errf(&extra, "arsync.yaml must hold one YAML document")
		}
	case errors.Is(err, io.EOF):
		// An empty file is an empty configuration.
	default:
		d.diags = append(d.diags, syntaxDiagnostic(file, data, err))
	}
	if len(d.diags) > 0 {
		ds := d.diags.sortAndDedup()
		if ds.HasErrors() {
			return nil, ds
		}
	}
	return cfg, nil
}

func (d *decoder) decodeConfig(cfg *Config, doc *yaml.Node, dir string) {
	if len(doc.Content) == 0 {
		return
	}
	root := deref(doc.Content[0])
	if isNull(root) {
		return
	}
	ps, ok := d.mapping(root, "", configFields)
	if !ok {
		return
	}
	for _, p := range ps.list {
		switch p.key {
		case "tenantId":
			if s, ok := d.str(p.v, "tenantId"); ok {
				if !tenantRE.MatchString(s) {
					d.errf(p.v, "tenantId must be a tenant id (GUID) or domain such as contoso.onmicrosoft.com, got %s", quote(s))
				} else {
					cfg.TenantID = s
				}
			}
		case "cloud":
			cfg.Cloud, _ = d.enum(p.v, "cloud", Clouds)
		case "graphEndpoint":
			if s, ok := d.str(p.v, "graphEndpoint"); ok {
				if err := CheckGraphEndpoint(s); err != nil {
					d.errf(p.v, "graphEndpoint %s", err)
				} else {
					cfg.GraphEndpoint = s
				}
			}
		case "paths":
			items, ok := d.list(p.v, "paths")
			if !ok {
				continue
			}
			for i, it := range items {
				s, ok := d.str(it, index("paths", i))
				if !ok || s == "" {
					if ok || isNull(it) {
						d.errf(it, "%s must not be empty", index("paths", i))
					}
					continue
				}
				if !filepath.IsAbs(s) {
					s = filepath.Join(dir, s)
				}
				cfg.Paths = append(cfg.Paths, s)
			}
		case "allowDelete":
			cfg.AllowDelete = derefBool(d.boolean(p.v, "allowDelete"))
		case "allowReplace":
			cfg.AllowReplace = derefBool(d.boolean(p.v, "allowReplace"))
		case "coverage":
			cfg.Coverage = d.decodeCoveragePolicy(p.v)
		case "maxChangePercent":
			if v, ok := d.integer(p.v, "maxChangePercent"); ok {
				if v < 0 || v > 100 {
					d.errf(p.v, "maxChangePercent must be between 0 and 100, got %d", v)
				} else {
					cfg.MaxChangePercent = &v
				}
			}
		}
	}
}

func derefBool(b *bool) bool { return b != nil && *b }

var coverageFields = fields{known: []string{"guestGroups", "roles", "applications"}}

func (d *decoder) decodeCoveragePolicy(n *yaml.Node) *CoveragePolicy {
	ps, ok := d.mapping(n, "coverage", coverageFields)
	if !ok {
		return nil
	}
	c := &CoveragePolicy{}
	names := func(v *yaml.Node, path string) []string {
		items, ok := d.list(v, path)
		if !ok {
			return nil
		}
		var out []string
		for i, it := range items {
			s, ok := d.str(it, index(path, i))
			if ok && strings.TrimSpace(s) == "" || !ok && isNull(it) {
				d.errf(it, "%s must not be empty", index(path, i))
				continue
			}
			if ok {
				out = append(out, strings.TrimSpace(s))
			}
		}
		return out
	}
	for _, p := range ps.list {
		switch p.key {
		case "guestGroups":
			v, _ := d.enum(p.v, "coverage.guestGroups", GuestGroupsValues)
			c.GuestGroups = v == "required"
		case "roles":
			c.Roles = names(p.v, "coverage.roles")
		case "applications":
			c.Applications = names(p.v, "coverage.applications")
		}
	}
	return c
}

// CheckGraphEndpoint checks a Graph base URL such as
// https://graph.microsoft.com/v1.0: https, or plain http only to a loopback
// address (the emulator). Tokens must never travel in clear text.
func CheckGraphEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("must be an absolute URL such as https://graph.microsoft.com/v1.0, got %s", quote(s))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("must use https; plain http is allowed only to a loopback address, got %s", quote(s))
	}
	return fmt.Errorf("must be an https URL, got %s", quote(s))
}
