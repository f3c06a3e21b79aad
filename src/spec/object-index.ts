// All loaded objects by namespace and name, the way Kubernetes would store them: one object per
// (kind, namespace, name); a second one is a duplicate (kubectl would overwrite the first).
import { formatPos } from '../diagnostics.ts';
import type { LoadedObject } from './objects.ts';

export class ObjectIndex {
  private readonly byName = new Map<string, LoadedObject[]>();

  /** Adds `object`, or reports it as a duplicate and leaves the first in place (returns false). */
  add(object: LoadedObject): boolean {
    const sameName = this.byName.get(object.name) ?? [];
    const first = sameName.length === 0 ? undefined : sameName.find((o) => o.kind === object.kind && o.namespace === object.namespace);
    if (first?.role === 'broken' && object.role !== 'broken') {
      // A broken copy (reported already) gives way: the object is defined twice only once it parses.
      sameName.splice(sameName.indexOf(first), 1, object);
      return true;
    }
    if (first !== undefined) {
      // Skipped kinds are not ours to judge; only the first is kept for hints.
      if (object.role === 'unsupported' || object.role === 'broken') return false;
      object.reporter.errorAt(
        object.pos,
        'metadata.name',
        `duplicate ${object.kind} ${object.name} in namespace ${object.namespace}: already defined at ${formatPos(first.pos)}`,
      );
      return false;
    }
    sameName.push(object);
    this.byName.set(object.name, sameName);
    return true;
  }

  /** Every object named `name`, in every namespace, in load order. */
  named(name: string): LoadedObject[] {
    return this.byName.get(name) ?? [];
  }
}
