// tsrun inspect [--format text|json] [--svg | --dot] ID
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';
import { UsageError } from '../parse-args.js';

const command: CommandModule<{ id: string; format?: string; svg: boolean; dot: boolean }> = {
  command: 'inspect',
  describe: 'show a running container\'s namespaces (vs the host\'s), cgroup usage and limits, mounts, id maps and capabilities',
  positionals: [{ name: 'id', describe: 'container id', required: true }],
  options: {
    format: { type: 'string', short: 'f', choices: ['text', 'json'], describe: 'output format (default: follows --log-format)' },
    svg: { type: 'boolean', default: false, describe: 'draw it: an SVG of its namespaces, cgroup and mounts next to the host\'s' },
    dot: { type: 'boolean', default: false, describe: 'the same drawing as a Graphviz graph (render with dot -Tsvg)' },
  },
  async handler(args) {
    if (args.svg && args.dot) throw new UsageError('inspect: give --svg or --dot, not both');
    const { inspectContainer, formatInspection } = await import('../../container/inspect.js');
    const info = await inspectContainer(args.root, args.id);
    if (args.svg || args.dot) {
      const { renderInspectionSvg, renderInspectionDot } = await import('../../diagram/inspection.js');
      writeSync(1, args.svg ? renderInspectionSvg(info) : renderInspectionDot(info));
      return 0;
    }
    writeSync(1, (args.format ?? args.logFormat) === 'json' ? JSON.stringify(info, null, 2) + '\n' : formatInspection(info));
    return 0;
  },
};

export default command;
