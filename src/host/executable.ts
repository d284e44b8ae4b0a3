// Finding a program as execvp does: the first executable regular file of that name in a list of
// directories (PATH for slirp4netns, CNI_PATH for a CNI plugin).
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';

export function firstExecutable(name: string, dirs: readonly string[]): string | undefined {
  for (const dir of dirs) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch { /* not here */ }
  }
  return undefined;
}
