// PKCS#10 certificate requests (RFC 2986) built with node:crypto and a few lines of DER, for the node
// agent's bootstrap (client certificate) and serving certificate. The agent needs nothing else from
// X.509, and the general-purpose X.509 library costs it about 17 MB of resident memory, so the
// agent's path avoids it; the control plane, which signs and parses, keeps using certs.ts.
import { generateKeyPair, sign } from 'node:crypto';
import { promisify } from 'node:util';
import { ipBytes } from './ip.js';

/** Subject alternative names for a request. */
export interface RequestAltNames {
  readonly dns: readonly string[];
  readonly ips: readonly string[];
}

const generateKeyPairAsync = promisify(generateKeyPair);

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
} as const;

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(0x30, ...items);
const set = (...items: Buffer[]): Buffer => tlv(0x31, ...items);

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const first = (parts[0] ?? 0) * 40 + (parts[1] ?? 0);
  const out: number[] = [first];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function utf8String(text: string): Buffer {
  return tlv(0x0c, Buffer.from(text, 'utf8'));
}

function subject(commonName: string, organizations: readonly string[]): Buffer {
  const rdn = (type: string, value: string): Buffer => set(sequence(oid(type), utf8String(value)));
  return sequence(...organizations.map((o) => rdn(OID.organization, o)), rdn(OID.commonName, commonName));
}

function attributes(sans: RequestAltNames | undefined): Buffer {
  if (!sans || (sans.dns.length === 0 && sans.ips.length === 0)) return tlv(0xa0);
  const names = sequence(
    ...sans.dns.map((d) => tlv(0x82, Buffer.from(d, 'ascii'))),
    ...sans.ips.map((ip) => tlv(0x87, ipBytes(ip))),
  );
  const extension = sequence(oid(OID.subjectAltName), tlv(0x04, names));
  return tlv(0xa0, sequence(oid(OID.extensionRequest), set(sequence(extension))));
}

/**
 * A new ECDSA P-256 key and a PKCS#10 request for it, both in PEM: the subject is the organizations
 * (each its own RDN, as Kubernetes reads groups from O) then the common name.
 */
export async function createCertificateRequest(
  commonName: string,
  organizations: readonly string[] = [],
  sans?: RequestAltNames,
): Promise<{ csrPem: string; keyPem: string }> {
  const { publicKey, privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const info = sequence(
    tlv(0x02, Buffer.from([0])),
    subject(commonName, organizations),
    spki,
    attributes(sans),
  );
  const signature = sign('sha256', info, { key: privateKey, dsaEncoding: 'der' });
  const request = sequence(info, sequence(oid(OID.ecdsaWithSha256)), tlv(0x03, Buffer.from([0]), signature));
  const body = request
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return {
    csrPem: `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
