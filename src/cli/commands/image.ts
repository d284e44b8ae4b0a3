// `tsrun image pull|import|ls|inspect|rm|prune|unpack`: the image store from the command line. Parsing and
// printing only; the work is in src/image/ (its face, index.ts, loads the heavy parts on first call).
import { userInfo } from 'node:os';
import type { CommandModule, OptionSpec } from '../command.js';
import { UsageError } from '../parse-args.js';
import { defaultStoreDir } from '../../state/user-dirs.js';
import {
  ImageStore, LayerPaths, formatBytes, importImage, isImageSource, listImages, pruneLayers, pullDisplay, pullImage, removeImage, removeKeptUpper,
  rootfsOfRecord, terminalProgress, unpackBundle,
} from '../../image/index.js';

const store: Record<string, OptionSpec> = {
  store: { type: 'string', path: true, defaultOf: defaultStoreDir, describe: 'image and layer store directory (default: /var/lib/tsrun as root, ~/.local/share/tsrun for another user)' },
};

interface StoreArgs { store: string }

const importCmd: CommandModule<StoreArgs & { source: string; name?: string; quiet: boolean }> = {
  command: 'import',
  describe: 'import an OCI image layout (LAYOUT[:TAG]), a docker archive or an OCI archive into the store',
  positionals: [{ name: 'source', describe: 'OCI layout directory, docker archive (docker save) or OCI archive (skopeo oci-archive:), optionally :TAG', required: true }],
  options: {
    ...store,
    name: { type: 'string', describe: 'also record the image under this name' },
    quiet: { type: 'boolean', short: 'q', default: false, describe: 'no progress output' },
  },
  handler: async (args) => {
    const progress = args.quiet ? undefined : terminalProgress(process.stderr);
    const rec = await importImage(args.source, { store: args.store, ...(args.name ? { name: args.name } : {}), ...(progress ? { progress } : {}) });
    process.stdout.write(`${rec.id}\t${rec.names.join(',')}\n`);
    const note = ownersNote(args.store, rec.layers.map((l) => l.diffId));
    if (note) process.stderr.write(`tsrun: note: ${note}\n`);
    return 0;
  },
};

/**
 * A user without subordinate ids: files of other owners than root became its own (root's inside).
 * Said once, with the fix: with a range, the next import or `run --image` of the source unpacks the
 * layers again with their owners (image/owner-shift.ts).
 */
function ownersNote(store: string, diffIds: string[]): string | undefined {
  const layers = new LayerPaths(store);
  let n = 0;
  for (const d of diffIds) { try { n += layers.info(d).ownersNotKept ?? 0; } catch { /* removed meanwhile */ } }
  if (n === 0) return undefined;
  const user = userInfo().username;
  return `${n} file${n === 1 ? '' : 's'} of this image belong${n === 1 ? 's' : ''} to other users than root; ${user} has no subordinate ids (/etc/subuid, /etc/subgid), so they are root's inside the container. Grant a range as root (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}, package uidmap), then import again`;
}

const pullCmd: CommandModule<StoreArgs & { reference: string; platform?: string; quiet: boolean; offline: boolean }> = {
  command: 'pull',
  describe: 'pull an image from a registry ([registry/]name[:tag|@digest]; busybox = docker.io/library/busybox:latest) into the store',
  epilog: [
    'Mirrors, insecure registries and extra CAs: registries.json in $TSRUN_REGISTRIES_CONF, $XDG_CONFIG_HOME/tsrun/',
    'or /etc/tsrun/ (see README, "Pulling images"). Credentials: $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,',
    '~/.config/containers/auth.json, ~/.docker/config.json (podman login / docker login). Plain HTTP only on loopback',
    'or for registries marked insecure. TSRUN_OFFLINE=1 works like --offline.',
  ].join(' '),
  positionals: [{ name: 'reference', describe: 'image reference, e.g. localhost:5000/app:1.0, quay.io/org/app@sha256:…, busybox', required: true }],
  options: {
    ...store,
    platform: { type: 'string', describe: 'os/arch[/variant] to take from a multi-platform image (default linux/amd64)' },
    quiet: { type: 'boolean', short: 'q', default: false, describe: 'no progress output' },
    offline: { type: 'boolean', default: false, describe: 'use the network for nothing: succeed only if the image is in the store already' },
  },
  handler: async (args) => {
    const display = args.quiet ? undefined : await pullDisplay(process.stderr);
    const rec = await pullImage(args.reference, {
      store: args.store,
      ...(args.platform ? { platform: args.platform } : {}),
      ...(args.offline ? { offline: true } : {}),
      ...(display ? { onProgress: (e) => display.onProgress(e) } : {}),
      ...(args.debug ? { debug: (line: string) => void process.stderr.write(`tsrun: debug: ${line}\n`) } : {}),
    });
    process.stdout.write(`${rec.id}\t${rec.names.join(',')}\n`);
    return 0;
  },
};

const lsCmd: CommandModule<StoreArgs & { format: string; quiet: boolean }> = {
  command: 'ls',
  describe: 'list the images in the store',
  options: {
    ...store,
    format: { type: 'string', short: 'f', default: 'table', choices: ['table', 'json'], describe: 'output format' },
    quiet: { type: 'boolean', short: 'q', default: false, describe: 'print image ids only' },
  },
  handler: async (args) => {
    const images = await listImages(args.store);
    if (args.format === 'json') { process.stdout.write(JSON.stringify(images.map(({ config: _c, ...r }) => r), null, 2) + '\n'); return 0; }
    if (args.quiet) { for (const r of images) process.stdout.write(`${r.id}\n`); return 0; }
    const layers = new LayerPaths(args.store);
    const rows = images.map((r) => {
      const bytes = r.layers.reduce((s, l) => s + (layers.has(l.diffId) ? layers.info(l.diffId).bytes : 0), 0);
      return [r.names.join(',') || '<none>', r.id.slice(7, 19), String(r.layers.length), formatBytes(bytes), r.importedAt.slice(0, 19).replace('T', ' ')];
    });
    const table = [['NAME', 'ID', 'LAYERS', 'SIZE', 'IMPORTED'], ...rows];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table) process.stdout.write(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
    return 0;
  },
};

const inspectCmd: CommandModule<StoreArgs & { image: string }> = {
  command: 'inspect',
  describe: 'print an image record (config, layers, names; matchedName: the name that matched IMAGE) as JSON',
  positionals: [{ name: 'image', describe: 'image name (myapp:1.0 also finds docker.io/library/myapp:1.0) or id (prefix)', required: true }],
  options: { ...store },
  handler: async (args) => {
    const { record: rec, name } = new ImageStore(args.store).match(args.image);
    process.stdout.write(JSON.stringify({ ...rec, ...(name !== undefined ? { matchedName: name } : {}), lowerDirs: rootfsOfRecord(rec, args.store).lowerDirs }, null, 2) + '\n');
    return 0;
  },
};

const rmCmd: CommandModule<StoreArgs & { images: string[] }> = {
  command: 'rm',
  describe: 'remove images from the store (their layers go with the next prune, once no container uses them)',
  positionals: [{ name: 'images', describe: 'image names or ids', variadic: true }],
  options: { ...store },
  handler: async (args) => {
    if (args.images.length === 0) throw new UsageError('name an image to remove', 'image rm');
    for (const ref of args.images) {
      const r = await removeImage(args.store, ref);
      process.stdout.write(r.untagged ? `untagged ${r.untagged}\n` : `deleted ${r.record.id}\n`);
    }
    return 0;
  },
};

const pruneCmd: CommandModule<StoreArgs> = {
  command: 'prune',
  describe: 'delete layers that no image and no existing container uses',
  options: { ...store },
  handler: async (args) => {
    for (const d of await pruneLayers(args.store)) process.stdout.write(`${d}\n`);
    return 0;
  },
};

const rmUpperCmd: CommandModule<StoreArgs & { dirs: string[] }> = {
  command: 'rm-upper',
  describe: 'remove upper layers kept with --keep-upper (<store>/uppers/…), also the files a user\'s container wrote there as its other ids',
  positionals: [{ name: 'dirs', describe: 'kept upper layer directories, as delete printed them', variadic: true, path: true }],
  options: { ...store },
  handler: async (args) => {
    if (args.dirs.length === 0) throw new UsageError('name a kept upper layer to remove', 'image rm-upper');
    for (const dir of args.dirs) process.stdout.write(`removed ${await removeKeptUpper(args.store, dir)}\n`);
    return 0;
  },
};

const unpackCmd: CommandModule<StoreArgs & { image: string; bundle: string; args: string[]; quiet: boolean }> = {
  command: 'unpack',
  describe: 'write a runnable bundle (flattened rootfs/ + config.json) from an image',
  positionals: [
    { name: 'image', describe: 'image name or id, or a layout/archive to import first', required: true },
    { name: 'bundle', describe: 'bundle directory to create', required: true, path: true },
    { name: 'args', describe: 'command replacing the image Cmd', variadic: true },
  ],
  options: { ...store, quiet: { type: 'boolean', short: 'q', default: false, describe: 'no progress output' } },
  handler: async (args) => {
    let ref = args.image;
    if (isImageSource(ref)) {
      const progress = args.quiet ? undefined : terminalProgress(process.stderr);
      ref = (await importImage(ref, { store: args.store, ...(progress ? { progress } : {}) })).id;
    }
    await unpackBundle(args.store, ref, args.bundle, args.args);
    return 0;
  },
};

const command: CommandModule<StoreArgs> = {
  command: 'image',
  describe: 'manage images: pull from registries, import OCI layouts, docker and OCI archives, list, inspect, remove, prune, unpack, remove kept upper layers',
  subcommands: [pullCmd, importCmd, lsCmd, inspectCmd, rmCmd, pruneCmd, rmUpperCmd, unpackCmd],
  handler: async () => {
    throw new UsageError('name an image subcommand: pull, import, ls, inspect, rm, prune, rm-upper, unpack', 'image');
  },
};

export default command;
