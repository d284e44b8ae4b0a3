// Generating the runtime config of a container from an image config, merged over a default spec
// (the OCI image-spec "conversion" rules, as Docker applies them): Entrypoint + Cmd become the
// args (a command given at run replaces Cmd only), image Env overrides defaults by name, WorkingDir
// becomes cwd, User is resolved against the image's own /etc/passwd and /etc/group.
import { TsrunError } from '../errors.js';
import type { Spec } from '../oci/types.js';
import { readLayeredFile } from './layered-file.js';
import type { ImageConfig } from './types.js';
import { parseGroup, parsePasswd, resolveUser } from './user-db.js';

export interface ImageSpecOverrides {
  /** Replaces the image's Cmd (the Entrypoint stays), like `docker run IMAGE ARGS…`. */
  args?: string[];
  /** The image's layer dirs, top first: where /etc/passwd and /etc/group are read from. */
  lowerDirs?: string[];
}

function mergeEnv(base: string[], over: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...over]) {
    const i = e.indexOf('=');
    out.set(i < 0 ? e : e.slice(0, i), e);
  }
  return [...out.values()];
}

export function specFromImage(imageConfig: ImageConfig, defaults: Spec, overrides: ImageSpecOverrides = {}): Spec {
  const c = imageConfig.config ?? {};
  const spec = structuredClone(defaults);
  const proc = spec.process ?? { user: { uid: 0, gid: 0 }, cwd: '/' };

  const args = [...(c.Entrypoint ?? []), ...(overrides.args ?? c.Cmd ?? [])];
  if (args.length === 0) throw new TsrunError('the image has no Entrypoint or Cmd: give a command', { field: 'config.Cmd' });
  proc.args = args;

  const layers = overrides.lowerDirs ?? [];
  const text = (p: string): string => readLayeredFile(layers, p)?.toString('utf8') ?? '';
  const { user, home } = resolveUser(c.User, parsePasswd(text('/etc/passwd')), parseGroup(text('/etc/group')));
  proc.user = { ...proc.user, ...user };
  if (!user.additionalGids) delete proc.user.additionalGids;

  let env = mergeEnv(proc.env ?? [], c.Env ?? []);
  if (home && !env.some((e) => e.startsWith('HOME='))) env = [...env, `HOME=${home}`];
  proc.env = env;
  if (c.WorkingDir) proc.cwd = c.WorkingDir;
  spec.process = proc;

  const ann: Record<string, string> = { ...(spec.annotations ?? {}), ...(c.Labels ?? {}) };
  ann['org.opencontainers.image.os'] = imageConfig.os;
  ann['org.opencontainers.image.architecture'] = imageConfig.architecture;
  if (imageConfig.author) ann['org.opencontainers.image.author'] = imageConfig.author;
  if (imageConfig.created) ann['org.opencontainers.image.created'] = imageConfig.created;
  if (c.StopSignal) ann['org.opencontainers.image.stopSignal'] = c.StopSignal;
  spec.annotations = ann;
  return spec;
}
