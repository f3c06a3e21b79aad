// A push's data (google.protobuf.Any, one per CR) → the payload messages of its kind. A payload
// whose type URL is not the kind's message, or whose bytes do not decode, refuses the whole push
// (nothing of it is applied), with the reason the NACK carries.
import type { BareKind } from './kinds.ts';
import { decodePayload, PAYLOAD_PACKAGE, TYPE_URL_PREFIX, type WireAny } from './protos.ts';

export type Payload = Record<string, unknown>;

export type Decoded = { ok: true; payloads: Payload[] } | { ok: false; reason: string };

export function decodePayloads(kind: BareKind, data: readonly WireAny[]): Decoded {
  const expected = `${TYPE_URL_PREFIX}${PAYLOAD_PACKAGE}.${kind}`;
  const payloads: Payload[] = [];
  for (const [i, any] of data.entries()) {
    if (any.type_url !== expected) return { ok: false, reason: `data[${i}]: type URL "${any.type_url}" is not ${expected}` };
    try {
      payloads.push(decodePayload(kind, any.value));
    } catch (err) {
      return { ok: false, reason: `data[${i}]: not a valid ${PAYLOAD_PACKAGE}.${kind} (${(err as Error).message})` };
    }
  }
  return { ok: true, payloads };
}
