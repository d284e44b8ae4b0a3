// The shapes of the JSON documents an image source holds (OCI index, manifest, image config; docker's
// manifest.json), checked before any field is used: an image is untrusted input, and a `null` where a
// descriptor belongs must be a one-line error naming the document and the field, not a TypeError.
// Unknown fields are ignored, as the image-spec requires; only what tsrun reads is checked.
import { TsrunError } from '../errors.js';
import { Invalid, anyObject, arrayOf, integer, matching, nullable, recordOf, shape, str, type Check } from '../oci/checks.js';

// tsrun stores blobs by sha256 only (digest-hex.ts); a digest becomes a file name, so its form is strict.
const digestString: Check = matching(/^sha256:[a-f0-9]{64}$/, 'a digest sha256:<64 hex digits>');
const size = integer(0, Number.MAX_SAFE_INTEGER);

const platform = shape({ architecture: str, os: str, variant: str });
const descriptor = shape(
  { mediaType: str, digest: digestString, size, annotations: recordOf(str), platform, urls: arrayOf(str) },
  ['mediaType', 'digest', 'size'],
);

// Docker limits an image to 127 layers; indexes list a manifest per platform.
const descriptors = arrayOf(descriptor);

const index = shape({ manifests: descriptors }, ['manifests']);
const manifest = shape({ config: descriptor, layers: descriptors }, ['config', 'layers']);

const strings = arrayOf(str, { maxItems: 65534 });
const runConfig = shape({
  User: str, Env: strings, Entrypoint: nullable(strings), Cmd: nullable(strings), WorkingDir: str,
  Labels: recordOf(str), StopSignal: str, ExposedPorts: anyObject, Volumes: anyObject,
});
const imageConfig = shape(
  { created: str, author: str, architecture: str, os: str, config: nullable(runConfig), rootfs: shape({ type: str, diff_ids: arrayOf(digestString) }, ['diff_ids']) },
  ['rootfs'],
);

const dockerManifest = arrayOf(shape({ Config: str, RepoTags: nullable(arrayOf(str)), Layers: arrayOf(str) }, ['Config', 'Layers']));

/** Runs `check` on a parsed document; its failure becomes `<where>: <field>: <problem>`. */
function checked<T>(value: unknown, check: Check, where: string): T {
  try {
    check(value, '');
  } catch (e) {
    if (!(e instanceof Invalid)) throw e;
    throw new TsrunError(`${where}: ${e.field || 'the document'}: ${e.problem}`, { file: where, ...(e.field ? { field: e.field } : {}) });
  }
  return value as T;
}

export const checkIndex = <T>(v: unknown, where: string): T => checked<T>(v, index, where);
export const checkManifest = <T>(v: unknown, where: string): T => checked<T>(v, manifest, where);
export const checkImageConfig = <T>(v: unknown, where: string): T => checked<T>(v, imageConfig, where);
export const checkDockerManifest = <T>(v: unknown, where: string): T => checked<T>(v, dockerManifest, where);
