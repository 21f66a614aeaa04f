#!/usr/bin/env bash
# Installs the arsync release binary for the GitHub Action (action.yml):
# downloads the archive for this runner's OS and architecture from the
# release named by the action's ref (or the version input), checks its
# SHA-256 against the release's checksums file, and puts arsync on PATH.
#
# Writes installed=true to $GITHUB_OUTPUT when it did, installed=false when
# that ref has no release (not a vX.Y.Z tag, an unsupported runner, or the
# release's checksums file answers 404): the action then builds arsync from
# source. Anything else (a checksum mismatch, no checksum for the archive, a
# missing archive, an HTTP or network error) fails the step and never falls
# back: a release that exists but does not verify must not run.
#
# Environment (the action sets the first three; tests set the rest):
#   ARSYNC_VERSION             the version input: a release tag (vX.Y.Z); wins over the ref
#   ARSYNC_ACTION_REF          ${{ github.action_ref }}
#   ARSYNC_ACTION_REPOSITORY   ${{ github.action_repository }} (default arsync/arsync)
#   ARSYNC_RELEASE_BASE_URL    default https://github.com/<repository>/releases/download
#   ARSYNC_INSTALL_RETRIES     curl --retry count for transient errors (default 3)
#   RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_PATH (set by the runner)
# Tested by internal/release/install_test.go against a local fake release server.
set -euo pipefail

log() { echo "arsync install: $*" >&2; }
fail() {
  echo "::error title=arsync install::$*" >&2
  exit 1
}
output() { echo "$1=$2" >>"${GITHUB_OUTPUT:-/dev/null}"; }
fallback() {
  log "$*: building arsync from source instead"
  output installed false
  exit 0
}

# A release tag, and nothing that could change the URL's meaning.
tag_re='^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$'

if [ -n "${ARSYNC_VERSION:-}" ]; then
  ref=$ARSYNC_VERSION
  [[ $ref =~ $tag_re ]] || fail "the version input must be a release tag such as v1.2.3, not \"$ref\""
else
  ref=${ARSYNC_ACTION_REF:-}
  [ -n "$ref" ] || fallback "the action has no ref (a local action, uses: ./)"
  [[ $ref =~ $tag_re ]] || fallback "the action's ref \"$ref\" is not a release tag (vX.Y.Z)"
fi

case "${RUNNER_OS:-}" in
  Linux) os=linux ;;
  macOS) os=darwin ;;
  Windows) os=windows ;;
  *) fallback "no release binary for runner OS \"${RUNNER_OS:-}\"" ;;
esac
case "${RUNNER_ARCH:-}" in
  X64) arch=amd64 ;;
  ARM64) arch=arm64 ;;
  *) fallback "no release binary for runner architecture \"${RUNNER_ARCH:-}\"" ;;
esac

repo=${ARSYNC_ACTION_REPOSITORY:-arsync/arsync}
base=${ARSYNC_RELEASE_BASE_URL:-https://github.com/$repo/releases/download}
retries=${ARSYNC_INSTALL_RETRIES:-3}
version=${ref#v}
exe=arsync
ext=tar.gz
if [ "$os" = windows ]; then
  exe=arsync.exe
  ext=zip
fi
# Names as .goreleaser.yaml makes them.
archive="arsync_${version}_${os}_${arch}.${ext}"
sums="arsync_${version}_checksums.txt"

dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/arsync-release"
rm -rf "$dir"
mkdir -p "$dir/bin"

# fetch URL FILE prints the final HTTP status; a network failure fails.
fetch() {
  local code
  code=$(curl --silent --show-error --location --retry "$retries" \
    --output "$2" --write-out '%{http_code}' "$1") ||
    fail "could not download $1"
  echo "$code"
}

sha256() {
  local line
  if command -v sha256sum >/dev/null 2>&1; then
    line=$(sha256sum "$1")
  elif command -v shasum >/dev/null 2>&1; then
    line=$(shasum -a 256 "$1")
  else
    fail "neither sha256sum nor shasum is installed: cannot verify $1"
  fi
  echo "${line%% *}" | tr 'A-F' 'a-f'
}

code=$(fetch "$base/$ref/$sums" "$dir/$sums")
case "$code" in
  200) ;;
  404) fallback "release $ref has no $sums (HTTP 404 from $base/$ref/$sums)" ;;
  *) fail "downloading $base/$ref/$sums: HTTP $code" ;;
esac

# sha256sum's format: "<hex>  <name>", or "<hex> *<name>" in binary mode.
expected=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print tolower($1) }' "$dir/$sums")
count=$(printf '%s' "$expected" | grep -c . || true)
[ "$count" -eq 1 ] || fail "$sums of release $ref has $count entries for $archive, not one: refusing to install an unverified binary"
[[ $expected =~ ^[0-9a-f]{64}$ ]] || fail "$sums of release $ref has no valid SHA-256 for $archive"

code=$(fetch "$base/$ref/$archive" "$dir/$archive")
[ "$code" = 200 ] || fail "downloading $base/$ref/$archive: HTTP $code"

actual=$(sha256 "$dir/$archive")
if [ "$actual" != "$expected" ]; then
  fail "checksum mismatch for $archive of release $ref: $sums says $expected, the download is $actual; refusing to run it"
fi
log "verified $archive (sha256 $actual)"

if [ "$ext" = zip ]; then
  if command -v unzip >/dev/null 2>&1; then
    unzip -o -q "$dir/$archive" "$exe" -d "$dir/bin" || fail "could not extract $exe from $archive"
  elif command -v 7z >/dev/null 2>&1; then
    7z x -y -bd "-o$dir/bin" "$dir/$archive" "$exe" >/dev/null || fail "could not extract $exe from $archive"
  else
    pwsh -NoProfile -Command 'Expand-Archive -LiteralPath $args[0] -DestinationPath $args[1] -Force' \
      "$(cygpath -w "$dir/$archive")" "$(cygpath -w "$dir/bin")" || fail "could not extract $exe from $archive"
  fi
else
  tar -xzf "$dir/$archive" -C "$dir/bin" "$exe" || fail "could not extract $exe from $archive"
fi
[ -f "$dir/bin/$exe" ] || fail "$archive has no $exe"
chmod +x "$dir/bin/$exe"
"$dir/bin/$exe" version || fail "the downloaded $exe does not run on this runner"

echo "$dir/bin" >>"${GITHUB_PATH:-/dev/null}"
output installed true
output version "$ref"
