import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { managerOrUserAgent, validatePatchOptions } from './index.js';

describe('managerOrUserAgent', () => {
  it('prefers the fieldManager parameter', () => {
    assert.equal(
      managerOrUserAgent('kubectl-client-side-apply', 'kubectl/v1.31.0 (linux/amd64) kubernetes/abc'),
      'kubectl-client-side-apply',
    );
  });

  it('takes the user agent up to its first slash, printable characters only, at most 128 bytes', () => {
    assert.equal(managerOrUserAgent(undefined, 'kubectl/v1.31.0 (linux/amd64) kubernetes/abc'), 'kubectl');
    assert.equal(managerOrUserAgent('', 'kube-controller-manager/v1.31.0'), 'kube-controller-manager');
    assert.equal(managerOrUserAgent(undefined, 'a\u0007b/1'), 'ab');
    assert.equal(managerOrUserAgent(undefined, 'x'.repeat(200)).length, 128);
    assert.equal(managerOrUserAgent(undefined, undefined), '');
  });
});

describe('validatePatchOptions', () => {
  it('requires a field manager for apply', () => {
    const err = validatePatchOptions('apply', {});
    assert.equal(err?.code, 422);
    assert.equal(
      err?.message,
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    assert.equal(validatePatchOptions('apply', { fieldManager: 'kubectl', force: true }), undefined);
  });

  it('forbids force outside apply and overlong or unprintable managers', () => {
    assert.equal(
      validatePatchOptions('merge', { force: false })?.message,
      'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
    );
    assert.equal(
      validatePatchOptions('strategic', { fieldManager: 'x'.repeat(129) })?.message,
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes',
    );
    assert.match(
      validatePatchOptions('json', { fieldManager: 'a\u0007' })?.message ?? '',
      /invalid character U\+0007 \(at position 1\)$/,
    );
    assert.equal(validatePatchOptions('strategic', { fieldManager: 'kubectl-patch' }), undefined);
  });
});
