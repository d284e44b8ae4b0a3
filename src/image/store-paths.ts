// Where the image store keeps layers: `<store>/layers/<hex>/root` by diff-id, and a short symlink
// `<store>/l/<prefix>` to it so a mount can name many layers within one page. What starting a
// container from an image needs, apart from layer-store.ts (unpacking, digests, streams), so that
// `run --image` of an imported image runs from the V8 startup snapshot without that code.
import { existsSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import { digestHex } from './digest-hex.js';
import { shiftKey, storeShift, type IdShift } from './store-shift.js';

export const DEFAULT_STORE = '/var/lib/tsrun';

/**
 * The xattr that marks an opaque directory in a store. Root's: overlayfs' own trusted.overlay.opaque.
 * A user may not write trusted.* xattrs, and mounts its overlays in its user namespace with the
 * `userxattr` option (kernel >= 5.11), under which overlayfs reads user.overlay.* instead.
 */
export function opaqueXattrFor(euid = process.geteuid?.() ?? 0): string {
  return euid === 0 ? 'trusted.overlay.opaque' : 'user.overlay.opaque';
}

/** Extra overlay mount options for this user's store: `userxattr` when not root (see opaqueXattrFor). */
export function overlayOptionsFor(euid = process.geteuid?.() ?? 0): string[] {
  return euid === 0 ? [] : ['userxattr'];
}
export const SHORT_MIN = 12;

export interface LayerInfo {
  diffId: string;
  /** The (compressed) blob it was unpacked from, when that is not the diff itself. */
  digest?: string;
  entries: number;
  bytes: number;
  importedAt: string;
  /**
   * The id maps its owners were shifted with (owner-shift.ts, shiftKey), absent when it keeps the
   * tar's ids (root) or the user's own (no subordinate ids). Another store user's maps — or a change
   * of /etc/subuid — make it unusable: it is unpacked again, never reused with the wrong owners.
   * Such a layer's info is in `layer.shifted.json`, never `layer.json` (LayerPaths.has).
   */
  idShift?: string;
  /** Unpacked by a user without subordinate ids: how many entries' owners (not root) became root inside. */
  ownersNotKept?: number;
}

export class LayerPaths {
  /** The maps this store's layers must have been unpacked with (store-shift.ts). */
  readonly shift: IdShift | undefined;
  private readonly shiftKey: string | undefined;

  constructor(readonly dir: string, shift: IdShift | undefined = storeShift()) {
    this.shift = shift;
    this.shiftKey = shiftKey(shift);
  }

  protected layerDir(diffId: string): string { return `${this.dir}/layers/${digestHex(diffId, 'diff_id')}`; }
  /** Absolute path of a layer's unpacked root. */
  rootOf(diffId: string): string { return `${this.layerDir(diffId)}/root`; }
  /**
   * Unpacked completely, with the owners this store needs: ready to use. A layer of the tar's (or
   * the user's own) ids has `layer.json`, one with shifted owners `layer.shifted.json`, which names
   * the maps: so root's check stays one stat, and neither kind passes for the other.
   */
  has(diffId: string): boolean {
    if (this.shiftKey === undefined) return existsSync(this.infoFile(diffId));
    try { return this.info(diffId).idShift === this.shiftKey; } catch { return false; }
  }
  /** Unpacked completely (its info file written last), whatever its owners. */
  complete(diffId: string): boolean { return existsSync(this.infoFile(diffId, false)) || existsSync(this.infoFile(diffId, true)); }
  /** The name of a layer's info file: of the kind this store's user makes unless told. */
  protected infoName(shifted = this.shiftKey !== undefined): string { return shifted ? 'layer.shifted.json' : 'layer.json'; }
  private infoFile(diffId: string, shifted?: boolean): string { return `${this.layerDir(diffId)}/${this.infoName(shifted)}`; }
  get linkDir(): string { return `${this.dir}/l`; }

  /** Its info file of the kind this user makes, else of the other. */
  info(diffId: string): LayerInfo {
    const own = this.infoFile(diffId);
    return JSON.parse(readFileSync(existsSync(own) ? own : this.infoFile(diffId, this.shiftKey === undefined), 'utf8')) as LayerInfo;
  }

  /** diff-ids of every complete layer. */
  list(): string[] {
    let names: string[];
    try { names = readdirSync(`${this.dir}/layers`); } catch { return []; }
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`).filter((d) => this.complete(d));
  }

  /**
   * The layer's short link name, created if missing: the shortest unused prefix of the hex
   * (at least 12) so that lowerdir=… stays short. Collisions get a longer prefix, never a shared one.
   */
  shortName(diffId: string): string {
    const hex = digestHex(diffId, 'diff_id');
    const target = `../layers/${hex}/root`;
    for (let n = SHORT_MIN; n <= hex.length; n++) {
      const link = `${this.linkDir}/${hex.slice(0, n)}`;
      try {
        symlinkSync(target, link);
        return hex.slice(0, n);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        if (readlinkSync(link) === target) return hex.slice(0, n);
      }
    }
    throw new TsrunError(`layer ${diffId}: no free short name`);
  }
}
