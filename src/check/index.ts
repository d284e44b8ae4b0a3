// `tsrun check` as a library: gather the host's facts, probe them, render the report.
import { buildReport } from './build-report.js';
import { gatherHostFacts } from './host-facts.js';
import type { CheckReport } from './report.js';

export type { CheckArea, CheckItem, CheckReport, CheckStatus } from './report.js';
export type { HostFacts } from './host-facts.js';
export { buildReport, findBlockers } from './build-report.js';
export { gatherHostFacts } from './host-facts.js';
export { formatTextReport, shouldUseColor, type TextReportOptions } from './text-report.js';
export { formatJsonReport } from './json-report.js';

/** Checks the host this process runs on. */
export async function checkHost(): Promise<CheckReport> {
  return buildReport(await gatherHostFacts());
}
