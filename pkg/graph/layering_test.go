package graph

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering keeps the model and the planning and applying packages free
// of sign-in, YAML and terminal code (and of the packages that bring them),
// so that they build and test alone. It asks the go command for the full
// dependency lists, third-party packages included.
func TestLayering(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	const module = "github.com/arsync/arsync/"
	forbidden := []string{
		"github.com/Azure/azure-sdk-for-go/sdk/azidentity",
		"github.com/AzureAD/microsoft-authentication-library-for-go",
		"gopkg.in/yaml.v3",
		"go.yaml.in/yaml",
		"golang.org/x/term",
		module + "pkg/graphclient",
		module + "pkg/spec",
		module + "pkg/emulator",
	}
	tests := []struct {
		pkg     string
		ownDeps []string // the only module packages it may depend on
	}{
		{pkg: "pkg/graph"},
		{pkg: "pkg/diff", ownDeps: []string{"pkg/graph"}},
		{pkg: "pkg/apply", ownDeps: []string{"pkg/graph", "pkg/diff", "internal/clock"}},
		{pkg: "pkg/coverage", ownDeps: []string{"pkg/graph"}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", module+tt.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 5 {
				t.Fatalf("go list listed %d packages; the check is broken", len(deps))
			}
			allowed := map[string]bool{module + tt.pkg: true}
			for _, d := range tt.ownDeps {
				allowed[module+d] = true
			}
			for _, dep := range deps {
				for _, bad := range forbidden {
					if dep == bad || strings.HasPrefix(dep, bad+"/") {
						t.Errorf("%s depends on %s", tt.pkg, dep)
					}
				}
				if strings.HasPrefix(dep, module) && !allowed[dep] {
					t.Errorf("%s depends on %s, which is not among %v", tt.pkg, dep, tt.ownDeps)
				}
			}
		})
	}
}
