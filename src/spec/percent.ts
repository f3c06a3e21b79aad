// OpenSergo ratio strings: a whole percent from 0% to 100% (CRD pattern `^([1-9]\d?|100|0)%$`).

export const PERCENT = /^([1-9]\d?|100|0)%$/;

/** The ratio 0..1, or undefined when `text` is not a valid percent string. */
export function parsePercent(text: string): number | undefined {
  const match = PERCENT.exec(text);
  return match === null ? undefined : Number(match[1]) / 100;
}
