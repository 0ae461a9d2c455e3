// Package inspecttest checks inspection reports against the contract's
// JSON Schema (docs/report.schema.json). Tests of every command that
// prints a report use it, so the schema and the output cannot drift apart.
package inspecttest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaPath is the report schema's path in the repository.
func SchemaPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "docs", "report.schema.json")
}

// Validate reports whether doc is a valid inspection report.
func Validate(doc []byte) error {
	raw, err := os.ReadFile(SchemaPath())
	if err != nil {
		return err
	}
	schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("report.schema.json", schemaDoc); err != nil {
		return err
	}
	s, err := c.Compile("report.schema.json")
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("report is not JSON: %w", err)
	}
	return s.Validate(inst)
}
