// Durations for --trace lines, from process.hrtime: the global `performance` loads Node's perf_hooks
// on first use (~1 ms at run time, or ~80 KB of the startup snapshot's heap when its warm-up runs it).

/** Milliseconds since `t0`, a process.hrtime.bigint() reading. */
export const msSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
