// Process-wide shared queues (cpp-host src/shared_data.cc): a queue is keyed by (vm_id, name);
// registering again returns the same token and moves the "ready" notification to the latest
// registrant's root context; enqueue notifies that root context asynchronously (Envoy posts
// proxy_on_queue_ready to the owning worker's dispatcher).
import { Status } from './abi.ts';

export interface QueueOwner {
  /** Called (asynchronously) after an enqueue. */
  notify(token: number): void;
}

interface Queue {
  items: Uint8Array[];
  owner: QueueOwner;
}

export class SharedQueues {
  private readonly tokens = new Map<string, number>();
  private readonly queues = new Map<number, Queue>();
  private next = 1;

  register(vmId: string, name: string, owner: QueueOwner): number {
    const key = `${vmId}\u0000${name}`;
    let token = this.tokens.get(key);
    if (token === undefined) {
      token = this.next++;
      this.tokens.set(key, token);
      this.queues.set(token, { items: [], owner });
    } else {
      this.queues.get(token)!.owner = owner;
    }
    return token;
  }

  /** 0 when absent. */
  resolve(vmId: string, name: string): number {
    return this.tokens.get(`${vmId}\u0000${name}`) ?? 0;
  }

  enqueue(token: number, value: Uint8Array): number {
    const q = this.queues.get(token);
    if (!q) return Status.NOT_FOUND;
    q.items.push(value.slice());
    const owner = q.owner;
    queueMicrotask(() => owner.notify(token));
    return Status.OK;
  }

  dequeue(token: number): Uint8Array | number {
    const q = this.queues.get(token);
    if (!q) return Status.NOT_FOUND;
    const v = q.items.shift();
    return v ?? Status.EMPTY;
  }
}
