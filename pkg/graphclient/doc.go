// Package graphclient is arsync's one door to Microsoft Graph: HTTP,
// sign-in, national clouds, retries, paging and batching. It speaks the
// access-review types of pkg/graph (definitions, instances, decisions,
// graph.Error) and has its own types only for the directory look-ups. It
// holds no access-review business logic (no diffing, no ownership marker).
//
// # Client
//
// [New] takes [Options]; only a credential is required:
//
//	cred, err := graphclient.NewCredential(ctx, graphclient.AuthOptions{Method: "auto"})
//	c, err := graphclient.New(graphclient.Options{Credential: cred, Cloud: "global"})
//	for d, err := range c.ListDefinitions(ctx, nil) { ... }
//
// The base URL comes from the cloud (global, usgov, usgovdod, china) unless
// Options.BaseURL (--graph-endpoint) overrides it; the token scope is then
// that URL's scheme and host plus "/.default". Plain http is accepted only
// for loopback hosts (the emulator).
//
// # Reliability
//
// Every logical request gets one client-request-id, kept across its retries.
// 429, 503 and 504 are retried, honouring Retry-After in whole or fractional
// seconds (rounded up) or as an HTTP date; without it the client backs off
// exponentially from 1 s to 1 min with jitter. A single wait may last
// minutes (identity-governance endpoints ask for up to 315 s); a wait longer
// than Options.MaxRetryWait, or one that would pass the context's deadline,
// ends the retries with the throttling error rather than returning early.
// Cancelling the context interrupts a wait at once. Options.MaxConcurrency
// bounds the requests in flight across the whole client.
//
// Throttling pauses the host, not one request: a 429, or a 503 with
// Retry-After (also inside a $batch), holds back every request of the client
// to its Graph host until the wait has passed, including those waiting for
// a slot; a request that would still be held at its context's deadline fails
// at once without being sent. A wait longer than MaxRetryWait pauses
// nothing. Every wait the service asked for gets up to 1 s of jitter from
// Options.Rand, so requests held back together come back apart
// (docs/graph-behaviour.md#throttling-and-retries).
//
// Creates (POST) are never repeated once they may have reached the service.
// They are retried only after 429 or a failure to connect; a dropped
// connection, a timeout, a context cancelled while waiting for the answer,
// or 500, 502, 503, 504 or 408 returns an [graph.UnknownOutcomeError], and the
// caller decides (arsync lists definitions and looks for its marker). So
// does a 2xx answer to a create whose body does not name the new
// definition. GET, PUT and DELETE are also retried after transport errors;
// a DELETE that gets 404 after an attempt that may have succeeded counts as
// done, and one that still ends in anything but a 4xx answer returns an
// [graph.UnknownOutcomeError] too (arsync then reads the definition to see
// whether it is gone).
//
// A response body over 64 MiB is never retried: the request fails at once
// with [ErrResponseTooLarge] (for a create that may have been carried out,
// inside a [graph.UnknownOutcomeError]).
//
// GET, PUT and DELETE answered 500 or 502 are sent again too, but at most
// 3 times in all, with the same backoff: azcore's retry policy (and so the
// Terraform msgraph provider, built on it) retries both, while Microsoft's
// Graph SDKs retry only 429, 503 and 504
// (docs/graph-behaviour.md#throttling-and-retries). A 500 from Graph is as
// often an answer to this request as a passing fault, so the bound keeps a
// failing CI run quick. A POST answered 500 or 502 is never repeated (see
// above).
//
// Certificate, TLS and protocol failures (an untrusted or expired
// certificate, a name mismatch, https spoken to an http server, a TLS
// alert, a malformed HTTP answer) are never retried: they do not heal by
// waiting. The request fails at once with a hint (a TLS-inspecting proxy
// and its CA, SSL_CERT_FILE, HTTPS_PROXY, the URL's scheme); a handshake
// that failed sent nothing, so not even a create's outcome is unknown.
//
// # Errors
//
// A non-2xx answer is an [*graph.Error] with status, Graph's code (possibly empty),
// message, request-id, client-request-id and date, printed as one line.
// [graph.IsNotFound], [graph.IsThrottled], [graph.IsForbidden], [graph.IsConflict] and
// [graph.IsUnknownOutcome] classify errors; *Error also answers errors.Is for
// [graph.ErrNotFound], [graph.ErrThrottled], [graph.ErrUnauthorized], [graph.ErrForbidden] and
// [graph.ErrConflict].
//
// # Paging
//
// List methods return iter.Seq2 iterators that follow @odata.nextLink as an
// opaque URL, one page in memory at a time (the next page is requested
// while the current one is consumed). A nextLink to any host other than
// the configured Graph host ends the iteration with [ErrForeignHost]
// before anything, and so no token, is sent there. A list always ends:
// a nextLink to a page already read, a page repeating an earlier one's
// items, 50 empty pages in a row, or more than Options.MaxPages pages
// (default [DefaultMaxPages], a million items at Graph's page size) end
// it with an error after the items read so far.
//
// # Directory look-ups
//
// [Client.LookupUsers], [Client.LookupGroups] and
// [Client.LookupServicePrincipals] resolve names with "$filter=x in (...)"
// (15 values per filter) packed 20 filters per $batch, so N names cost
// about N/300 round trips (N/150 for users, whose names are tried both as
// UPN and as mail); throttled batch items are retried after the
// longest Retry-After among them. [Client.LookupRoleDefinitions] lists the
// tenant's roles once. [Client.GetDirectoryObjects] turns up to 1000 ids
// per round trip back into objects.
//
// # Security
//
// The token is sent only to the configured Graph host: redirects are not
// followed, and absolute URLs elsewhere are refused. Options.Debug logs
// method, URL, status, timing, request-id and client-request-id per attempt,
// never headers. Every string from the service that can reach output (an
// error's code, inner codes, message, ids and date, a text body, a URL, a
// debug line) is scrubbed of the tokens the client used and of
// Options.Secrets, whole and in any part of 8 bytes or more, and whole
// secrets are replaced before anything is cut short, so a service or
// proxy that echoes the token cannot get a piece of it printed.
// Secret-looking query parameters are redacted.
//
// # Authentication
//
// [NewCredential] builds the credential for --auth (see docs/auth.md):
// auto, env, workload-identity, github-oidc, azure-cli, managed-identity or
// device-code, over azidentity, plus ARSYNC_ACCESS_TOKEN as a
// [StaticToken].
package graphclient
