// `tsrun check` as a library: gather the host's facts, probe them, render the report.
import { buildReport } from './build-report.js';
import { gatherHostFacts } from './host-facts.js';
import { item, type CheckReport } from './report.js';
import { defaultStateRoot, defaultStoreDir } from '../state/user-dirs.js';

export type { CheckArea, CheckItem, CheckReport, CheckStatus } from './report.js';
export type { HostFacts } from './host-facts.js';
export { buildReport, findBlockers } from './build-report.js';
export { gatherHostFacts } from './host-facts.js';
export { formatTextReport, shouldUseColor, type TextReportOptions } from './text-report.js';
export { formatJsonReport } from './json-report.js';

/** Checks the host this process runs on, for the user running it. */
export async function checkHost(): Promise<CheckReport> {
  const report = buildReport(await gatherHostFacts());
  const roots = { state: defaultStateRoot(), store: defaultStoreDir() };
  const dirs = item('privileges', 'dirs', 'ok', `containers' state goes to ${roots.state} (--root), images to ${roots.store} (image --store)`);
  return { ...report, items: [...report.items, dirs], roots };
}
