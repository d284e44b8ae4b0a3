// Reading network configuration files: a `.conflist` (a list) or a `.conf`/`.json` (one plugin,
// which libcni turns into a list of one). Checked as a runtime must before running anything.
import { ConfigError } from '../../errors.js';
import type { NetConfList, PluginConf } from './types.js';

/** CNI network names: what the spec allows (alphanumerics, `_`, `.`, `-`), not starting with a separator. */
export const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function plugin(value: unknown, where: string, file: string): PluginConf {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(where, 'must be an object', file);
  const p = value as Record<string, unknown>;
  if (typeof p.type !== 'string' || p.type === '') throw new ConfigError(`${where}.type`, 'must name the plugin binary', file);
  if (p.capabilities !== undefined && (typeof p.capabilities !== 'object' || p.capabilities === null)) throw new ConfigError(`${where}.capabilities`, 'must be an object of booleans', file);
  return p as PluginConf;
}

/** A parsed file as a list; `file` names it in errors. */
export function toNetConfList(value: unknown, file: string): NetConfList {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError('(top level)', 'must be a JSON object', file);
  const v = value as Record<string, unknown>;
  if (typeof v.name !== 'string' || !NETWORK_NAME.test(v.name)) throw new ConfigError('name', `must be a network name (letters, digits, _ . -), not ${JSON.stringify(v.name)}`, file);
  if (typeof v.cniVersion !== 'string') throw new ConfigError('cniVersion', 'is required', file);
  if (v.plugins === undefined) {
    // A single-plugin .conf: the whole object is the plugin.
    const { cniVersion, name, ...rest } = v;
    return { cniVersion, name, plugins: [plugin(rest, '(top level)', file)] };
  }
  if (!Array.isArray(v.plugins) || v.plugins.length === 0) throw new ConfigError('plugins', 'must be a non-empty list', file);
  return {
    cniVersion: v.cniVersion, name: v.name,
    ...(v.disableCheck === true ? { disableCheck: true } : {}),
    plugins: v.plugins.map((p, i) => plugin(p, `plugins[${i}]`, file)),
  };
}

export function parseNetConfList(text: string, file: string): NetConfList {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('(file)', `is not JSON: ${(err as Error).message}`, file);
  }
  return toNetConfList(value, file);
}
