// The steps of a hook that runs inside the container (createContainer, startContainer): its state on
// stdin, then its program. A startContainer hook's path resolves inside the container, so the image
// chooses that program: it also gets the container process's privilege drop (plan/hook.ts). Pure.
import type { Step } from '../abi/steps.js';
import type { Hook } from '../oci/types.js';
import type { ExecStep } from './plan.js';

/** `fd`: tsrun's fd on the state file, passed through the exec of tsrun-init. */
export function hookStdinSteps(fd: number, stateFile: string, field: string): Step[] {
  return [{ op: 'stdinFrom', fd, path: stateFile, why: 'a hook reads the container state as JSON on stdin', field }];
}

export function hookExecStep(hook: Hook, field: string, inContainer: 'namespaces' | 'process'): ExecStep {
  return {
    op: 'exec', path: hook.path, args: hook.args ?? [hook.path], env: hook.env ?? [], field,
    why: inContainer === 'process'
      ? 'run the hook (a program of the container\'s filesystem) with no more privilege than the container\'s process'
      : 'run the hook inside the container\'s namespaces',
  };
}
