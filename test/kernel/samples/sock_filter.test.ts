// sock_filter on the real kernel: attached to an AF_PACKET socket on the host end of a veth pair, it
// counts the UDP datagrams that cross it (struct proto_bytes {packets @0, bytes @8}).
import { strict as assert } from 'assert';
import { Methods } from '../../../extension/protocol/methods';
import { eventually, lookupFields, mapId, sampleSuite, samplePath, u32le, udpListener, VethPair } from './sample-env';

const UDP = 17;

describe('sample sock_filter', function () {
  const suite = sampleSuite('sock_filter');
  let pair: VethPair | undefined;

  before(() => (pair = VethPair.create()));
  after(() => pair?.remove());

  it('counts packets and bytes per protocol seen on an interface', async () => {
    const client = suite.client();
    const veth = pair!;
    const load = await client.request(Methods.load, {
      path: suite.object(),
      source: samplePath('sock_filter'),
      attach: { count_bytes: { kind: 'socket', interface: veth.host } },
    });
    assert.ok(load.programs[0].attachment, 'the filter sits on a packet socket');
    const listener = await udpListener(veth.hostAddress);
    try {
      veth.sendUdp(listener.port, 12, 200);
      await eventually(() => (listener.received() >= 12 ? true : undefined));
      const [packets, bytes] = (await eventually(async () => {
        const fields = await lookupFields(client, mapId(load, 'bytes_by_protocol'), u32le(UDP), 2);
        return fields[0] >= 12n ? fields : undefined;
      })) ?? [0n, 0n];
      // The packet socket sees each frame with its ethernet header: 14 + 20 + 8 + 200 bytes.
      assert.equal(packets, 12n);
      assert.equal(bytes, 12n * 242n);
      assert.equal(listener.received(), 12, 'a socket filter only decides what its own socket gets');
    } finally {
      listener.close();
    }
  });
});
