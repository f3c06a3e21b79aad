// Real components the suites need (Envoy, Redis, the reference rate-limit service, …). The rule of
// the project: under CI=true a missing component fails the run; elsewhere the suite that needs it is
// skipped with a message naming the command that installs it. Never mocked.

export const inCI = process.env.CI === 'true';

/**
 * True when the component is there. When it is not: throws under CI (the test file fails, loudly),
 * otherwise prints a SKIPPED line naming the install command and returns false (use with skipIf).
 */
export function requireComponent(suite: string, component: string, available: boolean, install: string, detail = ''): boolean {
  if (available) return true;
  const why = `${component} is not available${detail === '' ? '' : ` (${detail})`}`;
  if (inCI) throw new Error(`${suite}: ${why}. Under CI=true every component must be there; install it with: ${install}`);
  console.warn(`SKIPPED ${suite}: ${why}. Install it with \`${install}\`, then run the tests again.`);
  return false;
}
