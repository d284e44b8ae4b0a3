// The shapes of the CNI specification (1.0, https://www.cni.dev/docs/spec/) that tsrun reads and
// writes: a network configuration list, the plugin configurations in it, and what a plugin answers.
// Only what a runtime must understand is typed; every other key of a plugin's configuration is the
// plugin's business and passes through untouched.

/** One plugin's entry in a list: `type` names the binary; the rest is the plugin's own. */
export interface PluginConf {
  type: string;
  /** Runtime-supplied data this plugin wants (`portMappings`, `ips`, `mac`…), by name. */
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

/** A network configuration list (a `.conflist` file). */
export interface NetConfList {
  cniVersion: string;
  name: string;
  /** Skip CHECK for this network (spec 1.0). */
  disableCheck?: boolean;
  plugins: PluginConf[];
}

export interface CniInterface { name: string; mac?: string; sandbox?: string }
export interface CniIp { address: string; gateway?: string; /** index into interfaces */ interface?: number }
export interface CniRoute { dst: string; gw?: string }

/** A plugin's ADD result in the 1.0 shape (0.3.x and 0.4.0 results have the same fields). */
export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIp[];
  routes?: CniRoute[];
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
  [key: string]: unknown;
}

/** What a plugin prints on stdout when it fails (and exits non-zero). */
export interface CniErrorReply { cniVersion?: string; code: number; msg: string; details?: string }

export type CniCommand = 'ADD' | 'CHECK' | 'DEL';

/** The arguments of every call, given to the plugin in CNI_* variables. */
export interface RuntimeConf {
  /** CNI_CONTAINERID: unique per container (tsrun's container id). */
  containerId: string;
  /** CNI_NETNS: a path of the container's network namespace; may be empty for DEL. */
  netns: string;
  /** CNI_IFNAME: the interface to make inside the namespace (eth0). */
  ifname: string;
  /** CNI_ARGS: `K=V;K=V`, extra arguments (IgnoreUnknown=1…). */
  args?: [string, string][];
  /** Values for plugins that declare the capability of the same name (`portMappings`…). */
  capabilityArgs?: Record<string, unknown>;
}

/** One plugin invocation as it happened: for state, inspect and --trace. */
export interface PluginCall {
  plugin: string;
  command: CniCommand;
  /** The plugin binary that ran. */
  path: string;
  durationMs: number;
  /** 'ok', or the error's one line. */
  outcome: string;
  result?: CniResult;
}

/** Versions whose results have the 1.0 fields (interfaces, ips, routes, dns). */
export const CURRENT_SHAPE_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];
/** CHECK exists from 0.4.0 on. */
export const CHECK_VERSIONS = ['0.4.0', '1.0.0', '1.1.0'];
