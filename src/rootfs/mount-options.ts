// The `options` of a config.json mount, split the way mount(2) wants them: flags that set, flags
// that clear, propagation, and the rest joined into the filesystem's data string. Pure.
import { MOUNT_FLAG_CLEAR as CLEAR, MOUNT_FLAG_SET as SET, MOUNT_PROPAGATION as PROPAGATION } from '../abi/mount-flags.js';

export interface ParsedMountOptions {
  /** MS_* flags for the mount call (ro, nosuid, …). */
  flags: number;
  /** Propagation flags applied by a separate mount call (MS_SHARED/PRIVATE/SLAVE/UNBINDABLE [|REC]). */
  propagation: number;
  bind: boolean;
  recursive: boolean;
  /** Options the kernel does not know as flags: passed to the filesystem as data (`mode=755,size=65536k`). */
  data: string[];
}

/**
 * Options handled by the runtime itself, not the kernel (accepted and ignored for now). None of them
 * restricts the container: ignoring rrw keeps a mount stricter than asked, and without idmap a
 * mount's files keep their host owners (unmapped: "nobody" inside a user namespace).
 */
const RUNTIME_ONLY = new Set(['tmpcopyup', 'idmap', 'ridmap', 'rrw']);

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  const out: ParsedMountOptions = { flags: 0, propagation: 0, bind: false, recursive: false, data: [] };
  for (const opt of options) {
    if (opt === 'bind' || opt === 'rbind') {
      out.bind = true;
      out.recursive ||= opt === 'rbind';
    } else if (opt in SET) {
      out.flags |= SET[opt]!;
    } else if (opt in CLEAR) {
      out.flags &= ~CLEAR[opt]!;
    } else if (opt in PROPAGATION) {
      out.propagation = PROPAGATION[opt]!;
    } else if (!RUNTIME_ONLY.has(opt)) {
      out.data.push(opt);
    }
  }
  return out;
}
