// Warnings, notices and --trace lines go to the caller's stderr, which may be gone: `tsrun run
// --trace … 2>&1 | head -3` closes the pipe after three lines, and every later write fails with
// EPIPE. Such a failure must not abort a create half-way, nor skip the clean-up of a failed one (a
// throw from a trace line once left the container's cgroup behind on every run): diagnostics are
// best-effort, and what they could not say is dropped.
import type { TraceSink } from '../process/trace.js';

export function quietWarn(fn: ((message: string) => void) | undefined): (message: string) => void {
  if (!fn) return () => {};
  return (message) => {
    try { fn(message); } catch { /* stderr is gone: nobody left to tell */ }
  };
}

export function quietTrace(sink: TraceSink): TraceSink {
  return {
    event: (e) => {
      try { sink.event(e); } catch { /* as quietWarn */ }
    },
  };
}
