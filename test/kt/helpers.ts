/** Random windows for engine tests. */
import { Rng } from '../../src/kt/engine/random';
import type { StudentSequence } from '../../src/kt/types';

export function randomWindows(rng: Rng, lengths: number[], numSkills: number, numItems: number): StudentSequence[] {
  return lengths.map((length, w) => {
    const skills = new Int32Array(length);
    const correct = new Uint8Array(length);
    const items = numItems > 0 ? new Int32Array(length) : undefined;
    for (let t = 0; t < length; t++) {
      skills[t] = rng.int(numSkills);
      correct[t] = rng.next() < 0.6 ? 1 : 0;
      if (items) items[t] = rng.int(numItems);
    }
    return { student: `s${w}`, skills, correct, items };
  });
}
