package rest

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// TestResponsesMatchOpenAPI validates every golden response against
// openapi.yaml.
func TestResponsesMatchOpenAPI(t *testing.T) {
	ctx := context.Background()
	doc, err := openapi3.NewLoader().LoadFromFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	cases := append(goldenCases(),
		goldenCase{"healthz", "GET", "/healthz", "", fakeRegistrations{}, 200},
		goldenCase{"readyz", "GET", "/readyz", "", fakeRegistrations{}, 200},
		goldenCase{"csv", "GET", base + "?accept=csv", goodTok, fakeRegistrations{}, 200},
	)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			checkOpenAPI(t, doc, router, tt.method, tt.path, do(newTestServer(t, tt.regs, nil), tt.method, tt.path, tt.token))
		})
	}
}

// checkOpenAPI validates the answer w to method path against doc: the
// response of its operation, or the Error schema for a path or method the
// API does not have.
func checkOpenAPI(t *testing.T, doc *openapi3.T, router routers.Router, method, path string, w *httptest.ResponseRecorder) {
	t.Helper()
	ctx := context.Background()
	req := httptest.NewRequest(method, "http://127.0.0.1:8000"+path, nil)
	route, params, err := router.FindRoute(req)
	if err != nil {
		var v any
		if jerr := json.Unmarshal(w.Body.Bytes(), &v); jerr != nil {
			t.Fatal(jerr)
		}
		if verr := doc.Components.Schemas["Error"].Value.VisitJSON(v); verr != nil {
			t.Errorf("%d: %v", w.Code, verr)
		}
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 w.Code,
		Header:                 w.Header(),
		Body:                   io.NopCloser(w.Body),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		t.Errorf("%d: %v", w.Code, err)
	}
}
