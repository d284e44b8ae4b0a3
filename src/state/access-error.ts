// Node's file-system errors as one line that names the path and the way out. A normal user hits
// EACCES on every machine-wide path (a --root or --store chosen for root, a bundle in /root); a stack
// trace says nothing it can act on.
import { TsrunError } from '../errors.js';
import { defaultStateRoot } from './user-dirs.js';

interface SystemError { code: string; syscall?: string; path?: string; message: string }

export function isSystemError(err: unknown): err is SystemError {
  const e = err as Partial<SystemError> | undefined;
  return err instanceof Error && typeof e?.code === 'string' && /^E[A-Z0-9]+$/.test(e.code) && typeof e.syscall === 'string';
}

const DENIED = new Set(['EACCES', 'EPERM', 'EROFS']);

/** True for the errnos of a path the caller may not write. */
export function isPermissionError(err: unknown): boolean {
  return isSystemError(err) && DENIED.has(err.code);
}

/** What the caller can do about a denied path: said differently to root and to a user. */
function deniedHint(code: string, euid: number): string {
  if (code === 'EROFS') return 'the file system is read-only';
  if (euid === 0) return 'denied even to root (a read-only or foreign mount?)';
  return `tsrun runs as uid ${euid}, not root: run it as root, or give it paths this user owns (--root for state, default ${defaultStateRoot()}; image --store)`;
}

/** One line for any Node system error; a denied path also says why and what to do. */
export function systemErrorLine(err: SystemError, euid = process.geteuid?.() ?? 0): string {
  const base = err.message.split('\n')[0]!;
  return DENIED.has(err.code) ? `${base}: ${deniedHint(err.code, euid)}` : base;
}

/** The state root (or a container's directory in it) cannot be made or written. */
export function stateRootError(root: string, err: unknown, euid = process.geteuid?.() ?? 0): TsrunError {
  if (!isSystemError(err)) return new TsrunError(`state root ${root}: ${String(err)}`, { file: root });
  const where = err.path ?? root;
  const fix = err.code === 'EROFS' ? 'the file system is read-only; give --root a writable directory'
    : euid === 0 ? 'denied even to root; give --root another directory'
      : `tsrun runs as uid ${euid}, not root, and may not write there; give --root a directory this user owns (its default: ${defaultStateRoot()})`;
  return new TsrunError(`state root ${root}: ${err.code} from ${err.syscall} ${where}: ${fix}`, { file: where, syscall: err.syscall ?? 'open', errno: err.code, cause: err });
}
