// `tsrun check`: what this host can do for containers and why. Exits 1 only when no container can run
// here at all; partial support (e.g. hybrid cgroups) is reported but exits 0.
import type { CommandModule } from '../command.js';
import { checkHost, formatJsonReport, formatTextReport, shouldUseColor } from '../../check/index.js';

interface CheckArgs {
  format?: 'text' | 'json';
}

const check: CommandModule<CheckArgs> = {
  command: 'check',
  describe: 'report which container features this host supports, and how to fix what is missing',
  options: {
    format: { type: 'string', choices: ['text', 'json'], describe: 'output format (default: follows --log-format)' },
  },
  handler: async (args) => {
    const report = await checkHost();
    const json = (args.format ?? args.logFormat) === 'json';
    process.stdout.write(json
      ? formatJsonReport(report)
      : formatTextReport(report, { color: shouldUseColor(process.stdout.isTTY, process.env), width: Math.min(process.stdout.columns || 100, 120) }));
    return report.canRunContainers ? 0 : 1;
  },
};

export default check;
