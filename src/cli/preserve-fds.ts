// --preserve-fds N (create, run, exec): fds 3..3+N-1 of tsrun's caller go to the container's process as
// they are, as with runc. podman passes it for `--preserve-fds` and for systemd socket activation. The
// caller must have them open: an fd of the range it left closed may be one Node opened for itself.
import type { OptionSpec } from './command.js';
import { UsageError } from './parse-args.js';

export const PRESERVE_FDS_OPTION: Record<string, OptionSpec> = {
  'preserve-fds': { type: 'number', default: 0, describe: 'pass fds 3..3+N-1 of the caller on to the process (besides 0-2)' },
};

/** The most tsrun-init accepts (its plan decoder's bound), far above any RLIMIT_NOFILE in use. */
const MAX_PRESERVE_FDS = 1 << 20;

export function preserveFdsArg(n: number, command: string): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_PRESERVE_FDS) {
    throw new UsageError(`--preserve-fds needs a whole number from 0 to ${MAX_PRESERVE_FDS}, got ${n}`, command);
  }
  return n;
}
