// Container ids name directories under the state root, so they must not be able to name anything
// else: no `/`, no `..`, and a length whose every derived name fits in a directory entry
// (NAME_MAX, 255 bytes): the state directory `<root>/<id>`, the cgroup `<v2 mount>/tsrun/<id>`, and
// the longest, a kept upper layer `<store>/uppers/<id>-<UTC time>[.<n>]` (17 characters and more).
// 200 leaves that room; a 64-character hex id (containerd, docker, podman) fits three times over.
import { TsrunError } from '../errors.js';

export const MAX_ID_LENGTH = 200;

const ID = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;

/** The id as an error message quotes it: in full when short, else its start and its length. */
function quoted(id: string): string {
  return id.length <= 64 ? JSON.stringify(id) : `${JSON.stringify(id.slice(0, 40)).slice(0, -1)}…" (${id.length} characters)`;
}

export function validateId(id: string): string {
  if (id.length > MAX_ID_LENGTH) {
    throw new TsrunError(`invalid container id ${quoted(id)}: at most ${MAX_ID_LENGTH} characters (the state directory, the cgroup and kept upper layers are named after it)`, { field: 'id' });
  }
  if (!ID.test(id) || id.includes('..')) {
    throw new TsrunError(`invalid container id ${quoted(id)}: use letters, digits and _.+- (at most ${MAX_ID_LENGTH}, not starting with a symbol, no "..")`, { field: 'id' });
  }
  return id;
}
