// Exit statuses that let a caller tell tsrun's own failure from the container's. A foreground `run`
// exits with the container's status, so its failures use podman's convention (`podman run`, also
// docker's): 125 tsrun failed, 126 the program cannot be executed, 127 it was not found. `exec`
// fails with 255, as `runc exec` does. The lifecycle commands containerd and podman call (create,
// start, state, kill, delete…) keep runc's 1 (2 for a usage error).
import { TsrunError } from '../errors.js';

export const RUN_FAILED = 125;
export const CANNOT_EXECUTE = 126;
export const NOT_FOUND = 127;
export const EXEC_FAILED = 255;

/** errnos of the container's program lookup or execve, and what they mean for the caller. */
const NOT_FOUND_ERRNOS = new Set(['ENOENT', 'ENOTDIR']);
const CANNOT_EXECUTE_ERRNOS = new Set(['EACCES', 'EPERM', 'ENOEXEC', 'EISDIR', 'ELOOP', 'ETXTBSY', 'ENAMETOOLONG', 'E2BIG', 'ELIBBAD']);

/** `run`'s status for an error: 127/126 when the container's program (process.args) could not be found/executed, else 125. */
export function runFailureStatus(err: unknown): number {
  if (err instanceof TsrunError && err.details.field === 'process.args' && err.details.errno !== undefined) {
    if (NOT_FOUND_ERRNOS.has(err.details.errno)) return NOT_FOUND;
    if (CANNOT_EXECUTE_ERRNOS.has(err.details.errno)) return CANNOT_EXECUTE;
  }
  return RUN_FAILED;
}

/** `exec`'s status for an error: a usage error keeps 2, anything else is runc's 255. */
export function execFailureStatus(err: unknown): number {
  return err instanceof TsrunError && err.name === 'UsageError' ? err.exitCode : EXEC_FAILED;
}

export const RUN_EXIT_STATUS_HELP = [
  'Exit status (as podman run):',
  '  the container\'s exit status, or 128+N when it was killed by signal N (0 with -d once started)',
  '  125  tsrun itself failed (bad option, config, image, set-up step…)',
  '  126  the container\'s program cannot be executed (EACCES, ENOEXEC…)',
  '  127  the container\'s program was not found',
].join('\n');

export const EXEC_EXIT_STATUS_HELP = [
  'Exit status (as runc exec): the process\'s exit status (128+N when killed by signal N),',
  '2 for a usage error, 255 when tsrun could not run the process.',
].join('\n');
