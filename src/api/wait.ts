// Readiness strategies for start(spec, { wait }), named as testcontainers names them. Each waits
// until its condition holds; start() bounds them with startupTimeoutMs and stops the container when
// they fail.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Container } from './container.js';
import { httpReady, tcpListening } from './probes.js';

export interface WaitStrategy {
  /** For messages: `log /ready/ ×1`, `port 8080`… */
  readonly describe: string;
  /** Resolves once ready; gives up (rejects or returns) when `signal` fires. */
  waitUntilReady(container: Container, signal: AbortSignal): Promise<void>;
}

const POLL_MS = 50;

async function poll(signal: AbortSignal, ready: () => boolean | Promise<boolean>): Promise<void> {
  while (!signal.aborted) {
    if (await ready()) return;
    await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
  }
}

export const Wait = {
  /** `times` lines of its output (stdout or stderr) match `re`. */
  forLog(re: RegExp | string, times = 1): WaitStrategy {
    const test = typeof re === 'string' ? (l: string) => l.includes(re) : (l: string) => re.test(l);
    return {
      describe: `log ${String(re)} ×${times}`,
      async waitUntilReady(c, signal) {
        let seen = 0;
        for await (const line of c.logs({ signal })) {
          if (test(line) && ++seen >= times) return;
        }
        if (!signal.aborted) throw new Error(`the output ended after ${seen} of ${times} matching lines`);
      },
    };
  },
  /** `cmd`, exec'd in the container, exits 0. */
  forCommand(cmd: string[]): WaitStrategy {
    return {
      describe: `command ${JSON.stringify(cmd)}`,
      waitUntilReady: (c, signal) => poll(signal, async () => (await c.exec(cmd, { signal }).catch(() => undefined))?.exitCode === 0),
    };
  },
  /** Something listens on TCP `port` in the container's network namespace. */
  forPort(port: number): WaitStrategy {
    return { describe: `port ${port}`, waitUntilReady: (c, signal) => poll(signal, () => tcpListening(c.pid, port)) };
  },
  /** GET `path` on `port`, from inside the container's network namespace, answers 2xx/3xx. */
  forHttp(path: string, port: number): WaitStrategy {
    return {
      describe: `http ${port}${path}`,
      waitUntilReady: (c, signal) => poll(signal, async () => tcpListening(c.pid, port) && httpReady(c, port, path, signal)),
    };
  },
  /** All of them (at once). */
  all(...strategies: WaitStrategy[]): WaitStrategy {
    return {
      describe: strategies.map((s) => s.describe).join(' and '),
      waitUntilReady: async (c, signal) => { await Promise.all(strategies.map((s) => s.waitUntilReady(c, signal))); },
    };
  },
};
