// Signals sent to tsrun are passed on to the container's init, as runc does for a foreground run.
// Handlers are installed before the container exists: a signal that arrives during set-up is held
// and delivered once the init's pid is known, instead of killing tsrun half-way (which would leave
// a half-made container behind). SIGCHLD, SIGPIPE and stop signals are not forwarded.

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGCONT'];

export interface SignalForwarder {
  /** Starts delivering to `pid`, first the signals held so far. */
  target(pid: number): void;
  stop(): void;
}

export function forwardSignals(): SignalForwarder {
  let pid: number | undefined;
  const held: NodeJS.Signals[] = [];
  const deliver = (sig: NodeJS.Signals): void => {
    try { process.kill(pid!, sig); } catch { /* the container is already gone */ }
  };
  const handlers = FORWARDED.map((sig) => {
    const handler = (): void => { if (pid === undefined) held.push(sig); else deliver(sig); };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  return {
    target(p) {
      pid = p;
      for (const sig of held.splice(0)) deliver(sig);
    },
    stop() { for (const [sig, h] of handlers) process.off(sig, h); },
  };
}
