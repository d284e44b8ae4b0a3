// The library's errors: TsrunError (src/errors.ts) is what every failure of tsrun itself throws, with
// `field`, `step`, `syscall`, `errno` and `code`. A container that exits non-zero is not an error.
import { TsrunError } from '../errors.js';

export { TsrunError, ConfigError } from '../errors.js';

/** The process was killed because `timeoutMs` passed or the AbortSignal fired (it is deleted too). */
export function interrupted(id: string, why: 'timeout' | 'abort', ms?: number, partial?: { stdout: string; stderr: string }): TsrunError {
  const what = why === 'timeout' ? `timed out after ${ms} ms` : 'aborted';
  const err = new TsrunError(`container ${id}: ${what}; killed`, { code: why === 'timeout' ? 'ETIMEDOUT' : 'ABORT_ERR' });
  if (partial) Object.assign(err, partial);
  return err;
}
