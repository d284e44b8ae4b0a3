// `image rm-upper`: removing an upper layer kept with --keep-upper (kept-uppers.ts). As root that is
// `rm -rf`; a user's container leaves files of its other ids there, owned by the user's subordinate
// ids, which the user cannot remove itself: those go in a user namespace with the user's maps
// (remove-shifted.ts), as `delete` removes them from a container's own upper dir.
import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { TsrunError } from '../errors.js';
import { removeShiftedTree } from './remove-shifted.js';

/**
 * Removes the kept upper layer at `path`: `<store>/uppers/<name>`, or its `upper` directory. Refused
 * for any other path (it is no `rm -rf`), and while its container has it (overlayfs' work dir is
 * there until the container is deleted). Returns the directory removed.
 */
export async function removeKeptUpper(storeDir: string, path: string): Promise<string> {
  const uppers = join(storeDir, 'uppers');
  let dir = resolve(path);
  if (basename(dir) === 'upper') dir = dirname(dir);
  const notKept = (why: string): TsrunError => new TsrunError(`${path} is not an upper layer kept in ${uppers}: ${why}`, { code: 'ENOTKEPT' });
  const stat = lstatSync(dir, { throwIfNoEntry: false });
  if (!stat) throw notKept('no such directory');
  // The directory itself, not a symlink to one elsewhere; and directly in the store's uppers.
  if (!stat.isDirectory()) throw notKept('not a directory');
  let inStore: boolean;
  try {
    inStore = realpathSync(dirname(dir)) === realpathSync(uppers);
  } catch {
    inStore = false;
  }
  if (!inStore) throw notKept(`kept upper layers are the directories in ${uppers} (--store names another store)`);
  if (lstatSync(join(dir, 'work'), { throwIfNoEntry: false })) {
    throw new TsrunError(`${dir} is still its container's upper layer (overlayfs' work dir is there): delete the container first`, { code: 'EBUSY' });
  }
  await removeShiftedTree(dir);
  return dir;
}
