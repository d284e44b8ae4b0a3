// tsrun as a library (issue 15): containers from a Node process, in-process (no Node per container).
// Exported from the package root (`import { run, start, Wait } from 'tsrun-oci'`); docs/api.md.
// Only this folder's entry: nothing here loads the CLI (its parser, yargs, its printing).
export { run } from './run.js';
export { start } from './start.js';
export { Container } from './container.js';
export { Wait, type WaitStrategy } from './wait.js';
export { TsrunError, ConfigError } from './errors.js';
export { SESSION_ANNOTATION } from './spec.js';
export { session, type Session, type SessionOptions } from './session.js';
export { sweep, type SweepOptions } from './sweep.js';
export { hostCapabilities, type HostCapabilities } from './host-capabilities.js';
export type { Logs, LogsOptions } from './logs.js';
export type { LogLine } from './output.js';
export type { ContainerState } from '../container/state.js';
export type { ConnectOptions, ForwardedPort } from '../network/connect.js';
export type { PortMapping } from '../network/options.js';
export type { Spec as OciSpec } from '../oci/types.js';
export type {
  ContainerSpec, ExecOptions, ExitStatus, IoOptions, Limits, MountSpec, OnUnsupported, RunOptions, RunResult, SessionLike, StartOptions, StopOptions,
} from './types.js';
