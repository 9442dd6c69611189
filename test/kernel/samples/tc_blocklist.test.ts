// tc_blocklist on the real kernel: UDP traffic through a veth pair flows, stops as soon as its port is
// put in blocked_ports with map/update (what the map viewer sends), and flows again after map/delete.
import { strict as assert } from 'assert';
import { Methods } from '../../../extension/protocol/methods';
import {
  eventually,
  lookupFields,
  mapId,
  sampleSuite,
  samplePath,
  u16le,
  u32le,
  u64le,
  udpListener,
  VethPair,
} from './sample-env';

describe('sample tc_blocklist', function () {
  const suite = sampleSuite('tc_blocklist');
  let pair: VethPair | undefined;

  before(() => (pair = VethPair.create()));
  after(() => pair?.remove());

  it('drops traffic to a port while it is in blocked_ports and counts the drops', async () => {
    const client = suite.client();
    const veth = pair!;
    const load = await client.request(Methods.load, {
      path: suite.object(),
      source: samplePath('tc_blocklist'),
      attach: { drop_blocked: { kind: 'tc', interface: veth.host, direction: 'ingress' } },
    });
    assert.match(load.programs[0].attachment?.description ?? '', new RegExp(`${veth.host}.*ingress`));
    const blocked = mapId(load, 'blocked_ports');
    const verdicts = mapId(load, 'verdicts');
    const listener = await udpListener(veth.hostAddress);
    const settle = (n: number) => eventually(() => (listener.received() >= n ? true : undefined), 2000);
    try {
      veth.sendUdp(listener.port, 10);
      await settle(10);
      assert.equal(listener.received(), 10, 'before the edit, traffic flows');

      await client.request(Methods.mapUpdate, { mapId: blocked, key: u16le(listener.port), value: u64le(0) });
      veth.sendUdp(listener.port, 10);
      const drops = await eventually(async () => {
        const [n] = await lookupFields(client, blocked, u16le(listener.port), 1);
        return n >= 10n ? n : undefined;
      });
      assert.equal(drops, 10n, 'the blocklist entry counts the ten dropped datagrams');
      assert.equal(listener.received(), 10, 'while the port is listed, nothing arrives');
      assert.equal((await lookupFields(client, verdicts, u32le(1), 1))[0], 10n, 'verdicts[1] (dropped)');

      const { deleted } = await client.request(Methods.mapDelete, { mapId: blocked, key: u16le(listener.port) });
      assert.equal(deleted, true);
      veth.sendUdp(listener.port, 10);
      await settle(20);
      assert.equal(listener.received(), 20, 'after the delete, traffic flows again');
      const [passed] = await lookupFields(client, verdicts, u32le(0), 1);
      assert.ok(passed >= 20n, `verdicts[0] (passed) counts the rest (got ${passed})`);
    } finally {
      listener.close();
    }
  });
});
