package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/pkg/graphclient"
	"github.com/arsync/arsync/pkg/spec"
)

// decisionValues are the --decision values that completion offers; they are
// the ones report.CanonicalDecision accepts.
var decisionValues = []string{"Approve", "Deny", "NotReviewed", "DontKnow"}

// completeFlag registers fixed completions for a flag's values. The flag is
// the command's own: a wrong name is a bug the completion tests catch.
func completeFlag(cmd *cobra.Command, flag string, values ...string) {
	_ = cmd.RegisterFlagCompletionFunc(flag, func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, v := range values {
			if strings.HasPrefix(v, toComplete) {
				out = append(out, v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
}

// completeSpecPaths completes a command's PATH arguments with spec files
// (exts) and directories.
func completeSpecPaths(exts ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return exts, cobra.ShellCompDirectiveFilterFileExt
	}
}

// graphEndpoints are the national clouds' Graph endpoints, for
// --graph-endpoint.
func graphEndpoints() []string {
	var urls []string
	for _, name := range graphclient.CloudNames {
		if ci, err := graphclient.CloudConfig(name); err == nil {
			urls = append(urls, ci.GraphURL+"/v1.0")
		}
	}
	return urls
}

// completeReviewNames completes a review name flag with the metadata.name of
// the definitions in the spec files: the command's PATH arguments, else the
// config's paths. Each comes with its displayName. A config or spec file
// that does not load completes nothing: completion never prints errors.
func completeReviewNames(f *Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		cfg, err := f.Config()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		res, err := spec.LoadContext(ctx, cfg.SpecPaths(args)...)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []string
		for _, d := range res.Definitions {
			if strings.HasPrefix(d.Name, toComplete) {
				names = append(names, d.Name+"\t"+d.Spec.DisplayName)
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}
