package jsondoc

import (
	"github.com/storesign/storesign/drive"
)

// DriveFile is a file or folder in Google Drive.
type DriveFile struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	MimeType string `json:"mimeType"`
	// Folder reports a folder; ShortcutTarget, for a shortcut, is its target's
	// ID (left out otherwise).
	Folder         bool   `json:"folder"`
	ShortcutTarget string `json:"shortcutTarget,omitempty"`
	// Size is in bytes (0 for folders and Google Docs).
	Size int64 `json:"size"`
	// MD5 and SHA256 are Drive's checksums of the content; left out when
	// Drive gives none (folders, Google Docs).
	MD5          string `json:"md5,omitempty"`
	SHA256       string `json:"sha256,omitempty"`
	ModifiedTime string `json:"modifiedTime,omitempty"`
	// Link opens the file in a browser.
	Link string `json:"link"`
}

func driveFile(f *drive.File) DriveFile {
	if f == nil {
		return DriveFile{}
	}
	link := f.WebViewLink
	if link == "" && f.ID != "" {
		link = "https://drive.google.com/file/d/" + f.ID + "/view"
		if f.IsFolder() {
			link = "https://drive.google.com/drive/folders/" + f.ID
		}
	}
	return DriveFile{
		ID: f.ID, Name: f.Name, MimeType: f.MimeType, Folder: f.IsFolder(), ShortcutTarget: f.ShortcutTarget,
		Size: f.Size, MD5: f.MD5, SHA256: f.SHA256, ModifiedTime: timeString(f.ModifiedTime), Link: link,
	}
}

// DriveListDoc is the document of drive ls.
type DriveListDoc struct {
	Header
	// Folder is the folder listed, as given (an ID or a link).
	Folder string `json:"folder"`
	// Files are its files and folders, newest first, trashed ones left
	// out.
	Files []DriveFile `json:"files"`
}

// DriveList is the document of drive ls, files what [drive.Client.List]
// returned for folder.
func DriveList(folder string, files []*drive.File) *DriveListDoc {
	d := &DriveListDoc{Header: header("drive ls"), Folder: folder, Files: []DriveFile{}}
	for _, f := range files {
		if f != nil {
			d.Files = append(d.Files, driveFile(f))
		}
	}
	return d
}

// DriveTransferDoc is the document of drive get and drive put: the local
// file and the Drive file.
type DriveTransferDoc struct {
	Header
	// File is the local file: the one written (get) or uploaded (put).
	File File `json:"file"`
	// Drive is the file in Drive.
	Drive DriveFile `json:"drive"`
	// Status is "downloaded" (get), or "uploaded", "replaced" (a new
	// revision of a same-named file) or "skipped" (an identical file was
	// there already) for put.
	Status string `json:"status"`
}

// DriveGet is the document of drive get: f downloaded to path, as
// [drive.Client.DownloadFile] did. It reads the file.
func DriveGet(path string, f *drive.File) *DriveTransferDoc {
	return &DriveTransferDoc{Header: header("drive get"), File: newFile(path), Drive: driveFile(f), Status: "downloaded"}
}

// DrivePut is the document of drive put: the file at path uploaded, res
// what [drive.Client.UploadFile] returned. It reads the file.
func DrivePut(path string, res *drive.UploadResult) *DriveTransferDoc {
	d := &DriveTransferDoc{Header: header("drive put"), File: newFile(path), Status: "uploaded"}
	if res == nil {
		return d
	}
	d.Drive = driveFile(res.File)
	switch {
	case res.Skipped:
		d.Status = "skipped"
	case res.Replaced:
		d.Status = "replaced"
	}
	return d
}
