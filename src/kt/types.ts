/**
 * Shared vocabulary of the knowledge-tracing engine. Ids are 0-based everywhere inside Jejak;
 * readers convert from each file format's own convention at the edge.
 */

/** One student's answers in time order. */
export interface StudentSequence {
  /** Pseudonymous student key (dataset row index, or a hash of the LTI user id). */
  student: string;
  /** Skill (knowledge component) answered at each step, 0-based, length T. */
  skills: Int32Array;
  /** Item (question) answered at each step, 0-based, length T; absent for skill-only data. */
  items?: Int32Array;
  /** 1 when the answer at that step was correct, else 0; length T. */
  correct: Uint8Array;
}

/** A set of sequences with the id spaces they live in. */
export interface KtDataset {
  /** Human-readable name, e.g. the dataset folder and split file. */
  name: string;
  /** Number of distinct skill ids (max id + 1). */
  numSkills: number;
  /** Number of distinct item ids (max id + 1); 0 when the data has no item ids. */
  numItems: number;
  sequences: StudentSequence[];
}
