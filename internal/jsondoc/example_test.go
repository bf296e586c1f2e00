package jsondoc_test

import (
	"os"

	"github.com/storesign/storesign/internal/jsondoc"
)

func ExampleWrite() {
	d := jsondoc.Version(jsondoc.BuildInfo{Version: "v1.4.0", Time: "2026-12-04T21:00:00+01:00", GoVersion: "go1.26.8", OS: "linux", Arch: "arm64"})
	if err := jsondoc.Write(os.Stdout, d); err != nil {
		panic(err)
	}
	// Output:
	// {
	//   "schema": "storesign/v1",
	//   "command": "version",
	//   "version": "v1.4.0",
	//   "time": "2026-12-04T20:00:00Z",
	//   "goVersion": "go1.26.8",
	//   "os": "linux",
	//   "arch": "arm64"
	// }
}
