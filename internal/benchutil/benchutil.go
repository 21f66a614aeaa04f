// Package benchutil holds helpers shared by the benchmarks behind the issues'
// memory targets.
package benchutil

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/arsync/arsync/pkg/emulator"
)

// PeakHeap samples the heap in use every few milliseconds until the returned
// stop function is called, which reports the largest value seen in MB. It
// measures what is held at once, unlike -benchmem's B/op (all allocation).
func PeakHeap() (stop func() float64) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var peak uint64
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		wg.Wait()
		return float64(peak) / (1 << 20)
	}
}

// PartnerGuests is the directory of the decisions benchmarks (issue 8): an
// admin, and n guest users in one Microsoft 365 group, Partners, that the
// admin owns. Every guest last signed in on 2026-01-01.
func PartnerGuests(n int) *emulator.Tenant {
	tenant := &emulator.Tenant{TenantID: "5c1b9a52-7f0e-4a7b-9d39-0b6f2e3c4d11", Domain: "contoso.com", Admin: "admin@contoso.com",
		Users: []emulator.User{{UserPrincipalName: "admin@contoso.com", DisplayName: "Admin"}}}
	group := emulator.Group{DisplayName: "Partners", MailNickname: "partners", GroupTypes: []string{"Unified"}, Owners: []string{"admin@contoso.com"}}
	for i := range n {
		upn := fmt.Sprintf("guest%04d_partner.com#EXT#@contoso.onmicrosoft.com", i)
		tenant.Users = append(tenant.Users, emulator.User{UserPrincipalName: upn, DisplayName: fmt.Sprintf("Guest %04d", i),
			UserType: "Guest", LastSignInDateTime: "2026-01-01T00:00:00Z"})
		group.Members = append(group.Members, upn)
	}
	tenant.Groups = []emulator.Group{group}
	return tenant
}
