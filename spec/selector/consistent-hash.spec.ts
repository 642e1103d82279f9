import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServiceInstance } from '../../lib/discovery/service-instance.js';
import {
  consistentHash,
  defaultHashKey,
  fnv1a64,
  rendezvousScore,
} from '../../lib/selector/consistent-hash.js';
import type { CallInfo } from '../../lib/selector/selector.js';
import { applyListCommand, call, frozen, instance, isMember, listCommand, permutationOf } from './support.js';

const callFor = (key: string): CallInfo => ({ service: 'Cart', method: 'Get', args: key });
const byKey = consistentHash({ keyOf: (info) => String(info.args) });
const owner = (list: readonly ServiceInstance[], key: string) => byKey.select(list, callFor(key))?.key;
const servers = (count: number, prefix = 'tcp@10.0.0.') =>
  frozen(Array.from({ length: count }, (_, index) => instance(`${prefix}${index + 1}:8972`)));
const hashKeys = Array.from({ length: 2000 }, (_, index) => `user-${index}`);

/** Distinct instance keys, 1 to 10 of them. */
const instanceKeys = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), {
  minLength: 1,
  maxLength: 10,
});

describe('consistentHash', () => {
  it('consistentHash - returns undefined for an empty list, without computing a key', () => {
    let computed = 0;
    const selector = consistentHash({ keyOf: () => String(++computed) });
    expect(selector.select([], call)).toBeUndefined();
    expect(computed).toBe(0);
  });

  it('consistentHash - sends equal calls to the same instance, whatever the order of their object keys', () => {
    const selector = consistentHash();
    const list = servers(8);
    const picked = selector.select(list, { service: 'Arith', method: 'Mul', args: { A: 1, B: [2, 3n] } });
    for (let index = 0; index < 20; index++) {
      expect(selector.select(list, { service: 'Arith', method: 'Mul', args: { B: [2, 3n], A: 1 } })).toBe(
        picked,
      );
    }
    expect(defaultHashKey({ service: 'Arith', method: 'Mul', args: { B: 2, A: 1 } })).toBe(
      'Arith.Mul:{"A":1,"B":2}',
    );
  });

  it('consistentHash - hashes what keyOf returns', () => {
    const selector = consistentHash({ keyOf: (info) => info.metadata?.user ?? '' });
    const list = servers(8);
    const picked = selector.select(list, { ...call, metadata: { user: 'ann' } });
    expect(
      selector.select(list, { service: 'Other', method: 'X', args: [1], metadata: { user: 'ann' } }),
    ).toBe(picked);
  });

  it('consistentHash - spreads keys evenly over the instances', () => {
    const list = servers(10);
    const counts = new Map<string, number>();
    for (const key of hashKeys)
      counts.set(owner(list, key) ?? '', (counts.get(owner(list, key) ?? '') ?? 0) + 1);
    expect(counts.size).toBe(10);
    for (const count of counts.values()) expect(Math.abs(count - 200)).toBeLessThan(60);
  });

  it('consistentHash - hashes the UTF-8 bytes of keys with 64-bit FNV-1a', () => {
    const hex = (text: string) => {
      const { hi, lo } = fnv1a64(text);
      return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
    };
    expect([hex(''), hex('a'), hex('foobar')]).toEqual([
      'cbf29ce484222325',
      'af63dc4c8601ec8c',
      '85944171f73967e8',
    ]);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        let reference = 0xcbf29ce484222325n;
        for (const byte of new TextEncoder().encode(text)) {
          reference = ((reference ^ BigInt(byte)) * 0x100000001b3n) & 0xffff_ffff_ffff_ffffn;
        }
        expect(hex(text)).toBe(reference.toString(16).padStart(16, '0'));
      }),
    );
  });

  it('consistentHash - scores in [0, 2^53), differently for different instance keys', () => {
    const scores = new Set(servers(100).map((item) => rendezvousScore('k', item.key)));
    expect(scores.size).toBe(100);
    for (const score of scores) expect(Number.isSafeInteger(score) && score >= 0).toBe(true);
  });

  it('consistentHash - rejects a keyOf that is not a function, naming it', () => {
    expect(() => consistentHash({ keyOf: 'id' as unknown as () => string })).toThrow(RangeError);
    expect(() => consistentHash({ keyOf: 1 as unknown as () => string })).toThrow(/keyOf must be a function/);
    expect(() => consistentHash([] as unknown as undefined)).toThrow(TypeError);
  });

  it('consistentHash - maps a key to the same instance whatever the order of the list', () => {
    fc.assert(
      fc.property(
        instanceKeys.chain((keys) => fc.tuple(fc.constant(keys), permutationOf(keys))),
        fc.array(fc.string(), { minLength: 1, maxLength: 20 }),
        ([keys, permuted], callKeys) => {
          const list = frozen(keys.map((key) => instance(key)));
          const other = frozen(permuted.map((key) => instance(key)));
          for (const key of callKeys) expect(owner(other, key)).toBe(owner(list, key));
        },
      ),
    );
  });

  it('consistentHash - when an instance leaves, only the keys it had move', () => {
    fc.assert(
      fc.property(
        instanceKeys.filter((keys) => keys.length >= 2),
        fc.nat(),
        (keys, at) => {
          const list = frozen(keys.map((key) => instance(key)));
          const gone = keys[at % keys.length];
          const rest = frozen(list.filter((item) => item.key !== gone));
          for (const key of hashKeys.slice(0, 300)) {
            const before = owner(list, key);
            if (before !== gone) expect(owner(rest, key)).toBe(before);
          }
        },
      ),
    );
  });

  it('consistentHash - when an instance joins N others, the keys that move all go to it and are about 1/(N+1)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.nat(), (count, salt) => {
        const list = servers(count, `tcp@10.${salt % 256}.0.`);
        const joined = instance(`tcp@192.168.${salt % 256}.1:8972`);
        const grown = frozen([...list, joined]);
        let moved = 0;
        for (const key of hashKeys) {
          const after = owner(grown, key);
          if (after !== owner(list, key)) {
            moved += 1;
            expect(after).toBe(joined.key);
          }
        }
        expect(Math.abs(moved / hashKeys.length - 1 / (count + 1))).toBeLessThan(0.05);
      }),
      { numRuns: 20 },
    );
  });

  it('consistentHash - model: picks a member; list changes move only keys of instances that left or to instances that joined', () => {
    const command = fc.oneof(
      {
        arbitrary: fc.record({ kind: fc.constant('pick' as const), key: fc.string({ maxLength: 6 }) }),
        weight: 2,
      },
      listCommand(),
    );
    const probes = hashKeys.slice(0, 40);
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (commands) => {
        const selector = consistentHash({ keyOf: (info) => String(info.args) });
        let list: readonly ServiceInstance[] = frozen([]);
        let owners = probes.map((key) => owner(list, key));
        for (const step of commands) {
          if (step.kind === 'pick') {
            const picked = selector.select(list, callFor(step.key));
            if (list.length === 0) expect(picked).toBeUndefined();
            else {
              expect(isMember(list, picked)).toBe(true);
              expect(picked?.key).toBe(owner(frozen([...list].reverse()), step.key));
            }
            continue;
          }
          const before = new Set(list.map((item) => item.key));
          list = applyListCommand(list, step);
          const after = new Set(list.map((item) => item.key));
          const next = probes.map((key) => owner(list, key));
          next.forEach((key, index) => {
            const previous = owners[index];
            if (key === previous) return;
            // A key moves only off an instance that left, or onto one that joined.
            expect(
              (previous !== undefined && !after.has(previous)) || (key !== undefined && !before.has(key)),
            ).toBe(true);
          });
          owners = next;
        }
      }),
    );
  });
});
