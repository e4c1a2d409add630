import * as fs from 'fs';
import * as path from 'path';

/** The repository root: the nearest folder above this file that holds a package.json. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}

/**
 * The shared folder with the public datasets and the reference code: `JEJAK_SHARED_DIR` when set,
 * else `../shared` next to the repository. They are read from there, never copied into the repo.
 */
export function sharedDir(): string {
  return process.env.JEJAK_SHARED_DIR ? path.resolve(process.env.JEJAK_SHARED_DIR) : path.resolve(repoRoot(), '..', 'shared');
}

/** Folder of one shared dataset, e.g. `dkvmn_assist2009_updated`. */
export function sharedDatasetDir(name: string): string {
  return path.join(sharedDir(), 'datasets', name);
}
