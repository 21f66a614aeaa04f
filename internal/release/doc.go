// Package release holds no code: its tests check what ships a release,
// which lives outside Go. The GitHub Action's installer
// (action-install.sh) runs against a local fake release server, and the
// GoReleaser configuration (.goreleaser.yaml) and the image's Dockerfile
// (release.Dockerfile) are read for what they must promise: six targets,
// SHA-256 checksums, a static non-root image.
package release
