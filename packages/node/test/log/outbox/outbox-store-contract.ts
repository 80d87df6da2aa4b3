/**
 * The contract every OutboxStore adapter passes: committed rows are pending
 * in id order with their fields intact, rolled-back ones never appear, ids are
 * never reused, and markSent / markFailed / purgeSent do what the interface
 * says. Run it against your own adapter with a harness for its transactions.
 */
import type { Test } from 'tap';
import type { OutboxMessage, OutboxStore } from '../../../src/log/outbox/outbox-store.js';

/** How the suite drives one adapter. */
export interface OutboxHarness {
  // biome-ignore lint/suspicious/noExplicitAny: the suite never calls enqueue itself
  store: OutboxStore<any>;
  /** Enqueues `messages` in one transaction that commits (returns their ids) or rolls back (commit false). */
  write(messages: OutboxMessage[], commit: boolean): Promise<string[]>;
  close(): Promise<void> | void;
}

/** Registers the contract's subtests on `t`; `make` builds a fresh, empty outbox per subtest. */
export function outboxStoreContract(t: Test, name: string, make: () => OutboxHarness | Promise<OutboxHarness>): void {
  const fresh = async (t: Test) => {
    const h = await make();
    t.teardown(() => h.close());
    return h;
  };

  t.test(`${name} pending returns committed rows in id order with their fields`, async (t) => {
    const h = await fresh(t);
    const ids = await h.write(
      [
        { topic: 'a', value: { n: 1, nested: [null, 'x'] } },
        { topic: 'b', value: 'two', key: 'k', headers: { h: 'v' } },
        { topic: 'a', value: null },
      ],
      true,
    );
    t.equal(new Set(ids).size, 3, 'distinct ids');
    const rows = await h.store.pending(10);
    t.same(
      rows.map((r) => r.id),
      ids,
    );
    t.same(rows[0], { id: ids[0], topic: 'a', value: { n: 1, nested: [null, 'x'] }, createdAt: rows[0]?.createdAt });
    t.equal(rows[1]?.key, 'k');
    t.same(rows[1]?.headers, { h: 'v' });
    t.equal(rows[2]?.value, null);
    t.equal(rows[0]?.key, undefined, 'no key when none was given');
    t.ok(typeof rows[0]?.createdAt === 'number' && rows[0].createdAt > 0, 'createdAt is a timestamp');
  });

  t.test(`${name} a rolled-back transaction leaves no row`, async (t) => {
    const h = await fresh(t);
    await h.write([{ topic: 'a', value: 1 }], false);
    t.same(await h.store.pending(10), []);
    const [id] = await h.write([{ topic: 'a', value: 2 }], true);
    t.same(
      (await h.store.pending(10)).map((r) => [r.id, r.value]),
      [[id, 2]],
    );
  });

  t.test(`${name} pending honours limit and markSent removes rows for good`, async (t) => {
    const h = await fresh(t);
    const ids = await h.write(
      Array.from({ length: 5 }, (_, i) => ({ topic: 't', value: i })),
      true,
    );
    t.same(
      (await h.store.pending(2)).map((r) => r.id),
      ids.slice(0, 2),
    );
    await h.store.markSent(ids.slice(0, 3));
    await h.store.markSent([ids[0] as string, '999999', 'not-an-id']); // again, plus unknown ids: ignored
    t.same(
      (await h.store.pending(10)).map((r) => r.id),
      ids.slice(3),
    );
    await h.store.markSent([]);
  });

  t.test(`${name} ids increase and are not reused after a purge`, async (t) => {
    const h = await fresh(t);
    const first = await h.write([{ topic: 't', value: 1 }], true);
    await h.store.markSent(first);
    if (h.store.purgeSent !== undefined) {
      t.equal(await h.store.purgeSent(0), 0, 'nothing sent before the epoch');
      t.equal(await h.store.purgeSent(Date.now() + 60_000), 1, 'the sent row is purged');
    }
    const [next] = await h.write([{ topic: 't', value: 2 }], true);
    t.ok(Number(next) > Number(first[0]), `id ${next} follows ${first[0]}`);
  });

  t.test(`${name} markFailed parks a row and purgeSent keeps pending rows`, async (t) => {
    const h = await fresh(t);
    const ids = await h.write(
      [
        { topic: 't', value: 1 },
        { topic: 't', value: 2 },
      ],
      true,
    );
    if (h.store.markFailed !== undefined) {
      await h.store.markFailed(ids[0] as string, 'SHOAL_LOG_MESSAGE_TOO_LARGE: too big');
      t.same(
        (await h.store.pending(10)).map((r) => r.id),
        [ids[1]],
      );
    }
    if (h.store.purgeSent !== undefined) {
      t.equal(await h.store.purgeSent(Date.now() + 60_000), 0, 'unsent rows are never purged');
    }
  });
}
