// tsrun as a CNI runtime: it executes the plugin chain of a network configuration list (spec 1.0,
// "Execution of Network Configuration Lists"). ADD runs the plugins in order, each receiving the
// result of the one before as `prevResult`; the last result is the network's. CHECK runs them in
// order and DEL in reverse, both with the cached ADD result as `prevResult` (absent when the ADD
// never finished: plugins must then release what they can find by container id). Runtime values
// (`portMappings`…) go in `runtimeConfig`, only to plugins that declare that capability.
import { TsrunError } from '../../errors.js';
import { cniPath, findPlugin, pluginEnv, runPlugin } from './exec.js';
import { CHECK_VERSIONS, CURRENT_SHAPE_VERSIONS, type CniCommand, type CniErrorReply, type CniResult, type NetConfList, type PluginCall, type PluginConf, type RuntimeConf } from './types.js';

export interface InvokeOptions {
  /** CNI_PATH; default cniPath(). */
  dirs?: readonly string[];
  /** Per plugin call; default 60 s. */
  timeoutMs?: number;
  /** Told about every call as it ends (state, --trace). */
  onCall?: (call: PluginCall) => void;
  /** Told the pid of each plugin as it starts (leader of its own process group). */
  onSpawn?: (plugin: string, pid: number) => void;
}

/** A plugin that failed, named with its error as the plugin gave it. */
export class CniPluginError extends TsrunError {
  override name = 'CniPluginError';
  /** The CNI error code the plugin gave (TsrunError's `code` stays the library's string code). */
  constructor(readonly network: string, readonly plugin: string, readonly command: CniCommand, problem: string, readonly cniCode?: number) {
    super(`network ${network}: CNI plugin ${plugin} (${command}) failed: ${problem}`, { code: 'ECNI' });
  }
}

/** The configuration one plugin gets on stdin. */
export function pluginStdin(list: NetConfList, plugin: PluginConf, rt: RuntimeConf, prevResult: CniResult | undefined): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  const runtimeConfig: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) {
    if (on && rt.capabilityArgs?.[cap] !== undefined) runtimeConfig[cap] = rt.capabilityArgs[cap];
  }
  if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
  if (prevResult) conf.prevResult = prevResult;
  return conf;
}

function parseJson(text: string): unknown {
  try { return JSON.parse(text); } catch { return undefined; }
}

/** The problem a failed plugin reports: its CNI error object, else the last line it wrote to stderr. */
function failure(run: { code: number | null; signal: string | null; stdout: string; stderr: string; timedOut: boolean }, timeoutMs: number): { text: string; code?: number } {
  if (run.timedOut) return { text: `did not finish within ${timeoutMs / 1000} s (killed)` };
  const reply = parseJson(run.stdout) as Partial<CniErrorReply> | undefined;
  if (reply && typeof reply.msg === 'string') {
    return { text: `${reply.msg}${reply.details ? `: ${reply.details}` : ''} (CNI error code ${reply.code ?? '?'})`, ...(typeof reply.code === 'number' ? { code: reply.code } : {}) };
  }
  const last = run.stderr.trim().split('\n').at(-1);
  return { text: `${last || run.stdout.trim() || 'no output'} (${run.signal ? `signal ${run.signal}` : `exit status ${run.code}`})` };
}

/** A 0.1.0/0.2.0 result (`ip4`/`ip6`) in the shape every later version has; others as they are. */
export function currentShape(raw: Record<string, unknown>): CniResult {
  const version = typeof raw.cniVersion === 'string' ? raw.cniVersion : '';
  if (CURRENT_SHAPE_VERSIONS.includes(version)) return raw as CniResult;
  const ips: CniResult['ips'] = [];
  const routes: CniResult['routes'] = [];
  for (const key of ['ip4', 'ip6']) {
    const v = raw[key] as { ip?: string; gateway?: string; routes?: { dst: string; gw?: string }[] } | undefined;
    if (!v?.ip) continue;
    ips.push({ address: v.ip, ...(v.gateway ? { gateway: v.gateway } : {}) });
    routes.push(...(v.routes ?? []));
  }
  return { cniVersion: version, ips, routes, ...(raw.dns ? { dns: raw.dns as CniResult['dns'] } : {}) };
}

async function invokeOne(list: NetConfList, plugin: PluginConf, command: CniCommand, rt: RuntimeConf, prev: CniResult | undefined, opts: InvokeOptions): Promise<CniResult | undefined> {
  const dirs = opts.dirs ?? cniPath();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const path = findPlugin(plugin.type, dirs);
  if (!path) {
    const problem = `no plugin binary "${plugin.type}" in CNI_PATH (${dirs.join(':')})`;
    opts.onCall?.({ plugin: plugin.type, command, path: '', durationMs: 0, outcome: problem });
    throw new CniPluginError(list.name, plugin.type, command, problem);
  }
  const t0 = performance.now();
  const run = await runPlugin(path, pluginEnv(command, rt, dirs), JSON.stringify(pluginStdin(list, plugin, rt, prev)), timeoutMs, (pid) => opts.onSpawn?.(plugin.type, pid));
  const durationMs = performance.now() - t0;
  if (run.code !== 0 || run.timedOut) {
    const f = failure(run, timeoutMs);
    opts.onCall?.({ plugin: plugin.type, command, path, durationMs, outcome: f.text });
    throw new CniPluginError(list.name, plugin.type, command, f.text, f.code);
  }
  if (command !== 'ADD') {
    opts.onCall?.({ plugin: plugin.type, command, path, durationMs, outcome: 'ok' });
    return undefined;
  }
  const raw = parseJson(run.stdout) as Record<string, unknown> | undefined;
  if (!raw || typeof raw !== 'object' || typeof raw.cniVersion !== 'string') {
    const problem = `its result is not a CNI result: ${JSON.stringify(run.stdout.slice(0, 200))}`;
    opts.onCall?.({ plugin: plugin.type, command, path, durationMs, outcome: problem });
    throw new CniPluginError(list.name, plugin.type, command, problem);
  }
  const result = raw as CniResult;
  opts.onCall?.({ plugin: plugin.type, command, path, durationMs, outcome: 'ok', result });
  return result;
}

/** ADD: every plugin in order, each given the previous result; returns the last one. */
export async function addNetworkList(list: NetConfList, rt: RuntimeConf, opts: InvokeOptions = {}): Promise<CniResult> {
  let prev: CniResult | undefined;
  for (const plugin of list.plugins) prev = await invokeOne(list, plugin, 'ADD', rt, prev, opts);
  if (!prev) throw new CniPluginError(list.name, '(none)', 'ADD', 'the list has no plugins');
  return prev;
}

/** CHECK: every plugin in order with the cached ADD result (0.4.0 and later; `disableCheck` skips it). */
export async function checkNetworkList(list: NetConfList, rt: RuntimeConf, cached: CniResult, opts: InvokeOptions = {}): Promise<'checked' | 'skipped'> {
  if (list.disableCheck || !CHECK_VERSIONS.includes(list.cniVersion)) return 'skipped';
  for (const plugin of list.plugins) await invokeOne(list, plugin, 'CHECK', rt, cached, opts);
  return 'checked';
}

/**
 * DEL: every plugin, last first, with the cached ADD result when there is one. A plugin that fails
 * does not stop the others (each releases its own part: the lease, the port rules, the veth); the
 * first failure is thrown once all have run.
 */
export async function delNetworkList(list: NetConfList, rt: RuntimeConf, cached: CniResult | undefined, opts: InvokeOptions = {}): Promise<void> {
  let first: unknown;
  for (const plugin of [...list.plugins].reverse()) {
    try {
      await invokeOne(list, plugin, 'DEL', rt, cached, opts);
    } catch (err) {
      first ??= err;
    }
  }
  if (first) throw first;
}
