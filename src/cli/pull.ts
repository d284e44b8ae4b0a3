// `run --image REF` / `create --image REF` of a registry reference the store lacks: pulled before
// the container is made, with the pull's progress on stderr (redrawn lines on a terminal, plain
// lines otherwise). Loaded only then: the startup snapshot routes such runs to the full bundle.
import { pullDisplay, pullImage } from '../image/index.js';

export async function pullForRun(ref: string, store: string, debug: boolean): Promise<void> {
  const display = await pullDisplay(process.stderr);
  await pullImage(ref, {
    store,
    onProgress: (e) => display.onProgress(e),
    ...(debug ? { debug: (line: string) => void process.stderr.write(`tsrun: debug: ${line}\n`) } : {}),
  });
}
