// `did you mean "threshold"?` for a misspelt field or kind: the known word within a small edit
// distance (a typo or two, case included), when exactly one is that close.

/** `; did you mean "x"?`, or '' when no known word is close enough (or several are). */
export function didYouMean(word: string, known: readonly string[]): string {
  const limit = Math.min(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  let tie = false;
  for (const candidate of known) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase()) + (word === candidate ? 0 : caseChanges(word, candidate));
    if (d < bestDistance) [best, bestDistance, tie] = [candidate, d, false];
    else if (d === bestDistance) tie = true;
  }
  return best !== undefined && !tie && bestDistance > 0 ? `; did you mean "${best}"?` : '';
}

/** A word that differs only in case is one edit away (e.g. `Threshold`). */
function caseChanges(a: string, b: string): number {
  return a.length === b.length && a.toLowerCase() === b.toLowerCase() ? 1 : 0;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3; // further than any limit used here
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      current.push(d);
    }
    [before, previous] = [previous, current];
  }
  return previous[b.length]!;
}
