import fc from 'fast-check';
import type { ServiceInstance } from '../../lib/discovery/service-instance.js';
import type { CallInfo } from '../../lib/selector/selector.js';

/** A frozen instance whose address is its key. */
export function instance(key: string, metadata: Record<string, string> = {}): ServiceInstance {
  return Object.freeze({ key, address: key, metadata: Object.freeze({ ...metadata }) });
}

/** A frozen list, so that a selector mutating it throws. */
export function frozen(instances: readonly ServiceInstance[]): readonly ServiceInstance[] {
  return Object.freeze([...instances]);
}

/** The keys of a list, in list order. */
export function keysOf(instances: readonly (ServiceInstance | undefined)[]): (string | undefined)[] {
  return instances.map((item) => item?.key);
}

export const call: CallInfo = Object.freeze({ service: 'Arith', method: 'Mul', args: { A: 1, B: 2 } });

/** Keys the model-based tests draw from: few, so that instances leave and come back. */
export const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'] as const;

/** A change of the list: add (or replace) an instance, remove one, or list them in another order. */
export type ListCommand =
  | { readonly kind: 'add'; readonly key: string; readonly metadata: Record<string, string> }
  | { readonly kind: 'remove'; readonly at: number }
  | { readonly kind: 'reorder'; readonly order: readonly number[] };

/** List commands; `metadata` draws what an added instance registers. */
export function listCommand(
  metadata: fc.Arbitrary<Record<string, string>> = fc.constant({}),
): fc.Arbitrary<ListCommand> {
  return fc.oneof(
    fc.record({ kind: fc.constant('add' as const), key: fc.constantFrom(...KEYS), metadata }),
    fc.record({ kind: fc.constant('remove' as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant('reorder' as const),
      order: fc.array(fc.nat(), { minLength: KEYS.length, maxLength: KEYS.length }),
    }),
  );
}

/** Applies a list command, giving a new frozen list (a re-emission, as discovery does). */
export function applyListCommand(
  list: readonly ServiceInstance[],
  command: ListCommand,
): readonly ServiceInstance[] {
  switch (command.kind) {
    case 'add': {
      const added = instance(command.key, command.metadata);
      const at = list.findIndex((item) => item.key === command.key);
      return frozen(at < 0 ? [...list, added] : list.map((item, index) => (index === at ? added : item)));
    }
    case 'remove':
      return list.length === 0 ? list : frozen(list.filter((_, index) => index !== command.at % list.length));
    case 'reorder':
      return frozen(shuffled(list, command.order));
  }
}

/** The list in the order given by sort keys (ties keep list order). */
export function shuffled<T>(list: readonly T[], order: readonly number[]): T[] {
  return list
    .map((item, index) => ({
      item,
      index,
      rank: order.length === 0 ? 0 : (order[index % order.length] ?? 0),
    }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map(({ item }) => item);
}

/** The same instances, in a random order. */
export function permutationOf<T>(list: readonly T[]): fc.Arbitrary<T[]> {
  return fc
    .array(fc.nat(), { minLength: list.length, maxLength: list.length })
    .map((order) => shuffled(list, order));
}

/** Whether `picked` is one of the instances of the list (by identity). */
export function isMember(list: readonly ServiceInstance[], picked: ServiceInstance | undefined): boolean {
  return picked !== undefined && list.includes(picked);
}
