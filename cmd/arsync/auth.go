package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/arsync/arsync/internal/permcheck"
	"github.com/arsync/arsync/pkg/graphclient"
	"github.com/arsync/arsync/pkg/spec"
)

// NewCmdAuth is "arsync auth", the parent of "auth status".
func NewCmdAuth(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Check the sign-in",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(NewCmdAuthStatus(f, nil))
	return cmd
}

// AuthStatusOptions are auth status's flags, and what it needs to run.
type AuthStatusOptions struct {
	IO      *streams
	Config  func() (*spec.Config, error)
	Connect func(ctx context.Context, cfg *spec.Config) (*session, error)

	Output string
}

var authStatusFormats = []string{"text", "json"}

// NewCmdAuthStatus is "arsync auth status". With a non-nil runF the command
// calls it with the parsed options instead of signing in.
func NewCmdAuthStatus(f *Factory, runF func(*AuthStatusOptions) error) *cobra.Command {
	o := &AuthStatusOptions{IO: f.IO, Config: f.Config, Connect: f.Connect}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show who arsync signs in as and whether that can plan and apply",
		Long: `Status signs in exactly as plan and apply would and shows the tenant, the
identity (an application or a user), the cloud and endpoint, the permissions
the access token carries and, for each command that calls Graph, whether
they suffice, naming any missing permission or directory role.

The token's claims are read without verifying them, for advice only: Graph
decides. A token that is not a JWT cannot be read; status then says it
could not check, and plan and apply go on. It calls no Graph API.

The exit code is 1 when apply could not work with this sign-in (or the
sign-in fails), else 0.`,
		Example: `  # The sign-in of a CI job, before its first plan
  arsync auth status --auth github-oidc

  # Against the built-in emulator, as JSON
  arsync auth status --emulator -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(o.Output, authStatusFormats); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runAuthStatus(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "output format: "+orList(authStatusFormats))
	completeFlag(cmd, "output", authStatusFormats...)
	addSignInFlags(cmd, f.Globals)
	return cmd
}

// authStatus is what auth status reports (its JSON form).
type authStatus struct {
	TenantID string `json:"tenantId"`
	Cloud    string `json:"cloud"`
	Endpoint string `json:"endpoint"`
	// Checked is false when the token's claims could not be read.
	Checked        bool               `json:"checked"`
	Identity       *authIdentity      `json:"identity,omitempty"`
	Permissions    []string           `json:"permissions,omitempty"`
	DirectoryRoles []authRole         `json:"directoryRoles,omitempty"`
	Commands       []permcheck.Result `json:"commands,omitempty"`
}

type authIdentity struct {
	// Type is "application" or "user".
	Type              string `json:"type"`
	DisplayName       string `json:"displayName,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	AppID             string `json:"appId,omitempty"`
	ObjectID          string `json:"objectId,omitempty"`
}

type authRole struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

func runAuthStatus(ctx context.Context, o *AuthStatusOptions) error {
	sess, err := openSession(ctx, o.Config, o.Connect)
	if err != nil {
		return err
	}
	defer sess.Close()
	st := describeSession(sess)
	if o.Output == "json" {
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(st); err != nil {
			return err
		}
	} else if err := writeAuthStatus(o.IO.Out, st); err != nil {
		return err
	}
	for _, r := range st.Commands {
		if r.Command == "apply" && !r.OK {
			return silentExit(exitError)
		}
	}
	return nil
}

// describeSession is what auth status says about a session.
func describeSession(sess *session) *authStatus {
	st := &authStatus{TenantID: sess.TenantID, Cloud: firstNonEmpty(sess.Cloud, "global"), Endpoint: sess.Endpoint}
	if sess.Emulator {
		st.Cloud = "emulator"
	}
	c := sess.Claims
	if c == nil {
		return st
	}
	st.Checked = true
	id := &authIdentity{Type: "user", DisplayName: c.Name, UserPrincipalName: c.UPN, ObjectID: c.ObjectID}
	if c.App() {
		id = &authIdentity{Type: "application", DisplayName: c.AppDisplayName, AppID: c.AppID, ObjectID: c.ObjectID}
	}
	st.Identity = id
	st.Permissions = c.Permissions()
	if !c.App() {
		for _, r := range c.DirectoryRoles {
			st.DirectoryRoles = append(st.DirectoryRoles, authRole{ID: r, Name: permcheck.RoleNames[strings.ToLower(r)]})
		}
	}
	tok := tokenOf(c)
	for _, cmd := range permcheck.Commands {
		st.Commands = append(st.Commands, permcheck.Check(tok, cmd))
	}
	return st
}

func tokenOf(c *graphclient.Claims) permcheck.Token {
	return permcheck.Token{App: c.App(), Permissions: c.Permissions(), DirectoryRoles: c.DirectoryRoles, HasDirectoryRoles: c.HasDirectoryRoles}
}

// couldNotCheck is what arsync says of a token whose claims it cannot read.
const couldNotCheck = "could not check the token's permissions: it is not a JWT, so its claims cannot be read; Graph decides what it may do"

func writeAuthStatus(w io.Writer, st *authStatus) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Tenant:\t%s\n", orNone(st.TenantID))
	fmt.Fprintf(tw, "Cloud:\t%s\n", st.Cloud)
	fmt.Fprintf(tw, "Endpoint:\t%s\n", st.Endpoint)
	if !st.Checked {
		fmt.Fprintf(tw, "Token:\t%s\n", couldNotCheck)
		return tw.Flush()
	}
	id := st.Identity
	if id.Type == "application" {
		fmt.Fprintf(tw, "Signed in as:\tapplication %s (appId %s, object id %s)\n", orNone(id.DisplayName), orNone(id.AppID), orNone(id.ObjectID))
	} else {
		fmt.Fprintf(tw, "Signed in as:\tuser %s (%s, object id %s)\n", orNone(id.UserPrincipalName), orNone(id.DisplayName), orNone(id.ObjectID))
	}
	kind := "application permissions (roles)"
	if id.Type == "user" {
		kind = "delegated permissions (scp)"
	}
	fmt.Fprintf(tw, "Permissions:\t%s: %s\n", kind, orNone(strings.Join(st.Permissions, ", ")))
	if id.Type == "user" {
		var roles []string
		for _, r := range st.DirectoryRoles {
			roles = append(roles, firstNonEmpty(r.Name, r.ID))
		}
		fmt.Fprintf(tw, "Directory roles:\t%s\n", orNone(strings.Join(roles, ", ")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nCommands:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range st.Commands {
		verdict := "ok"
		if !r.OK {
			verdict = "no: " + r.Problem()
		}
		fmt.Fprintf(tw, "  %s\t%s\n", r.Command, verdict)
		for _, l := range r.Limits {
			fmt.Fprintf(tw, "  \t  %s\n", l)
		}
	}
	return tw.Flush()
}

// checkSignIn refuses, before any Graph call, a sign-in whose token shows
// it cannot do what command needs (the same sentence auth status gives). A
// token whose claims cannot be read is never refused; -v says so.
func checkSignIn(sess *session, command string) error {
	if sess.Claims == nil {
		if sess.Debug != nil {
			fmt.Fprintln(sess.Debug, couldNotCheck)
		}
		return nil
	}
	r := permcheck.Check(tokenOf(sess.Claims), command)
	if r.OK {
		return nil
	}
	return &exitCodeError{code: exitError, msg: r.Problem() + "; nothing was sent to Graph (arsync auth status shows what this sign-in can do)"}
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return s
}
