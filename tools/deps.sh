# SPDX-License-Identifier: LGPL-2.1-or-later
# Debian 12 packages kservice needs, sourced by tools/run-tests and tools/demo.

# Building and unit tests.
KS_DEPS_BUILD="meson ninja-build pkg-config gcc libc6-dev libsystemd-dev libcurl4-openssl-dev
        systemd python3 scdoc groff-base mandoc"
# The real-systemd integration suite and the demo.
KS_DEPS_INTEGRATION="systemd-container debootstrap iproute2 util-linux ca-certificates"
# Fuzzing, benchmarks, packaging.
KS_DEPS_TEST="clang-14 libclang-rt-14-dev llvm-14 g++ libtomlplusplus-dev monit nginx-light python3-jsonschema
        debhelper dpkg-dev fakeroot lintian rpm rpmlint elfutils"

# install_deps build|demo|test: the build set (what "Building by hand" in README.md needs), the
# demo's (build + containers), or everything the test suite uses. The default build must never
# need more than the build set: the suite "fresh" (tests/fresh) builds in a clean Debian 12 root
# holding exactly that.
install_deps() {
        local pkgs
        case $1 in
        build) pkgs=$KS_DEPS_BUILD ;;
        demo) pkgs="$KS_DEPS_BUILD $KS_DEPS_INTEGRATION" ;;
        test) pkgs="$KS_DEPS_BUILD $KS_DEPS_INTEGRATION $KS_DEPS_TEST" ;;
        *) echo "install_deps: unknown set $1" >&2; return 2 ;;
        esac
        [ "${KS_SKIP_DEPS:-0}" = 1 ] && return 0
        # shellcheck disable=SC2086
        if dpkg-query -W -f='${Status}\n' $pkgs 2>/dev/null | grep -qv '^install ok installed$' ||
           [ "$(dpkg-query -W -f='${Status}\n' $pkgs 2>/dev/null | wc -l)" -ne "$(echo $pkgs | wc -w)" ]; then
                if [ "$(id -u)" -ne 0 ]; then
                        echo "Missing packages; run as root or install: $pkgs" >&2
                        return 1
                fi
                echo "==== installing build and test dependencies from Debian"
                apt-get update -q
                # shellcheck disable=SC2086
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkgs
        fi
}
