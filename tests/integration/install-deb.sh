# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# The integration suite's packaging mode (KS_INSTALL_MODE=deb, systemd 257): instead of copying
# a meson install into the container, the harness boots the bare Debian 13 root and calls
# ks_install_deb, which installs kservice's .deb inside it the way a user does,
# `apt-get install ./kservice_VERSION_ARCH.deb`. The container has no network: apt resolves the
# package's dependencies (libc6, libcurl4 via libcurl4t64, libsystemd0) from what the root
# already has, so a dependency that is not there fails the install, as it would for a user
# without the archive.
#
# The .deb is KS_DEB when set (a package built elsewhere), else it is built from KS_SRCDIR with
# tests/packaging/build-deb.sh, once per state of the source tree: cached under the build dir
# with the hash of the tree, so parallel scenarios share one build. DEB_BUILD_OPTIONS=nocheck
# for that build: the packaging suite builds the same package with its tests, here only the
# installed result is under test.
#
# Sourced by lib.sh (ks_boot) after the overlay is mounted; uses its ks_* helpers.

# Prints the path of an up-to-date .deb of KS_SRCDIR, building it when needed.
ks_deb_build() {
        local dir=$KS_BUILDDIR/tests/integration/deb key
        mkdir -p "$dir"
        (
                flock -w 900 9 || ks_die "timed out waiting for the .deb build lock"
                rm -rf "$dir/tree"
                "$KS_SRCDIR/tests/packaging/copy-tree.sh" "$KS_SRCDIR" "$dir/tree" ||
                        ks_die "cannot copy the source tree"
                key=$(cd "$dir/tree" && find . -type f -o -type l | LC_ALL=C sort |
                      tar --no-recursion --mtime=@0 --owner=0 --group=0 -cf - -T - | sha256sum)
                if [ -f "$dir/key" ] && [ "$(cat "$dir/key")" = "$key" ] &&
                   ls "$dir"/out/kservice_*.deb >/dev/null 2>&1; then
                        exit 0
                fi
                ks_log "building kservice's .deb for the container (log: $dir/out/deb-build.log)"
                rm -f "$dir/key"
                DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" \
                        "$KS_SRCDIR/tests/packaging/build-deb.sh" "$dir/tree" "$dir/out" >&2 ||
                        ks_die "building the .deb failed"
                echo "$key" >"$dir/key"
        ) 9>"$dir.lock" || exit $?
        ls "$dir"/out/kservice_*.deb
}

KS_DEB_INSIDE=

ks_install_deb() {
        local deb name out
        [ "$KS_VERSION" = 257 ] || ks_die "the packaging mode installs into the Debian 13 container (257) only"
        deb=${KS_DEB:-$(ks_deb_build)} || exit 1
        [ -f "$deb" ] || ks_die "no .deb at $deb"
        name=$(basename "$deb")
        cp "$deb" "$KS_ROOT/var/tmp/$name"
        ks_log "installing $name in the container: apt-get install ./$name"
        if ! out=$(ks_exec_t 300 env DEBIAN_FRONTEND=noninteractive \
                        apt-get install -y --no-install-recommends \
                        "/var/tmp/$name" 2>&1); then
                printf '%s\n' "$out" >&2
                ks_die "apt-get install ./$name failed in the container"
        fi
        [ "${KS_VERBOSE:-0}" = 1 ] && printf '%s\n' "$out" >&2
        # Left in place for scenarios that reinstall it (KS_DEB_INSIDE).
        KS_DEB_INSIDE=/var/tmp/$name
        # The postinst enabled and started notifyd and reloaded systemd, which ran the generator.
        ks_log "installed $(ks_exec dpkg-query -W -f='${Package} ${Version}' kservice)"
}
