// A value and everything in it made unchangeable, for values shared between calls that must not be
// changed by one of them for the next (a bundle's validated spec, a kept plan): a change throws
// (modules are strict) instead of reaching the next container.
export function deepFrozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFrozen(v);
    Object.freeze(value);
  }
  return value;
}
