// xdp_counter on the real kernel: real UDP datagrams cross a veth pair from a namespace of the test's
// own and the per-CPU counters (struct proto_count {packets @0, bytes @8}) count them per protocol.
import { strict as assert } from 'assert';
import { Methods } from '../../../extension/protocol/methods';
import { eventually, lookupFields, mapId, sampleSuite, samplePath, u32le, udpListener, VethPair } from './sample-env';

const UDP = 17;
const NON_IP = 256;

describe('sample xdp_counter', function () {
  const suite = sampleSuite('xdp_counter');
  let pair: VethPair | undefined;

  before(() => (pair = VethPair.create()));
  after(() => pair?.remove());

  it('counts UDP packets and bytes arriving on a veth, and ARP as non-IP', async () => {
    const client = suite.client();
    const veth = pair!;
    const load = await client.request(Methods.load, {
      path: suite.object(),
      source: samplePath('xdp_counter'),
      attach: { count_packets: { kind: 'xdp', interface: veth.host } },
    });
    assert.match(load.programs[0].attachment?.description ?? '', new RegExp(veth.host));
    const listener = await udpListener(veth.hostAddress);
    try {
      const counters = mapId(load, 'counters');
      veth.sendUdp(listener.port, 25, 100);
      const [packets, bytes] = (await eventually(async () => {
        const fields = await lookupFields(client, counters, u32le(UDP), 2, true);
        return fields[0] >= 25n ? fields : undefined;
      })) ?? [0n, 0n];
      assert.equal(packets, 25n, 'every datagram passed XDP once (nothing else sends UDP on this veth)');
      // 14 ethernet + 20 IPv4 + 8 UDP + 100 payload.
      assert.equal(bytes, 25n * 142n);
      await eventually(() => (listener.received() >= 25 ? true : undefined));
      assert.equal(listener.received(), 25, 'XDP_PASS: the datagrams reached the socket');
      const [arp] = await lookupFields(client, counters, u32le(NON_IP), 2, true);
      assert.ok(arp >= 1n, 'the ARP request before the first datagram counts as non-IP');
    } finally {
      listener.close();
    }
  });
});
