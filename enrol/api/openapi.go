package api

import _ "embed"

// openAPIDocument is the OpenAPI 3.1 description of every route, served at GET /v1/openapi.json. It is
// written by hand; TestOpenAPIMatchesRoutes keeps it and the route table equal.
//
//go:embed openapi.json
var openAPIDocument []byte
