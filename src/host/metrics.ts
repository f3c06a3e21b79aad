// Custom metrics as Envoy keeps them (source/extensions/common/wasm/context.cc):
//  * the stat lives in the process-wide stats store, keyed by type and name, so the same name
//    defined from several worker VMs is one stat (Envoy prefixes "wasmcustom."; names here are the
//    guest's);
//  * ids are per VM: every define returns a new id whose low 2 bits encode the type
//    (kMetricTypeMask = 3), counting up in steps of 4 per type;
//  * increment: counter needs delta > 0 (else BAD_ARGUMENT), gauge adds or subtracts,
//    histogram → BAD_ARGUMENT; record: counter adds, gauge sets, histogram records;
//    get: counter/gauge value, histogram → BAD_ARGUMENT; unknown id → NOT_FOUND.
import { MetricType, Status } from './abi.ts';

export type MetricKind = 'counter' | 'gauge' | 'histogram';
const KIND: readonly MetricKind[] = ['counter', 'gauge', 'histogram'];
const U64 = (v: bigint) => BigInt.asUintN(64, v);
/** Envoy's kMetricTypeMask: the low two bits of an id are its type (3 is none). */
const TYPE_MASK = 3;

export interface Stat {
  readonly type: MetricKind;
  readonly name: string;
  /** counter/gauge: the value; histogram: the sum of recorded values. */
  value: bigint;
  /** histogram: number of recorded values. */
  count: number;
}

/** Process-wide stats (may be shared by several hosts, like plugins in one Envoy). */
export class MetricsStore {
  // One map per type (no `type + name` key to build and hash on every define: 10,000 rules define
  // tens of thousands at configure), and the stats in definition order for all().
  private readonly byKind = new Map<MetricKind, Map<string, Stat>>(KIND.map((k) => [k, new Map()]));
  private readonly ordered: Stat[] = [];

  stat(type: MetricKind, name: string): Stat {
    const stats = this.byKind.get(type)!;
    let s = stats.get(name);
    if (!s) {
      stats.set(name, (s = { type, name, value: 0n, count: 0 }));
      this.ordered.push(s);
    }
    return s;
  }

  /** First stat with this name (counter, then gauge, then histogram). */
  find(name: string): Stat | undefined {
    for (const k of KIND) {
      const s = this.byKind.get(k)!.get(name);
      if (s) return s;
    }
    return undefined;
  }

  all(): Stat[] {
    return [...this.ordered];
  }
}

/** One VM's metric ids (Envoy's Wasm::counters_/gauges_/histograms_). */
export class VmMetrics {
  private readonly byId = new Map<number, Stat>();
  private readonly next = [MetricType.COUNTER, MetricType.GAUGE, MetricType.HISTOGRAM] as number[];
  constructor(private readonly store: MetricsStore) {}

  /** Returns the new id, or -1 for a bad type. */
  define(type: number, name: string): number {
    if (type < 0 || type > MetricType.MAX) return -1;
    const id = (this.next[type]! += 4);
    this.byId.set(id, this.store.stat(KIND[type]!, name));
    return id;
  }

  increment(id: number, delta: bigint): number {
    const type = id & TYPE_MASK;
    if (type === MetricType.HISTOGRAM || type > MetricType.MAX) return Status.BAD_ARGUMENT;
    const s = this.byId.get(id);
    if (!s) return Status.NOT_FOUND;
    if (type === MetricType.COUNTER) {
      if (delta <= 0n) return Status.BAD_ARGUMENT;
      s.value = U64(s.value + delta);
    } else {
      s.value = U64(s.value + delta);
    }
    return Status.OK;
  }

  record(id: number, value: bigint): number {
    const s = this.byId.get(id);
    if (!s || (id & TYPE_MASK) > MetricType.MAX) return Status.NOT_FOUND;
    const v = U64(value);
    if (s.type === 'counter') s.value = U64(s.value + v);
    else if (s.type === 'gauge') s.value = v;
    else {
      s.value += v;
      s.count++;
    }
    return Status.OK;
  }

  /** A u64 value, or a status number. */
  get(id: number): bigint | number {
    const type = id & TYPE_MASK;
    if (type === MetricType.HISTOGRAM || type > MetricType.MAX) return Status.BAD_ARGUMENT;
    const s = this.byId.get(id);
    return s ? s.value : Status.NOT_FOUND;
  }
}
