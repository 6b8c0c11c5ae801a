// Package wixtar is a client for the Wixtar Omni (LaFresh) member API, the
// Taiwanese loyalty platform: for now the points usage records endpoint.
//
// Requests carry an OAuth 2.0 Bearer token from the client-credentials grant
// (POST TokenURL with client_id, client_secret, grant_type and scope=api).
// The client caches the token until shortly before it expires, fetches a new
// one at most once at a time however many goroutines need it, and on HTTP
// 401 fetches a new token once and repeats the request.
//
// The vendor's times have no zone ("2020-09-01T10:17:59"); they are read in
// Asia/Taipei (+08:00), and query dates are written there. Amounts and
// points stay exact as json.Number, whether the vendor sends them as JSON
// strings or numbers. Unknown point types are kept verbatim.
//
// Errors are [*APIError] (the vendor answered with an HTTP error status) or
// [*TransportError] (no usable answer). Both report Temporary, RetryAfter and
// VendorDetail, and match sentinels such as [ErrBadRequest] with errors.Is.
// Cancellation of the caller's context stays visible through
// errors.Is(err, context.Canceled).
//
// The simulator in package wixtartest implements the same endpoints.
package wixtar
