#!/usr/bin/env bash
# Run one command in a throwaway pure-cgroup-v2 VM (qemu TCG) and exit with its exit code.
#
# Usage: vm/run.sh [options] -- CMD [ARGS...]
#   --timeout S     kill the VM after S seconds (default 600); exit 124
#   --boot-timeout S  when the guest has not started the command S seconds after qemu's launch
#                   (default 180; it takes 3-7 s here), stop it and boot again, once; then exit 125
#   --console       debug a boot: kernel messages and the command on this terminal (serial console,
#                   interactive: e.g. `vm/run.sh --console -- bash`); Ctrl-A x quits qemu
#   --env NAME=VAL  extra environment variable for CMD (repeatable)
#   --mem MiB       guest memory (default 4096)     --cpus N   vCPUs (default 2)
#   --cpu MODEL     qemu CPU model (default max: every feature TCG emulates); e.g. Nehalem or qemu64
#                   for a CPU with fewer features than the host's (`qemu-system-x86_64 -cpu help`)
#   --systemd       boot the host's systemd as PID 1 (one target, one service: the command) instead of
#                   the lane's own init; for tests of tsrun's systemd cgroup driver
#   --bzimage       boot the compressed bzImage instead of the extracted vmlinux (for measurements)
#   --results DIR   copy what CMD wrote to $TSRUN_VM_OUT (/run/tsrun-vm/out) into DIR on the host
#   --keep          keep the run directory (vm/build/runs/*: console.log, logs, results share)
#   --quiet         no timing summary on stderr
#
# CMD runs as root in the guest, in the current directory (the host's / is the guest's read-only lower
# layer with a tmpfs on top, so the path is the same), with the host's PATH and HOME and the env vars
# TSRUN_VM=1, TSRUN_VM_CPU (the --cpu model), TSRUN_VM_KERNEL, TSRUN_VM_SCRATCH_DEV (major:minor of an
# empty 1 GiB virtio disk) and TSRUN_VM_SCRATCH_DISK (/dev/vdX), TSRUN_VM_OUT (/run/tsrun-vm/out: files
# for the host, see --results), TSRUN_VM_RESULTS (/run/tsrun-vm, the directory shared read-write with the
# host; vm/build/runs/<id>/shared with --keep). Its stdout+stderr stream to our stdout.
# Exit status: CMD's; 124 on timeout; 125 if the VM failed (boot error; the console log tail is printed).
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$VM_DIR/build
VIRTIOFSD=/usr/lib/qemu/virtiofsd

timeout=600 boot_timeout=180 console=0 keep=0 quiet=0 mem=4096 cpus=2 cpu=max bzimage=0 results="" systemd=0
extra_env=() retry_boot=0
orig_args=("$@")
# The header comment, whatever its length (a fixed line range cut it short once it grew).
usage() { sed -n '2,/^[^#]/{/^#/p}' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
    --boot-timeout) boot_timeout=${2:?--boot-timeout needs seconds}; shift 2 ;;
    --console) console=1; shift ;;
    --env) [[ ${2:-} == *=* ]] || { echo "vm/run.sh: --env needs NAME=VALUE" >&2; exit 2; }; extra_env+=("$2"); shift 2 ;;
    --mem) mem=${2:?}; shift 2 ;;
    --cpus) cpus=${2:?}; shift 2 ;;
    --cpu) cpu=${2:?--cpu needs a qemu CPU model}; shift 2 ;;
    --bzimage) bzimage=1; shift ;;
    --systemd) systemd=1; shift ;;
    --keep) keep=1; shift ;;
    --results) results=${2:?--results needs a directory}; shift 2 ;;
    --quiet) quiet=1; shift ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) echo "vm/run.sh: unknown option: $1 (the command goes after --)" >&2; usage ;;
  esac
done
[ $# -gt 0 ] || { echo "vm/run.sh: no command given" >&2; usage; }
[[ $timeout =~ ^[0-9]+$ ]] || { echo "vm/run.sh: --timeout must be a number of seconds" >&2; exit 2; }
[[ $boot_timeout =~ ^[0-9]+$ ]] || { echo "vm/run.sh: --boot-timeout must be a number of seconds" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "vm/run.sh: must run as root (virtiofsd needs it)" >&2; exit 2; }

die() { echo "vm/run.sh: error: $*" >&2; exit 125; }
say() { [ "$quiet" = 1 ] || echo "vm/run.sh: $*" >&2; }

"$VM_DIR/image.sh" --quiet || die "building the VM image failed (vm/image.sh)"
kver=$(cat "$BUILD/kernel-version")
if [ "$bzimage" = 1 ]; then kernel=$BUILD/kernel/boot/vmlinuz-$kver; else kernel=$BUILD/vmlinux; fi
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (vm/image.sh installs qemu-system-x86)"

cwd=$PWD
mkdir -p "$BUILD/runs"
RUN=$(mktemp -d "$BUILD/runs/XXXXXX")
mkdir -p "$RUN/root" "$RUN/shared/out"
[ ${#RUN} -lt 90 ] || die "run directory path too long for a unix socket: $RUN"

pids=() qpid=""
# Stop a process after its children (virtiofsd's sandboxed worker is its child; killing the parent first
# would orphan it).
alive() { [ -e "/proc/$1" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
stop_tree() {
  local p=$1 c
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do stop_tree "$c"; done
  kill -TERM "$p" 2>/dev/null || return 0
  for _ in $(seq 20); do alive "$p" || break; sleep 0.05; done
  kill -KILL "$p" 2>/dev/null || true
}
cleanup() {
  local rc=$? p n
  trap - EXIT INT TERM
  # qemu first: once it is gone, the virtiofsd instances and the output reader end by themselves.
  if [ -n "$qpid" ] && alive "$qpid"; then
    kill -TERM "$qpid" 2>/dev/null || true
    for _ in $(seq 50); do alive "$qpid" || break; sleep 0.1; done
    stop_tree "$qpid"
  fi
  for _ in $(seq 20); do
    n=0; for p in "${pids[@]}"; do alive "$p" && n=$((n + 1)); done
    [ "$n" = 0 ] && break
    sleep 0.05
  done
  for p in "${pids[@]}"; do stop_tree "$p"; wait "$p" 2>/dev/null || true; done
  if [ "$keep" = 1 ]; then
    echo "vm/run.sh: kept $RUN" >&2
  elif mountpoint -q "$RUN/root" 2>/dev/null; then
    # The host root is only ever bind-mounted inside virtiofsd's private mount namespace; never delete
    # through a mount.
    echo "vm/run.sh: warning: $RUN/root is a mount point on the host; not removing $RUN" >&2
  else
    rm -rf --one-file-system "$RUN"
  fi
  # A boot that hung (below): everything of it is gone now; the same run again, once.
  [ "$retry_boot" = 1 ] && exec env TSRUN_VM_BOOT_RETRY=1 "$0" "${orig_args[@]}"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the command file, run by the guest's stage 2 with /bin/bash --------------------------------------
{
  echo '# written by vm/run.sh'
  for v in PATH HOME LANG LC_ALL TZ CI NO_COLOR FORCE_COLOR; do
    [ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}"
  done
  for e in "${extra_env[@]}"; do printf 'export %q\n' "$e"; done
  echo 'export TSRUN_VM_RESULTS=/run/tsrun-vm TSRUN_VM_OUT=/run/tsrun-vm/out'
  printf 'export TSRUN_VM_CPU=%q\n' "$cpu"
  # The guest has no network: keep npm/npx from waiting for the registry (npx took 38 s otherwise).
  echo 'export npm_config_offline=true npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false'
  printf ': > /run/tsrun-vm/started\n'
  printf 'cd -- %q || exit 125\n' "$cwd"
  printf 'exec'; printf ' %q' "$@"; printf '\n'
} > "$RUN/shared/cmd"
printf '%s' "$cwd" > "$RUN/shared/cwd"

# ---- virtiofsd: host / read-only, and the results directory read-write -------------------------------
# The read-only view is made in a private mount namespace (nothing is mounted on the host): a
# non-recursive bind of / (no /proc, /sys, /dev or other pseudo filesystems), plus the disk filesystems
# mounted below it and the one holding the working directory, each remounted read-only.
extra_mounts=$(findmnt -rn -o TARGET,FSTYPE | awk '$1 != "/" && $2 ~ /^(ext[234]|xfs|btrfs|zfs|f2fs|overlay)$/ { print $1 }')
cwd_mount=$(findmnt -n -o TARGET -T "$cwd")
[ "$cwd_mount" = / ] || extra_mounts=$(printf '%s\n%s\n' "$extra_mounts" "$cwd_mount")
extra_mounts=$(printf '%s\n' "$extra_mounts" | grep -v '^$' | grep -vE '^/(proc|sys|dev|run)(/|$)' | sort -u || true)

setsid unshare -m --propagation private bash -c '
  set -euo pipefail
  src=$1 sock=$2 vfsd=$3; shift 3
  mount --bind / "$src"
  mount -o remount,bind,ro "$src"
  for m in "$@"; do
    mount --bind "$m" "$src$m" && mount -o remount,bind,ro "$src$m" ||
      echo "vm/run.sh: warning: could not share $m with the guest" >&2
  done
  exec "$vfsd" --socket-path="$sock" -o source="$src" -o cache=always -o sandbox=namespace \
    -o no_posix_lock -o no_flock -o no_xattr
' vfsd-root "$RUN/root" "$RUN/root.sock" "$VIRTIOFSD" $extra_mounts 2>"$RUN/virtiofsd-root.log" &
pids+=($!)
setsid "$VIRTIOFSD" --socket-path="$RUN/results.sock" -o source="$RUN/shared" -o cache=none \
  -o sandbox=namespace 2>"$RUN/virtiofsd-results.log" &
pids+=($!)
for _ in $(seq 100); do
  [ -S "$RUN/root.sock" ] && [ -S "$RUN/results.sock" ] && break
  sleep 0.05
done
[ -S "$RUN/root.sock" ] || { cat "$RUN/virtiofsd-root.log" >&2; die "virtiofsd for / did not start"; }
[ -S "$RUN/results.sock" ] || { cat "$RUN/virtiofsd-results.log" >&2; die "virtiofsd for results did not start"; }

# ---- scratch disk and output channel --------------------------------------------------------------
truncate -s 1G "$RUN/scratch.img"
mkfifo "$RUN/out"
cat "$RUN/out" &
pids+=($!)
reader=$!

append="console=ttyS0 cgroup_no_v1=all panic=-1 mitigations=off random.trust_cpu=on rdinit=/init"
# TSRUN_VM_APPEND: extra kernel parameters (debugging, experiments); TSRUN_VM_QEMU_ARGS: extra qemu args.
append="$append ${TSRUN_VM_APPEND:-}"
[ "$systemd" = 1 ] && append="$append TSRUN_VM_INIT=systemd"
if [ "$console" = 1 ]; then
  append="$append TSRUN_VM_CONSOLE=1"
  serial=(-serial mon:stdio)
else
  append="$append quiet loglevel=4"
  serial=(-serial "file:$RUN/console.log")
fi

# shellcheck disable=SC2054,SC2206  # commas are qemu's; TSRUN_VM_QEMU_ARGS is split on purpose
qemu=(qemu-system-x86_64
  -accel tcg,thread=multi -cpu "$cpu" -smp "$cpus" -m "${mem}M"
  -object "memory-backend-memfd,id=mem,size=${mem}M,share=on" -machine q35,memory-backend=mem
  -kernel "$kernel" -initrd "$BUILD/initramfs.cpio" -append "$append"
  -display none -monitor none "${serial[@]}" -no-reboot -nic none -nodefaults
  -chardev "socket,id=fsroot,path=$RUN/root.sock" -device vhost-user-fs-pci,chardev=fsroot,tag=hostroot
  -chardev "socket,id=fsres,path=$RUN/results.sock" -device vhost-user-fs-pci,chardev=fsres,tag=results
  -device virtio-serial-pci -chardev "file,id=out,path=$RUN/out" -device virtconsole,chardev=out
  -drive "file=$RUN/scratch.img,format=raw,if=none,id=scratch,cache=unsafe"
  -device virtio-blk-pci,drive=scratch,serial=tsrun-scratch
  ${TSRUN_VM_QEMU_ARGS:-}
)
start=$(date +%s.%N)
# timeout(1) (not a background sleep, which would keep our stdout open) sends TERM, then KILL 5 s later.
# Background jobs of a script get /dev/null as stdin; with --console qemu needs ours (the serial console).
exec 3<&0
timeout --foreground -k 5 "$timeout" "${qemu[@]}" <&3 3<&- 2>"$RUN/qemu.log" &
exec 3<&-
qpid=$!

# Boot watchdog: under TCG the guest starts the command 3-7 s after launch, but one boot with -cpu
# Nehalem in CI hung for 20 minutes without a line on its console (the command never started; the
# same lane passed before and after, and 12 times in a row by hand). A boot that has not started the
# command after --boot-timeout seconds is stopped and run again, once. Not armed with --console (a
# person is watching), and never once the command started: a command that hangs is the command's.
watchdog=""
if [ "$console" = 0 ] && [ "$boot_timeout" -gt 0 ]; then
  (
    for _ in $(seq "$boot_timeout"); do
      [ -e "$RUN/shared/started" ] && exit 0
      alive "$qpid" || exit 0
      sleep 1
    done
    [ -e "$RUN/shared/started" ] && exit 0
    : > "$RUN/boot-hung"
    kill -TERM "$qpid" 2>/dev/null
  ) > /dev/null 2>&1 &
  watchdog=$!
fi

qrc=0
wait "$qpid" || qrc=$?
end=$(date +%s.%N)
if [ -n "$watchdog" ]; then kill "$watchdog" 2>/dev/null || true; wait "$watchdog" 2>/dev/null || true; fi
[ "$qrc" = 124 ] && : > "$RUN/timed-out"
wait "$reader" 2>/dev/null || true   # EOF once qemu closed the fifo: all output is printed

show_console() {
  if [ -s "$RUN/qemu.log" ]; then echo "--- qemu stderr ---" >&2; tail -n 20 "$RUN/qemu.log" >&2; fi
  if [ -s "$RUN/console.log" ]; then echo "--- guest console (last 40 lines) ---" >&2; tail -n 40 "$RUN/console.log" >&2; fi
  if [ -s "$RUN/shared/stage2-error" ]; then echo "--- stage 2 error ---" >&2; cat "$RUN/shared/stage2-error" >&2; fi
}
if [ -n "$results" ]; then
  mkdir -p "$results" && cp -a "$RUN/shared/out/." "$results/" ||
    echo "vm/run.sh: warning: could not copy the command's results to $results" >&2
fi
if [ -e "$RUN/boot-hung" ]; then
  show_console
  if [ "${TSRUN_VM_BOOT_RETRY:-0}" = 0 ]; then
    echo "vm/run.sh: the guest had not started the command ${boot_timeout}s after qemu's launch (it takes 3-7 s): booting it again, once" >&2
    retry_boot=1
    exit 0
  fi
  die "the guest had not started the command ${boot_timeout}s after qemu's launch, twice; rerun with --console to watch the boot"
fi
if [ -e "$RUN/timed-out" ]; then
  show_console
  echo "vm/run.sh: timed out after ${timeout}s; VM killed (use --timeout S, --console to watch the boot)" >&2
  exit 124
fi
if [ ! -s "$RUN/shared/exit-code" ]; then
  show_console
  die "the VM stopped (qemu exit $qrc) before the command finished; rerun with --console to debug the boot"
fi
rc=$(cat "$RUN/shared/exit-code")
if [ "$quiet" = 0 ]; then
  started=$start
  [ -e "$RUN/shared/started" ] && started=$(date -r "$RUN/shared/started" +%s.%N)
  awk -v s="$start" -v c="$started" -v e="$end" -v rc="$rc" 'BEGIN {
    printf "vm/run.sh: exit %s; command started %.1fs after qemu launch; VM ran %.1fs in all\n", rc, c - s, e - s }' >&2
fi
exit "$rc"
