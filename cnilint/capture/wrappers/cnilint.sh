#!/bin/bash
# cnilint-capture-wrapper format=cnilint: logs every call of "<this file>-original"; "cnilint capture uninstall" restores the original
#
# Put here by `cnilint capture install`. The runtime calls this file as it
# would call the plugin; it runs "$(readlink -f "$0")-original" with the same
# arguments, environment and stdin, passes the plugin's stdout and stderr
# through byte for byte, exits with its exit status (128+N when signal N
# killed it, as bash reports it), and appends one record to $LOG_DIR/<name>:
# the classic wrapper's blocks, then STDERR, exit code, invocation id, and
# start and end times. It needs bash >= 4 and coreutils, nothing else.
#
# Logging never fails the call: when a temp file or the log cannot be written,
# the plugin still runs and everything still passes through (the one thing
# that cannot be undone: stdin already read when the temp dir fills up).
#
# Every variable here is named __cnilint_*: bash exports an assigned variable
# that came from the environment, and the plugin must get the runtime's
# environment untouched (apart from what bash itself sets: SHLVL, PWD, _,
# as under the classic wrapper).

__cnilint_log_dir=/tmp/log

__cnilint_original="$(readlink -f -- "$0")-original"
__cnilint_name=${0##*/}
__cnilint_started=$(date)
if ! __cnilint_tmp=$(mktemp -d "${TMPDIR:-/tmp}/cnilint-capture.XXXXXXXXXX" 2>/dev/null) ||
    ! : 2>/dev/null >"$__cnilint_tmp/out" || ! : 2>/dev/null >"$__cnilint_tmp/err"; then
    [[ -z $__cnilint_tmp ]] || rm -rf -- "$__cnilint_tmp" 2>/dev/null
    exec "$__cnilint_original" "$@" # no room for temp files: run the plugin unlogged
fi
trap 'rm -rf -- "$__cnilint_tmp"' EXIT
# A signal sent to the wrapper alone waits for the plugin to finish (bash runs
# traps between commands); the call is still logged, then the signal re-raised.
__cnilint_signal=
trap '__cnilint_signal=HUP' HUP
trap '__cnilint_signal=INT' INT
trap '__cnilint_signal=TERM' TERM

env >"$__cnilint_tmp/env" 2>/dev/null

__cnilint_clock() { # sets __cnilint_wall and __cnilint_mono to "now", without forking
    __cnilint_wall=${EPOCHREALTIME/,/.} # bash >= 5; the decimal point follows the locale
    [[ -n $__cnilint_wall ]] || __cnilint_wall=$(date +%s.%N)
    read -r __cnilint_mono __cnilint_idle 2>/dev/null </proc/uptime || __cnilint_mono=-
}

# stdin: saved to a file the plugin reads, unless it is a terminal (the
# classic wrapper's `[ ! -t 0 ]` branch) or closed (the plugin gets it closed).
if [[ -t 0 ]]; then
    __cnilint_stdin=tty
elif { true 3<&0; } 2>/dev/null; then # fd 0 is open (`<&0` onto itself would not tell)
    __cnilint_stdin=file
    cat >"$__cnilint_tmp/in" 2>/dev/null
else
    __cnilint_stdin=closed
    : >"$__cnilint_tmp/in" 2>/dev/null
fi

__cnilint_clock
__cnilint_wall_start=$__cnilint_wall
__cnilint_mono_start=$__cnilint_mono
# The group's 2>/dev/null keeps bash's own report of a killed plugin
# ("line N: PID Aborted ...") off the caller's stderr.
{
    case $__cnilint_stdin in
    tty) "$__cnilint_original" "$@" >"$__cnilint_tmp/out" 2>"$__cnilint_tmp/err" ;;
    file) "$__cnilint_original" "$@" <"$__cnilint_tmp/in" >"$__cnilint_tmp/out" 2>"$__cnilint_tmp/err" ;;
    closed) "$__cnilint_original" "$@" <&- >"$__cnilint_tmp/out" 2>"$__cnilint_tmp/err" ;;
    esac
} 2>/dev/null
__cnilint_status=$?
__cnilint_clock

# The caller gets the plugin's stdout and stderr before the log is written.
cat -- "$__cnilint_tmp/out" 2>/dev/null
cat -- "$__cnilint_tmp/err" >&2 2>/dev/null

if [[ $__cnilint_mono_start == - || $__cnilint_mono == - ]]; then
    __cnilint_monotonic='- -'
else
    __cnilint_monotonic="$__cnilint_mono_start $__cnilint_mono"
fi
read -r __cnilint_id 2>/dev/null </proc/sys/kernel/random/uuid ||
    __cnilint_id="$$-$RANDOM-$__cnilint_wall_start"

# The record: the blocks' headings are written to small files (shell builtins,
# no fork), and one `cat` strings them together with the saved streams.
{
    printf '%s\n' "$__cnilint_started"
    echo "================================================================="
    echo "CNI params:"
    # `env | grep CNI`, as the classic wrapper logs it, without needing grep
    while IFS= read -r __cnilint_line; do
        [[ $__cnilint_line == *CNI* ]] && printf '%s\n' "$__cnilint_line"
    done <"$__cnilint_tmp/env"
    echo "env:"
} >"$__cnilint_tmp/1" 2>/dev/null
if [[ $__cnilint_stdin == tty ]]; then
    __cnilint_input=() # the classic wrapper's terminal branch: no INPUT block
    echo "OUTPUT:" >"$__cnilint_tmp/3" 2>/dev/null
else
    __cnilint_input=("$__cnilint_tmp/2" "$__cnilint_tmp/in")
    echo "INPUT:" >"$__cnilint_tmp/2" 2>/dev/null
    printf '\nOUTPUT:\n' >"$__cnilint_tmp/3" 2>/dev/null # stdin may end without a newline: always one
fi
printf '\nSTDERR:\n' >"$__cnilint_tmp/4" 2>/dev/null
{
    echo # after stderr, as after stdout
    echo "Exit code: $__cnilint_status"
    echo "Invocation: $__cnilint_id"
    echo "Monotonic: $__cnilint_monotonic"
    echo "Wall clock: $__cnilint_wall_start $__cnilint_wall"
    echo "Returned at: $(date)"
    echo "================================================================="
    echo ""
    echo ""
} >"$__cnilint_tmp/5" 2>/dev/null

# One write(2) with O_APPEND: on Linux, appends to a regular file do not
# interleave, so concurrent calls of a plugin cannot mix their records. dd
# gathers the whole record (iflag=fullblock: up to bs, 16 MiB) and writes it
# at once; `cat >>` would write in 128 KiB pieces. A record above 16 MiB (never
# seen: records are a few KiB) would be appended in several writes.
[[ -d $__cnilint_log_dir ]] || mkdir -p -- "$__cnilint_log_dir" 2>/dev/null
cat -- "$__cnilint_tmp/1" "$__cnilint_tmp/env" "${__cnilint_input[@]}" "$__cnilint_tmp/3" "$__cnilint_tmp/out" \
    "$__cnilint_tmp/4" "$__cnilint_tmp/err" "$__cnilint_tmp/5" 2>/dev/null |
    dd of="$__cnilint_log_dir/$__cnilint_name" bs=16M iflag=fullblock oflag=append conv=notrunc status=none 2>/dev/null

rm -rf -- "$__cnilint_tmp"
trap - EXIT
if [[ -n $__cnilint_signal ]]; then
    trap - "$__cnilint_signal"
    kill -s "$__cnilint_signal" $$
fi
exit "$__cnilint_status"
