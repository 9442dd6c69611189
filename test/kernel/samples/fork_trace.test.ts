// fork_trace on the real kernel: forks of this process are counted in forks_by_parent and printed.
import { strict as assert } from 'assert';
import { Methods } from '../../../extension/protocol/methods';
import { parseTraceLine } from '../../../extension/formats/trace-line';
import { forkChildren } from '../../support/kernel';
import { collect, eventually, lookupFields, mapId, sampleSuite, samplePath, u32le } from './sample-env';

describe('sample fork_trace', function () {
  const suite = sampleSuite('fork_trace');

  it('counts our forks in forks_by_parent and prints each one', async () => {
    const client = suite.client();
    const trace = await collect(client, { source: 'trace_pipe' });
    try {
      const load = await client.request(Methods.load, { path: suite.object(), source: samplePath('fork_trace') });
      forkChildren(4);
      const forks = await eventually(async () => {
        const [n] = await lookupFields(client, mapId(load, 'forks_by_parent'), u32le(process.pid), 1);
        return n >= 4n ? n : undefined;
      });
      assert.ok(forks !== undefined && forks >= 4n, `forks_by_parent[${process.pid}] >= 4 (got ${forks})`);
      const line = await eventually(
        () =>
          trace.lines.map(parseTraceLine).find((l) => l?.message.startsWith(`fork parent=${process.pid} child=`)) ??
          undefined,
      );
      assert.ok(line, 'a "fork parent=<our pid> child=" line came through trace_pipe');
    } finally {
      await trace.stop();
    }
  });
});
