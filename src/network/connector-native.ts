// koffi bindings of the connector's two functions in libtsrun-shim.so (native-bindings/shim.c:
// tsrun_spawn_connector, tsrun_connector_connect). Kept apart from src/native/shim.ts: only the
// library wrappers of port forwarding use them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../errors.js';
import { loadKoffi, lazyFunctions } from '../native/koffi.js';
import { errnoName } from '../native/errno.js';
import { packageRoot } from '../package-root.js';
import { spawnSettings } from '../native/spawn-settings.js';

interface ConnectorFunctions {
  spawn: (initPath: string, nsFd: number, sockOut: number[]) => number;
  connect: ((sock: number, family: number, addr: Buffer, port: number, timeoutMs: number, syscallOut: Buffer) => number)
    & { async: (sock: number, family: number, addr: Buffer, port: number, timeoutMs: number, syscallOut: Buffer, cb: (err: unknown, rc: number) => void) => void };
}

let fns: ConnectorFunctions | undefined;

// The same library and tsrun-init as src/native/shim.ts uses (the spawn settings may name others).
function load(): ConnectorFunctions {
  if (fns) return fns;
  const lib = spawnSettings().shimLibrary ?? join(packageRoot(), 'native-bindings', 'build', 'libtsrun-shim.so');
  if (!existsSync(lib)) throw new TsrunError(`native shim ${lib} not found: run \`make build\``);
  fns = lazyFunctions<ConnectorFunctions>(loadKoffi().load(lib), {
    spawn: 'int tsrun_spawn_connector(const char *init_path, int ns_fd, _Out_ int *sock_out)',
    connect: 'int tsrun_connector_connect(int sock, uint32_t family, const uint8_t *addr, uint32_t port, int32_t timeout_ms, _Inout_ uint8_t *syscall_out)',
  });
  return fns;
}

function initProgram(): string {
  return spawnSettings().initProgram ?? join(packageRoot(), 'native-bindings', 'build', 'tsrun-init');
}

/** Starts `tsrun-init connect` in the network namespace of nsFd: its pid and tsrun's end of the socket. */
export function spawnConnector(nsFd: number): { pid: number; sock: number } {
  const out = [-1];
  const rc = load().spawn(initProgram(), nsFd, out);
  if (rc < 0) throw new TsrunError(`starting the connector (tsrun-init connect): ${errnoName(-rc)}`, { errno: errnoName(-rc) });
  return { pid: rc, sock: out[0]! };
}

export class ConnectError extends TsrunError {
  override name = 'ConnectError';
  // errno and syscall are TsrunError's (from the details), as for every error of the library.
  constructor(readonly where: string, errno: string, syscall: string) {
    super(`connecting to ${where} inside the container's network namespace: ${errno} from ${syscall}`, { syscall, errno });
  }
}

/** One connected socket's fd from the connector (on a worker thread: a connect may take a while). */
export function connectorConnect(sock: number, family: 4 | 6, addr: Buffer, port: number, timeoutMs: number, where: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const syscall = Buffer.alloc(16);
    load().connect.async(sock, family === 4 ? 2 : 10, addr, port, timeoutMs, syscall, (err, rc) => {
      if (err) return reject(err);
      if (rc < 0) return reject(new ConnectError(where, errnoName(-rc), syscall.toString('utf8').replace(/\0.*$/s, '') || 'connect'));
      resolve(rc);
    });
  });
}

/**
 * The connector's own network ('net') or user ('user') namespace as an fd (a request of family 0):
 * the container's, which it joined by pidfd. For a user-mode network helper, which joins them by fd.
 */
export function connectorNamespaceFd(sock: number, which: 'net' | 'user'): number {
  const syscall = Buffer.alloc(16);
  const rc = load().connect(sock, 0, Buffer.alloc(16), which === 'net' ? 1 : 2, 0, syscall);
  if (rc < 0) {
    const call = syscall.toString('utf8').replace(/\0.*$/s, '') || 'open';
    throw new TsrunError(`the container's ${which} namespace (through the connector): ${errnoName(-rc)} from ${call}`, { syscall: call, errno: errnoName(-rc) });
  }
  return rc;
}
