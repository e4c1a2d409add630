/** Readers for the knowledge-tracing data formats, dataset folders and the tool's attempts. */
export { DataFormatError, DatasetLayoutError } from './errors';
export { detectFormat } from './detect';
export type { DataFormat } from './detect';
export { parseThreeLine } from './threeLine';
export { parseFourLine } from './fourLine';
export { parsePykt, readPykt } from './pykt';
export type { PyktRow } from './pykt';
export { baseFromFolderName, loadDatasetDir } from './dataset';
export type { LoadOptions, LoadedDataset } from './dataset';
export { datasetSize, sequencesFromAttempts, windows } from './sequences';
export type { AttemptRow } from './sequences';
export { repoRoot, sharedDatasetDir, sharedDir } from './shared';
