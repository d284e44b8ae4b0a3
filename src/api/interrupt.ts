// timeoutMs and AbortSignal: either one kills the process (the caller says how) and is remembered,
// so the call can reject saying which. Arms nothing when neither is given.
export interface Interrupt {
  /** What fired, if anything. */
  readonly fired: 'timeout' | 'abort' | undefined;
  clear(): void;
}

export function armInterrupt(opts: { timeoutMs?: number; signal?: AbortSignal }, kill: () => void): Interrupt {
  let fired: 'timeout' | 'abort' | undefined;
  const fire = (why: 'timeout' | 'abort'): void => {
    if (fired) return;
    fired = why;
    kill();
  };
  const timer = opts.timeoutMs !== undefined ? setTimeout(() => fire('timeout'), opts.timeoutMs) : undefined;
  const onAbort = (): void => fire('abort');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) fire('abort');
  return {
    get fired() { return fired; },
    clear() {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    },
  };
}
