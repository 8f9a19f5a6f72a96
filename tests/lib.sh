# tests/lib.sh: what the end-to-end scripts (tests/*.test) share.  Bash;
# source it first thing:
#
#     . "$(dirname "$0")/lib.sh"
#
# Every tests/*.test speaks TAP (automake's tap-driver.sh, tests/local.mk):
# one "ok N - NAME" or "not ok N - NAME" line per check, "# ..." lines of
# diagnosis after a failure, and the plan "1..N" printed by finish at the
# end.  A script that dies before finish has no plan: tap-driver reports
# it as an ERROR, so a crash never passes.  The driver ignores the exit
# status (--ignore-exit): a result is what the TAP lines say; the status
# (0, 1 when a check failed, 77 skipped, 99 bailed out) is for running a
# script by hand:  top_builddir=_build tests/mirror-emu.test
#
# Set on sourcing:
#   srcdir       the source tree ($top_srcdir, else the script's ..)
#   builddir     the build tree ($top_builddir, else .)
#   bin          $builddir/cmd, the built commands
#   JQ           jq (make check passes configure's)
#   tmp          a fresh directory, removed at exit
#
# Results (NAME is one line; "#" in it is escaped, so it is never read as
# a directive):
#   tap_ok NAME                 ok N - NAME
#   tap_not_ok NAME [DIAG...]   not ok N - NAME, then each DIAG as "# DIAG"
#   tap_skip NAME REASON        ok N - NAME # SKIP REASON
#   check NAME CMD...           runs CMD (its stdout goes to stderr, the
#                               log); ok when it exits 0, else not ok with
#                               the command and its status
#   check_eq NAME GOT WANT [DIAG...]
#                               ok when the strings GOT and WANT are equal,
#                               else not ok "got GOT, want WANT" and DIAG
#   check_rc NAME WANT CMD...   runs CMD (output to stderr): ok when its
#                               exit status is WANT
#   fail NAME [DIAG...]         not ok at once (same as tap_not_ok)
#   diag TEXT...                "# TEXT" lines, shown in the .log
#   finish                      prints the plan; exit 0, or 1 if a check
#                               failed.  Call it last, always.
#   skip_all REASON             the script cannot run here (a missing
#                               tool): "1..0 # SKIP REASON" and exit 77;
#                               after some checks, the rest is one skip
#   bail_out REASON             the test itself is broken (a command not
#                               built, a fixture missing): "Bail out!",
#                               exit 99; tap-driver counts it as an ERROR
#   need_cmd CMD HINT           skip_all unless CMD is on PATH
#   need_built FILE...          bail_out unless each FILE is executable
#
# Processes (every process a test starts is stopped by its PID, never by
# name; the EXIT trap does it):
#   cleanup_add PID...          SIGKILL and reap these at exit
#   cleanup_forget PID...       no longer (the script stopped it itself)
#   alive PID...                true when every PID runs (kill -0 A B is
#                               true when any one does); false for a PID
#                               that is not a number over 1 (kill -0 0
#                               is true: this process group)
#   at_exit CMD...              run CMD at exit, before the PIDs are
#                               killed (last added runs first), e.g. a
#                               function that stops tgtd by its PID
#   start_emu NAME ARGS...      mirror-emu on 127.0.0.1, a port of its own
#                               choosing (--listen :0 --port-file), stats
#                               socket, -q; sets PID_NAME, PORT_NAME,
#                               URL_NAME (LUN 0 of the default IQN) and
#                               STATS_NAME; its stderr in $tmp/emu-NAME/log.
#                               Returns 1 (and reports not ok) if it did
#                               not start
#   stop_emu NAME               SIGTERM to PID_NAME and wait: a check that
#                               it exits 0
#   start_tgtd                  Debian's tgtd ($TGTD, package tgt) in the
#                               foreground on 127.0.0.1, a free port and a
#                               control port of its own; sets TGTD_PID,
#                               TGTD_PORT, TGTD_CTL; log in $tmp/tgtd.log;
#                               stopped at exit.  Returns 1 if it cannot
#                               run here (the caller skips)
#   tgt_adm ARGS...             tgtadm on that control port
#   stop_tgtd                   tgtd ignores SIGTERM: its targets and the
#                               system are deleted through the control
#                               port, then SIGKILL by PID if it stays; its
#                               control socket is removed.  A test that
#                               SIGSTOPs it sets TGTD_STOPPED=yes (stop_tgtd
#                               sends SIGCONT first)
#
# The emulated pair (mirror-pair(1): a supervisor and its two mirror-ctl
# controllers; a pair left running is stopped at exit, its controllers
# SIGKILLed by the PIDs its state file names if they outlive it):
#   start_pair NAME ARGS...     mirror-pair --dir $tmp/NAME -q ARGS, its
#                               output in $tmp/NAME.out; waits for the
#                               state file (60 s); sets PAIR_PID (the
#                               supervisor), PAIR_DIR and PAIR_STATE.
#                               Returns 1 (its output as "#" lines) if it
#                               did not come up; the caller reports
#   stop_pair NAME [cmd]        SIGTERM to the supervisor by its PID (with
#                               cmd: its control socket's "stop" verb),
#                               waits 20 s, then SIGKILL; returns its exit
#                               status (0: it stopped its controllers)
#   pair_state NAME JQ          jq -r JQ of its state file
#   pair_stats NAME CTL JQ      jq -r JQ of controller CTL's stats
#   wait_pair_stats NAME CTL JQ until JQ is true (20 s); 1 if never
#   top_field FILE CTL KEY      KEY's value on the "ctl CTL:" line of a
#                               mirror-top --pair -b snapshot in FILE
#
# Waiting (generous limits; nothing is timed, a wait only bounds a hang):
#   wait_for_file FILE [SECONDS]  until FILE is non-empty (default 20 s)
#   wait_until SECONDS CMD...     until CMD succeeds, polling every 0.1 s
#   free_port                     prints a TCP port on 127.0.0.1 nothing
#                                 listens on (for programs that cannot
#                                 take :0 and report their port)
#   port_free PORT                true when 127.0.0.1:PORT refuses
#
# Variables that belong to this file start with tap_, _lib_, PAIR_ or
# TGTD_.
#
# A new script, in short:
#
#     #!/bin/bash
#     # What it proves, and what it needs (skipped without).
#     . "$(dirname "$0")/lib.sh"
#     need_built "$bin/mirror-emu" "$bin/mirror-send"
#     start_emu a || finish
#     "$bin/mirror-send" "$URL_a" --push-table --lba 8 --size 4K --nvram-addr 0x1000 \
#         >"$tmp/out"
#     check_eq "a write on the small path: exit 0" "$?" 0 "$(cat "$tmp/out")"
#     check "mirror-send says so" grep -q 'GOOD' "$tmp/out"
#     stop_emu a
#     finish
#
# and its name in SCRIPT_TESTS (tests/local.mk).

set -u

# shellcheck disable=SC2034 # srcdir, builddir, bin and JQ are for the scripts
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${top_builddir:-.}
bin=$builddir/cmd
JQ=${JQ:-jq}

tap_n=0
tap_fails=0
_lib_pids=()
_lib_at_exit=()

# ---- TAP ----

# One line, and a "#" that cannot start a SKIP/TODO directive.
_lib_name() {
	local s=${*//$'\n'/ }
	printf '%s' "${s//#/\\#}"
}

diag() {
	local line
	while IFS= read -r line; do
		printf '# %s\n' "$line"
	done <<<"$*"
}

tap_ok() {
	tap_n=$((tap_n + 1))
	printf 'ok %d - %s\n' "$tap_n" "$(_lib_name "$1")"
}

tap_not_ok() {
	local name=$1 d
	shift
	tap_n=$((tap_n + 1))
	tap_fails=$((tap_fails + 1))
	printf 'not ok %d - %s\n' "$tap_n" "$(_lib_name "$name")"
	for d in "$@"; do diag "$d"; done
}

fail() { tap_not_ok "$@"; }

tap_skip() {
	tap_n=$((tap_n + 1))
	printf 'ok %d - %s # SKIP %s\n' "$tap_n" "$(_lib_name "$1")" "$(_lib_name "${2:-}")"
}

check() {
	local name=$1 rc
	shift
	"$@" >&2
	rc=$?
	if [ "$rc" -eq 0 ]; then
		tap_ok "$name"
	else
		tap_not_ok "$name" "command: $* (exit $rc)"
	fi
}

check_eq() {
	local name=$1 got=$2 want=$3
	shift 3
	if [ "$got" = "$want" ]; then
		tap_ok "$name"
	else
		tap_not_ok "$name" "got: $got" "want: $want" "$@"
	fi
}

check_rc() {
	local name=$1 want=$2 rc
	shift 2
	"$@" >&2
	rc=$?
	check_eq "$name" "$rc" "$want" "command: $*"
}

finish() {
	printf '1..%d\n' "$tap_n"
	[ "$tap_fails" -eq 0 ] && exit 0
	exit 1
}

skip_all() {
	if [ "$tap_n" -eq 0 ]; then
		printf '1..0 # SKIP %s\n' "$(_lib_name "$*")"
		exit 77
	fi
	tap_skip "the remaining checks" "$*"
	finish
}

bail_out() {
	printf 'Bail out! %s\n' "$(_lib_name "$*")"
	exit 99
}

need_cmd() {
	command -v "$1" >/dev/null 2>&1 || skip_all "$1 not found${2:+ ($2)}"
}

need_built() {
	local f
	for f in "$@"; do
		[ -x "$f" ] || bail_out "$f not built"
	done
}

# ---- processes ----

cleanup_add() { _lib_pids+=("$@"); }

cleanup_forget() {
	local p q keep=()
	for p in "${_lib_pids[@]}"; do
		for q in "$@"; do [ "$p" = "$q" ] && continue 2; done
		keep+=("$p")
	done
	_lib_pids=("${keep[@]}")
}

at_exit() { _lib_at_exit+=("$*"); }

alive() {
	local p
	for p in "$@"; do
		[[ $p =~ ^[0-9]+$ ]] && [ "$p" -gt 1 ] && kill -0 "$p" 2>/dev/null || return 1
	done
}

_lib_cleanup() {
	local i p
	for ((i = ${#_lib_at_exit[@]} - 1; i >= 0; i--)); do
		eval "${_lib_at_exit[i]}"
	done
	for p in "${_lib_pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -n "${tmp:-}" ] && rm -rf "$tmp"
}
trap _lib_cleanup EXIT
trap 'exit 1' INT TERM HUP

tmp=$(mktemp -d) || bail_out "mktemp -d failed"

# ---- waiting ----

wait_until() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

wait_for_file() { wait_until "${2:-20}" test -s "$1"; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
	local p _
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 30000))
		port_free "$p" && { echo "$p"; return 0; }
	done
	return 1
}

# ---- mirror-emu ----

start_emu() {
	local name=$1 dir pid
	shift
	dir=$tmp/emu-$name
	rm -rf "$dir"
	mkdir -p "$dir"
	"$bin/mirror-emu" --listen 127.0.0.1:0 --port-file "$dir/port" \
		--stats-socket "$dir/stats" -q "$@" 2>"$dir/log" &
	pid=$!
	cleanup_add "$pid"
	if ! wait_for_file "$dir/port"; then
		tap_not_ok "mirror-emu $name starts" "$(cat "$dir/log")"
		return 1
	fi
	printf -v "PID_$name" '%s' "$pid"
	printf -v "PORT_$name" '%s' "$(cat "$dir/port")"
	printf -v "URL_$name" '%s' "iscsi://127.0.0.1:$(cat "$dir/port")/iqn.2026-11.org.mirrortest:emu/0"
	printf -v "STATS_$name" '%s' "$dir/stats"
}

stop_emu() {
	local name=$1 pid rc
	local v=PID_$name
	pid=${!v}
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	cleanup_forget "$pid"
	check_eq "mirror-emu $name exits 0 on SIGTERM" "$rc" 0 "$(cat "$tmp/emu-$name/log")"
}

# ---- mirror-pair ----

declare -A _lib_pair_pid=()
# shellcheck disable=SC2034 # for the scripts
PAIR_PID='' PAIR_DIR='' PAIR_STATE=''

start_pair() {
	local name=$1 dir pid
	shift
	dir=$tmp/$name
	"$bin/mirror-pair" --dir "$dir" -q "$@" >"$tmp/$name.out" 2>&1 &
	pid=$!
	cleanup_add "$pid"
	_lib_pair_pid[$name]=$pid
	if ! _lib_pair_wait "$dir/state.json" "$pid"; then
		diag "mirror-pair $name did not come up:"
		diag "$(tail -n 20 "$tmp/$name.out" "$dir"/ctl-*.log 2>/dev/null)"
		stop_pair "$name" >/dev/null
		return 1
	fi
	# shellcheck disable=SC2034 # for the scripts
	PAIR_PID=$pid PAIR_DIR=$dir PAIR_STATE=$dir/state.json
}

# STATE PID: the state file written (60 s at most); a supervisor that
# exited will not write it, so the wait ends there
_lib_pair_wait() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ -s "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	[ -s "$1" ]
}

# The controllers' PIDs in the state file (0 for one not running: never
# kill 0, the whole process group).
_lib_pair_ctls() {
	"$JQ" -r '.controllers[].pid // empty' "$tmp/$1/state.json" 2>/dev/null | awk '$1 > 1'
}

stop_pair() {
	local name=$1 how=${2:-term} pid rc p ctls
	pid=${_lib_pair_pid[$name]:-}
	[ -n "$pid" ] || return 0
	ctls=$(_lib_pair_ctls "$name")
	if [ "$how" = cmd ]; then
		"$bin/mirror-pair" --dir "$tmp/$name" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null
	else
		kill -TERM "$pid" 2>/dev/null
	fi
	wait_until 20 eval "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	for p in $ctls $(_lib_pair_ctls "$name"); do kill -KILL "$p" 2>/dev/null; done
	cleanup_forget "$pid"
	unset '_lib_pair_pid[$name]'
	return "$rc"
}

_lib_stop_pairs() {
	local name
	for name in "${!_lib_pair_pid[@]}"; do stop_pair "$name"; done
}
at_exit _lib_stop_pairs

pair_state() { "$JQ" -r "$2" "$tmp/$1/state.json"; }
pair_stats() { "$bin/mirror-pair" --dir "$tmp/$1" stats "$2" | "$JQ" -r "$3"; }
wait_pair_stats() { wait_until 20 _lib_pair_true "$@"; }
_lib_pair_true() { [ "$(pair_stats "$@" 2>/dev/null)" = true ]; }

top_field() { sed -n "s/^ctl $2:.* $3=\\([^ ]*\\).*/\\1/p" "$1"; }

# ---- tgtd ----

TGTD=${TGTD:-/usr/sbin/tgtd}
TGTADM=${TGTADM:-/usr/sbin/tgtadm}
TGTD_PID='' TGTD_PORT='' TGTD_CTL='' TGTD_STOPPED=''

tgt_adm() { "$TGTADM" -C "$TGTD_CTL" "$@"; }

stop_tgtd() {
	local tid _
	[ -n "$TGTD_PID" ] || return 0
	[ -n "$TGTD_STOPPED" ] && kill -CONT "$TGTD_PID" 2>/dev/null
	TGTD_STOPPED=
	if kill -0 "$TGTD_PID" 2>/dev/null; then
		for tid in $(tgt_adm --lld iscsi --mode target --op show 2>/dev/null |
			sed -n 's/^Target \([0-9]*\):.*/\1/p'); do
			tgt_adm --lld iscsi --mode logicalunit --op delete --tid "$tid" --lun 1 >/dev/null 2>&1
			tgt_adm --lld iscsi --mode target --op delete --force --tid "$tid" >/dev/null 2>&1
		done
		tgt_adm --op delete --mode system >/dev/null 2>&1
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$TGTD_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill -0 "$TGTD_PID" 2>/dev/null && kill -KILL "$TGTD_PID" 2>/dev/null
	fi
	wait "$TGTD_PID" 2>/dev/null
	cleanup_forget "$TGTD_PID"
	rm -f "/var/run/tgtd/socket.$TGTD_CTL" "/var/run/tgtd/socket.$TGTD_CTL.lock"
	TGTD_PID=
}
at_exit stop_tgtd

# tgtd keeps running when its portal cannot bind (it only logs it), so
# each candidate port is confirmed by connecting; another is tried
# otherwise.  The control socket is /var/run/tgtd/socket.N: N must not be
# another tgtd's.
start_tgtd() {
	local _
	[ -x "$TGTD" ] && [ -x "$TGTADM" ] || return 1
	TGTD_CTL=$(($$ % 1000 + 100))
	while [ -e "/var/run/tgtd/socket.$TGTD_CTL" ]; do TGTD_CTL=$((TGTD_CTL + 1)); done
	for _ in 1 2 3 4 5 6 7 8; do
		TGTD_PORT=$(free_port) || continue
		"$TGTD" -f -C "$TGTD_CTL" --iscsi portal="127.0.0.1:$TGTD_PORT" >"$tmp/tgtd.log" 2>&1 &
		TGTD_PID=$!
		cleanup_add "$TGTD_PID"
		for _ in $(seq 100); do
			kill -0 "$TGTD_PID" 2>/dev/null || break
			tgt_adm --op show --mode target >/dev/null 2>&1 && ! port_free "$TGTD_PORT" && return 0
			grep -q "failed to create/bind to portal" "$tmp/tgtd.log" && break
			sleep 0.1
		done
		stop_tgtd
	done
	return 1
}
