// Leader election through a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it
// (holderIdentity, leaseDurationSeconds, renewTime, leaseTransitions; optimistic concurrency on the
// resource version), with one difference that keeps the standby free: it watches the Lease instead
// of polling it, and judges expiry by its own clock from the moment it last saw the Lease change.
//   - The leader renews every `renewEveryMs`; when no renewal has succeeded for `renewDeadlineMs`
//     it stops writing (steps down) and competes again.
//   - A standby takes the Lease when it is free (no holder: released) or when it has not changed
//     for `leaseDurationMs`.
//   - On shutdown the leader releases it (holder cleared), so the standby takes over at once.
import type { Logger } from '../serve/log.ts';
import { Informer } from './informer.ts';
import { describeError, statusOf, type Kube } from './kube.ts';
import type { ControllerMetrics } from './metrics.ts';

/** A Lease as JSON (client-node's typed Lease API would write its MicroTimes in milliseconds, which the API server refuses). */
interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}
type V1Lease = Lease;

const LEASES = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' };

/** RFC 3339 with microseconds, as metav1.MicroTime is written. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export interface LeaseOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewEveryMs: number;
  renewDeadlineMs: number;
}

export class LeaderElector {
  private readonly informer: Informer<V1Lease>;
  private leading = false;
  private lastRenewed = 0;
  /** The Lease as this replica last wrote it (when leading). */
  private held: V1Lease | undefined;
  private seen: { version: string; at: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private closed = false;

  constructor(
    private readonly kube: Kube,
    private readonly options: LeaseOptions,
    private readonly callbacks: { started(): void; stopped(): void },
    private readonly metrics: ControllerMetrics,
    private readonly logger: Logger,
  ) {
    const { namespace, name } = options;
    this.informer = new Informer<V1Lease>(kube, {
      path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
      resource: 'leases',
      fieldSelector: `metadata.name=${name}`,
      list: (cont, limit) => kube.custom.listNamespacedCustomObject({ ...LEASES, namespace, fieldSelector: `metadata.name=${name}`, _continue: cont, limit }) as never,
    }, metrics, logger);
    const observe = (lease: V1Lease) => this.observe(lease);
    this.informer.on('add', observe);
    this.informer.on('update', observe);
    this.informer.on('delete', () => {
      this.seen = undefined;
      this.kick();
    });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.synced;
    this.timer = setInterval(() => this.kick(), Math.max(50, Math.min(this.options.renewEveryMs / 4, 1000)));
    this.kick();
  }

  /** Releases the Lease if held, so that a standby takes over without waiting for it to expire. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.informer.stop();
    const held = this.held;
    if (!this.leading || held === undefined) return;
    this.stepDown('shutting down');
    const released: V1Lease = { ...held, spec: { ...held.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date()) } };
    await this.replace(released).catch((err) => this.logger.warn(`could not release the lease: ${describeError(err)}`));
  }

  private observe(lease: V1Lease): void {
    const version = lease.metadata?.resourceVersion ?? '';
    if (this.seen?.version !== version) this.seen = { version, at: Date.now() };
    if (this.leading && lease.spec?.holderIdentity !== this.options.identity) this.stepDown(`the lease is held by ${lease.spec?.holderIdentity || 'nobody'}`);
    else if (!this.leading) this.kick();
  }

  private kick(): void {
    if (this.busy || this.closed) return;
    this.busy = true;
    void this.step().finally(() => (this.busy = false));
  }

  private async step(): Promise<void> {
    const now = Date.now();
    if (this.leading) {
      if (now - this.lastRenewed >= this.options.renewDeadlineMs) this.stepDown(`no renewal for ${this.options.renewDeadlineMs} ms`);
      else if (now - this.lastRenewed >= this.options.renewEveryMs) await this.renew();
      return;
    }
    const lease = this.informer.get(this.options.name, this.options.namespace);
    if (lease === undefined) return this.create();
    if (this.canTake(lease, now)) await this.take(lease);
  }

  private canTake(lease: V1Lease, now: number): boolean {
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder === '' || holder === this.options.identity) return true;
    const duration = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    return this.seen !== undefined && now - this.seen.at > Math.max(duration, this.options.leaseDurationMs);
  }

  private async create(): Promise<void> {
    const now = new Date();
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.options.name, namespace: this.options.namespace },
      spec: this.spec(now, now, 0),
    };
    try {
      this.won((await this.kube.custom.createNamespacedCustomObject({ ...LEASES, namespace: this.options.namespace, body })) as V1Lease, 'created the lease');
    } catch (err) {
      if (statusOf(err) !== 409) this.logger.warn(`could not create the lease: ${describeError(err)}`);
    }
  }

  private async take(lease: V1Lease): Promise<void> {
    const now = new Date();
    const transitions = (lease.spec?.leaseTransitions ?? 0) + (lease.spec?.holderIdentity === this.options.identity ? 0 : 1);
    const acquired = lease.spec?.holderIdentity === this.options.identity ? lease.spec?.acquireTime ?? microTime(now) : microTime(now);
    try {
      this.won(await this.replace({ ...lease, spec: this.spec(acquired, now, transitions) }), `took the lease from ${lease.spec?.holderIdentity || 'nobody'}`);
    } catch (err) {
      if (statusOf(err) !== 409) this.logger.warn(`could not take the lease: ${describeError(err)}`);
    }
  }

  private async renew(): Promise<void> {
    const held = this.held!;
    try {
      this.held = await this.replace({ ...held, spec: { ...held.spec, renewTime: microTime(new Date()) } });
      this.lastRenewed = Date.now();
    } catch (err) {
      if (statusOf(err) === 409) this.stepDown('the lease was changed by another replica');
      else this.logger.warn(`could not renew the lease: ${describeError(err)}`);
    }
  }

  private won(lease: V1Lease, how: string): void {
    this.held = lease;
    this.lastRenewed = Date.now();
    if (this.leading) return;
    this.leading = true;
    this.metrics.leader.set(1);
    this.logger.info(`leading (${how}): this replica writes`);
    this.callbacks.started();
  }

  private stepDown(why: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.held = undefined;
    this.metrics.leader.set(0);
    (why === 'shutting down' ? this.logger.info : this.logger.warn)(`not leading any more (${why}): this replica stops writing`);
    this.callbacks.stopped();
  }

  private spec(acquired: Date | string, renewed: Date, transitions: number): V1Lease['spec'] {
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.ceil(this.options.leaseDurationMs / 1000),
      acquireTime: typeof acquired === 'string' ? acquired : microTime(acquired),
      renewTime: microTime(renewed),
      leaseTransitions: transitions,
    };
  }

  private async replace(body: V1Lease): Promise<V1Lease> {
    return (await this.kube.custom.replaceNamespacedCustomObject({ ...LEASES, namespace: this.options.namespace, name: this.options.name, body })) as V1Lease;
  }
}
