#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every built man page renders without warnings, under both formatters a user may have:
# groff (what man-db runs; -ww enables every warning) and mandoc -Tlint. Also checks that
# the page's .TH matches its file name and that kservice cross-references name pages that exist.
#
# usage: test-man-render.sh "KNOWN-PAGE..." PAGE...
#   KNOWN-PAGE: every page this project declares (name.section), built here or not.
#
# scdoc emits an empty paragraph macro (.P) after every heading and around lists; mandoc calls
# that "skipping paragraph macro" (harmless: the formatter just drops it). That one message is
# the only mandoc warning tolerated; anything else, at warning level or above, fails.
set -u
known=" $1 "; shift

for tool in groff mandoc; do
        if ! command -v "$tool" >/dev/null; then
                echo "SKIP: $tool is not installed"
                exit 77
        fi
done
[ $# -gt 0 ] || { echo "FAIL: no pages given"; exit 1; }

fail=0
for page in "$@"; do
        name=$(basename "$page")
        title=${name%.*}
        section=${name##*.}

        out=$(groff -ww -z -man "$page" 2>&1)
        if [ -n "$out" ]; then
                echo "FAIL: $name: groff warnings:"; echo "$out"; fail=1
        fi

        out=$(mandoc -Tlint -Wwarning "$page" 2>&1 |
              grep -v -E 'WARNING: skipping paragraph macro: (PP|P|LP) (empty|after SH|after SS|before (SH|SS|IP|TP|RS))')
        if [ -n "$out" ]; then
                echo "FAIL: $name: mandoc -Tlint:"; echo "$out"; fail=1
        fi

        th=$(grep -m1 '^\.TH ' "$page")
        if [ "$th" = "${th#.TH \"$title\" \"$section\" }" ]; then
                echo "FAIL: $name: .TH line does not name $title($section): $th"; fail=1
        fi

        # Overstrikes (bold X^HX, underline _^HX) removed with sed: col(1) is in bsdextrautils,
        # which a build root need not have.
        text=$(MANWIDTH=80 mandoc -Tutf8 -man "$page" 2>/dev/null | sed 's/.\x08//g')
        for sec in NAME SYNOPSIS DESCRIPTION 'SEE ALSO'; do
                if [ "$title" = kservice.toml ] && [ "$sec" = SYNOPSIS ]; then
                        continue        # a file format page has no command line
                fi
                if ! grep -q "^$sec\$" <<<"$text"; then
                        echo "FAIL: $name: no $sec section"; fail=1
                fi
        done

        # Cross-references to this project's pages must name a page the project has.
        for ref in $(grep -o -E 'kservice[a-z.-]*\([0-9]\)' <<<"$text" | sort -u); do
                rname=${ref%(*}; rsec=${ref#*(}; rsec=${rsec%)}
                if [[ "$known" != *" $rname.$rsec "* ]]; then
                        echo "FAIL: $name: refers to $ref, which is not one of:$known"; fail=1
                fi
        done

        [ $fail = 0 ] && echo "ok: $name"
done
exit $fail
