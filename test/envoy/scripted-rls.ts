// A rate-limit service whose answers the test decides, for the Envoy tests that need a limitMode
// Global rule to admit, refuse or fail on cue (test/envoy/concurrency.test.ts, metrics.test.ts). It
// speaks the HTTP/JSON form the filter calls (POST /json, docs/filter-config.md): 200 admits, 429
// refuses, anything else is an error. Counting in a real service is test/envoy's RLS suites' job;
// here only the filter's side is under test.
import { createServer, type Server } from 'node:http';

export interface RlsCall {
  /** The descriptor's sergo_rule entry: the id of the rule asked about. */
  rule: string;
  at: number;
}

/** The answer to the n-th call (from 0) about `rule`: an HTTP status. */
export type Script = (rule: string, n: number) => number;

export class ScriptedRls {
  readonly calls: RlsCall[] = [];
  private readonly server: Server;

  private constructor(public script: Script) {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
        let rule = '';
        try {
          const request = JSON.parse(body) as { descriptors: Array<{ entries: Array<{ key: string; value: string }> }> };
          rule = request.descriptors[0]?.entries.find((e) => e.key === 'sergo_rule')?.value ?? '';
        } catch { /* answered by the script with rule '' */ }
        const n = this.calls.filter((c) => c.rule === rule).length;
        this.calls.push({ rule, at: Date.now() });
        const status = this.script(rule, n);
        const code = status === 200 ? 'OK' : status === 429 ? 'OVER_LIMIT' : 'UNKNOWN';
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ overallCode: code }));
      });
    });
  }

  static async start(script: Script): Promise<ScriptedRls> {
    const rls = new ScriptedRls(script);
    await new Promise<void>((resolve) => rls.server.listen(0, '127.0.0.1', resolve));
    return rls;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Calls about rules whose id contains `part`. */
  callsFor(part: string): RlsCall[] {
    return this.calls.filter((c) => c.rule.includes(part));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
