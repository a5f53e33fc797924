#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the RPM of the kservice tree SRC on this (Debian) host: makes the release tarball
# kservice-VERSION.tar.gz from a copy of the tree and runs rpmbuild -bb on
# packaging/rpm/kservice.spec. --nodeps, because the Fedora BuildRequires are not rpm packages
# here (their Debian equivalents are installed); rpm-macros supplies the meson and systemd
# macros that Fedora's build root would have. The .rpm (and kservice-debuginfo) end up in OUT,
# the log in OUT/rpm-build.log.
#
# usage: build-rpm.sh SRC OUT
set -euo pipefail
src=$(cd "$1" && pwd -P)
out=$2
here=$(dirname "$(readlink -f "$0")")

mkdir -p "$out"
out=$(cd "$out" && pwd -P)
work=$(mktemp -d "$out/rpm-work.XXXXXX")
trap 'rm -rf "$work"' EXIT

version=$(sed -n 's/^Version:[[:space:]]*//p' "$src/packaging/rpm/kservice.spec")
mkdir -p "$work/SOURCES"
"$here/copy-tree.sh" "$src" "$work/kservice-$version"
tar -C "$work" -czf "$work/SOURCES/kservice-$version.tar.gz" "kservice-$version"

echo "building the .rpm (log: $out/rpm-build.log)"
if ! rpmbuild -bb --nodeps \
        --define "_topdir $work" \
        --load "$here/rpm-macros" \
        "$work/kservice-$version/packaging/rpm/kservice.spec" >"$out/rpm-build.log" 2>&1; then
        echo "FAIL: rpmbuild failed; the end of its log:"
        tail -n 60 "$out/rpm-build.log"
        exit 1
fi
rm -f "$out"/kservice-*.rpm
mv "$work"/RPMS/*/kservice-*.rpm "$out"/
ls "$out"/kservice-*.rpm
