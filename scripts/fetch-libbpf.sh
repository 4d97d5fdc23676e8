#!/usr/bin/env bash
# Populate libbpf/ (the vendored libbpf, pinned to v1.5.0).
#
# 1. If libbpf/ already holds libbpf 1.5.0, do nothing.
# 2. Try the git submodule (works where the upstream repository is reachable).
# 3. Otherwise take the same release from Debian's `libbpf` source package
#    (suite trixie), through a temporary deb-src list so that the machine's
#    apt configuration is never touched, verify the upstream tarball's SHA-256
#    and unpack it into libbpf/.
set -euo pipefail

want_version=1.5.0
# sha256 of Debian's libbpf_1.5.0.orig.tar.gz (the upstream v1.5.0 tree).
want_sha256=53492aff6dd47e4da04ef5e672d753b9743848bdb38e9d90eafbe190b7983c44
top=$(cd "$(dirname "$0")/.." && pwd)
dest="$top/libbpf"

have_version() {
    local f="$dest/src/libbpf_version.h"
    [ -f "$f" ] || return 1
    local major minor
    major=$(awk '/define LIBBPF_MAJOR_VERSION/ {print $3}' "$f")
    minor=$(awk '/define LIBBPF_MINOR_VERSION/ {print $3}' "$f")
    [ "$major.$minor.0" = "$want_version" ]
}

if have_version; then
    echo "libbpf/: libbpf $want_version already present"
    exit 0
fi

if [ -d "$top/.git" ] && command -v git >/dev/null; then
    if (cd "$top" && GIT_TERMINAL_PROMPT=0 timeout 60 git submodule update --init libbpf) >/dev/null 2>&1 && have_version; then
        echo "libbpf/: checked out the submodule"
        exit 0
    fi
fi

echo "libbpf/: submodule not reachable; fetching Debian's libbpf $want_version source package"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/src"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" > "$work/sources.list"
aptopts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=-"
         -o "Dir::State::Lists=$work/lists" -o "APT::Get::List-Cleanup=0"
         -o "APT::Sandbox::User=root")
apt-get "${aptopts[@]}" update -qq
(cd "$work/src" && apt-get "${aptopts[@]}" source --download-only -qq libbpf)
tarball="$work/src/libbpf_${want_version}.orig.tar.gz"
if [ ! -f "$tarball" ]; then
    echo "error: Debian's trixie suite no longer offers libbpf $want_version:" >&2
    ls "$work/src" >&2
    exit 1
fi
got=$(sha256sum "$tarball" | cut -d' ' -f1)
if [ "$got" != "$want_sha256" ]; then
    echo "error: libbpf_${want_version}.orig.tar.gz has sha256 $got, expected $want_sha256" >&2
    exit 1
fi
mkdir -p "$dest"
tar -xzf "$tarball" -C "$dest" --strip-components=1
have_version || { echo "error: unpacked tree is not libbpf $want_version" >&2; exit 1; }
echo "libbpf/: unpacked libbpf $want_version (sha256 verified)"
