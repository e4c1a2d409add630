/**
 * Short-answer wildcards (`*` matches any run of characters, none included), matched without regular
 * expressions: a pattern with several `*` turned into `.*…` backtracks exponentially (`*a*a*a*a*b`
 * against 150 characters froze the process for 12 s).
 *
 * The pattern is cut at its `*`s into literal segments. The first must start the text, the last must
 * end it, and each one between is taken at its first place after the one before: taking a segment
 * earlier never leaves less room for those after it, so no choice is ever revisited. Each segment is
 * searched by comparing characters from each start, so the whole match makes at most
 * (text.length + 2) × pattern.length character comparisons, whatever the input.
 */

/** Counts character comparisons, for tests that bound the work by construction. */
export interface StepMeter {
  steps: number;
}

/** Whether `text` equals `literal` at `at`, comparing character by character. */
function matchesAt(text: string, at: number, literal: string, meter?: StepMeter): boolean {
  for (let k = 0; k < literal.length; k++) {
    if (meter) meter.steps++;
    if (text.charCodeAt(at + k) !== literal.charCodeAt(k)) return false;
  }
  return true;
}

/** Whether the whole of `text` matches `pattern`, where `*` stands for any characters. */
export function wildcardMatch(pattern: string, text: string, meter?: StepMeter): boolean {
  const segments = pattern.split('*');
  if (segments.length === 1) return pattern.length === text.length && matchesAt(text, 0, pattern, meter);
  const first = segments[0]!;
  const last = segments.at(-1)!;
  const end = text.length - last.length;
  if (end < first.length || !matchesAt(text, 0, first, meter) || !matchesAt(text, end, last, meter)) return false;
  let from = first.length;
  for (const segment of segments.slice(1, -1)) {
    let at = from;
    while (at + segment.length <= end && !matchesAt(text, at, segment, meter)) at++;
    if (at + segment.length > end) return false;
    from = at + segment.length;
  }
  return true;
}
