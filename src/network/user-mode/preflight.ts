// What a user-mode network needs of the host, checked before anything of the container is made:
// slirp4netns on PATH, and a /dev/net/tun the user may open (slirp4netns makes the container's tap
// device through it). Each missing piece is one line naming it and the fix.
import { accessSync, constants, statSync } from 'node:fs';
import { firstExecutable } from '../../host/executable.js';
import { TsrunError } from '../../errors.js';

export const TUN_DEVICE = '/dev/net/tun';

/** The first executable `name` in PATH (as execvp looks), or undefined. */
export function findOnPath(name: string, path: string | undefined): string | undefined {
  return firstExecutable(name, (path ?? '/usr/local/bin:/usr/bin:/bin').split(':'));
}

/** The slirp4netns program to run; throws naming what is missing. */
export function userModeProgram(env: NodeJS.ProcessEnv = process.env): string {
  const program = findOnPath('slirp4netns', env.PATH);
  if (!program) {
    throw new TsrunError(`--network slirp4netns: slirp4netns is not on PATH (${env.PATH ?? ''}): install Debian's slirp4netns package (apt-get install slirp4netns)`, { field: '--network' });
  }
  let mode: number;
  let owner: number;
  try {
    ({ mode, uid: owner } = statSync(TUN_DEVICE));
  } catch {
    throw new TsrunError(`--network slirp4netns: ${TUN_DEVICE} does not exist: load the tun module (modprobe tun), or in a container give it the device (docker run --device ${TUN_DEVICE})`, { field: '--network', file: TUN_DEVICE });
  }
  try {
    accessSync(TUN_DEVICE, constants.R_OK | constants.W_OK);
  } catch {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    throw new TsrunError(`--network slirp4netns: ${TUN_DEVICE} is mode ${octal} (owner uid ${owner}): uid ${process.geteuid?.()} cannot open it, and slirp4netns makes the container's tap device through it; as root: chmod 0666 ${TUN_DEVICE} (Debian's udev rule makes it so)`, { field: '--network', file: TUN_DEVICE });
  }
  return program;
}
