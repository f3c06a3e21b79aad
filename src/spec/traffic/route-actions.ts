// The actions of an `http[]` entry besides `route`: rewrite, redirect, directResponse, retries, fault,
// mirror (Istio's HTTPRoute fields, Istio's defaults).
import type { DirectResponse, Fault, Mirror, Redirect, Retries, Rewrite } from '../../ir/traffic.ts';
import type { Cursor } from '../cursor.ts';
import { readInteger, readMap, readString, readText } from '../fields.ts';
import type { Reporter } from '../reporter.ts';
import { re2Problem } from './re2.ts';
import { readDestination } from './destination.ts';
import { readIstioDuration, readPercentage } from './istio-fields.ts';

const REDIRECT_CODES = [301, 302, 303, 307, 308];
const RETRY_ON = /^[a-z0-9-]+(,[a-z0-9-]+)*$/;

export function readRewrite(c: Cursor, r: Reporter): Rewrite | undefined {
  if (readMap(c, r) === undefined) return undefined;
  r.warnUnknownFields(c, ['uri', 'authority', 'uriRegexRewrite']);
  const before = r.errorCount;
  const uri = readString(c.get('uri'), r, { optional: true });
  const authority = readString(c.get('authority'), r, { optional: true, nonEmpty: true });
  const regexField = c.get('uriRegexRewrite');
  let uriRegex: Rewrite['uriRegex'];
  if (regexField.present && readMap(regexField, r) !== undefined) {
    const match = readString(regexField.get('match'), r, { nonEmpty: true });
    const rewrite = readString(regexField.get('rewrite'), r);
    const problem = match === undefined ? undefined : re2Problem(match);
    if (problem !== undefined) r.error(regexField.get('match'), `'${match}' is not an RE2 regular expression: ${problem}`);
    if (match !== undefined && rewrite !== undefined) uriRegex = { match, rewrite };
  }
  if (uri !== undefined && uriRegex !== undefined) r.error(regexField, 'cannot be combined with rewrite.uri');
  if (r.errorCount > before) return undefined;
  return { pos: c.pos, field: c.path, ...(uri === undefined ? {} : { uri }), ...(uriRegex === undefined ? {} : { uriRegex }), ...(authority === undefined ? {} : { authority }) };
}

export function readRedirect(c: Cursor, r: Reporter): Redirect | undefined {
  if (readMap(c, r) === undefined) return undefined;
  r.warnUnknownFields(c, ['uri', 'authority', 'port', 'scheme', 'redirectCode', 'derivePort']);
  const before = r.errorCount;
  const uri = readString(c.get('uri'), r, { optional: true, nonEmpty: true });
  const authority = readString(c.get('authority'), r, { optional: true, nonEmpty: true });
  const port = readInteger(c.get('port'), r, { min: 1, max: 65535 }, { optional: true });
  const scheme = readString(c.get('scheme'), r, { optional: true, nonEmpty: true });
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') r.error(c.get('scheme'), `'${scheme}': must be http or https`);
  if (c.get('derivePort').present) r.error(c.get('derivePort'), 'is not supported by sergo-wasm (set redirect.port)');
  const code = readInteger(c.get('redirectCode'), r, { min: 300, max: 308 }, { optional: true }) ?? 301;
  if (!REDIRECT_CODES.includes(code)) r.error(c.get('redirectCode'), `${code} is not one of ${REDIRECT_CODES.join(', ')}`);
  if (r.errorCount > before) return undefined;
  return { pos: c.pos, field: c.path, uri, authority, port, scheme, redirectCode: code };
}

export function readDirectResponse(c: Cursor, r: Reporter): DirectResponse | undefined {
  if (readMap(c, r) === undefined) return undefined;
  r.warnUnknownFields(c, ['status', 'body']);
  const status = readInteger(c.get('status'), r, { min: 200, max: 599 });
  const bodyField = c.get('body');
  let body: string | undefined;
  if (bodyField.present && readMap(bodyField, r) !== undefined) {
    r.warnUnknownFields(bodyField, ['string', 'bytes']);
    if (bodyField.get('bytes').present) {
      const b64 = readString(bodyField.get('bytes'), r);
      if (b64 !== undefined) body = Buffer.from(b64, 'base64').toString('utf8');
    } else body = readText(bodyField.get('string'), r);
  }
  return status === undefined ? undefined : { pos: c.pos, field: c.path, status, ...(body === undefined ? {} : { body }) };
}

export function readRetries(c: Cursor, r: Reporter): Retries | undefined {
  if (readMap(c, r) === undefined) return undefined;
  r.warnUnknownFields(c, ['attempts', 'perTryTimeout', 'retryOn', 'retryRemoteLocalities']);
  const before = r.errorCount;
  const attempts = readInteger(c.get('attempts'), r, { min: 0, max: 100 });
  const perTryTimeoutMs = readIstioDuration(c.get('perTryTimeout'), r, { optional: true });
  const retryOn = readString(c.get('retryOn'), r, { optional: true, nonEmpty: true });
  if (retryOn !== undefined && !RETRY_ON.test(retryOn)) r.error(c.get('retryOn'), `'${retryOn}': expected Envoy retry conditions separated by commas, e.g. '5xx,connect-failure'`);
  if (c.get('retryRemoteLocalities').present) r.error(c.get('retryRemoteLocalities'), 'is not supported by sergo-wasm');
  if (attempts === undefined || r.errorCount > before) return undefined;
  return { pos: c.pos, field: c.path, attempts, perTryTimeoutMs, retryOn };
}

export function readFault(c: Cursor, r: Reporter): Fault | undefined {
  if (readMap(c, r) === undefined) return undefined;
  r.warnUnknownFields(c, ['delay', 'abort']);
  const before = r.errorCount;
  const out: Fault = { pos: c.pos, field: c.path };
  const delay = c.get('delay');
  if (delay.present && readMap(delay, r) !== undefined) {
    r.warnUnknownFields(delay, ['fixedDelay', 'percentage']);
    const fixedDelayMs = readIstioDuration(delay.get('fixedDelay'), r);
    const percent = readPercentage(delay.get('percentage'), r, { optional: true }) ?? 100;
    if (fixedDelayMs !== undefined) out.delay = { fixedDelayMs, percent };
  }
  const abort = c.get('abort');
  if (abort.present && readMap(abort, r) !== undefined) {
    r.warnUnknownFields(abort, ['httpStatus', 'percentage']);
    const httpStatus = readInteger(abort.get('httpStatus'), r, { min: 200, max: 599 });
    const percent = readPercentage(abort.get('percentage'), r, { optional: true }) ?? 100;
    if (httpStatus !== undefined) out.abort = { httpStatus, percent };
  }
  if (!delay.present && !abort.present) r.error(c, 'must set delay or abort');
  return r.errorCount > before ? undefined : out;
}

/** `mirror` and `mirrorPercentage` of one route. */
export function readMirror(route: Cursor, r: Reporter, namespace: string): Mirror | undefined {
  const c = route.get('mirror');
  const destination = readDestination(c, r, namespace, false);
  const percent = readPercentage(route.get('mirrorPercentage'), r, { optional: true }) ?? 100;
  return destination === undefined ? undefined : { pos: c.pos, field: c.path, destination, percent };
}
