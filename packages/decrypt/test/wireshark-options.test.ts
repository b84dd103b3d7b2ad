import { describe, expect, it } from 'vitest';
import { wiresharkMediaOptions } from '../src/wireshark-options.ts';

describe('wiresharkMediaOptions', () => {
  it('turns off SDP conversations and decodes every decrypted stream port as RTP or RTCP, IPv6 included', () => {
    const opts = wiresharkMediaOptions([
      { kind: 'rtp', src: '127.0.1.100:40000', dst: '127.0.1.11:30000' },
      { kind: 'rtp', src: '127.0.1.11:30000', dst: '127.0.1.100:40000' },
      { kind: 'rtcp', src: '127.0.1.100:40001', dst: '127.0.1.11:30001' },
      { kind: 'rtp', src: '[fd00::10]:41000', dst: '[fd00::20]:43000' },
    ]);
    expect(opts).toEqual([
      '-o', 'sdp.establish_conversation:FALSE',
      '-d', 'udp.port==30000,rtp', '-d', 'udp.port==40000,rtp', '-d', 'udp.port==41000,rtp', '-d', 'udp.port==43000,rtp',
      '-d', 'udp.port==30001,rtcp', '-d', 'udp.port==40001,rtcp',
    ]);
  });

  it('a port carrying both (rtcp-mux) is decoded as RTP, whose dissector tells RTCP apart', () => {
    const opts = wiresharkMediaOptions([
      { kind: 'rtp', src: '127.0.0.1:5004', dst: '127.0.0.2:5004' },
      { kind: 'rtcp', src: '127.0.0.1:5004', dst: '127.0.0.2:5004' },
    ]);
    expect(opts.filter((o) => o.startsWith('udp.port'))).toEqual(['udp.port==5004,rtp']);
  });
});
