// How fast this machine is right now, for reading the figures with an absolute target (on_configure
// and translate in ms): the same fixed integer loop in every run, best of three. Ratios need no such
// thing (both sides run on the same machine); an absolute time does, and a shared 2-core VM can be
// several times slower on one day than on another.
const ITERATIONS = 100_000_000;

function loopMs(): number {
  const t0 = process.hrtime.bigint();
  let x = 0;
  for (let i = 0; i < ITERATIONS; i++) x = (x * 31 + i) | 0;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (x === 42) process.stderr.write(''); // keeps the loop's result alive
  return ms;
}

/** The reference loop's best time of three, in ms. */
export function referenceLoopMs(): number {
  return Math.min(loopMs(), loopMs(), loopMs());
}
