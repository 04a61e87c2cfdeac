/**
 * InOrder (src/gpu/readback.ts), the queue that keeps GPU steps in flight: results are handled in the order
 * they were queued whatever order they settle in, at most `depth` are left waiting after a push, and a failed
 * result fails the push or drain that reaches it.
 */
import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { InOrder } from "../../src/gpu/readback.ts";

/** A promise and its resolve/reject. */
function deferred<T>() {
  let resolve!: (v: T) => void, reject!: (e: Error) => void;
  const promise = new Promise<T>((a, b) => [resolve, reject] = [a, b]);
  return { promise, resolve, reject };
}

Deno.test("InOrder: handles in queue order, leaves at most depth waiting", async () => {
  const q = new InOrder<number>(2);
  const handled: number[] = [];
  const ds = [0, 1, 2, 3].map(() => deferred<number>());
  // Settled out of order: 2 first, then 1, then 0.
  ds[2].resolve(2);
  ds[1].resolve(1);
  await q.push(ds[0].promise, (v) => void handled.push(v));
  await q.push(ds[1].promise, (v) => void handled.push(v));
  assertEquals([...handled], []); // two waiting: none handled yet
  const third = q.push(ds[2].promise, (v) => void handled.push(v)); // must handle 0 first
  await Promise.resolve();
  assertEquals([...handled], []); // 0 has not arrived: nothing may be handled ahead of it
  ds[0].resolve(0);
  await third;
  assertEquals([...handled], [0]);
  ds[3].resolve(3);
  await q.push(ds[3].promise, async (v) => {
    await new Promise((r) => setTimeout(r, 1));
    handled.push(v);
  });
  assertEquals([...handled], [0, 1]);
  await q.drain();
  assertEquals([...handled], [0, 1, 2, 3]);
});

Deno.test("InOrder: a failed result fails the call that reaches it; the rest are still handled", async () => {
  const q = new InOrder<number>(1);
  const handled: number[] = [];
  await q.push(Promise.reject(new Error("lost")), (v) => void handled.push(v));
  await rejects(q.push(Promise.resolve(1), (v) => void handled.push(v)), /lost/);
  await q.drain();
  assertEquals([...handled], [1]);
});
