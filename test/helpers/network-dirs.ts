// For unit tests that look networks up: only the built-in default network, in empty network
// directories of the test's own (this machine's /etc/tsrun/net.d and /etc/cni/net.d are not read).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Hook = (fn: () => void) => void;

/** Points TSRUN_NETWORK_DIR and NETCONFPATH at empty directories for the file's tests, then back. */
export function onlyBuiltinNetworks(hooks: { beforeAll: Hook; afterAll: Hook }): void {
  let base: string;
  const saved = { TSRUN_NETWORK_DIR: process.env.TSRUN_NETWORK_DIR, NETCONFPATH: process.env.NETCONFPATH };
  hooks.beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'tsrun-net-dirs-'));
    process.env.TSRUN_NETWORK_DIR = join(base, 'own');
    process.env.NETCONFPATH = join(base, 'system');
  });
  hooks.afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
    rmSync(base, { recursive: true, force: true });
  });
}
