// The identifier sergo sends with its subscriptions. The control plane keeps one stream per
// identifier and keeps the first one it saw, until it notices that stream is gone: a process
// that reconnected under the same identifier before then would never be sent a push. So the
// identifier is unique per process (host, pid, a random part) and gets the stream's number.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

export function processIdentifier(): string {
  return `sergo-xds-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export function streamIdentifier(process: string, stream: number): string {
  return `${process}#${stream}`;
}
