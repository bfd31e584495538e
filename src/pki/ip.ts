// IP addresses as certificates carry them, in a module of their own so that the node agent's CSR
// builder (csr.ts) can use them without loading the X.509 library.
import { isIP } from 'node:net';

/** Canonical text of an IP address (IPv6 fully expanded, lower case) so SAN sets compare reliably. */
export function normalizeIp(ip: string): string {
  const bare = ip.replace(/%.*$/, '');
  if (isIP(bare) !== 6) return bare;
  let [head = '', tail = ''] = bare.includes('::') ? bare.split('::') : [bare, ''];
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(tail || head);
  if (v4) {
    const hex = (a: string | undefined, b: string | undefined): string =>
      ((Number(a) << 8) | Number(b)).toString(16);
    const groups = `${hex(v4[1], v4[2])}:${hex(v4[3], v4[4])}`;
    if (tail) tail = tail.replace(v4[0], groups);
    else head = head.replace(v4[0], groups);
  }
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const missing = bare.includes('::') ? 8 - h.length - t.length : 0;
  const all = [...h, ...Array<string>(missing).fill('0'), ...t];
  return all.map((g) => g.toLowerCase().padStart(4, '0')).join(':');
}

/** An IP address as the 4 or 16 bytes a certificate's subjectAltName holds. */
export function ipBytes(ip: string): Buffer {
  const canonical = normalizeIp(ip);
  const family = isIP(canonical);
  if (family === 4) return Buffer.from(canonical.split('.').map(Number));
  if (family !== 6) throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
  const buf = Buffer.alloc(16);
  canonical.split(':').forEach((g, i) => buf.writeUInt16BE(parseInt(g, 16), i * 2));
  return buf;
}
