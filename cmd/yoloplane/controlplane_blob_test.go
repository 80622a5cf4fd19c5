package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestControlPlaneBlobFromPeer uploads a model file through one voter and
// downloads it through another, which fetches the file from its peer.
func TestControlPlaneBlobFromPeer(t *testing.T) {
	vs, key := startThreeVoters(t)
	if status, _, body, err := request("POST", "http://"+vs[0].listen+"/api/projects", key, []byte(`{"project":"cars"}`)); err != nil || status != http.StatusCreated {
		t.Fatalf("create project: status %d, err %v: %s", status, err, body)
	}
	weights := bytes.Repeat([]byte("pt weights "), 10_000)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("project", "cars")
	fw, _ := mw.CreateFormFile("file", "best.pt")
	fw.Write(weights)
	mw.Close()
	req, _ := http.NewRequest("POST", "http://"+vs[0].listen+"/api/models", &form)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload through n1: status %d: %s", resp.StatusCode, body)
	}

	// n3 applies the model record shortly after n1 acknowledged it.
	var status int
	waitFor(t, "model record on n3", 10*time.Second, func() bool {
		status, _, body, err = request("GET", "http://"+vs[2].listen+"/api/models/yoloplane/cars/best/files", key, nil)
		return err == nil && status == http.StatusOK
	})
	var files struct {
		Files []struct {
			DownloadURL string `json:"downloadUrl"`
		} `json:"files"`
	}
	if err := json.Unmarshal(body, &files); err != nil || len(files.Files) != 1 {
		t.Fatalf("files on n3: %s", body)
	}
	url := files.Files[0].DownloadURL
	if !strings.Contains(url, vs[2].listen) {
		t.Fatalf("download URL %s does not point at n3 (%s)", url, vs[2].listen)
	}
	status, _, got, err := request("GET", url, "", nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("download from n3: status %d, err %v: %s", status, err, got)
	}
	if !bytes.Equal(got, weights) {
		t.Fatalf("download from n3 returned %d bytes that differ from the %d uploaded", len(got), len(weights))
	}
}
