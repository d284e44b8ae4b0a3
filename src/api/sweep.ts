// Removing the containers of sessions that are over (src/api/session.ts). Two callers:
//  - a session's reaper, once the test process is gone: `tsrun --root R sweep --session ID`
//    (sweepSession, no liveness check: the reaper's EOF is the proof, and the dying process may
//    still look alive for a moment after its fds were closed);
//  - a test suite's globalSetup: sweep({ root }) removes what sessions whose process is dead left
//    (a reaper that was itself killed, or sessions opened with reaper: false).
// A session either owns its state root (the default: a fresh directory holding a `session.json`
// marker, removed whole) or shares one (its containers carry the session's annotation).
import { readdirSync, readFileSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteContainer } from '../container/delete.js';
import { listContainers } from '../container/state.js';
import { isSpareName, removeDeadSpares } from '../state/spare-dirs.js';
import { isSessionId, SESSION_ANNOTATION, sessionAlive } from './session-id.js';

/** Where sessions make their own state roots by default: /run/tsrun-sessions (root), a per-user temp dir (others). */
export function defaultSessionsDir(): string {
  const uid = process.getuid?.() ?? 0;
  return uid === 0 ? '/run/tsrun-sessions' : join(tmpdir(), `tsrun-sessions-${uid}`);
}

const MARKER = 'session.json';

/** Marks `root` as owned by the session: sweeping the session removes the root itself. */
export function markOwnedRoot(root: string, sessionId: string): void {
  writeFileSync(join(root, MARKER), JSON.stringify({ session: sessionId }) + '\n', { mode: 0o600 });
}

/** The session owning `root`, if it is a session's own root. */
export function rootOwner(root: string): string | undefined {
  try {
    const session = (JSON.parse(readFileSync(join(root, MARKER), 'utf8')) as { session?: unknown }).session;
    return typeof session === 'string' && isSessionId(session) ? session : undefined;
  } catch {
    return undefined;
  }
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !isSpareName(e.name)).map((e) => e.name);
  } catch {
    return [];
  }
}

type Warn = (message: string) => void;

async function deleteAll(root: string, ids: string[], warn: Warn): Promise<string[]> {
  const results = await Promise.allSettled(ids.map((id) => deleteContainer(root, id, true, warn)));
  const removed: string[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') removed.push(ids[i]!);
    else warn(`sweep: container ${ids[i]} in ${root}: ${(r.reason as Error).message}`);
  });
  return removed;
}

/**
 * Deletes every container of session `sessionId` in `root` (killing what runs). A root the session
 * owns goes whole: every container directory in it (one whose create was killed before its first
 * record included), then the root. Returns the ids removed.
 */
export async function sweepSession(root: string, sessionId: string, warn: Warn = () => {}): Promise<string[]> {
  if (rootOwner(root) === sessionId) {
    const removed = await deleteAll(root, subdirs(root), warn);
    removeDeadSpares(root, { all: true }); // the spare state dirs of its process (state/spare-dirs.ts)
    try {
      unlinkSync(join(root, MARKER));
      rmdirSync(root);
    } catch (err) {
      warn(`sweep: the state root ${root} of session ${sessionId} stays: ${(err as Error).message}`);
    }
    return removed;
  }
  const ids = listContainers(root).filter((c) => c.annotations?.[SESSION_ANNOTATION] === sessionId).map((c) => c.id);
  removeDeadSpares(root);
  return deleteAll(root, ids, warn);
}

export interface SweepOptions {
  /** A shared state root, or the directory of sessions' own roots (default: defaultSessionsDir()). */
  root?: string;
  warn?: Warn;
}

/**
 * Removes the containers of every dead session under `root`: containers in it whose session
 * annotation names a session whose process is gone, and the sessions' own roots in it whose owner
 * is gone. Containers of live sessions, and containers of no session, stay. Returns the ids removed.
 */
export async function sweep(opts: SweepOptions = {}): Promise<string[]> {
  const root = opts.root ?? defaultSessionsDir();
  const warn = opts.warn ?? (() => {});
  const dead = new Set<string>();
  for (const c of listContainers(root)) {
    const session = c.annotations?.[SESSION_ANNOTATION];
    if (session !== undefined && isSessionId(session) && !sessionAlive(session)) dead.add(session);
  }
  removeDeadSpares(root); // spare state dirs of processes that are gone (state/spare-dirs.ts)
  const removed: string[] = [];
  for (const session of dead) removed.push(...(await sweepSession(root, session, warn)));
  for (const name of subdirs(root)) {
    const owner = rootOwner(join(root, name));
    if (owner !== undefined && !sessionAlive(owner)) removed.push(...(await sweepSession(join(root, name), owner, warn)));
  }
  return removed;
}
