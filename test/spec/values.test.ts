// The value formats of OpenSergo fields: durations, percents, resource keys, status ranges.
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/spec/duration.ts';
import { mergeRanges } from '../../src/spec/kinds/error-status-codes.ts';
import { parsePercent } from '../../src/spec/percent.ts';
import { resourceProblem } from '../../src/spec/resource.ts';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['1s', 1000],
    ['30s', 30_000],
    ['2m', 120_000],
    ['5min', 300_000],
    ['3minute', 180_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text, false)).toEqual({ ms });
  });

  it.each(['1m30s', '1.5s', '0s', '0ms', '01s', '-1s', '1S', '1', 's', '', ' 1s', '1 s', '1sec', '24.8d'])('rejects %j where zero is not allowed', (text) => {
    expect(parseDuration(text, false)).toHaveProperty('error');
  });

  it('allows zero only where asked (minIntervalOfRequests)', () => {
    expect(parseDuration('0ms', true)).toEqual({ ms: 0 });
    expect(parseDuration('00s', true)).toEqual({ ms: 0 });
    expect(parseDuration('1m30s', true)).toHaveProperty('error');
  });

  it('rejects durations the filter cannot hold in i32 ms', () => {
    expect(parseDuration('24d', false)).toEqual({ ms: 2_073_600_000 });
    expect(parseDuration('25d', false)).toMatchObject({ error: expect.stringContaining('exceeds') });
  });
});

describe('percents', () => {
  it.each([
    ['0%', 0],
    ['1%', 0.01],
    ['60%', 0.6],
    ['99%', 0.99],
    ['100%', 1],
  ])('%s is %d', (text, ratio) => {
    expect(parsePercent(text)).toBe(ratio);
  });

  it.each(['101%', '60', '60.5%', '060%', '-1%', '00%', '1000%', ' 60%'])('rejects %j', (text) => {
    expect(parsePercent(text)).toBeUndefined();
  });
});

describe('resource keys', () => {
  it.each(['/', '/foo', 'GET:/foo', 'GET:/foo/{id}', '/foo/{id}/bar', '/static/**', 'POST:/a/{b}/**', '/a-b_c.d~e'])('accepts %s', (r) => {
    expect(resourceProblem(r)).toBeUndefined();
  });

  it.each([
    ['foo-route', 'other resource names are not supported'],
    ['get:/foo', "must be upper-case ('GET:/foo')"],
    ['GET /foo', "expected a path '/…' or 'METHOD:/…'"],
    ['/foo bar', 'printable ASCII'],
    ['/café', 'printable ASCII'],
    ['/foo?x=1', 'query string'],
    ['/a/**/b', 'only as the last segment'],
    ['/a/b**', 'only as the last segment'],
    ['/a/{id', 'whole segment'],
    ['/a/x{id}', 'whole segment'],
    [`/${'a'.repeat(1024)}`, 'at most 1024'],
  ])('rejects %s', (r, message) => {
    expect(resourceProblem(r)).toContain(message);
  });
});

describe('status ranges', () => {
  it('sorts and joins overlapping and adjacent ranges', () => {
    expect(mergeRanges([[503, 503], [500, 500], [501, 502], [520, 599], [550, 560]])).toEqual([[500, 503], [520, 599]]);
  });

  it('keeps separate ranges apart', () => {
    expect(mergeRanges([[429, 429], [500, 599]])).toEqual([[429, 429], [500, 599]]);
  });
});
