// `--pid-file` of create, run -d and exec: the host pid of the container's init (or of the exec'd
// process), for the tool that drives tsrun. The path is the caller's, in a directory that others may
// be able to write (podman's run dir, /tmp…), so the file is replaced atomically and never written
// through a symlink (atomic-file.ts): a link planted at the path is replaced, the file it names is
// untouched. Mode 0644 (less the umask): the pid is no secret, and readers may be another user.
import { resolve } from 'node:path';
import { TsrunError } from '../errors.js';
import { writeFileAtomic } from './atomic-file.js';

export function writePidFile(path: string, pid: number): void {
  try {
    writeFileAtomic(resolve(path), String(pid), 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TsrunError(`cannot write the pid file ${path}: ${code ?? (err as Error).message}`, { file: path, ...(code ? { errno: code } : {}) });
  }
}
