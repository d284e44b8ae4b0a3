// Errors raised while touching cgroupfs: they name the file and the errno so a user can see which limit
// the kernel refused, and `--log-format json` gets them as fields.
import { TsrunError } from '../errors.js';

export class CgroupError extends TsrunError {
  override name = 'CgroupError';
}

/** The errno name of a Node system error (`EINVAL`), or undefined for anything else. */
export function errnoOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Wraps a failed cgroupfs operation into a CgroupError naming the file, the syscall and errno. */
export function cgroupFsError(what: string, file: string, syscall: string, err: unknown, field?: string): CgroupError {
  const errno = errnoOf(err) ?? 'unknown error';
  const from = field === undefined ? '' : ` (from ${field})`;
  const details = { file, syscall, errno, cause: err, ...(field === undefined ? {} : { field }) };
  return new CgroupError(`cgroup: ${what} ${file} failed: ${errno}${from}`, details);
}
