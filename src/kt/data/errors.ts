import * as path from 'path';

/**
 * A problem in a data file, located at a 1-based line. The message alone is what the CLI prints, so
 * it names the file, the line and what is wrong.
 */
export class DataFormatError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${file}, line ${line}: ${problem}`);
    this.name = 'DataFormatError';
  }
}

/** A problem with a dataset folder as a whole (missing or ambiguous split files). */
export class DatasetLayoutError extends Error {
  constructor(
    readonly dir: string,
    problem: string,
  ) {
    super(`${path.resolve(dir)}: ${problem}`);
    this.name = 'DatasetLayoutError';
  }
}
