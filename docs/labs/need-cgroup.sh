#!/bin/sh
# The first command of a cgroup lab: can this host apply the limits the lab uses?
#   docs/labs/need-cgroup.sh LAB CONTROLLER...      e.g. docs/labs/need-cgroup.sh 07 memory
# Prints one line. Exit 0: the cgroup v2 hierarchy has every controller named, go on. Exit 1: it does
# not; the line says why and gives the one command that runs the lab in the project's VM (a small
# qemu guest booted with cgroup v2 only; see vm/README.md).
# Where cgroup2 is mounted is read from /proc/self/mountinfo (field 9 is the filesystem type, field 5
# the mount point), as tsrun finds it: never assumed to be /sys/fs/cgroup.
lab=$1; shift
mnt=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' /proc/self/mountinfo)
vm="run this lab in the VM instead: make lab-vm LAB=$lab"
if [ -z "$mnt" ]; then
  echo "stop: this host has no cgroup v2 mount; $vm"
  exit 1
fi
have=$(cat "$mnt/cgroup.controllers")
missing=""
for c in "$@"; do
  case " $have " in *" $c "*) ;; *) missing="$missing $c" ;; esac
done
if [ -n "$missing" ]; then
  # /proc/cgroups: a controller bound to a v1 hierarchy has a non-zero hierarchy id (column 2).
  held=""
  for c in $missing; do
    awk -v c="$c" '$1 == c && $2 != 0 { found = 1 } END { exit !found }' /proc/cgroups 2>/dev/null && held=" (held by cgroup v1: a hybrid host)"
  done
  echo "stop: the cgroup v2 hierarchy at $mnt lacks${missing}${held}; $vm"
  exit 1
fi
echo "go on: the cgroup v2 hierarchy at $mnt has $*"
