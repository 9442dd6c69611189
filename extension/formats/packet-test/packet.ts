// Packets built from a test's header fields (Ethernet, IPv4/IPv6, TCP/UDP/ICMP) with real checksums. Pure.
import { PacketTestFormatError, parseIpv6 } from './schema';
import type { PacketFields, PacketSpec } from './schema';

// ---- packet building ------------------------------------------------------------------------------

function ipv4Bytes(text: string): Buffer {
  const parts = text.split('.').map(Number);
  if (parts.some((p) => p > 255)) throw new PacketTestFormatError(`${text} is not an IPv4 address`, undefined);
  return Buffer.from(parts);
}

function macBytes(text: string): Buffer {
  return Buffer.from(text.replace(/:/g, ''), 'hex');
}

/** The Internet checksum (RFC 1071) over the given buffers. */
export function internetChecksum(...parts: Buffer[]): number {
  let sum = 0;
  const data = Buffer.concat(parts);
  for (let i = 0; i < data.length; i += 2) sum += (data[i] << 8) + (i + 1 < data.length ? data[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function payloadBytes(p: PacketFields['payload']): Buffer {
  if (p === undefined) return Buffer.alloc(0);
  if (typeof p === 'string') return Buffer.from(p, 'hex');
  if ('text' in p) return Buffer.from(p.text, 'utf8');
  return Buffer.alloc(p.zeros);
}

const TCP_FLAGS = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32 } as const;

/** Builds an Ethernet frame from header fields, with lengths and checksums filled in. */
export function buildPacket(fields: PacketFields): Buffer {
  const data = payloadBytes(fields.payload);
  // IPv4's total length, IPv6's payload length and UDP's length are 16-bit fields (no jumbograms here).
  const room = 65535 - (fields.ipv4 ? 20 : 0) - (fields.tcp ? 20 : fields.udp || fields.icmp ? 8 : 0);
  if ((fields.ipv4 || fields.ipv6) && data.length > room)
    throw new PacketTestFormatError(
      `the payload is ${data.length} bytes; at most ${room} fit the packet's 16-bit length fields`,
      undefined,
    );
  let l4 = Buffer.alloc(0);
  let protocol: number | undefined;
  if (fields.udp) {
    protocol = 17;
    l4 = Buffer.alloc(8);
    l4.writeUInt16BE(fields.udp.sport, 0);
    l4.writeUInt16BE(fields.udp.dport, 2);
    l4.writeUInt16BE(8 + data.length, 4);
  } else if (fields.tcp) {
    protocol = 6;
    l4 = Buffer.alloc(20);
    l4.writeUInt16BE(fields.tcp.sport, 0);
    l4.writeUInt16BE(fields.tcp.dport, 2);
    l4.writeUInt32BE(fields.tcp.seq, 4);
    l4[12] = 5 << 4;
    l4[13] = fields.tcp.flags.reduce((f, name) => f | TCP_FLAGS[name], 0);
    l4.writeUInt16BE(fields.tcp.window, 14);
  } else if (fields.icmp) {
    protocol = fields.ipv6 ? 58 : 1;
    l4 = Buffer.alloc(8);
    l4[0] = fields.ipv6 && fields.icmp.type === 8 ? 128 : fields.icmp.type;
    l4[1] = fields.icmp.code;
  }
  const segment = Buffer.concat([l4, data]);
  let l3 = Buffer.alloc(0);
  let etherType = fields.eth.type;
  if (fields.ipv4) {
    etherType ??= 0x0800;
    protocol = fields.ipv4.protocol ?? protocol ?? 0;
    l3 = Buffer.alloc(20);
    l3[0] = 0x45;
    l3.writeUInt16BE(20 + segment.length, 2);
    l3[8] = fields.ipv4.ttl;
    l3[9] = protocol;
    ipv4Bytes(fields.ipv4.src).copy(l3, 12);
    ipv4Bytes(fields.ipv4.dst).copy(l3, 16);
    l3.writeUInt16BE(internetChecksum(l3), 10);
    const pseudo = Buffer.alloc(12);
    l3.copy(pseudo, 0, 12, 20);
    pseudo[9] = protocol;
    pseudo.writeUInt16BE(segment.length, 10);
    fillChecksum(segment, protocol, protocol === 1 ? [] : [pseudo]);
  } else if (fields.ipv6) {
    etherType ??= 0x86dd;
    protocol = fields.ipv6.nextHeader ?? protocol ?? 59;
    l3 = Buffer.alloc(40);
    l3[0] = 0x60;
    l3.writeUInt16BE(segment.length, 4);
    l3[6] = protocol;
    l3[7] = fields.ipv6.hopLimit;
    parseIpv6(fields.ipv6.src)!.copy(l3, 8);
    parseIpv6(fields.ipv6.dst)!.copy(l3, 24);
    const pseudo = Buffer.alloc(40);
    l3.copy(pseudo, 0, 8, 40);
    pseudo.writeUInt32BE(segment.length, 32);
    pseudo[39] = protocol;
    fillChecksum(segment, protocol, [pseudo]);
  }
  const eth = Buffer.alloc(14);
  macBytes(fields.eth.dst).copy(eth, 0);
  macBytes(fields.eth.src).copy(eth, 6);
  eth.writeUInt16BE(etherType ?? 0x0800, 12);
  const frame = Buffer.concat([eth, l3, segment]);
  return fields.truncate !== undefined ? frame.subarray(0, fields.truncate) : frame;
}

function fillChecksum(segment: Buffer, protocol: number, pseudo: Buffer[]): void {
  const at = protocol === 17 ? 6 : protocol === 6 ? 16 : protocol === 1 || protocol === 58 ? 2 : -1;
  if (at < 0 || segment.length < at + 2) return;
  const sum = internetChecksum(...pseudo, segment);
  // UDP sends an all-zero checksum as 0xffff (zero means "none").
  segment.writeUInt16BE(protocol === 17 && sum === 0 ? 0xffff : sum, at);
}

export function packetBytes(p: PacketSpec): Buffer {
  return 'hex' in p && typeof p.hex === 'string' ? Buffer.from(p.hex, 'hex') : buildPacket(p as PacketFields);
}
