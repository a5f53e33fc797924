# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 3, hot reload: with reload_on_change, changing a watched file (replaced by rename, as a new
# model checkpoint would be) reloads the service, i.e. systemd sends reload_signal to its main
# process, without a restart. ks-testd answers /health with 500 after SIGUSR1, which makes the
# reload visible from outside. The watcher (konivrer-reload@NAME.path) runs with the service and
# stops with it.
ks_require "$KS_GENERATOR"
u=konivrer@model.service
p=konivrer-reload@model.path

ks_exec mkdir -p /var/lib/model
ks_sh 'echo v1 >/var/lib/model/latest.pt'
ks_def model <<EOF
exec = $(ks_testd_exec model 8090)
reload_signal = "SIGUSR1"
reload_on_change = ["/var/lib/model/latest.pt"]
EOF
ks_reload
ks_is_generated $u || ks_fail "$u not generated"
ks_is_generated $p || ks_fail "$p not generated"

ks_start $u
ks_wait_state $u active 60
ks_wait_http 8090 /health 200 60
ks_wait_state $p active 60
pid=$(ks_show $u MainPID)

ks_log "a new checkpoint arrives"
ks_sh 'echo v2 >/var/lib/model/latest.pt.new && mv /var/lib/model/latest.pt.new /var/lib/model/latest.pt'
ks_wait_http 8090 /health 500 60
ks_assert_eq "$pid" "$(ks_show $u MainPID)" "MainPID after the reload (not restarted)"
ks_assert_eq 0 "$(ks_show $u NRestarts)" "NRestarts after the reload"
ks_assert_eq active "$(ks_show $u ActiveState)" "ActiveState after the reload"

ks_log "the watcher stops with the service"
ks_exec systemctl stop $u
ks_wait_state $p inactive 60
