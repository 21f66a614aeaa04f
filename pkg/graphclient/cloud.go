package graphclient

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
)

// Cloud names accepted by --cloud and [CloudConfig].
const (
	CloudGlobal   = "global"
	CloudUSGov    = "usgov"
	CloudUSGovDoD = "usgovdod"
	CloudChina    = "china"
)

// CloudInfo is where one national cloud signs in and where its Graph lives.
type CloudInfo struct {
	Name          string // global, usgov, usgovdod or china
	AuthorityHost string // Entra sign-in authority, e.g. https://login.microsoftonline.com/
	GraphURL      string // Graph root without version, e.g. https://graph.microsoft.com
	Scope         string // app-only token scope, GraphURL + "/.default"
}

// BaseURL is the v1.0 API root of the cloud's Graph.
func (ci CloudInfo) BaseURL() string { return ci.GraphURL + "/v1.0" }

// azureCloud is the azidentity configuration for the cloud's authority.
// US Gov L4 and L5 share one authority (and so one azcore configuration);
// they differ only in the Graph host.
func (ci CloudInfo) azureCloud() cloud.Configuration {
	switch ci.Name {
	case CloudUSGov, CloudUSGovDoD:
		return cloud.AzureGovernment
	case CloudChina:
		return cloud.AzureChina
	default:
		return cloud.AzurePublic
	}
}

// The table of docs/graph-behaviour.md#national-clouds. graph.microsoft.cn is a common
// mistake: China's Graph is microsoftgraph.chinacloudapi.cn.
var clouds = map[string]CloudInfo{
	CloudGlobal: {
		Name:          CloudGlobal,
		AuthorityHost: cloud.AzurePublic.ActiveDirectoryAuthorityHost,
		GraphURL:      "https://graph.microsoft.com",
		Scope:         "https://graph.microsoft.com/.default",
	},
	CloudUSGov: {
		Name:          CloudUSGov,
		AuthorityHost: cloud.AzureGovernment.ActiveDirectoryAuthorityHost,
		GraphURL:      "https://graph.microsoft.us",
		Scope:         "https://graph.microsoft.us/.default",
	},
	CloudUSGovDoD: {
		Name:          CloudUSGovDoD,
		AuthorityHost: cloud.AzureGovernment.ActiveDirectoryAuthorityHost,
		GraphURL:      "https://dod-graph.microsoft.us",
		Scope:         "https://dod-graph.microsoft.us/.default",
	},
	CloudChina: {
		Name:          CloudChina,
		AuthorityHost: cloud.AzureChina.ActiveDirectoryAuthorityHost,
		GraphURL:      "https://microsoftgraph.chinacloudapi.cn",
		Scope:         "https://microsoftgraph.chinacloudapi.cn/.default",
	},
}

// CloudNames lists the accepted cloud names in documentation order.
var CloudNames = []string{CloudGlobal, CloudUSGov, CloudUSGovDoD, CloudChina}

// CloudConfig returns the sign-in authority, Graph root and token scope of a
// national cloud. An empty name means global; names are case-insensitive.
func CloudConfig(name string) (CloudInfo, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		n = CloudGlobal
	}
	ci, ok := clouds[n]
	if !ok {
		return CloudInfo{}, fmt.Errorf("unknown cloud %q: use one of %s", name, strings.Join(CloudNames, ", "))
	}
	return ci, nil
}

// parseBaseURL checks a Graph base URL and returns it with a trailing slash,
// so relative paths resolve under the version segment. Plain http is allowed
// only to a loopback host (the emulator); a token must never cross a network
// in clear text. A URL without a path gets /v1.0.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("invalid Graph endpoint %q: %w", raw, err)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("invalid Graph endpoint %q: want an absolute https URL such as https://graph.microsoft.com/v1.0", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("invalid Graph endpoint %q: user information in the URL is not allowed", sanitizeURL(u))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid Graph endpoint %q: a base URL takes no query or fragment", sanitizeURL(u))
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("refusing plain http Graph endpoint %q: use https (http is allowed only to 127.0.0.1, ::1 or localhost)", raw)
	}
	if strings.Trim(u.Path, "/") == "" {
		u.Path = "/v1.0"
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath = ""
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// scopeForBase derives the token scope from a Graph base URL: its origin plus
// /.default, as Microsoft's SDKs do when no scope is configured.
func scopeForBase(u *url.URL) string {
	return u.Scheme + "://" + u.Host + "/.default"
}
