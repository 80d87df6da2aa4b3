import t from 'tap';
import { runTask, WorkerTaskError } from '../src/runner/child-runner.js';

const fixture = new URL('./fixtures/tasks.js', import.meta.url);

t.test('child runner runs a task in a separate process with gc exposed', async (t) => {
  const out = await runTask<{ value: number }, { doubled: number; gcExposed: boolean; pid: number }>({
    module: fixture,
    exportName: 'echo',
    input: { value: 21 },
    timeoutMs: 10_000,
  });
  t.equal(out.doubled, 42);
  t.equal(out.gcExposed, true);
  t.not(out.pid, process.pid);
});

t.test('child runner rejects with the task error and its code', async (t) => {
  await t.rejects(runTask({ module: fixture, exportName: 'fail', input: null, timeoutMs: 10_000 }), {
    name: 'WorkerTaskError',
    code: 'BENCH_TEST_CODE',
    message: /nope/,
  });
  await t.rejects(runTask({ module: fixture, exportName: 'missing', input: null, timeoutMs: 10_000 }), {
    message: /no exported function missing/,
  });
});

t.test('child runner kills a task that overruns its deadline', async (t) => {
  const started = Date.now();
  const err = await runTask({ module: fixture, exportName: 'hang', input: null, timeoutMs: 500 }).catch(
    (e: unknown) => e,
  );
  t.ok(err instanceof WorkerTaskError);
  t.match((err as Error).message, /overran its 500 ms deadline/);
  t.ok(Date.now() - started < 5000);
});

t.test('child runner returns even when a task leaves a timer running', async (t) => {
  t.equal(await runTask({ module: fixture, exportName: 'leaveTimer', input: null, timeoutMs: 10_000 }), 'done');
});
