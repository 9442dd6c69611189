// cgroup_skb on the real kernel: attached to a cgroup the test creates, it counts the traffic of a child
// process the test moved into it, under the cgroup's id (the inode number of its directory).
import { strict as assert } from 'assert';
import { Methods } from '../../../extension/protocol/methods';
import * as dgram from 'dgram';
import { lookupFields, mapId, sampleSuite, samplePath, TestCgroup, u64le, WaitingChild } from './sample-env';

describe('sample cgroup_skb', function () {
  const suite = sampleSuite('cgroup_skb');
  let cgroup: TestCgroup | undefined;

  before(() => (cgroup = TestCgroup.create()));
  after(async () => cgroup?.remove());

  it('counts egress and ingress of the processes in the cgroup, by cgroup id', async () => {
    const client = suite.client();
    const group = cgroup!;
    const load = await client.request(Methods.load, {
      path: suite.object(),
      source: samplePath('cgroup_skb'),
      attach: {
        count_ingress: { kind: 'cgroup', path: group.path },
        count_egress: { kind: 'cgroup', path: group.path },
      },
    });
    assert.equal(load.programs.filter((p) => p.attachment).length, 2);
    // The echo server lives outside the cgroup; the child sends 8 datagrams of 100 bytes over loopback
    // and waits for the 8 echoes: egress and ingress of the cgroup.
    const echo = dgram.createSocket('udp4');
    echo.on('message', (msg, from) => echo.send(msg, from.port, from.address));
    await new Promise<void>((resolve) => echo.bind(0, '127.0.0.1', resolve));
    const listener = { port: echo.address().port, close: () => echo.close() };
    const child = WaitingChild.node(
      `const s = require('dgram').createSocket('udp4'); let echoes = 0;
       s.on('message', () => { if (++echoes === 8) s.close(); });
       for (let i = 0; i < 8; i++) s.send(Buffer.alloc(100), ${listener.port}, '127.0.0.1')`,
    );
    try {
      group.add(child.pid);
      const { code } = await child.go();
      assert.equal(code, 0);
      const [inPackets, inBytes, outPackets, outBytes] = await lookupFields(
        client,
        mapId(load, 'traffic'),
        u64le(group.id),
        4,
      );
      assert.equal(outPackets, 8n, 'eight datagrams left the cgroup');
      // cgroup_skb sees the IP packet: 20 IPv4 + 8 UDP + 100 payload.
      assert.equal(outBytes, 8n * 128n);
      assert.equal(inPackets, 8n, 'eight echoes came back in');
      assert.equal(inBytes, 8n * 128n);
      const dump = await client.request(Methods.mapDump, { mapId: mapId(load, 'traffic'), count: 100 });
      assert.equal(dump.count, 1, 'only the test cgroup has traffic: the programs see nothing outside it');
    } finally {
      child.kill();
      listener.close();
    }
  });
});
