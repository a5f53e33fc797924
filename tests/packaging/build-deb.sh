#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds the Debian package of the kservice tree SRC the way a packager does: copies the tree,
# copies packaging/deb/debian into it, runs dpkg-buildpackage -us -uc -b. The .deb, .changes
# and .buildinfo end up in OUT, with the build log in OUT/deb-build.log. Also used by the
# integration suite to get the package it installs into the container.
#
# usage: build-deb.sh SRC OUT
set -euo pipefail
src=$(cd "$1" && pwd -P)
out=$2
here=$(dirname "$(readlink -f "$0")")

mkdir -p "$out"
out=$(cd "$out" && pwd -P)
work=$(mktemp -d "$out/deb-work.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$here/copy-tree.sh" "$src" "$work/kservice"
cp -a "$work/kservice/packaging/deb/debian" "$work/kservice/debian"

echo "building the .deb (log: $out/deb-build.log)"
if ! (cd "$work/kservice" && dpkg-buildpackage -us -uc -b) >"$out/deb-build.log" 2>&1; then
        echo "FAIL: dpkg-buildpackage failed; the end of its log:"
        tail -n 60 "$out/deb-build.log"
        exit 1
fi
# kservice_*.deb, and kservice-dbgsym_*.deb (debug symbols) that the .changes also lists
rm -f "$out"/kservice*_*.deb "$out"/kservice*_*.ddeb "$out"/kservice_*.changes "$out"/kservice_*.buildinfo
mv "$work"/kservice*_*.deb "$work"/kservice_*.changes "$work"/kservice_*.buildinfo "$out"/
mv "$work"/kservice*_*.ddeb "$out"/ 2>/dev/null || true
ls "$out"/kservice*_*.deb
