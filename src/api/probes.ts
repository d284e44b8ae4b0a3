// Readiness probes that look inside a container's network namespace. Each is one function, so that
// it can switch to the networking code's connectInContainer (a socket made in the container's
// namespace) once that is in main, without touching the Wait strategies.
import { readFileSync } from 'node:fs';
import type { Container } from './container.js';

/**
 * Whether something listens on TCP `port` in the container's network namespace: /proc/<init>/net/tcp
 * and tcp6 are that namespace's socket tables (state 0A is LISTEN). Needs no tool in the image and
 * no process in the container.
 */
export function tcpListening(pid: number, port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['tcp', 'tcp6']) {
    let text: string;
    try { text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && cols[1]?.endsWith(`:${hex}`)) return true;
    }
  }
  return false;
}

/**
 * An HTTP GET of `path` on 127.0.0.1:`port` inside the container succeeds (2xx/3xx). Until the
 * networking code's connectInContainer is in main, the request is made by the image's own `wget` or
 * `curl` (busybox has wget), run with exec: the container's view of the network, no host process in it.
 */
export async function httpReady(container: Container, port: number, path: string, signal?: AbortSignal): Promise<boolean> {
  const url = `http://127.0.0.1:${port}${path.startsWith('/') ? path : `/${path}`}`;
  const script = 'if command -v wget >/dev/null 2>&1; then wget -q -O /dev/null "$1"; else curl -fsS -o /dev/null "$1"; fi';
  const r = await container.exec(['sh', '-c', script, 'probe', url], { timeoutMs: 5_000, ...(signal ? { signal } : {}) }).catch(() => undefined);
  return r?.exitCode === 0;
}
