# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# The real-systemd harness, shared by tests/integration/run-scenario and tools/demo. Boots systemd
# in systemd-nspawn on an overlay (so nothing it does touches the lower root):
#
#   252: the host's own root (Debian 12) as the lower layer;
#   257: a debootstrapped Debian 13 root, cached under the build dir and rebuilt when missing or
#        stale (see ks_rootfs_trixie).
#
# The build is installed into the overlay's upper dir before boot, so the generator runs during
# the container's first boot exactly as it would on a machine where kservice was installed.
#
# Variables the caller sets: KS_SRCDIR, KS_BUILDDIR (a configured meson build dir).
# Optional: KS_CACHEDIR (default $KS_BUILDDIR/tests/integration/cache), KS_VERBOSE=1,
# KS_INSTALL_MODE (meson, the default; "deb" is for the packaging mode, see ks_install),
# KS_KEEP=1 (leave the container's temp dir for inspection; the container is still stopped).
#
# Everything started is stopped by PID and everything mounted is unmounted in ks_teardown, which
# callers run from an EXIT trap. Every wait is bounded.

# python3: the demo's example web service is python3 -m http.server.
KS_TRIXIE_INCLUDE=systemd,systemd-sysv,dbus,libcurl4t64,ca-certificates,python3,man-db
KS_TRIXIE_MAX_AGE_DAYS=${KS_TRIXIE_MAX_AGE_DAYS:-30}
KS_MIRROR=${KS_MIRROR:-http://deb.debian.org/debian}
KS_TESTD=/usr/local/bin/ks-testd        # where ks-testd is inside the container
KS_GENERATOR=/usr/lib/systemd/system-generators/kservice-generator
KS_GENERATOR_DIR=/run/systemd/generator # the "normal" output dir of generators

KS_NSPAWN_PID=
KS_PID1=
KS_TMP=
KS_ROOT=
KS_MOUNTED=
KS_MACHINE=
KS_VERSION=
KS_LOWER=

ks_log() { printf '[%s] %s\n' "$(date +%T.%2N)" "$*" >&2; }
# The first reason for failing, repeated by run-scenario after the diagnostics it prints.
_ks_why=
ks_die() { _ks_why=${_ks_why:-$*}; ks_log "ERROR: $*"; exit 1; }
ks_skip() { echo "SKIP: $*" >&2; exit 77; }

# Fails the current scenario with a message (scenarios run with set -e; this makes the reason clear).
ks_fail() { _ks_why=${_ks_why:-$*}; ks_log "FAIL: $*"; exit 1; }

ks_now_ms() { date +%s%3N; }

# ---- requirements ------------------------------------------------------------------------------

# Exits 77 (skip) with the reason when this machine cannot run the harness.
ks_check_requirements() {
        local why=
        if [ "$(id -u)" -ne 0 ]; then
                why="needs root (systemd-nspawn and overlay mounts)"
        elif ! command -v systemd-nspawn >/dev/null; then
                why="systemd-nspawn not found (Debian package systemd-container)"
        elif ! command -v nsenter >/dev/null || ! command -v setpriv >/dev/null; then
                why="nsenter/setpriv not found (util-linux)"
        elif ! grep -qw overlay /proc/filesystems && ! modprobe overlay 2>/dev/null; then
                why="the kernel has no overlay filesystem"
        fi
        if [ -n "$why" ]; then
                [ "${KS_INTEGRATION_REQUIRED:-0}" = 1 ] && ks_die "integration tests required but $why"
                ks_skip "$why"
        fi
        # Every systemd in a container takes inotify instances from root's budget (default 128 on
        # Debian): a few parallel containers exhaust it ("Failed to allocate manager object: Too
        # many open files"). Raise it, as for any host running containers.
        local n
        n=$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo 0)
        if [ "$n" -lt 4096 ] && sysctl -q -w fs.inotify.max_user_instances=4096 2>/dev/null; then
                ks_log "raised fs.inotify.max_user_instances from $n to 4096 for the containers"
        fi
}

# ---- root file systems -------------------------------------------------------------------------

# Prints the lower root for a systemd version, building the 257 cache when needed.
ks_rootfs() {
        case $1 in
        252) echo / ;;
        257) ks_rootfs_trixie ;;
        *) ks_die "unknown systemd version $1 (252 or 257)" ;;
        esac
}

# Debian 13 root for systemd 257: see ks_debootstrap_cache.
ks_rootfs_trixie() { ks_debootstrap_cache trixie "$KS_TRIXIE_INCLUDE" "Debian 13 (systemd 257)"; }

# ks_debootstrap_cache SUITE INCLUDE WHAT: prints the path of a `debootstrap --variant=minbase`
# root of SUITE (with the packages INCLUDE, comma-separated, may be empty) cached in
# $KS_CACHEDIR/SUITE. Rebuilt when absent, when the stamp (include list, mirror, debootstrap
# version, this recipe's format) differs, or when older than KS_TRIXIE_MAX_AGE_DAYS (security
# updates). Parallel tests serialise on a lock; the cache is replaced atomically.
ks_debootstrap_cache() {
        local suite=$1 include=$2 what=$3
        local cache=${KS_CACHEDIR:-$KS_BUILDDIR/tests/integration/cache}
        local root=$cache/$suite stamp=$cache/$suite.stamp want
        want=$(printf 'suite=%s variant=minbase include=%s mirror=%s debootstrap=%s format=2\n' \
                "$suite" "$include" "$KS_MIRROR" "$(dpkg-query -W -f='${Version}' debootstrap 2>/dev/null)")
        mkdir -p "$cache"
        (
                flock -w 900 9 || ks_die "timed out waiting for the $suite cache lock"
                if [ -d "$root" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
                   [ -z "$(find "$stamp" -mtime +"$KS_TRIXIE_MAX_AGE_DAYS")" ]; then
                        exit 0
                fi
                command -v debootstrap >/dev/null || ks_die "debootstrap not found (Debian package debootstrap)"
                ks_log "building the $what root in $root (takes about a minute)"
                rm -rf "$root.new" "$stamp"
                if ! timeout 900 debootstrap --variant=minbase ${include:+--include="$include"} \
                        "$suite" "$root.new" "$KS_MIRROR" >"$cache/debootstrap-$suite.log" 2>&1; then
                        tail -n 30 "$cache/debootstrap-$suite.log" >&2
                        rm -rf "$root.new"
                        ks_die "debootstrap failed (log: $cache/debootstrap-$suite.log)"
                fi
                # Each run writes its own machine-id into its overlay; the cache keeps none, and
                # no package caches.
                : >"$root.new/etc/machine-id"
                rm -rf "$root.new"/var/cache/apt/archives/*.deb "$root.new"/var/lib/apt/lists/*_Packages
                rm -rf "$root"
                mv "$root.new" "$root"
                echo "$want" >"$stamp"
                ks_log "$what root ready"
        ) 9>"$cache/$suite.lock" || exit $?
        echo "$root"
}

# ---- installing the build ----------------------------------------------------------------------

# Fills STAGE with the tree the container gets: `meson install --destdir` of a build with prefix
# /usr (the given build when it has that prefix, else a side build of the same sources), with
# /lib, /bin, /sbin folded into /usr/ (both roots are merged-/usr: a real /lib in the upper dir
# would hide the lower root's symlink), plus ks-testd. The installed tree is made once per state
# of the build (BUILD/tests/integration/stage, remade when a file of the build is newer than its
# stamp) and copied from there: parallel tests share one install under a lock.
ks_stage() {
        # Absolute: meson install takes a relative --destdir as relative to the build dir.
        KS_BUILDDIR=$(cd "$KS_BUILDDIR" && pwd)
        local stage=$1 bdir=$KS_BUILDDIR prefix dir=$KS_BUILDDIR/tests/integration
        local cache=$KS_BUILDDIR/tests/integration/stage
        # The prefix without starting python: the introspection file is one JSON line.
        prefix=$(sed -n 's/.*"name": "prefix", "value": "\([^"]*\)".*/\1/p' \
                 "$KS_BUILDDIR/meson-info/intro-buildoptions.json" 2>/dev/null | head -1)
        [ -n "$prefix" ] || prefix=$(cd "$KS_BUILDDIR" && meson introspect --buildoptions 2>/dev/null |
                 python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
        mkdir -p "$dir"
        (
                flock -w 900 9 || ks_die "timed out waiting for the install lock"
                if [ "$prefix" != /usr ]; then
                        bdir=$dir/build-usr
                        if [ ! -f "$bdir/build.ninja" ]; then
                                ks_log "the build's prefix is $prefix; configuring a side build with prefix /usr in $bdir"
                                meson setup "$bdir" "$KS_SRCDIR" --prefix=/usr -Dtests=false -Dbench=false \
                                        -Dfuzz=false >"$bdir.log" 2>&1 || { cat "$bdir.log" >&2; ks_die "meson setup failed"; }
                        elif [ "$KS_BUILDDIR/build.ninja" -nt "$bdir/build.ninja" ]; then
                                # The main build was reconfigured (e.g. a component directory
                                # appeared, which meson does not notice by itself): follow it.
                                meson setup --reconfigure "$bdir" "$KS_SRCDIR" >"$bdir.log" 2>&1 ||
                                        { cat "$bdir.log" >&2; ks_die "meson setup --reconfigure failed"; }
                        fi
                        ninja -C "$bdir" >"$bdir.log" 2>&1 || { cat "$bdir.log" >&2; ks_die "compile failed"; }
                fi
                if [ ! -f "$cache.stamp" ] || [ ! -d "$cache" ] ||
                   [ -n "$(find "$bdir" "$KS_BUILDDIR/tests/helpers" \( -path "$dir" -o -path "$bdir/meson-logs" \
                           -o -path "$bdir/meson-private" \) -prune -o -type f -newer "$cache.stamp" -print -quit 2>/dev/null)" ]; then
                        touch "$cache.stamp.new"
                        rm -rf "$cache.new"
                        mkdir -p "$cache.new"
                        meson install -C "$bdir" --no-rebuild --destdir "$cache.new" >"$cache.log" 2>&1 ||
                                { cat "$cache.log" >&2; ks_die "meson install failed"; }
                        local d
                        for d in lib lib64 bin sbin; do
                                if [ -d "$cache.new/$d" ] && [ ! -L "$cache.new/$d" ]; then
                                        mkdir -p "$cache.new/usr/$d"
                                        cp -a "$cache.new/$d/." "$cache.new/usr/$d/"
                                        rm -rf "${cache:?}.new/$d"
                                fi
                        done
                        # ks-testd exists when the build has tests (tools/demo builds without).
                        if [ -x "$KS_BUILDDIR/tests/helpers/ks-testd" ]; then
                                install -D -m 0755 "$KS_BUILDDIR/tests/helpers/ks-testd" "$cache.new$KS_TESTD"
                        fi
                        rm -rf "$cache"
                        mv "$cache.new" "$cache"
                        mv "$cache.stamp.new" "$cache.stamp"
                fi
                rm -rf "$stage"
                mkdir -p "$stage"
                cp -a "$cache/." "$stage/"
        ) 9>"$dir/stage.lock" || exit $?
}

# Prepares the upper dir of the overlay: the staged install (KS_INSTALL_MODE=meson), a fresh
# machine-id, and masks for the lower root's enabled units that a test container does not need
# (on the host root: nginx, postgresql, timers, gettys...), which brings boot to about a second.
ks_prepare_upper() {
        local upper=$1 lower=$2 u l name
        mkdir -p "$upper/etc/systemd/system" "$upper/etc/kservice"
        od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$upper/etc/machine-id"
        echo >>"$upper/etc/machine-id"
        echo "$KS_MACHINE" >"$upper/etc/hostname"
        for l in "$lower"/etc/systemd/system/*.wants/* "$lower"/etc/systemd/system/*.requires/*; do
                [ -e "$l" ] || [ -L "$l" ] || continue
                name=${l##*/}
                case $name in
                dbus.service | dbus.socket | systemd-journald* | kservice*) continue ;;
                esac
                u=$name
                [[ $name == *@?*.* ]] && u=${name%%@*}@.${name##*.}   # mask the template
                ln -sfn /dev/null "$upper/etc/systemd/system/$u"
        done
        for u in console-getty.service getty@.service container-getty@.service apt-daily.timer \
                 apt-daily-upgrade.timer systemd-networkd.service systemd-resolved.service \
                 systemd-timesyncd.service e2scrub_reap.service; do
                ln -sfn /dev/null "$upper/etc/systemd/system/$u"
        done
        case ${KS_INSTALL_MODE:-meson} in
        meson)
                ks_stage "$KS_TMP/stage"
                cp -a "$KS_TMP/stage/." "$upper/"
                ;;
        deb)
                # The packaging mode installs the .deb inside the booted container (ks_install_deb,
                # defined in tests/integration/install-deb.sh); only ks-testd goes in here.
                install -D -m 0755 "$KS_BUILDDIR/tests/helpers/ks-testd" "$upper$KS_TESTD"
                ;;
        *) ks_die "unknown KS_INSTALL_MODE ${KS_INSTALL_MODE}" ;;
        esac
}

# ---- booting and stopping ----------------------------------------------------------------------

# ks_boot VERSION NAME: mounts the overlay, boots systemd, waits for the boot to finish.
ks_boot() {
        KS_VERSION=$1
        KS_MACHINE=$(echo "ks-$2-$KS_VERSION-$$" | tr -c 'a-zA-Z0-9\n-' - | cut -c1-60)
        KS_LOWER=$(ks_rootfs "$KS_VERSION") || exit 1
        KS_TMP=$(mktemp -d /var/tmp/ks-it.XXXXXX)
        KS_ROOT=$KS_TMP/root
        mkdir -p "$KS_TMP/upper" "$KS_TMP/work" "$KS_ROOT"
        ks_prepare_upper "$KS_TMP/upper" "$KS_LOWER"
        mount -t overlay overlay -o "lowerdir=$KS_LOWER,upperdir=$KS_TMP/upper,workdir=$KS_TMP/work" "$KS_ROOT" ||
                ks_die "cannot mount the overlay on $KS_ROOT"
        KS_MOUNTED=$KS_ROOT
        if [ "${KS_INSTALL_MODE:-meson}" = deb ]; then
                # shellcheck source=/dev/null
                . "$KS_SRCDIR/tests/integration/install-deb.sh"
        fi
        ks_start_container
        if [ "${KS_INSTALL_MODE:-meson}" = deb ]; then
                ks_install_deb
        fi
}

# Starts nspawn on the mounted root and waits until the boot finished (bounded).
ks_start_container() {
        local t0 state deadline left
        rm -rf "/run/systemd/nspawn/propagate/$KS_MACHINE"
        t0=$(ks_now_ms)
        # SIGTERM to nspawn makes it shut the container down cleanly (--kill-signal defaults to
        # SIGRTMIN+3 with --boot); the console goes to a log that the runner prints on failure.
        systemd-nspawn --quiet -D "$KS_ROOT" --register=no --keep-unit -M "$KS_MACHINE" \
                --private-network --console=read-only -b \
                >>"$KS_TMP/console.log" 2>&1 </dev/null &
        KS_NSPAWN_PID=$!
        KS_PID1=
        echo "$KS_NSPAWN_PID" >"$KS_TMP/nspawn.pid"
        deadline=$(( t0 + 30000 ))
        while [ "$(ks_now_ms)" -lt "$deadline" ]; do
                KS_PID1=$(ks_container_pid1)
                [ -n "$KS_PID1" ] && break
                kill -0 "$KS_NSPAWN_PID" 2>/dev/null || break
                sleep 0.05
        done
        echo "$KS_NSPAWN_PID $KS_PID1" >"$KS_TMP/nspawn.pid"
        [ -n "$KS_PID1" ] || { tail -n 30 "$KS_TMP/console.log" >&2; ks_die "systemd-nspawn did not start a container"; }
        # Until PID 1 created /run/systemd/system and its private socket, systemctl says
        # "offline" or fails at once: retry until KS_BOOT_TIMEOUT (default 120 s) has passed.
        state=
        deadline=$(( t0 + ${KS_BOOT_TIMEOUT:-120} * 1000 ))
        while left=$(( (deadline - $(ks_now_ms)) / 1000 )); [ "$left" -gt 0 ]; do
                state=$(ks_exec_t "$left" systemctl is-system-running --wait 2>/dev/null) || true
                [ -n "$state" ] && [ "$state" != offline ] && break
                kill -0 "$KS_NSPAWN_PID" 2>/dev/null || break
                sleep 0.1
        done
        case $state in
        running | degraded) ;;
        *)
                tail -n 40 "$KS_TMP/console.log" >&2
                ks_die "systemd $KS_VERSION did not finish booting (state: ${state:-none})"
                ;;
        esac
        ks_log "systemd $KS_VERSION booted ($state) in $(( $(ks_now_ms) - t0 )) ms; machine $KS_MACHINE, PID 1 = $KS_PID1 on the host"
        [ "$state" = degraded ] && ks_exec systemctl --failed --no-legend --plain >&2 || true
}

# The container's PID 1 is the child of the nspawn process whose command is systemd/init.
ks_container_pid1() {
        local c comm
        for c in $(cat /proc/"$KS_NSPAWN_PID"/task/*/children 2>/dev/null); do
                comm=$(cat /proc/"$c"/comm 2>/dev/null) || continue
                case $comm in
                systemd | init) echo "$c"; return 0 ;;
                esac
        done
        return 0
}

# Stops the container (clean shutdown, then SIGKILL after 20 s) and waits for nspawn to exit.
ks_stop_container() {
        local deadline
        # The state file, not only the variables: a scenario may have rebooted the container in
        # a subshell, and the nspawn it started then is known only there and in the file.
        if [ -n "$KS_TMP" ] && [ -f "$KS_TMP/nspawn.pid" ]; then
                read -r KS_NSPAWN_PID KS_PID1 <"$KS_TMP/nspawn.pid" || true
        fi
        [ -n "$KS_NSPAWN_PID" ] || return 0
        if ks_nspawn_alive "$KS_NSPAWN_PID"; then
                kill -TERM "$KS_NSPAWN_PID" 2>/dev/null || true
                deadline=$(( $(ks_now_ms) + 20000 ))
                while [ "$(ks_now_ms)" -lt "$deadline" ]; do
                        ks_nspawn_alive "$KS_NSPAWN_PID" || break
                        sleep 0.1
                done
                if ks_nspawn_alive "$KS_NSPAWN_PID"; then
                        ks_log "nspawn $KS_NSPAWN_PID did not stop in 20 s, killing it"
                        kill -KILL "$KS_NSPAWN_PID" 2>/dev/null || true
                        [ -n "$KS_PID1" ] && kill -KILL "$KS_PID1" 2>/dev/null || true
                        deadline=$(( $(ks_now_ms) + 5000 ))
                        while ks_nspawn_alive "$KS_NSPAWN_PID" && [ "$(ks_now_ms)" -lt "$deadline" ]; do
                                sleep 0.1
                        done
                fi
        fi
        # Reaps it when it is our child (a no-op otherwise).
        wait "$KS_NSPAWN_PID" 2>/dev/null || true
        KS_NSPAWN_PID=
        KS_PID1=
        [ -n "$KS_TMP" ] && rm -f "$KS_TMP/nspawn.pid"
        rm -rf "/run/systemd/nspawn/propagate/$KS_MACHINE"
}

# ks_nspawn_alive PID: PID is still our nspawn (not a zombie, not a reused PID).
ks_nspawn_alive() {
        local st cmd
        st=$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null) || return 1
        [ -n "$st" ] && [ "$st" != Z ] || return 1
        cmd=$({ tr '\0' ' ' </proc/"$1"/cmdline; } 2>/dev/null) || return 1
        [[ $cmd == *" -M $KS_MACHINE "* ]]
}

# Reboots the container: `systemctl reboot` inside (nspawn exits with 133 on a reboot request),
# then boots the same root again.
ks_reboot() {
        local deadline
        ks_log "rebooting the container"
        ks_exec systemctl reboot || true
        deadline=$(( $(ks_now_ms) + 30000 ))
        while [ "$(ks_now_ms)" -lt "$deadline" ]; do
                ks_nspawn_alive "$KS_NSPAWN_PID" || break
                sleep 0.1
        done
        ks_stop_container
        ks_start_container
}

# Always safe to call, also half-way through ks_boot. Used from EXIT traps.
ks_teardown() {
        ks_stop_container
        if [ -n "$KS_MOUNTED" ]; then
                umount "$KS_MOUNTED" 2>/dev/null || umount -l "$KS_MOUNTED" 2>/dev/null ||
                        ks_log "cannot unmount $KS_MOUNTED"
                KS_MOUNTED=
        fi
        [ -n "$KS_TMP" ] && [ -f "$KS_TMP/nspawn.pid" ] && { ks_log "container still running: keeping $KS_TMP"; KS_TMP=; }
        if [ -n "$KS_TMP" ] && [ -d "$KS_TMP" ]; then
                if [ "${KS_KEEP:-0}" = 1 ]; then
                        ks_log "kept $KS_TMP"
                elif ! findmnt -rn -o TARGET | grep -q "^$KS_TMP"; then
                        rm -rf "$KS_TMP"
                fi
        fi
        KS_TMP=
}

# ---- running things inside ---------------------------------------------------------------------

# ks_exec_t SECONDS CMD...: runs CMD in every namespace of the container, killed after SECONDS,
# and killed when this shell dies (pdeathsig on both sides of nsenter).
ks_exec_t() {
        local t=$1
        shift
        [ -n "$KS_PID1" ] || ks_die "no container running"
        timeout -k 5 "$t" setpriv --pdeathsig KILL \
                nsenter -t "$KS_PID1" -a -- setpriv --pdeathsig KILL "$@"
}

# ks_exec CMD...: the same with a 120 s bound.
ks_exec() { ks_exec_t "${KS_EXEC_TIMEOUT:-120}" "$@"; }

# ks_sh 'SCRIPT' [ARGS...]: runs a shell script inside.
ks_sh() { local s=$1; shift; ks_exec sh -c "$s" sh "$@"; }

# ks_write PATH [MODE]: writes stdin to PATH inside (atomically: temp file + rename).
ks_write() {
        ks_exec sh -c 'mkdir -p "$(dirname "$1")" && cat >"$1.ks-tmp" && chmod "$2" "$1.ks-tmp" && mv -f "$1.ks-tmp" "$1"' \
                sh "$1" "${2:-0644}"
}

# ks_def NAME: writes stdin to /etc/kservice/NAME.toml inside.
ks_def() { ks_write "/etc/kservice/$1.toml"; }

ks_reload() { ks_exec systemctl daemon-reload; }

# ks_show UNIT PROPERTY: prints the property's value.
ks_show() { ks_exec systemctl show --value -p "$2" "$1"; }

# ks_wait_prop UNIT PROPERTY VALUE [SECONDS]: waits until the property has the value (default 30 s).
ks_wait_prop() {
        local unit=$1 prop=$2 want=$3 t=${4:-30} deadline v
        deadline=$(( $(ks_now_ms) + t * 1000 ))
        while :; do
                v=$(ks_show "$unit" "$prop" 2>/dev/null) || v="<error>"
                [ "$v" = "$want" ] && return 0
                [ "$(ks_now_ms)" -ge "$deadline" ] && break
                sleep 0.1
        done
        ks_fail "$unit: $prop is '$v' after ${t}s, expected '$want'"
}

# ks_wait_state UNIT STATE [SECONDS]: waits for ActiveState (active, failed, inactive...).
# Waiting for another state than failed, a unit failed by a spawn flake (below) is started again.
ks_wait_state() {
        local unit=$1 want=$2 t=${3:-30} deadline v tries=0
        deadline=$(( $(ks_now_ms) + t * 1000 ))
        while :; do
                v=$(ks_show "$unit" ActiveState 2>/dev/null) || v="<error>"
                [ "$v" = "$want" ] && return 0
                if [ "$v" = failed ] && [ "$want" != failed ] && [ $tries -lt 3 ] && ks_unflake "$unit"; then
                        tries=$((tries + 1))
                fi
                [ "$(ks_now_ms)" -ge "$deadline" ] && break
                sleep 0.1
        done
        ks_fail "$unit: ActiveState is '$v' after ${t}s, expected '$want'"
}

# These containers run systemd on the host's cgroup v1 hierarchies, where now and then a spawn
# finds its cgroup missing: systemd 252 "Failed to attach to cgroup ...: No such file or
# directory" (status=219/CGROUP), 257 "Failed to spawn executor: No such file or directory"
# (result 'resources'); with Restart= it retries quickly and may hit the start limit. That is
# the container, not kservice: ks_spawn_flaked tells it from a real failure, ks_unflake starts
# such a unit again, ks_start is `systemctl start` that does so (3 times at most).
ks_spawn_flaked() {  # UNIT
        local res status
        res=$(ks_show "$1" Result 2>/dev/null) || return 1
        status=$(ks_show "$1" ExecMainStatus 2>/dev/null) || return 1
        [ "$res" = resources ] || [ "$status" = 219 ] || return 1
        ks_spawn_flake_logged "$1"
}

# ks_spawn_flake_logged UNIT: the unit's recent journal shows that flake.
ks_spawn_flake_logged() {
        ks_exec journalctl -b --no-pager -o cat -u "$1" -n 60 |
                grep -qE 'Failed to spawn executor: No such file or directory|Failed to attach to cgroup|Failed at step CGROUP'
}

# ks_spawn_flakes UNIT: how many starts of UNIT in this boot failed that way: each is an attempt
# systemd counted (a restart, a start towards the limit) in which the program never ran. A
# scenario that counts restarts or process starts adds or subtracts it.
ks_spawn_flakes() {
        ks_exec journalctl -b --no-pager -o cat -u "$1" |
                grep -cE 'Failed to spawn executor: No such file or directory|Failed at step CGROUP' || true
}

ks_unflake() {  # UNIT: 0 if it failed that way and was started again
        ks_spawn_flaked "$1" || return 1
        ks_log "systemd could not spawn $1 in the container's cgroups; starting it again"
        ks_exec systemctl reset-failed "$1" 2>/dev/null || true
        ks_exec systemctl start --no-block "$1"
}

# ks_testd_count PORT: how many /health requests ks-testd on PORT has answered or held.
ks_testd_count() {
        ks_exec_t 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
                printf "GET /count HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3
                timeout 5 cat <&3 | tail -n1 | tr -d "\r\n "' sh "$1"
}

# ks_all_active PATTERN N: whether N units matching PATTERN are active; those a spawn flake
# failed are started again.
ks_all_active() {
        local u
        [ "$(ks_exec bash -c 'systemctl list-units --no-legend --state=active "$1" | wc -l' sh "$1")" = "$2" ] && return 0
        for u in $(ks_exec bash -c 'systemctl list-units --no-legend --plain --state=failed "$1" | cut -d" " -f1' sh "$1"); do
                ks_unflake "$u" || true
        done
        return 1
}

# ks_restart UNIT: systemctl restart, and start again after a spawn flake (even one that
# Restart= already recovered from, which leaves no failed result to see).
ks_restart() {
        ks_exec systemctl restart "$1" && return 0
        ks_spawn_flake_logged "$1" || return 1
        ks_log "systemd could not spawn $1 in the container's cgroups; starting it again"
        ks_exec systemctl reset-failed "$1" 2>/dev/null || true
        ks_exec systemctl start "$1"
}

ks_start() {  # UNIT...
        local u try again
        ks_exec systemctl start "$@" && return 0
        for try in 1 2 3; do
                again=0
                # By the journal, as ks_restart: with Restart= the unit may already be running
                # again (its Result and ExecMainStatus no longer show the flake), and the start
                # job failed all the same (seen: notifyd in scenario 23, 219/CGROUP).
                for u in "$@"; do
                        [ "${u#-}" = "$u" ] || continue
                        ks_spawn_flake_logged "$u" || continue
                        ks_log "systemd could not spawn $u in the container's cgroups; starting it again"
                        ks_exec systemctl reset-failed "$u" 2>/dev/null || true
                        again=1
                done
                [ $again = 1 ] || return 1
                sleep 0.5
                ks_exec systemctl start "$@" && return 0
        done
        return 1
}

# ks_assert_stays UNIT PROPERTY VALUE SECONDS: the property has the value now and keeps it for the
# whole observation window (for "nothing happens" checks: no restart after stop, no more retries).
ks_assert_stays() {
        local unit=$1 prop=$2 want=$3 t=$4 deadline v
        deadline=$(( $(ks_now_ms) + t * 1000 ))
        while :; do
                v=$(ks_show "$unit" "$prop" 2>/dev/null) || v="<error>"
                [ "$v" = "$want" ] || ks_fail "$unit: $prop changed to '$v', expected to stay '$want' for ${t}s"
                [ "$(ks_now_ms)" -ge "$deadline" ] && break
                sleep 0.1
        done
        ks_log "ok: $unit $prop stayed '$want' for ${t}s"
}

# ks_ping_gap UNIT SECONDS: the longest time in ms that the unit's WatchdogTimestampMonotonic (its
# last WATCHDOG=1, or WATCHDOG_USEC=, which restarts the timer too) stood still over SECONDS,
# sampled every 0.5 s: how far apart the pings came.
ks_ping_gap() {
        local unit=$1 end last="" since now max=0 t
        end=$(( $(ks_now_ms) + $2 * 1000 ))
        since=$(ks_now_ms)
        while [ "$(ks_now_ms)" -lt "$end" ]; do
                t=$(ks_show "$unit" WatchdogTimestampMonotonic)
                now=$(ks_now_ms)
                if [ "$t" != "$last" ]; then
                        last=$t
                        since=$now
                fi
                [ $((now - since)) -gt "$max" ] && max=$((now - since))
                sleep 0.5
        done
        echo "$max"
}

# ks_is_generated UNIT: true when UNIT is loaded from the generator's output dir.
ks_is_generated() {
        [ "$(ks_show "$1" FragmentPath)" = "$KS_GENERATOR_DIR/$1" ]
}

# ks_journal_grep ERE [JOURNALCTL ARGS...]: true when the journal of this boot has a matching line.
ks_journal_grep() {
        local re=$1
        shift
        ks_exec journalctl -b --no-pager -o cat "$@" | grep -E -- "$re" >/dev/null
}

# ks_wait_until SECONDS DESCRIPTION CMD...: waits until CMD (host side; use ks_exec in it) succeeds.
ks_wait_until() {
        local t=$1 what=$2 deadline
        shift 2
        deadline=$(( $(ks_now_ms) + t * 1000 ))
        until "$@" >/dev/null 2>&1; do
                [ "$(ks_now_ms)" -ge "$deadline" ] && ks_fail "timed out after ${t}s waiting for: $what"
                sleep 0.1
        done
}

# ks_assert_eq EXPECTED ACTUAL [WHAT]
ks_assert_eq() {
        [ "$1" = "$2" ] || ks_fail "${3:-value}: expected '$1', got '$2'"
        ks_log "ok: ${3:-value} = '$2'"
}

# ks_assert_match ERE TEXT [WHAT]
ks_assert_match() {
        printf "%s\n" "$2" | grep -E -- "$1" >/dev/null || ks_fail "${3:-text} does not match /$1/: $(printf '%s' "$2" | head -c 2000)"
        ks_log "ok: ${3:-text} matches /$1/"
}

# ks_assert_no_match ERE TEXT [WHAT]
ks_assert_no_match() {
        ! printf "%s\n" "$2" | grep -E -- "$1" >/dev/null || ks_fail "${3:-text} matches /$1/ but must not: $(printf '%s' "$2" | grep -E -- "$1" | head -5)"
        ks_log "ok: ${3:-text} does not match /$1/"
}

# ks_require PATH: skips the scenario (77) when the container has no PATH (e.g. a program that a
# later issue adds).
ks_require() {
        ks_exec test -e "$1" || ks_skip "$1 is not installed (not built yet?)"
}

# ---- the test service --------------------------------------------------------------------------

# ks_testd_exec NAME PORT [ARGS...]: the TOML array that runs ks-testd for service NAME, with
# its command file at /run/kstest/NAME.cmd.
ks_testd_exec() {
        local name=$1 port=$2 a out
        shift 2
        out="[\"$KS_TESTD\", \"--port\", \"$port\", \"--control\", \"/run/kstest/$name.cmd\""
        for a in "$@"; do out+=", \"$a\""; done
        echo "$out]"
}

# ks_testd_set NAME DIRECTIVE...: writes ks-testd's command file for NAME (one directive per
# argument; see tests/helpers/testd-command.h), e.g. ks_testd_set web fail; ks_testd_set web "exit 3".
ks_testd_set() {
        local name=$1
        shift
        printf '%s\n' "$@" | ks_write "/run/kstest/$name.cmd"
}

# ks_http PORT PATH [SECONDS]: GET inside the container; prints the status code, "timeout",
# "closed" (no answer) or "garbage" (not an HTTP/1.x status line).
ks_http() {
        ks_exec_t 30 bash -c '
                exec 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$1" || { echo closed; exit 0; }
                printf "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" "$2" >&3
                IFS= read -r -t "$3" line <&3
                rc=$?
                if [ "$rc" -ne 0 ] && [ -z "$line" ]; then
                        [ "$rc" -gt 128 ] && echo timeout || echo closed
                        exit 0
                fi
                case $line in
                "HTTP/1."[01]" "[1-5][0-9][0-9]*) set -- $line; echo "$2" ;;
                *) echo garbage ;;
                esac' sh "$1" "$2" "${3:-5}"
}

# ks_wait_http PORT PATH CODE [SECONDS]: waits until GET answers CODE.
ks_wait_http() {
        local port=$1 path=$2 want=$3 t=${4:-30} deadline v
        deadline=$(( $(ks_now_ms) + t * 1000 ))
        while :; do
                v=$(ks_http "$port" "$path" 2) || v="<error>"
                [ "$v" = "$want" ] && return 0
                [ "$(ks_now_ms)" -ge "$deadline" ] && break
                sleep 0.1
        done
        ks_fail "GET :$port$path answers '$v' after ${t}s, expected $want"
}

# ---- notifyd's API and state files (issue 13) ----------------------------------------------------

KS_API_NAME=org.kservice.Notifyd1
KS_API_ROOT=/org/kservice/Notifyd1
KS_STATE_DIR=/var/lib/kservice

# ks_api_path NAME: the service object's path (sd_bus_path_encode(), i.e. systemd's
# bus_label_escape(): ASCII letters kept, digits too except in first position, every other byte
# as _XX in lowercase hex; "" as "_").
ks_api_path() {
        local name=$1 out="" c i
        [ -n "$name" ] || { echo "$KS_API_ROOT/service/_"; return; }
        for ((i = 0; i < ${#name}; i++)); do
                c=${name:i:1}
                if [[ $c == [A-Za-z] ]] || { [ "$i" -gt 0 ] && [[ $c == [0-9] ]]; }; then
                        out+=$c
                else
                        out+=$(printf '_%02x' "'$c")
                fi
        done
        echo "$KS_API_ROOT/service/$out"
}

# ks_api_json BUSCTL-ARGS...: busctl --system --json=short ARGS inside, its "data" printed on the
# host: a string as it is, a boolean as true/false, a number in full precision (a double as
# Python prints it: 1.0, 0.9166666666666666), anything else as one line of JSON; a method's
# reply of one value as that value, of none as nothing.
ks_api_json() {
        ks_exec busctl --system --json=short "$@" | python3 -c '
import json, sys
t = sys.stdin.read()
if not t.strip(): sys.exit(0)    # a method call without a reply value
d = json.loads(t)["data"]
if isinstance(d, list) and len(d) == 1 and sys.argv[1] == "call": d = d[0]
if isinstance(d, bool): print("true" if d else "false")
elif isinstance(d, (str, int, float)): print(d)
else: print(json.dumps(d))' "$1"
}

# ks_api_get NAME PROPERTY: a property of the service object of NAME (org.kservice.Notifyd1.Service).
ks_api_get() {
        ks_api_json get-property "$KS_API_NAME" "$(ks_api_path "$1")" "$KS_API_NAME.Service" "$2"
}

# ks_api_call METHOD SIGNATURE ARGS...: a method of the manager object, its reply as ks_api_json.
ks_api_call() {
        ks_api_json call "$KS_API_NAME" "$KS_API_ROOT" "$KS_API_NAME.Manager" "$@"
}

# ks_api_incidents NAME: the Incidents property, one line per incident, oldest first, written
# like the state file's INCIDENT= values: STARTED,ENDED,ACTION,OUTCOME,REASON.
ks_api_incidents() {
        ks_exec busctl --system --json=short get-property "$KS_API_NAME" "$(ks_api_path "$1")" \
                "$KS_API_NAME.Service" Incidents | python3 -c '
import json, sys
for s, e, a, o, r in json.load(sys.stdin)["data"]:
    print("%d,%d,%s,%s,%s" % (s, e, a, o, r))'
}

# ks_api_wait NAME PROPERTY VALUE [SECONDS]: waits until the property has the value (default 30 s).
ks_api_wait() {
        local name=$1 prop=$2 want=$3 t=${4:-30} deadline v
        deadline=$(( $(ks_now_ms) + t * 1000 ))
        while :; do
                v=$(ks_api_get "$name" "$prop" 2>/dev/null) || v="<error>"
                [ "$v" = "$want" ] && return 0
                [ "$(ks_now_ms)" -ge "$deadline" ] && break
                sleep 0.1
        done
        ks_fail "$name: $prop is '$v' after ${t}s, expected '$want' (busctl get-property $(ks_api_path "$name"))"
}

# ks_state_cat NAME: the state file of NAME as it is inside.
ks_state_cat() { ks_exec cat "$KS_STATE_DIR/$1.state"; }

# ks_state_get NAME KEY: one KEY= value of NAME's state file (empty when the key or file is missing).
ks_state_get() { ks_state_cat "$1" 2>/dev/null | sed -n "s/^$2=//p"; }

# ks_state_incidents NAME: the INCIDENT= values of NAME's state file, oldest first.
ks_state_incidents() { ks_state_cat "$1" 2>/dev/null | sed -n 's/^INCIDENT=//p'; }

# ks_state_check FILE... (paths inside the container): each is a valid state file, checked by
# tests/integration/state-check.py on the host (format, CRC-32); its complaints go to stderr.
ks_state_check() {
        local f args=()
        for f in "$@"; do args+=("$KS_ROOT$f"); done
        python3 "$KS_SRCDIR/tests/integration/state-check.py" "${args[@]}"
}

# ---- diagnostics -------------------------------------------------------------------------------

# Prints what a failing scenario leaves behind: units, generated files, the journal of the boot.
ks_dump_diagnostics() {
        [ -n "$KS_PID1" ] && kill -0 "$KS_PID1" 2>/dev/null || {
                echo "---- (container not running; console log follows)"
                [ -n "$KS_TMP" ] && tail -n 100 "$KS_TMP/console.log"
                return 0
        }
        echo "==== diagnostics: systemd $KS_VERSION, machine $KS_MACHINE"
        echo "---- systemctl list-units 'konivrer@*' 'kservice*' --all"
        ks_exec_t 20 systemctl list-units --all --no-pager 'konivrer@*' 'kservice*' 2>&1 || true
        echo "---- /etc/kservice"
        ks_exec_t 20 sh -c 'for f in /etc/kservice/*; do [ -f "$f" ] && { echo "# $f"; cat "$f"; }; done' 2>&1 || true
        echo "---- generated units"
        ks_exec_t 20 sh -c 'for f in /run/systemd/generator/konivrer@* /run/systemd/generator/*/konivrer@* /run/systemd/generator/kservice*; do [ -f "$f" ] && { echo "# $f"; cat "$f"; }; done' 2>&1 || true
        echo "---- journal of this boot"
        ks_exec_t 30 journalctl -b --no-pager -o short-monotonic 2>&1 | tail -n "${KS_JOURNAL_LINES:-400}" || true
}
