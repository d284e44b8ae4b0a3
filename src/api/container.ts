// A detached container started by start(): its init is this process's child, its output goes to
// pipes this process reads. stop() signals, waits, SIGKILLs after its timeout and deletes; it is
// idempotent, and is what `await using` calls.
import { removeContainer } from '../container/delete.js';
import { withContainer } from '../state/with-container.js';
import { stateOf, type ContainerState } from '../container/state.js';
import type { CgroupHandle } from '../cgroups/index.js';
import type { StateStore, ContainerRecord } from '../state/store.js';
import { execIn } from './exec.js';
import { holding } from './exit-watch.js';
import { logsOf, type Logs, type LogsOptions } from './logs.js';
import type { Output } from './output.js';
import type { ExecOptions, ExitStatus, RunResult, StopOptions } from './types.js';
import type { Socket } from 'node:net';
import type { ConnectOptions, ForwardedPort } from '../network/connect.js';
import { readNetworkRecord, summarize } from '../network/record.js';

const DEFAULT_STOP_TIMEOUT_MS = 10_000;

export interface ContainerParts {
  store: StateStore;
  record: ContainerRecord;
  output: Output;
  /** The init's exit (it is reaped by then). */
  exited: Promise<ExitStatus>;
  cgroup?: CgroupHandle;
  warn: (m: string) => void;
}

export class Container {
  readonly id: string;
  /** The init's pid on the host. */
  readonly pid: number;
  readonly #parts: ContainerParts;
  #exit: ExitStatus | undefined;
  #stopping: Promise<ExitStatus> | undefined;
  /** forwardPort listeners still open: stop() closes them (a forgotten one would keep Node running). */
  readonly #forwards = new Set<ForwardedPort>();

  constructor(parts: ContainerParts) {
    this.#parts = parts;
    this.id = parts.record.id;
    this.pid = parts.record.pid;
    // Remember the exit as it happens: after it the pid may belong to someone else, and no signal goes to it.
    parts.exited.then((e) => { this.#exit = e; }, () => { this.#exit = { exitCode: -1 }; });
  }

  /** The state root the container lives in. */
  get root(): string {
    return this.#parts.store.root;
  }

  /** Resolves when the init exits (with its status; the container still exists until stop()). */
  get exited(): Promise<ExitStatus> {
    return holding(this.#parts.exited);
  }

  /** Another process in the container's namespaces and cgroup; its non-zero exit resolves. */
  exec(cmd: string[], opts?: ExecOptions): Promise<RunResult> {
    return execIn(this.root, this.id, cmd, opts);
  }

  /** Its output: `for await (const line of c.logs())`, or `c.logs().text()`. */
  logs(opts?: LogsOptions): Logs {
    return logsOf(this.#parts.output, opts);
  }

  /** runtime-spec state with the status read from the kernel; `stopped` once deleted too. */
  state(): ContainerState {
    const { store, record } = this.#parts;
    if (!store.exists(this.id)) return { ...stateOf(store, record), status: 'stopped', pid: 0 };
    return stateOf(store, store.read(this.id));
  }

  /** Its address on its CNI network (`network: 'bridge'`), without the prefix length; undefined without one. */
  get ip(): string | undefined {
    const net = readNetworkRecord(this.#parts.store.dir(this.id));
    const ips = net ? summarize(net).ips : [];
    return (ips.find((i) => !i.address.includes(':')) ?? ips[0])?.address.split('/')[0];
  }

  /**
   * A socket connected to `ctrPort` inside the container's network namespace (its own 127.0.0.1 by
   * default, `opts.address` otherwise), made there by tsrun-init and handed over: no port published,
   * no firewall rule, works with `network: 'none'`.
   */
  async connect(ctrPort: number, opts?: ConnectOptions): Promise<Socket> {
    const { containerNetwork } = await import('../network/container-network.js');
    return containerNetwork(this.root, this.id).connect(ctrPort, opts);
  }

  /** A listener on this host's 127.0.0.1 (`port`) whose every connection reaches `ctrPort` in the container; close() ends it (stop() does too). */
  async forwardPort(ctrPort: number, opts?: ConnectOptions & { hostPort?: number; onError?: (err: Error) => void }): Promise<ForwardedPort> {
    const { containerNetwork } = await import('../network/container-network.js');
    const fwd = await containerNetwork(this.root, this.id).forwardPort(ctrPort, opts);
    this.#forwards.add(fwd);
    return { ...fwd, close: async () => { this.#forwards.delete(fwd); await fwd.close(); } };
  }

  /** `signal` (default SIGTERM) to the init, SIGKILL after `timeoutMs` (default 10 s), then delete. */
  stop(opts: StopOptions = {}): Promise<ExitStatus> {
    this.#stopping ??= this.#stop(opts);
    return this.#stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #stop(opts: StopOptions): Promise<ExitStatus> {
    const { store, exited, warn } = this.#parts;
    for (const fwd of this.#forwards) await fwd.close().catch(() => undefined);
    this.#forwards.clear();
    const timeoutMs = opts.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    if (this.#exit === undefined) {
      this.#signal(opts.signal ?? 'SIGTERM');
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = await holding(Promise.race([
        exited.then(() => false, () => false),
        new Promise<boolean>((r) => { timer = setTimeout(() => r(true), timeoutMs); }),
      ]));
      clearTimeout(timer);
      if (timedOut) this.#signal('SIGKILL');
    }
    const exit = await holding(exited).catch(() => ({ exitCode: -1 }));
    // As `tsrun delete` does it (state/with-container.ts): under the container's lock, the status
    // checked against the lifecycle table; a container deleted meanwhile (a CLI delete) is done.
    if (store.exists(this.id)) {
      await withContainer(store.root, this.id, 'delete', ({ record }) => removeContainer(store, { ...record, started: true }, warn), { unrecorded: () => undefined });
    }
    return exit;
  }

  #signal(sig: NodeJS.Signals): void {
    // Not yet reaped (#exit unset): the pid is still the init's.
    if (this.#exit !== undefined) return;
    try { process.kill(this.pid, sig); } catch { /* exited meanwhile */ }
  }
}
