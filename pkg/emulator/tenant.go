package emulator

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// Tenant is the emulator's directory, read from a YAML tenant file (see
// examples/tenant.yaml). Objects refer to each other by a reference: an
// object id, a user's userPrincipalName, a group's mailNickname or a
// service principal's displayName.
type Tenant struct {
	TenantID    string `yaml:"tenantId"`
	DisplayName string `yaml:"displayName"`
	Domain      string `yaml:"domain"`
	// Admin is the userPrincipalName of the identity used for tokens that
	// name no user.
	Admin             string             `yaml:"admin"`
	Users             []User             `yaml:"users"`
	Groups            []Group            `yaml:"groups"`
	ServicePrincipals []ServicePrincipal `yaml:"servicePrincipals"`
	RoleDefinitions   []RoleDefinition   `yaml:"roleDefinitions"`
	RoleAssignments   []RoleAssignment   `yaml:"roleAssignments"`
}

// User is a directory user. UserType is Member (default) or Guest.
type User struct {
	ID                 string `yaml:"id"`
	UserPrincipalName  string `yaml:"userPrincipalName"`
	DisplayName        string `yaml:"displayName"`
	GivenName          string `yaml:"givenName"`
	Surname            string `yaml:"surname"`
	Mail               string `yaml:"mail"`
	UserType           string `yaml:"userType"`
	JobTitle           string `yaml:"jobTitle"`
	Department         string `yaml:"department"`
	OfficeLocation     string `yaml:"officeLocation"`
	AccountEnabled     *bool  `yaml:"accountEnabled"`
	Manager            string `yaml:"manager"` // reference to a user
	CreatedDateTime    string `yaml:"createdDateTime"`
	LastSignInDateTime string `yaml:"lastSignInDateTime"` // "" = never signed in
}

// Group is a directory group. GroupTypes [Unified] makes it a Microsoft 365
// group; otherwise it is a security group.
type Group struct {
	ID                          string   `yaml:"id"`
	DisplayName                 string   `yaml:"displayName"`
	Description                 string   `yaml:"description"`
	MailNickname                string   `yaml:"mailNickname"`
	Mail                        string   `yaml:"mail"`
	GroupTypes                  []string `yaml:"groupTypes"`
	SecurityEnabled             *bool    `yaml:"securityEnabled"`
	MailEnabled                 *bool    `yaml:"mailEnabled"`
	Visibility                  string   `yaml:"visibility"`
	ResourceProvisioningOptions []string `yaml:"resourceProvisioningOptions"`
	IsAssignableToRole          bool     `yaml:"isAssignableToRole"`
	CreatedDateTime             string   `yaml:"createdDateTime"`
	Members                     []string `yaml:"members"` // references
	Owners                      []string `yaml:"owners"`  // references to users or service principals
}

// ServicePrincipal is an enterprise application.
type ServicePrincipal struct {
	ID                string              `yaml:"id"`
	AppID             string              `yaml:"appId"`
	DisplayName       string              `yaml:"displayName"`
	AppRoles          []AppRole           `yaml:"appRoles"`
	Owners            []string            `yaml:"owners"`
	AppRoleAssignedTo []AppRoleAssignment `yaml:"appRoleAssignedTo"`
}

// AppRole is a role an application defines.
type AppRole struct {
	ID          string `yaml:"id"`
	DisplayName string `yaml:"displayName"`
	Value       string `yaml:"value"`
	Description string `yaml:"description"`
}

// AppRoleAssignment grants a principal (user, group or service principal)
// an app role; an empty AppRoleID is the default access role.
type AppRoleAssignment struct {
	ID              string `yaml:"id"`
	Principal       string `yaml:"principal"`
	AppRoleID       string `yaml:"appRoleId"`
	CreatedDateTime string `yaml:"createdDateTime"`
}

// RoleDefinition is a directory (Entra) role.
type RoleDefinition struct {
	ID          string `yaml:"id"`
	DisplayName string `yaml:"displayName"`
	Description string `yaml:"description"`
	TemplateID  string `yaml:"templateId"`
	IsBuiltIn   *bool  `yaml:"isBuiltIn"`
}

// RoleAssignment assigns a role (by id or displayName) to a principal.
// An active assignment (the default) is listed by roleAssignments and
// roleAssignmentScheduleInstances and gives the principal the role; an
// eligible one (Privileged Identity Management) only lets the principal
// activate it, and is listed by roleEligibilitySchedules and
// roleEligibilityScheduleInstances instead.
type RoleAssignment struct {
	ID               string `yaml:"id"`
	Role             string `yaml:"role"`
	Principal        string `yaml:"principal"`
	DirectoryScopeID string `yaml:"directoryScopeId"`
	Eligible         bool   `yaml:"eligible"`
	// StartDateTime and EndDateTime (RFC 3339) bound the assignment's
	// schedule; "" is no start recorded and no expiration. An assignment
	// whose end has passed is no longer listed.
	StartDateTime string `yaml:"startDateTime"`
	EndDateTime   string `yaml:"endDateTime"`
}

//go:embed tenant.yaml
var demoTenantYAML []byte

// DemoTenant returns the built-in demo tenant (the same content as
// examples/tenant.yaml).
func DemoTenant() (*Tenant, error) {
	t, err := ParseTenant(bytes.NewReader(demoTenantYAML))
	if err != nil {
		return nil, fmt.Errorf("built-in tenant: %w", err)
	}
	return t, nil
}

// LoadTenant reads a YAML tenant file and checks it.
func LoadTenant(path string) (*Tenant, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading tenant: %w", err)
	}
	defer f.Close()
	t, err := ParseTenant(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ParseTenant decodes a tenant (unknown fields are errors) and checks that
// ids are unique and every reference resolves.
func ParseTenant(r io.Reader) (*Tenant, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var t Tenant
	if err := dec.Decode(&t); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("tenant file is empty")
		}
		return nil, err
	}
	if _, err := newDirectory(&t); err != nil {
		return nil, err
	}
	return &t, nil
}
