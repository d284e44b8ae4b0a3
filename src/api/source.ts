// Where a container's config comes from: a bundle on disk, a root filesystem (tsrun's default config
// over it), or an image (its generated config). The spec's edits are applied to that base in memory;
// createContainer takes the result as a loaded bundle, or edits an image's config as it generates it.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { TsrunError } from '../errors.js';
import { detectCgroupHost } from '../cgroups/index.js';
import { loadBundleAgain, type Bundle } from '../oci/bundle.js';
import { thisProcessNamespaces } from '../oci/caller-namespaces.js';
import { defaultSpec } from '../oci/default-spec.js';
import type { Spec } from '../oci/types.js';
import { validateSpec } from '../oci/validate.js';
import type { ImageRunOptions } from '../container/image-bundle.js';
import type { CreateOptions } from '../container/create.js';
import { applyContainerSpec, type SpecHost } from './spec.js';
import type { ContainerSpec, SessionLike } from './types.js';

export type ContainerSource =
  | { loadedBundle: Bundle; label: string }
  /** An image's config is generated at create, in its state dir: the spec's edits are create's adjustSpec. */
  | { image: ImageRunOptions; adjustSpec: (spec: Spec) => Spec; label: string };

/** createContainer's `network` for the spec's `network` and `ports` (the CNI code loads only for them). */
export async function networkOption(cs: ContainerSpec): Promise<Pick<CreateOptions, 'network'>> {
  if (cs.network === undefined && !cs.ports?.length) return {};
  const { networkRequestOf } = await import('../network/options.js');
  const network = networkRequestOf({ ...(cs.network !== undefined ? { network: cs.network } : {}), ...(cs.ports ? { ports: cs.ports } : {}) });
  return network ? { network } : {};
}

/** createContainer's options for a source. */
export function sourceOptions(source: ContainerSource): Pick<CreateOptions, 'image' | 'loadedBundle' | 'adjustSpec'> {
  return 'image' in source ? { image: source.image, adjustSpec: source.adjustSpec } : { loadedBundle: source.loadedBundle };
}

function specHost(warn: (m: string) => void): SpecHost {
  return {
    controllers: () => { try { return detectCgroupHost().controllers; } catch { return undefined; } },
    warn,
  };
}

/** Validates the edited config as create would a config.json, so errors name its fields. */
function validated(spec: Spec, file: string): Spec {
  return validateSpec(JSON.parse(JSON.stringify(spec)), file, { callerNamespaces: thisProcessNamespaces });
}

/** Whether the spec changes its base config at all (besides choosing the source). */
function changesConfig(cs: ContainerSpec, session: SessionLike | undefined): boolean {
  const sourceOnly = new Set(['image', 'bundle', 'rootfs', 'store', 'id', 'network', 'ports']);
  return session !== undefined || Object.entries(cs).some(([k, v]) => v !== undefined && !sourceOnly.has(k));
}

export function containerSource(cs: ContainerSpec, opts: { session?: SessionLike; warn: (m: string) => void }): ContainerSource {
  const given = (['image', 'bundle', 'rootfs'] as const).filter((k) => cs[k] !== undefined);
  if (given.length !== 1) {
    throw new TsrunError(`spec: give exactly one of image, bundle or rootfs (${given.length ? `got ${given.join(', ')}` : 'got none'})`, { field: 'spec' });
  }
  const edits = { spec: cs, ...(opts.session ? { session: opts.session } : {}) };
  if (cs.image !== undefined) {
    // A cmd alone replaces the image's Cmd and keeps its Entrypoint (docker's rule): the image code does that.
    const host = specHost(opts.warn);
    return {
      label: cs.image,
      image: { ref: cs.image, ...(cs.store ? { store: cs.store } : {}), ...(cs.cmd && !cs.entrypoint ? { args: cs.cmd } : {}) },
      adjustSpec: (spec) => validated(applyContainerSpec(spec, { ...edits, argsFromImage: true }, host), `the config of image ${cs.image}`),
    };
  }
  if (cs.bundle !== undefined) {
    const bundle = loadBundleAgain(cs.bundle);
    // The bundle's own config, unchanged (only the pty is the library's business): validated already.
    if (!changesConfig(cs, opts.session) && !bundle.spec.process?.terminal) return { label: cs.bundle, loadedBundle: bundle };
    return { label: cs.bundle, loadedBundle: { ...bundle, spec: validated(applyContainerSpec(bundle.spec, { ...edits, argsFromImage: false }, specHost(opts.warn)), bundle.configPath) } };
  }
  const rootfs = resolve(cs.rootfs!);
  let isDir = false;
  try { isDir = statSync(rootfs).isDirectory(); } catch { /* reported below */ }
  if (!isDir) throw new TsrunError(`rootfs: ${rootfs} is not a directory`, { field: 'rootfs', file: rootfs });
  const base = defaultSpec({ terminal: false, args: cs.cmd ?? ['sh'] });
  base.root = { path: rootfs, readonly: base.root?.readonly ?? true };
  // No config.json exists: errors name the spec, and the bundle is the rootfs's parent (hooks' state).
  const label = `the spec of rootfs ${rootfs}`;
  const spec = validated(applyContainerSpec(base, { ...edits, argsFromImage: false }, specHost(opts.warn)), label);
  return { label: cs.rootfs!, loadedBundle: { dir: dirname(rootfs), configPath: label, spec, rootfs } };
}
