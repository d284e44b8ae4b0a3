// Signals sent to tsrun are passed on to the container's init, as runc does for a foreground run.
// SIGCHLD, SIGPIPE and stop signals are tsrun's own business and are not forwarded.

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGCONT'];

/** Starts forwarding; returns the function that stops it. */
export function forwardSignals(pid: number): () => void {
  const handlers = FORWARDED.map((sig) => {
    const handler = (): void => {
      try { process.kill(pid, sig); } catch { /* the container is already gone */ }
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  return () => { for (const [sig, h] of handlers) process.off(sig, h); };
}
