package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"reflect"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/apierr"
)

// checkJSONContentType rejects a request whose Content-Type names a format
// other than JSON, such as a form. A missing type passes, and so do
// text/plain and application/octet-stream, because scripts and HTTP
// libraries send those when the caller names no type.
// The status is 415, or 400 on a contract operation, whose responses never
// list 415.
func checkJSONContentType(ctx *fasthttp.RequestCtx) *apierr.Error {
	header := string(ctx.Request.Header.ContentType())
	if strings.TrimSpace(header) == "" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(header)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		if len(header) > 80 {
			header = header[:80] + "..."
		}
		return unsupportedMedia(ctx, "Content-Type %q is invalid: send the JSON object with Content-Type: application/json", header)
	}
	switch {
	case mediaType == "application/json", strings.HasSuffix(mediaType, "+json"), mediaType == "text/json",
		mediaType == "text/plain", mediaType == "application/octet-stream":
		return nil
	case mediaType == "application/x-www-form-urlencoded":
		return unsupportedMedia(ctx, "Content-Type %s is not supported here: send the JSON object with Content-Type: application/json "+
			"(curl -d sends %s unless you add -H \"Content-Type: application/json\")", mediaType, mediaType)
	}
	return unsupportedMedia(ctx, "Content-Type %s is not supported here: send the JSON object with Content-Type: application/json", mediaType)
}

func unsupportedMedia(ctx *fasthttp.RequestCtx, format string, args ...any) *apierr.Error {
	if isContractRequest(ctx) {
		return apierr.Validation(format, args...)
	}
	return apierr.New(fasthttp.StatusUnsupportedMediaType, apierr.CodeUnsupportedMedia, format, args...)
}

// jsonValueKind names the kind of JSON value that body starts with, or
// returns "" when no JSON value starts there.
func jsonValueKind(body []byte) string {
	switch b := body[0]; {
	case b == '{':
		return "an object"
	case b == '[':
		return "an array"
	case b == '"':
		return "a string"
	case b == '-' || '0' <= b && b <= '9':
		return "a number"
	case bytes.HasPrefix(body, []byte("true")), bytes.HasPrefix(body, []byte("false")):
		return "a boolean"
	case bytes.HasPrefix(body, []byte("null")):
		return "null"
	}
	return ""
}

// jsonDecodeError converts an error from decoding into v into a message
// that names what to change in the request.
func jsonDecodeError(err error, v any) *apierr.Error {
	var syntax *json.SyntaxError
	var mismatch *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return apierr.Validation("request body is not valid JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apierr.Validation("request body ends inside the JSON object: check for a missing closing brace or quote")
	case errors.As(err, &mismatch) && mismatch.Field != "":
		return apierr.Validation("field %q must be %s, got %s",
			mismatch.Field, expectedJSON(reflect.TypeOf(v), mismatch), jsonValueName(mismatch.Value))
	case errors.As(err, &mismatch):
		return apierr.Validation("request body must be a JSON object, got %s", jsonValueName(mismatch.Value))
	}
	return apierr.Validation("request body could not be decoded: send a JSON object")
}

// expectedJSON describes the JSON that the field of a type mismatch takes.
// When the field is a map or a slice and the mismatch is in one of its
// values, it describes the container and its values.
func expectedJSON(root reflect.Type, mismatch *json.UnmarshalTypeError) string {
	declared := fieldType(root, strings.Split(mismatch.Field, "."))
	if declared == nil || declared == mismatch.Type {
		return jsonTypeName(mismatch.Type)
	}
	switch declared.Kind() {
	case reflect.Map:
		return "a JSON object whose values are each " + jsonTypeName(declared.Elem())
	case reflect.Slice, reflect.Array:
		return "a JSON array whose items are each " + jsonTypeName(declared.Elem())
	}
	return jsonTypeName(mismatch.Type)
}

// fieldType returns the declared type of the field at path, a list of JSON
// names, in the struct t, or nil when path leads elsewhere.
func fieldType(t reflect.Type, path []string) reflect.Type {
	for _, name := range path {
		t = derefType(t)
		if t.Kind() != reflect.Struct {
			return nil
		}
		f, ok := structFieldByJSONName(t, name)
		if !ok {
			return nil
		}
		t = f.Type
	}
	return derefType(t)
}

// structFieldByJSONName finds the field that encoding/json decodes the
// key name into: the one tagged with name, or else the one whose Go name
// equals name without regard to case.
func structFieldByJSONName(t reflect.Type, name string) (reflect.StructField, bool) {
	var byName *reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == name {
			return f, true
		}
		if tag == "" && byName == nil && strings.EqualFold(f.Name, name) {
			byName = &f
		}
	}
	if byName != nil {
		return *byName, true
	}
	return reflect.StructField{}, false
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// jsonTypeName names the JSON value that encoding/json decodes into t.
func jsonTypeName(t reflect.Type) string {
	switch derefType(t).Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Map, reflect.Struct:
		return "a JSON object"
	case reflect.Slice, reflect.Array:
		return "a JSON array"
	}
	return "another JSON value"
}

// jsonValueName turns the Value of a json.UnmarshalTypeError, such as
// "bool" or "number 1.5", into words.
func jsonValueName(value string) string {
	switch {
	case value == "bool":
		return "a boolean"
	case value == "array":
		return "an array"
	case value == "object":
		return "an object"
	case value == "string", value == "number":
		return "a " + value
	case strings.HasPrefix(value, "number "):
		return "the number " + strings.TrimPrefix(value, "number ")
	}
	return fmt.Sprintf("the value %s", value)
}
