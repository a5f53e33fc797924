#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Suite packaging: builds the .deb (dpkg-buildpackage) and the .rpm (rpmbuild) from a copy of
# the source tree, lints both (lintian, rpmlint), and compares what they install.
#
#  - lintian and rpmlint: any error fails; a warning fails unless it is listed, with the reason
#    it is acceptable, in lintian-allowed / rpmlint-allowed (tag, then the reason).
#  - The two packages must install the same programs, units, man pages and config dirs, after
#    normalising what legitimately differs between the distributions (/lib vs /usr/lib on a
#    Debian 12 host, the multiarch vs lib64 libdir, documentation directories). Everything the
#    tree builds must be in both (each man/*.scd page, the units in units/, the generator,
#    notifyd and kservicectl once their directories exist).
#  - Both packages enable and start kservice-notifyd.service on installation.
#
# usage: test-packages.sh SRC WORKDIR     (exit 77 when a packaging tool is missing)
set -uo pipefail
src=$(cd "$1" && pwd -P)
work=$2
here=$(dirname "$(readlink -f "$0")")

for tool in dpkg-buildpackage dh lintian rpmbuild rpmlint; do
        if ! command -v "$tool" >/dev/null; then
                echo "SKIP: $tool is not installed (tools/deps.sh lists the packages)"
                exit 77
        fi
done

rm -rf "$work"
mkdir -p "$work"
fail=0
failed() { echo "FAIL: $*"; fail=1; }

# Build both at once: they are independent, and each is mostly single-threaded meson/dh time.
"$here/build-deb.sh" "$src" "$work/deb" >"$work/deb.out" 2>&1 & deb_pid=$!
"$here/build-rpm.sh" "$src" "$work/rpm" >"$work/rpm.out" 2>&1 & rpm_pid=$!
wait $deb_pid; deb_rc=$?
wait $rpm_pid; rpm_rc=$?
cat "$work/deb.out" "$work/rpm.out"
[ $deb_rc = 0 ] || failed "building the .deb"
[ $rpm_rc = 0 ] || failed "building the .rpm"
[ $fail = 0 ] || exit 1
deb=$(ls "$work"/deb/kservice_*.deb)
changes=$(ls "$work"/deb/kservice_*.changes)
rpm=$(ls "$work"/rpm/kservice-*.rpm)

# ---------------------------------------------------------------------------------------------
# Lint. check_lint NAME ALLOWED-FILE: reads "SEVERITY TAG DETAILS" lines on stdin.
check_lint() {
        local name=$1 allowed=$2 sev tag rest
        while read -r sev tag rest; do
                case $sev in
                E)      if [ "$tag" = no-binary ] && [ ! -e "$src/generator/meson.build" ]; then
                                # a tree without generator/ yet has nothing but man pages
                                echo "$name error expected in this tree (no programs yet): $tag"
                        else
                                failed "$name error: $tag $rest"
                        fi ;;
                W)      if grep -q "^$tag[[:space:]]" "$allowed"; then
                                echo "$name warning (allowed, see $(basename "$allowed")): $tag $rest"
                        else
                                failed "$name warning not in $(basename "$allowed"): $tag $rest"
                        fi ;;
                *)      ;;      # informational: printed above with the rest
                esac
        done
}

echo "==== lintian $(basename "$changes")"
lintian --display-info --pedantic --tag-display-limit 0 --fail-on none "$changes" \
        >"$work/lintian.out" 2>&1 || failed "lintian itself failed (exit $?)"
cat "$work/lintian.out"
# "W: kservice: tag-name details"
sed -n -E 's/^([EWIPX]): [^ ]+: ([^ ]+) ?(.*)$/\1 \2 \3/p' "$work/lintian.out" |
        check_lint lintian "$here/lintian-allowed"

echo "==== rpmlint $(basename "$rpm") kservice.spec"
rpmlint -c "$here/rpmlint.toml" "$rpm" "$src/packaging/rpm/kservice.spec" >"$work/rpmlint.out" 2>&1
cat "$work/rpmlint.out"
# "kservice.x86_64: W: tag-name details"
sed -n -E 's/^[^ ]+: ([EW]): ([^ ]+) ?(.*)$/\1 \2 \3/p' "$work/rpmlint.out" |
        check_lint rpmlint "$here/rpmlint-allowed"
grep -q -E '^ *[0-9]+ packages and [0-9]+ specfiles checked' "$work/rpmlint.out" ||
        failed "rpmlint did not finish"

# ---------------------------------------------------------------------------------------------
# What the packages install: "TYPE PERMS PATH" per line, normalised.
normalise() {
        sed -E -e 's#^(. [^ ]+ )/lib/#\1/usr/lib/#' \
               -e 's#^(. [^ ]+ )/usr/lib/x86_64-linux-gnu/#\1/usr/LIBDIR/#' \
               -e 's#^(. [^ ]+ )/usr/lib64/#\1/usr/LIBDIR/#' \
               -e 's#^(. [^ ]+ /usr/share/man/.*)\.gz$#\1#' |
        # documentation differs by policy (changelog.gz, copyright vs %doc/%license)
        grep -v -E '^. [^ ]+ /usr/share/doc(/|$)' |
        # directories: only the ones kservice owns (rpm lists only what it owns, dpkg all)
        awk '$1 != "d" || $3 ~ /^\/etc\/kservice|\/kservice(\/|$)/' |
        sort -k3
}

dpkg-deb --fsys-tarfile "$deb" | tar -tvf - |
        awk '{ p = $6; sub(/^\./, "", p); sub(/\/$/, "", p); if (p != "") print substr($1, 1, 1), substr($1, 2), p }' |
        sed 's/^-/f/' | normalise >"$work/deb.files"
rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" |
        awk '{ print substr($1, 1, 1), substr($1, 2), $2 }' |
        sed 's/^-/f/' | normalise >"$work/rpm.files"

echo "==== files installed by the .deb (normalised)"
cat "$work/deb.files"
if ! diff -u --label deb --label rpm "$work/deb.files" "$work/rpm.files"; then
        failed "the .deb and the .rpm install different files (diff above: - deb, + rpm)"
fi

# Everything the tree builds must be packaged.
expect() {  # DESCRIPTION REGEX
        for f in deb rpm; do
                grep -q -E "$2" "$work/$f.files" || failed "the .$f has no $1 (${2})"
        done
}
expect "config dir /etc/kservice" '^d rwxr-xr-x /etc/kservice$'
for scd in "$src"/man/*.scd; do
        [ -e "$scd" ] || continue
        page=$(basename "$scd" .scd)
        expect "man page $page" "^f rw-r--r-- /usr/share/man/man${page##*.}/$page\$"
done
for unit in "$src"/units/*.service "$src"/units/*.target "$src"/units/*.path; do
        [ -e "$unit" ] || continue
        expect "unit $(basename "$unit")" "^f rw-r--r-- /usr/lib/systemd/system/$(basename "$unit")\$"
done
[ -e "$src/generator/meson.build" ] &&
        expect "generator" '^f rwxr-xr-x /usr/lib/systemd/system-generators/kservice-generator$'
[ -e "$src/notifyd/meson.build" ] &&
        expect "kservice-notifyd" '^f rwxr-xr-x /usr/(bin|sbin|libexec|lib/kservice)/kservice-notifyd$'
[ -e "$src/ctl/meson.build" ] &&
        expect "kservicectl" '^f rwxr-xr-x /usr/bin/kservicectl$'

# ---------------------------------------------------------------------------------------------
# notifyd is enabled and started on installation by both.
if [ -e "$src/units/kservice-notifyd.service" ]; then
        scripts=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./postinst 2>/dev/null)
        grep -q "deb-systemd-helper.*enable.*kservice-notifyd.service" <<<"$scripts" ||
                failed "the .deb's postinst does not enable kservice-notifyd.service"
        grep -q "deb-systemd-invoke.*start.*kservice-notifyd.service" <<<"$scripts" ||
                failed "the .deb's postinst does not start kservice-notifyd.service"
        scripts=$(rpm -qp --scripts "$rpm")
        grep -q "preset kservice-notifyd.service" <<<"$scripts" ||
                failed "the .rpm's %post does not preset kservice-notifyd.service"
fi
grep -q "^/etc/kservice/README$" < <(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles) ||
        failed "the .deb does not mark /etc/kservice/README as a conffile"
rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm" | grep -q -E '^cn +/etc/kservice/README$' ||
        failed "the .rpm does not mark /etc/kservice/README as %config(noreplace)"

[ $fail = 0 ] && echo "ok: both packages built, lint clean (allowed warnings above), same files"
exit $fail
