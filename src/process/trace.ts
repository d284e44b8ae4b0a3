// Trace events: one per step, from the parent (clone, id maps, cgroup files) or from the child (each
// plan step, reported over the sync socket). Reporters turn them into text or JSON lines.

export interface TraceEvent {
  who: 'parent' | 'child';
  /** Plan step index, for child events. */
  step?: number;
  title: string;
  why?: string;
  field?: string;
  /** 'ok', 'skipped', or the errno name. */
  result: string;
  /** The syscall behind the step (for a man page reference) and the part of set-up it belongs to. */
  syscall?: string;
  group?: string;
  durationMs?: number;
}

export interface TraceSink {
  event(e: TraceEvent): void;
}

export const noTrace: TraceSink = { event: () => {} };
