// Package wixtartest is an in-memory Wixtar Omni API for tests and for the
// all-in-one binary: what httptest is to net/http, this package is to
// package wixtar.
//
// A [Simulator] is an http.Handler serving the OAuth token endpoint
// (POST /oauth/v1/token, client-credentials grant) and
// GET /v1/points_usage_records behind Bearer tokens. Records are added with
// [Simulator.AddRecords] and can be rendered the ways the vendor's own
// example does: shop_name or store_name, string or number amounts, point
// types outside the documented list, times without a zone in Asia/Taipei.
// Token expiry follows Options.Now, so tests advance a fake clock instead of
// sleeping.
//
// Choices where the vendor is silent: error bodies are
// {"error": code, "message": text} (OAuth errors use error_description);
// a missing, unknown, expired or revoked token gets 401; missing or malformed
// dates, end before start and unknown time_sort values get 400; time_sort is
// ASC or DESC in any case, and without it records come in the order added;
// the window includes both ends.
package wixtartest
