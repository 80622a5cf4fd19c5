// Package contract validates JSON responses against the schemas of the
// published OpenAPI contract (../shared/contract/openapi.json), for tests.
// Compiled schemas are cached; Validate is safe for concurrent use.
package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/yoloplane/yoloplane/internal/testshared"
)

const docURL = "file:///contract/openapi.json"

var (
	mu       sync.Mutex
	compiler *jsonschema.Compiler
	schemas  = map[string]*jsonschema.Schema{}
)

// Validate fails the test when body does not match the named schema under
// #/components/schemas, such as "PredictResponse" or "ErrorResponse".
func Validate(tb testing.TB, schema string, body []byte) {
	tb.Helper()
	s, err := compile(tb, schema)
	if err != nil {
		tb.Fatalf("compile contract schema %s: %v", schema, err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		tb.Errorf("response is not JSON: %v: %.200s", err, body)
		return
	}
	if err := s.Validate(v); err != nil {
		tb.Errorf("response does not match contract schema %s: %v\nbody: %.500s", schema, err, body)
	}
}

func compile(tb testing.TB, schema string) (*jsonschema.Schema, error) {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := schemas[schema]; ok {
		return s, nil
	}
	if compiler == nil {
		raw := testshared.Read(tb, "contract", "openapi.json")
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("parse openapi.json: %w", err)
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		if err := c.AddResource(docURL, doc); err != nil {
			return nil, err
		}
		compiler = c
	}
	s, err := compiler.Compile(docURL + "#/components/schemas/" + schema)
	if err != nil {
		return nil, err
	}
	schemas[schema] = s
	return s, nil
}
