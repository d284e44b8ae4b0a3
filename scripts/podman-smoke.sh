#!/usr/bin/env bash
# podman-smoke.sh — podman (Debian 12's 4.3, with conmon) drives tsrun as its OCI runtime:
#   import a local rootfs archive as an image, `run --rm … echo hi`, `run -d`, `exec` (plain, exit code,
#   -t, -i, --user/--workdir/--env), `stop`, `rm`, then check that nothing is left: no podman
#   container, no tsrun state, no mount, no cgroup, no process.
#
# Usage (as root, after `make build samples`):
#   scripts/podman-smoke.sh [--log-calls FILE] [--keep]
#     --log-calls FILE  put a wrapper between podman/conmon and tsrun that appends every runtime argv to
#                       FILE (then execs tsrun unchanged), and print the calls (ids shortened) at the end
#     --keep            keep the temporary directory (podman storage, config) for inspection
#   TSRUN_PODMAN_RUNTIME=/path/to/runtime overrides the runtime (default: bin/tsrun, the launcher that
#   `command -v tsrun` finds once installed).
#
# Everything podman keeps goes to a private temporary directory (--root, --runroot, --tmpdir,
# --network-config-dir, events file): the host's /var/lib/containers is not used. tsrun keeps its state
# in its default root (/run/tsrun): podman passes `--runtime-flag`s to create/start/kill but NOT to the
# `delete --force` that `podman container cleanup` runs, so a private tsrun root would leak state.
#
# Flags this host needs, and why (see test/integration/podman/podman.test.ts for the same set):
#   --cgroup-manager cgroupfs   no systemd here.
#   --cgroups no-conmon         podman's default on a cgroup v1 (hybrid) host moves conmon into
#                               /sys/fs/cgroup/<v1 controller>/libpod_parent/conmon: a write into the v1
#                               hierarchies. `--cgroups disabled` would avoid all cgroups but podman only
#                               allows it for runtimes listed in runtime_supports_nocgroups (crun) and then
#                               passes crun's `--cgroup-manager disabled` global flag.
#   pids_limit = 0 (containers.conf, via CONTAINERS_CONF)
#                               podman adds linux.resources.pids {limit: 2048} by default, and even
#                               `--pids-limit 0`/`-1` still writes {limit: 0}; tsrun refuses any pids
#                               field on a hybrid host whose v2 hierarchy lacks the pids controller.
#                               Only pids_limit = 0 in containers.conf leaves the field out.
#   --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
#                               podman's default process.rlimits are NOFILE and NPROC 1048576. Raising a
#                               hard limit above the caller's needs CAP_SYS_RESOURCE, which this sandbox's
#                               bounding set lacks (prlimit --nofile=1048576 fails here too): any runtime
#                               fails. Lowering is always allowed.
#   --network none              no netavark/CNI set-up.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNTIME=${TSRUN_PODMAN_RUNTIME:-$REPO/bin/tsrun}
ROOTFS=$REPO/rootfs-samples/build/busybox/rootfs
LOG_CALLS=
KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --log-calls) LOG_CALLS=$(realpath -m "$2"); shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "podman-smoke: unknown argument $1" >&2; exit 2 ;;
  esac
done

die() { echo "podman-smoke: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root"
command -v podman >/dev/null || die "podman is not installed (Debian: apt-get install podman conmon)"
command -v conmon >/dev/null || [ -x /usr/libexec/podman/conmon ] || die "conmon is not installed"
[ -x "$RUNTIME" ] || die "runtime $RUNTIME is not executable (make build)"
[ -d "$ROOTFS/bin" ] || die "sample rootfs $ROOTFS missing (make samples)"

# The cgroup v2 mount tsrun uses: /sys/fs/cgroup on a pure v2 host, /sys/fs/cgroup/unified on a hybrid one.
CG2=
for m in /sys/fs/cgroup /sys/fs/cgroup/unified; do
  [ "$(stat -f -c %T "$m" 2>/dev/null)" = cgroup2fs ] && CG2=$m && break
done
PARENT_EXISTED=0
[ -n "$CG2" ] && [ -d "$CG2/libpod_parent" ] && PARENT_EXISTED=1

T=$(mktemp -d /tmp/tsrun-podman.XXXXXX)
IDS=()
FAILED=0
PODMAN_ARGS=(--root "$T/storage" --runroot "$T/run" --tmpdir "$T/tmp" --network-config-dir "$T/networks"
             --cgroup-manager cgroupfs --events-backend file)
RUN_ARGS=(--network none --cgroups no-conmon --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
IMAGE=localhost/tsrun-smoke-busybox

printf '[containers]\npids_limit = 0\n[engine]\nevents_logger = "file"\n' > "$T/containers.conf"
export CONTAINERS_CONF=$T/containers.conf # inherited by conmon and the `podman container cleanup` it runs

if [ -n "$LOG_CALLS" ]; then
  : > "$LOG_CALLS"
  cat > "$T/tsrun-logged" <<EOF
#!/bin/sh
{ for a in "\$@"; do printf '%s ' "\$a"; done; echo; } >> '$LOG_CALLS'
exec '$RUNTIME' "\$@"
EOF
  chmod +x "$T/tsrun-logged"
  RUNTIME=$T/tsrun-logged
fi

pm() { podman "${PODMAN_ARGS[@]}" --runtime "$RUNTIME" "$@"; }

cleanup() {
  set +e
  pm rm -af -t 0 >/dev/null 2>&1
  pm rmi -af >/dev/null 2>&1
  # Only mounts under our own directory, deepest first.
  findmnt -rn -o TARGET | grep -F "$T/" | sort -r | while read -r m; do umount "$m"; done
  for id in "${IDS[@]}"; do
    [ -d "/run/tsrun/$id" ] && "$REPO/bin/tsrun" delete --force "$id" >/dev/null 2>&1
  done
  # tsrun leaves the parents of an absolute cgroupsPath (as runc does); remove podman's if we made it.
  [ -n "$CG2" ] && [ $PARENT_EXISTED = 0 ] && rmdir "$CG2/libpod_parent" 2>/dev/null
  if [ $KEEP = 1 ]; then echo "podman-smoke: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

step() { printf '%-58s' "$1"; }
ok() { echo "ok"; }
fail() { echo "FAIL: $*"; FAILED=1; }
expect_eq() { # what expected actual
  if [ "$2" = "$3" ]; then ok; else fail "expected $(printf %q "$2"), got $(printf %q "$3")"; fi
}

step "import rootfs archive as $IMAGE"
tar -C "$ROOTFS" -cf "$T/rootfs.tar" .
if pm import -q "$T/rootfs.tar" "$IMAGE" >/dev/null; then ok; else fail "podman import"; exit 1; fi

step "run --rm echo hi"
out=$(pm run --rm --cidfile "$T/cid-rm" "${RUN_ARGS[@]}" "$IMAGE" echo hi 2>"$T/err") || true
IDS+=("$(cat "$T/cid-rm" 2>/dev/null)")
expect_eq "run --rm" "hi" "$out"
[ -s "$T/err" ] && sed 's/^/    stderr: /' "$T/err"

step "run --rm: exit code of the container"
rc=0; pm run --rm "${RUN_ARGS[@]}" "$IMAGE" sh -c 'exit 7' || rc=$?
expect_eq "exit code" 7 "$rc"

ARCHIVE=$REPO/rootfs-samples/build/busybox-layers.docker.tar
if [ -f "$ARCHIVE" ]; then
  step "load docker archive: Entrypoint sh -c, user app, workdir"
  pm load -q -i "$ARCHIVE" >/dev/null
  out=$(pm run --rm --cidfile "$T/cid-layers" "${RUN_ARGS[@]}" busybox-layers 'id -un; pwd' 2>&1) || true
  IDS+=("$(cat "$T/cid-layers" 2>/dev/null)")
  expect_eq "run" "app
/home/app" "$out"
fi

step "run -d sleep"
cid=$(pm run -d --name tsrun-smoke "${RUN_ARGS[@]}" "$IMAGE" sleep 1000 2>"$T/err") || true
IDS+=("$cid")
state=$(pm inspect -f '{{.State.Status}}' tsrun-smoke 2>/dev/null || true)
expect_eq "status" running "$state"
[ -s "$T/err" ] && sed 's/^/    stderr: /' "$T/err"

step "exec echo"
out=$(pm exec tsrun-smoke echo from-exec 2>"$T/err") || true
expect_eq "exec" from-exec "$out"
[ -s "$T/err" ] && sed 's/^/    stderr: /' "$T/err"

step "exec: exit code"
rc=0; pm exec tsrun-smoke sh -c 'exit 3' 2>/dev/null || rc=$?
expect_eq "exit code" 3 "$rc"

step "exec -i (stdin)"
out=$(echo piped | pm exec -i tsrun-smoke cat 2>/dev/null) || true
expect_eq "exec -i" piped "$out"

step "exec -t (console socket)"
out=$(pm exec -t tsrun-smoke tty 2>/dev/null | tr -d '\r') || true
expect_eq "exec -t" /dev/pts/0 "$out"

step "exec --user --workdir --env"
out=$(pm exec --user 1000:1000 --workdir /tmp -e FOO=bar tsrun-smoke sh -c 'echo $(id -u):$(id -g) $PWD $FOO' 2>/dev/null) || true
expect_eq "exec" "1000:1000 /tmp bar" "$out"

step "stop -t 1 (TERM ignored by pid 1, then KILL), rm"
if pm stop -t 1 tsrun-smoke >/dev/null 2>&1 && pm rm tsrun-smoke >/dev/null; then ok; else fail "stop/rm"; fi

step "nothing left: podman ps -a"
expect_eq "containers" "" "$(pm ps -aq)"

step "nothing left: tsrun state"
left=""; for id in "${IDS[@]}"; do [ -n "$id" ] && [ -e "/run/tsrun/$id" ] && left="$left $id"; done
expect_eq "state dirs" "" "$left"

step "nothing left: mounts"
expect_eq "mounts" "" "$(findmnt -rn -o TARGET | grep -F "$T/" || true)"

step "nothing left: cgroups"
left=""
if [ -n "$CG2" ]; then
  for id in "${IDS[@]}"; do [ -n "$id" ] && [ -d "$CG2/libpod_parent/libpod-$id" ] && left="$left libpod-$id"; done
fi
expect_eq "cgroups" "" "$left"

step "nothing left: processes"
expect_eq "processes" "" "$(for p in $(pgrep -x sleep); do readlink "/proc/$p/root" 2>/dev/null | grep -qF "$T/" && echo "$p"; done)"

if [ -n "$LOG_CALLS" ]; then
  echo "runtime calls (ids shortened to ID, paths under $T to \$T):"
  sed -e 's/[0-9a-f]\{64\}/ID/g' -e "s|$T|\$T|g" "$LOG_CALLS" | sed 's/^/  /'
fi
if [ $FAILED = 0 ]; then echo "podman-smoke: all passed"; else echo "podman-smoke: FAILED"; exit 1; fi
