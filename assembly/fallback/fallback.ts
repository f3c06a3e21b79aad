// Local replies for blocked requests. Everything a reply needs — body bytes, serialized header
// pairs, details string — is built once at configure time, so blocking costs one host call.
import { Bytes, sendLocalResponse, serializePairs } from "../abi";

export class Fallback {
  readonly body: ArrayBuffer;
  readonly headers: ArrayBuffer;
  readonly details: Bytes;

  constructor(public status: u32, body: string, names: string[], values: string[], details: string = "sergo_blocked") {
    this.body = String.UTF8.encode(body);
    this.headers = serializePairs(names, values);
    this.details = new Bytes(details);
  }

  /** The reply when a rule has no fallback: 429 naming the blocking strategy. */
  static blocked(strategyKind: string, ruleId: string): Fallback {
    return new Fallback(429, "Blocked by sergo: " + strategyKind + " (" + ruleId + ")\n",
                        ["content-type"], ["text/plain; charset=utf-8"]);
  }

  send(): void {
    sendLocalResponse(this.status, this.details, changetype<usize>(this.body), <usize>this.body.byteLength,
                      changetype<usize>(this.headers), <usize>this.headers.byteLength);
  }
}
