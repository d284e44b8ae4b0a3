// One error type for everything tsrun reports, modelled on execa's rich errors: a short message for
// people, plus structured fields (which config field, which plan step, which syscall, errno) for
// `--log-format json` and for tests to assert on.

export interface ErrorDetails {
  /** Config field that produced the problem, as a JSON path: `linux.namespaces[2].type`. */
  field?: string;
  /** File the problem is about (config.json, a cgroup file, a blob). */
  file?: string;
  /** Index of the plan step that failed, and its short description. */
  step?: number;
  stepTitle?: string;
  /** The syscall that failed and the errno name (`EPERM`). */
  syscall?: string;
  errno?: string;
  /** A stable name for what went wrong when no errno says it (the library's ETIMEDOUT, ABORT_ERR). */
  code?: string;
  cause?: unknown;
}

export class TsrunError extends Error {
  override name = 'TsrunError';
  readonly details: ErrorDetails;
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;

  constructor(message: string, details: ErrorDetails = {}, exitCode = 1) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.details = details;
    this.exitCode = exitCode;
  }

  // The details as fields of their own, as the library documents them (`err.field`, `err.errno`…).
  get field(): string | undefined { return this.details.field; }
  get step(): number | undefined { return this.details.step; }
  get syscall(): string | undefined { return this.details.syscall; }
  get errno(): string | undefined { return this.details.errno; }
  /** `details.code`, else the errno, else ECONFIG for a config field, else ETSRUN. */
  get code(): string { return this.details.code ?? this.details.errno ?? (this.details.field !== undefined ? 'ECONFIG' : 'ETSRUN'); }

  toJSON(): Record<string, unknown> {
    const { cause: _cause, ...rest } = this.details;
    return { error: this.message, ...rest };
  }
}

/** A config.json (or CLI) value that is missing, of the wrong type, or not allowed. */
export class ConfigError extends TsrunError {
  override name = 'ConfigError';
  constructor(field: string, problem: string, file?: string) {
    super(`${field}: ${problem}`, file === undefined ? { field } : { field, file });
  }
}
