// The report for machines: the CheckReport as one JSON document, the same data the text shows.
import type { CheckReport } from './report.js';

export function formatJsonReport(report: CheckReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}
