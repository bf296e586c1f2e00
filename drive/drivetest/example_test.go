package drivetest_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	drive "google.golang.org/api/drive/v3"
	"google.golang.org/api/option"

	"github.com/storesign/storesign/drive/drivetest"
)

// A fake Drive with a folder and a file, used through the real Go client,
// then with every request answered 503: the request log shows both.
func Example() {
	fake, _ := drivetest.New(drivetest.Options{})
	defer fake.Close()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	folder, _ := fake.AddFolder("", "", "builds")
	fake.AddFile(folder, "Game.ipa", strings.NewReader("ipa"))

	svc, _ := drive.NewService(context.Background(), option.WithEndpoint(srv.URL+"/drive/v3/"), option.WithHTTPClient(srv.Client()))
	list, err := svc.Files.List().Q(fmt.Sprintf("'%s' in parents and trashed = false", folder)).Fields("files(name,size,md5Checksum)").Do()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range list.Files {
		fmt.Println(f.Name, f.Size, f.Md5Checksum)
	}

	fake.SetFaults(drivetest.Faults{Rate: 1, Kinds: []drivetest.Fault{drivetest.Fault503}})
	_, err = svc.Files.Get(folder).Do()
	fmt.Println(err != nil)
	for _, r := range fake.Requests() {
		fmt.Println(r.Method, r.Path, r.Status, "fault="+r.Fault)
	}
	// Output:
	// Game.ipa 3 ae3272062ae7edb666e8dd33eda728be
	// true
	// GET /drive/v3/files 200 fault=
	// GET /drive/v3/files/1N6djqYZM6tssPTmyL-srrkKZg-EBXFO9 503 fault=503
}
