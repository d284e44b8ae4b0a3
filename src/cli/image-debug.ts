// `--debug` with `run/create --image NAME`: which image a name found. Like podman, a unique match is
// otherwise silent (a short name `myapp:1.0` finding docker.io/library/myapp:1.0 is normal).
import { writeSync } from 'node:fs';
import { ImageStore, isImageSource, shortId } from '../image/index.js';

export function debugImageMatch(ref: string, storeDir: string): void {
  if (isImageSource(ref)) return;
  let found;
  try {
    found = new ImageStore(storeDir).lookup(ref);
  } catch {
    return; // ambiguous: the run itself reports it
  }
  if (!found) return;
  const what = found.name ?? found.record.names.join(', ');
  writeSync(2, `tsrun: debug: image ${ref} is ${what || '(no name)'} (${shortId(found.record.id)})\n`);
}
