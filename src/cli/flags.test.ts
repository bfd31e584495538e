import { test } from 'node:test';
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { dataDirFlag, expandHome, parseFlags } from './flags.js';

const flags = (...argv: string[]) => parseFlags('test', argv, { 'data-dir': { type: 'string' } });

test('--data-dir is absolute, with ~ expanded (also in --data-dir=~/x, which no shell expands)', () => {
  assert.equal(dataDirFlag(flags()), join(homedir(), '.k8ts'));
  assert.equal(dataDirFlag(flags('--data-dir=~/state')), join(homedir(), 'state'));
  assert.equal(dataDirFlag(flags('--data-dir', 'rel/dir')), resolve('rel/dir'));
  assert.equal(expandHome('~'), homedir());
  assert.equal(expandHome('/a/~b'), '/a/~b');
  assert.equal(expandHome('~other/x'), '~other/x');
});
