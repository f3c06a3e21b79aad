// Where the rate-limit service is (the top-level "rateLimitService" of the configuration): an Envoy
// cluster, and the request line every call to it carries, serialized once at configure time.
import { serializePairs } from "../abi";

export class RateLimitService {
  readonly clusterBytes: ArrayBuffer;
  readonly headers: ArrayBuffer;
  constructor(public cluster: string, authority: string, path: string, public domain: string, public timeoutMs: u32) {
    this.clusterBytes = String.UTF8.encode(cluster);
    this.headers = serializePairs([":method", ":path", ":authority", "content-type"],
                                  ["POST", path, authority, "application/json"]);
  }
}
