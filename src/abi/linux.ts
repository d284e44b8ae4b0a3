// Linux constants the planners and the wire format need. Values from <linux/sched.h>, <sys/mount.h>,
// <linux/prctl.h>, <sys/stat.h>, <sys/resource.h>.

export const CLONE = {
  NEWTIME: 0x00000080,
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  SILENT: 32768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

export const MNT_DETACH = 2;

export const PR = {
  SET_PDEATHSIG: 1,
  SET_KEEPCAPS: 8,
  SET_NO_NEW_PRIVS: 38,
} as const;

export const S_IF = { c: 0o020000, b: 0o060000, p: 0o010000, dir: 0o040000 } as const;

/** rlim_t all ones: RLIM_INFINITY, as a signed 64-bit value on the wire. */
export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;
