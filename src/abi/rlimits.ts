// Resource-limit names as written in config.json (`process.rlimits[].type`), with the numbers
// setrlimit(2)/prlimit(2) take on Linux (include/uapi/asm-generic/resource.h; x86-64, arm64 and
// riscv use these generic numbers).

// A null prototype, so a lookup such as RLIMITS['toString'] is undefined rather than a function.
export const RLIMITS: Readonly<Record<string, number>> = Object.freeze(Object.assign(Object.create(null) as Record<string, number>, {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
}));

export function isRlimitName(name: string): boolean {
  return Object.hasOwn(RLIMITS, name);
}

/** The resource number of an rlimit name, or undefined when the name is unknown. */
export function rlimitNumber(name: string): number | undefined {
  return isRlimitName(name) ? RLIMITS[name] : undefined;
}
