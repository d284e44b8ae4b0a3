// The library's public shapes (issue 15). Names are fixed by the issue; shapes may grow.
import type { PortMapping } from '../network/options.js';
import type { Readable, Writable } from 'node:stream';
import type { Spec } from '../oci/types.js';
import type { WaitStrategy } from './wait.js';

/** A bind mount of a host path, or a tmpfs. */
export type MountSpec =
  | { type: 'bind'; source: string; target: string; readonly?: boolean }
  | { type: 'tmpfs'; target: string; size?: string; options?: string[] };

/** What to do with a limit whose cgroup v2 controller this host lacks (hybrid hosts). */
export type OnUnsupported = 'error' | 'warn' | 'ignore';

export interface Limits {
  /** Bytes, or a string with a unit: `64m`, `1g`. */
  memory?: number | string;
  pids?: number;
  /** CPUs as a fraction: 0.5 is half a CPU (cpu.max). */
  cpus?: number;
  /** Default 'error': the create is refused, naming the field. */
  onUnsupported?: OnUnsupported;
}

/** What to run: exactly one of `image`, `bundle` or `rootfs`, then overrides of its config. */
export interface ContainerSpec {
  /** A registry reference (pulled like `run --image`), an OCI layout `DIR[:TAG]`, a docker archive, or a store name. */
  image?: string;
  /** An OCI bundle directory (its config.json is the base). */
  bundle?: string;
  /** A root filesystem directory (tsrun's default config is the base). */
  rootfs?: string;
  /** The image store (`--store`); default /var/lib/tsrun. */
  store?: string;
  /** Container id; default: generated. */
  id?: string;
  /** process.args, after the entrypoint (an image's Cmd is replaced). */
  cmd?: string[];
  /** Replaces an image's Entrypoint (and, with `cmd`, forms process.args). */
  entrypoint?: string[];
  /** Added to (or replacing, by name) the base config's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** `uid`, `uid:gid`, or `{ uid, gid }`. */
  user?: string | number | { uid: number; gid?: number };
  hostname?: string;
  mounts?: MountSpec[];
  readonlyRoot?: boolean;
  /** Capability names, with or without `CAP_`. */
  capAdd?: string[];
  capDrop?: string[];
  limits?: Limits;
  /**
   * A tiny PID 1 in front of the program (tsrun-init at /dev/init: forwards signals, reaps orphans,
   * exits with the program's status), so stop() works for programs that ignore SIGTERM as PID 1.
   */
  init?: boolean;
  /**
   * Its network namespace, as `run --network`: `none` (its own, only `lo`), `host`, `bridge` or
   * `bridge:NAME` (its own, on a CNI network: `Container.ip`), `slirp4netns` (its own, with a
   * user-mode network: rootless), `ns:/PATH`. Default: the base config's.
   */
  network?: string;
  /** Published on the CNI bridge, as `run -p` (`'8080:80'`, `'127.0.0.1:5353:53/udp'`) or parsed; alone, they mean `network: 'bridge'`. */
  ports?: (string | PortMapping)[];
  /** Escape hatch: edit the generated config.json last. Return the spec to use. */
  config?: (spec: Spec) => Spec;
}

export interface RunResult {
  id: string;
  /** The exit code, or 128+N when signal N killed it (the shell's convention). */
  exitCode: number;
  signal?: string;
  /** The OOM killer killed a process of the container. */
  oomKilled?: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface IoOptions {
  /** Written to the process's stdin, which is then closed (default: an empty stdin). */
  input?: string | Buffer;
  /** Kill (and, for `run`, delete) after this long; the call rejects with a TsrunError (code ETIMEDOUT). */
  timeoutMs?: number;
  /** Aborting kills (and deletes) likewise; the call rejects with a TsrunError (code ABORT_ERR). */
  signal?: AbortSignal;
  /** Also copy the process's output here as it comes (it is still collected in the result). */
  stdout?: Writable;
  stderr?: Writable;
}

/**
 * The seam of `session()` (src/api/session.ts, the session work): a Session is one. Its containers
 * live in its root and carry its annotations (else SESSION_ANNOTATION = its id), which its reaper
 * and sweep() look for.
 */
export interface SessionLike {
  readonly root: string;
  readonly id: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface CommonOptions {
  /** State root (`--root`); default /run/tsrun, or the session's. */
  root?: string;
  /** Containers are marked with the session's id (annotation `tsrun.session`) and live in its root. */
  session?: SessionLike;
  /** Warnings (unsupported limits with 'warn', tsrun's notices); default: process.emitWarning. */
  warn?: (message: string) => void;
  /**
   * false: neither take nor make a warm init (the next container's process, cloned ahead of use:
   * docs/api.md, "Warm inits"). Default true.
   */
  warm?: boolean;
}

export interface RunOptions extends IoOptions, CommonOptions {}

export interface StartOptions extends CommonOptions {
  /** Ready when this holds (Wait.forLog, Wait.forPort…); default: started. */
  wait?: WaitStrategy;
  /** How long `wait` may take (default 60 s); then the container is stopped and start rejects. */
  startupTimeoutMs?: number;
}

export interface ExecOptions extends IoOptions {
  env?: Record<string, string>;
  cwd?: string;
  user?: string | number | { uid: number; gid?: number };
}

export interface StopOptions {
  /** Sent first (default SIGTERM). */
  signal?: NodeJS.Signals;
  /** Then SIGKILL after this long (default 10 s). */
  timeoutMs?: number;
}

export interface ExitStatus {
  exitCode: number;
  signal?: string;
}

export type { Readable, Writable };
