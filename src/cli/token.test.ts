import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_NODE_TOKEN_GROUP, bootstrapTokenSecret } from '../pki/tokens.js';
import { kubeconfigPath, parseFlags, UsageError } from './flags.js';
import {
  createOptions,
  formatTokenTable,
  parseGoDuration,
  requestErrorText,
  shortHumanDuration,
  tokenIdOf,
  tokenRow,
} from './token.js';

const CREATE = {
  ttl: { type: 'string' },
  description: { type: 'string' },
  usages: { type: 'string', multiple: true },
  groups: { type: 'string', multiple: true },
  kubeconfig: { type: 'string' },
  'data-dir': { type: 'string' },
} as const;
const NOW = Date.parse('2026-06-01T12:00:00Z');
const opts = (...argv: string[]) => createOptions(parseFlags('token create', argv, CREATE), NOW);
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('token create flags', () => {
  test('defaults: 24h, both usages, the node token group (what kubeadm token create writes)', () => {
    const secret = bootstrapTokenSecret(
      { id: 'abcdef', secret: '0123456789abcdef', token: 'abcdef.0123456789abcdef' },
      opts(),
    );
    assert.equal(secret.metadata.name, 'bootstrap-token-abcdef');
    assert.equal(secret.metadata.namespace, 'kube-system');
    assert.equal((secret as { type?: string }).type, 'bootstrap.kubernetes.io/token');
    assert.deepEqual((secret as { data?: Record<string, string> }).data, {
      'token-id': b64('abcdef'),
      'token-secret': b64('0123456789abcdef'),
      expiration: b64('2026-06-02T12:00:00Z'),
      'usage-bootstrap-authentication': b64('true'),
      'usage-bootstrap-signing': b64('true'),
      'auth-extra-groups': b64(DEFAULT_NODE_TOKEN_GROUP),
    });
  });

  test('--ttl 0 never expires; --ttl takes Go durations; description, usages and groups', () => {
    assert.equal(opts('--ttl', '0').expiration, undefined);
    assert.equal(opts('--ttl', '1h30m').expiration?.toISOString(), '2026-06-01T13:30:00.000Z');
    const o = opts(
      '--description',
      'for ci',
      '--usages',
      'authentication',
      '--groups',
      'system:bootstrappers:ci,system:bootstrappers:x',
    );
    assert.equal(o.description, 'for ci');
    assert.equal(o.usageSigning, false);
    assert.equal(o.usageAuthentication, true);
    assert.deepEqual(o.extraGroups, ['system:bootstrappers:ci', 'system:bootstrappers:x']);
  });

  test('bad input is refused in kubeadm words', () => {
    assert.throws(
      () => opts('--ttl', '1d'),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message ===
          'token create: invalid argument "1d" for "--ttl" flag: time: unknown unit "d" in duration "1d"',
    );
    assert.throws(
      () => opts('--ttl', 'soon'),
      /invalid argument "soon" for "--ttl" flag: time: invalid duration "soon"/,
    );
    assert.throws(() => opts('--ttl', '5'), /time: missing unit in duration "5"/);
    assert.throws(
      () => opts('--usages', 'signing,admin'),
      /invalid bootstrap token usage string: admin, valid usage options: signing,authentication/,
    );
    assert.throws(() => opts('--groups', 'system:masters'), /bootstrap group "system:masters" is invalid/);
    assert.throws(
      () => opts('--usages', 'signing'),
      /token groups cannot be specified unless --usages includes/,
    );
  });
});

describe('durations', () => {
  test('Go durations', () => {
    assert.equal(parseGoDuration('1s'), 1000);
    assert.equal(parseGoDuration('1.5h'), 5_400_000);
    assert.equal(parseGoDuration('2h45m'), 9_900_000);
    assert.equal(parseGoDuration('-1m'), -60_000);
    assert.equal(parseGoDuration('300ms'), 300);
    assert.throws(() => parseGoDuration(''), /invalid duration ""/);
  });

  test('short human durations, as kubeadm token list prints TTL', () => {
    assert.equal(shortHumanDuration(23 * 3600_000 + 59 * 60_000), '23h');
    assert.equal(shortHumanDuration(59_000), '59s');
    assert.equal(shortHumanDuration(3 * 24 * 3600_000), '3d');
    assert.equal(shortHumanDuration(-500), '0s');
    assert.equal(shortHumanDuration(-5000), '<invalid>');
  });
});

describe('token list and delete', () => {
  test('rows and table as kubeadm token list prints them', () => {
    const tok = { id: 'abcdef', secret: '0123456789abcdef', token: 'abcdef.0123456789abcdef' };
    const s1 = bootstrapTokenSecret(tok, {
      expiration: new Date(NOW + 24 * 3600_000),
      usageSigning: true,
      extraGroups: [DEFAULT_NODE_TOKEN_GROUP],
      description: 'ci',
    });
    const row = tokenRow(s1);
    assert.ok(typeof row !== 'string');
    assert.deepEqual(row.usages, ['authentication', 'signing']);
    const tok2 = { id: 'zzzzzz', secret: '0123456789abcdef', token: 'zzzzzz.0123456789abcdef' };
    const row2 = tokenRow(bootstrapTokenSecret(tok2, { usageAuthentication: true }));
    assert.ok(typeof row2 !== 'string');
    const lines = formatTokenTable([row, row2], NOW + 3600_000).split('\n');
    assert.match(lines[0] ?? '', /^TOKEN\s+TTL\s+EXPIRES\s+USAGES\s+DESCRIPTION\s+EXTRA GROUPS$/);
    assert.match(
      lines[1] ?? '',
      /^abcdef\.0123456789abcdef\s+23h\s+2026-06-02T12:00:00Z\s+authentication,signing\s+ci\s+system:bootstrappers:k8ts:default-node-token$/,
    );
    assert.match(
      lines[2] ?? '',
      /^zzzzzz\.0123456789abcdef\s+<forever>\s+<never>\s+authentication\s+<none>\s+<none>$/,
    );
    // Columns line up: EXPIRES starts at the same place in every line.
    assert.equal(lines[0]?.indexOf('EXPIRES'), lines[1]?.indexOf('2026-'));
  });

  test('a malformed Secret is reported, not listed', () => {
    const s = bootstrapTokenSecret({
      id: 'abcdef',
      secret: '0123456789abcdef',
      token: 'abcdef.0123456789abcdef',
    });
    const bad = { ...s, data: { 'token-id': b64('ABC') } };
    assert.equal(typeof tokenRow(bad), 'string');
  });

  test('delete takes an id or a whole token', () => {
    assert.equal(tokenIdOf('abcdef'), 'abcdef');
    assert.equal(tokenIdOf('abcdef.0123456789abcdef'), 'abcdef');
    assert.throws(
      () => tokenIdOf('nope'),
      /given token didn't match pattern "\\\\A\(\[a-z0-9\]\{6\}\)\\\\\.\(\[a-z0-9\]\{16\}\)\\\\z" or/,
    );
  });
});

describe('connection', () => {
  const flags = (...argv: string[]) => parseFlags('token list', argv, CREATE);
  test('kubeconfig from --kubeconfig, else KUBECONFIG, else <data-dir>/kubeconfig.yaml', () => {
    assert.equal(kubeconfigPath(flags('--kubeconfig', '/a.yaml'), { KUBECONFIG: '/b.yaml' }), '/a.yaml');
    assert.equal(kubeconfigPath(flags(), { KUBECONFIG: '/b.yaml' }), '/b.yaml');
    assert.equal(
      kubeconfigPath(flags('--data-dir', '/srv/k'), { KUBECONFIG: '/b.yaml' }),
      '/srv/k/kubeconfig.yaml',
    );
    assert.match(kubeconfigPath(flags(), {}), /\/\.k8ts\/kubeconfig\.yaml$/);
  });

  test('an unreachable server is worded as client-go words it', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
      address: '127.0.0.1',
      port: 1,
    });
    assert.equal(
      requestErrorText(err, 'POST', 'https://127.0.0.1:1/api/v1/namespaces/kube-system/secrets'),
      'Post "https://127.0.0.1:1/api/v1/namespaces/kube-system/secrets": dial tcp 127.0.0.1:1: connect: connection refused',
    );
  });
});
