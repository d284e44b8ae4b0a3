// The library reads no environment variables of its own: the CLI reads them at its edge and passes
// settings down (src/cli/environment.ts). The few other readers are listed here with their reason.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../../helpers/bundle.js';
import { sourceFiles } from './import-graph.js';

const ALLOWED: Record<string, string> = {
  'src/startup/snapshot-main.ts': 'the snapshot\'s entry is the CLI\'s edge too (TSRUN_NODE_EXIT)',
  'src/package-root.ts': 'TSRUN_PACKAGE_ROOT is how bin/tsrun tells the code where the package is',
  'src/image/registry/credentials.ts': 'the default of an `env` option: the user\'s auth files (podman\'s and docker\'s variables)',
  'src/image/registry/config.ts': 'the default of an `env` option: where registries.json is (XDG_CONFIG_HOME…)',
  'src/image/registry/pull.ts': 'the default of an `env` option (TSRUN_OFFLINE, and the two above)',
  'src/network/store.ts': 'the default of an `env` option: where networks are (TSRUN_NETWORK_DIR, and NETCONFPATH as cnitool reads it)',
  'src/network/cni/exec.ts': 'the default of an `env` option: CNI_PATH as cnitool reads it; the PATH the plugins run with',
  'src/state/user-dirs.ts': 'the default of a `facts` option: a user\'s XDG_RUNTIME_DIR, XDG_DATA_HOME and HOME decide its state root and image store (runc\'s and podman\'s rootless places)',
  'src/network/user-mode/preflight.ts': 'the default of an `env` option: the PATH slirp4netns is looked up in, as a shell would',
  'src/cgroups/systemd/index.ts': 'the default of an `env` option: which manager\'s bus a user reaches (XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS)',
  'src/check/user-systemd-probe.ts': 'the default of an `env` option: which manager\'s bus `check` asks, as the driver does (src/cgroups/systemd/index.ts), and $USER inside a user namespace',
  'src/cgroups/systemd/manager-api.ts': 'the default of an `env` option: where the system and user buses are (DBUS_SYSTEM_BUS_ADDRESS, XDG_RUNTIME_DIR)',
};

/** Files of src/ whose code (comments left out) reads process.env. */
function readers(): string[] {
  return sourceFiles().filter((f) => {
    const code = readFileSync(join(REPO, f), 'utf8').split('\n').filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l)).join('\n')
      .replace(/'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`/g, "''"); // strings name fields such as 'process.env'
    return /(?<![.\w])process\.env\b/.test(code);
  });
}

describe('environment variables', () => {
  it('are read only at the CLI\'s edge and by the files listed with their reason', () => {
    expect(readers().filter((f) => !f.startsWith('src/cli/') && !(f in ALLOWED))).toEqual([]);
  });

  it('the list holds no file that no longer reads them', () => {
    const now = readers();
    expect(Object.keys(ALLOWED).filter((f) => !now.includes(f))).toEqual([]);
  });
});
