# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# A throwaway systemd container for bench/notifyd: systemd-nspawn booting an overlay of the
# host's root (systemd 252 on Debian 12), with its own loopback only, per
# ../../../shared/design/systemd-facts.md. Sourced by bench/notifyd/run.
#
#   ct_boot NAME     boot; sets CT_TMP, CT_ROOT (host path of the container's /), CT_PID1
#   ct_exec CMD...   run CMD inside (all namespaces of the container's PID 1)
#   ct_stop          stop it (by the PID we started), unmount, remove the temp dir; idempotent

CT_TMP= CT_ROOT= CT_NSPAWN= CT_PID1= CT_NAME=

ct_boot() {
        CT_NAME=$1
        CT_TMP=$(mktemp -d /var/tmp/ks-bench.XXXXXX)
        mkdir "$CT_TMP/upper" "$CT_TMP/work" "$CT_TMP/root"
        mount -t overlay overlay -o "lowerdir=/,upperdir=$CT_TMP/upper,workdir=$CT_TMP/work" "$CT_TMP/root"
        CT_ROOT=$CT_TMP/root
        od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$CT_ROOT/etc/machine-id"
        echo >>"$CT_ROOT/etc/machine-id"
        # The host's enabled services and timers are noise in a benchmark: mask them all.
        local u
        for u in "$CT_ROOT"/etc/systemd/system/*.wants/*.service "$CT_ROOT"/etc/systemd/system/*.wants/*.timer; do
                [ -e "$u" ] || [ -L "$u" ] || continue
                ln -sf /dev/null "$CT_ROOT/etc/systemd/system/$(basename "$u")"
        done
        for u in monit.service nginx.service postgresql.service apt-daily.timer apt-daily-upgrade.timer \
                 man-db.timer e2scrub_all.timer fstrim.timer dpkg-db-backup.timer systemd-tmpfiles-clean.timer; do
                ln -sf /dev/null "$CT_ROOT/etc/systemd/system/$u"
        done
        rm -rf "/run/systemd/nspawn/propagate/$CT_NAME"
        systemd-nspawn -D "$CT_ROOT" --register=no --keep-unit --private-network -M "$CT_NAME" -b \
                >"$CT_TMP/console.log" 2>&1 </dev/null &
        CT_NSPAWN=$!
        local i
        for ((i = 0; i < 300; i++)); do
                CT_PID1=$( (ps -o pid= --ppid "$CT_NSPAWN" 2>/dev/null || true) | head -n1 | tr -d " ")
                if [ -n "$CT_PID1" ] && [ "$(cat "/proc/$CT_PID1/comm" 2>/dev/null)" = systemd ]; then
                        break
                fi
                CT_PID1=
                kill -0 "$CT_NSPAWN" 2>/dev/null || break
                sleep 0.1
        done
        if [ -z "$CT_PID1" ]; then
                echo "container did not start; console:" >&2
                cat "$CT_TMP/console.log" >&2
                return 1
        fi
        # The manager's bus appears a moment after PID 1 does; then is-system-running --wait
        # returns once boot is done (running or degraded). Bounded both ways.
        local state=
        for ((i = 0; i < 120; i++)); do
                state=$(timeout 120 nsenter -t "$CT_PID1" -a systemctl is-system-running --wait 2>/dev/null || true)
                case $state in
                running | degraded | maintenance | stopping) break ;;
                esac
                sleep 0.5
        done
        case $state in
        running | degraded) ;;
        *)
                echo "container boot did not finish (state: $state)" >&2
                return 1
                ;;
        esac
}

ct_exec() {
        nsenter -t "$CT_PID1" -a setpriv --pdeathsig KILL "$@"
}

ct_stop() {
        local i
        if [ -n "$CT_NSPAWN" ] && kill -0 "$CT_NSPAWN" 2>/dev/null; then
                # SIGTERM asks nspawn to shut the container down cleanly; bounded, then SIGKILL.
                kill -TERM "$CT_NSPAWN" 2>/dev/null || true
                for ((i = 0; i < 600; i++)); do
                        kill -0 "$CT_NSPAWN" 2>/dev/null || break
                        sleep 0.1
                done
                kill -KILL "$CT_NSPAWN" 2>/dev/null || true
                wait "$CT_NSPAWN" 2>/dev/null || true
        fi
        CT_NSPAWN=
        if [ -n "$CT_ROOT" ] && mountpoint -q "$CT_ROOT"; then
                umount "$CT_ROOT" 2>/dev/null || umount -l "$CT_ROOT" || true
        fi
        [ -n "$CT_NAME" ] && rm -rf "/run/systemd/nspawn/propagate/$CT_NAME"
        [ -n "$CT_TMP" ] && rm -rf "$CT_TMP"
        CT_TMP= CT_ROOT=
}
