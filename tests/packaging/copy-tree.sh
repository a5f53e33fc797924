#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copies the kservice source tree SRC to DEST (which must not exist) as a packager gets it:
# the files git knows about (tracked, and untracked ones that are not ignored, so work not yet
# committed is packaged too), or, outside a git checkout, everything but build directories.
#
# usage: copy-tree.sh SRC DEST
set -euo pipefail
src=$1 dest=$2

mkdir "$dest"
if git -C "$src" rev-parse --show-toplevel >/dev/null 2>&1 &&
   [ "$(git -C "$src" rev-parse --show-toplevel)" = "$(cd "$src" && pwd -P)" ]; then
        (cd "$src" && git ls-files -z --cached --others --exclude-standard |
                while IFS= read -r -d '' f; do
                        # deleted but not yet committed: skip
                        [ -e "$f" ] || [ -L "$f" ] || continue
                        printf '%s\0' "$f"
                done | tar --null -T - -cf -) | tar -C "$dest" -xf -
else
        tar -C "$src" --exclude='./build*' --exclude=./.git --exclude='./obj-*' -cf - . |
                tar -C "$dest" -xf -
fi
