// Container ids name directories under the state root, so they must not be able to name anything
// else: no `/`, no `..`, a bounded length (what runc accepts, minus the surprises).
import { TsrunError } from '../errors.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}$/;

export function validateId(id: string): string {
  if (!ID.test(id) || id.includes('..')) {
    throw new TsrunError(`invalid container id ${JSON.stringify(id)}: use letters, digits and _.+- (at most 1024, not starting with a symbol, no "..")`, { field: 'id' });
  }
  return id;
}
