package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/storesign/storesign/internal/jsondoc"
)

// jsonScriptCmds are the fixture commands that read the JSON documents
// of --json:
//
//	jsondoc COMMAND [PATH=JSON | PATH~REGEXP]...
//	    stdout is exactly one document of schema storesign/v1 whose
//	    first keys are "schema" and "command", the command COMMAND
//	    ("apk verify"); each PATH (dotted keys and list indexes:
//	    signers.0.commonName) holds the JSON value given (compared as
//	    compact JSON: 'app.id="com.example.app"', verified=true,
//	    problems=[]) or, with ~, a string matching REGEXP. "!PATH" says
//	    the key is absent.
func jsonScriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"jsondoc": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg {
				ts.Fatalf("jsondoc does not take !")
			}
			if len(args) < 1 {
				ts.Fatalf("usage: jsondoc COMMAND [PATH=JSON | PATH~REGEXP | !PATH]...")
			}
			doc, err := checkJSONDoc([]byte(ts.ReadFile("stdout")), args[0])
			if err != nil {
				ts.Fatalf("stdout: %v", err)
			}
			for _, a := range args[1:] {
				if err := checkJSONPath(doc, a); err != nil {
					ts.Fatalf("%s: %v", a, err)
				}
			}
		},
	}
}

// checkJSONDoc checks that b is one document of jsondoc.Schema for
// command, schema and command its first keys, and returns it decoded.
func checkJSONDoc(b []byte, command string) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object (%v): %.200q", err, b)
	}
	for len(keys) < 2 && dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
	}
	if len(keys) < 2 || keys[0] != "schema" || keys[1] != "command" {
		return nil, fmt.Errorf("the first keys are %q, want schema, command", keys)
	}
	var head jsondoc.Header
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, err
	}
	if head.Schema != jsondoc.Schema || head.Command != command {
		return nil, fmt.Errorf("schema %q, command %q: want %q, %q", head.Schema, head.Command, jsondoc.Schema, command)
	}
	dec = json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return doc, nil
}

// checkJSONPath checks one PATH=JSON, PATH~REGEXP or !PATH against doc.
func checkJSONPath(doc any, arg string) error {
	if path, ok := strings.CutPrefix(arg, "!"); ok {
		if _, err := jsonAt(doc, path); err == nil {
			return fmt.Errorf("%s is present", path)
		}
		return nil
	}
	i := strings.IndexAny(arg, "=~")
	if i < 0 {
		return fmt.Errorf("want PATH=JSON, PATH~REGEXP or !PATH")
	}
	v, err := jsonAt(doc, arg[:i])
	if err != nil {
		return err
	}
	if arg[i] == '~' {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%v is not a string", v)
		}
		re, err := regexp.Compile(arg[i+1:])
		if err != nil {
			return err
		}
		if !re.MatchString(s) {
			return fmt.Errorf("%q does not match", s)
		}
		return nil
	}
	got, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var want bytes.Buffer
	if err := json.Compact(&want, []byte(arg[i+1:])); err != nil {
		return fmt.Errorf("the value to compare is not JSON: %v", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		return fmt.Errorf("got %s", got)
	}
	return nil
}

// jsonAt returns the value at a dotted path of keys and list indexes.
func jsonAt(v any, path string) (any, error) {
	for _, k := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			e, ok := c[k]
			if !ok {
				return nil, fmt.Errorf("no key %q", k)
			}
			v = e
		case []any:
			n, err := strconv.Atoi(k)
			if err != nil || n < 0 || n >= len(c) {
				return nil, fmt.Errorf("no index %q in a list of %d", k, len(c))
			}
			v = c[n]
		default:
			return nil, fmt.Errorf("%q: not an object or a list", k)
		}
	}
	return v, nil
}
