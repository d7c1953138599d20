import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { CONFIG_BASE, parseUpstream, upstreamProblems } from '../../support/upstream-config';


const VALID = { type: 'pkcs11', module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'meshid', keyLabel: 'upstream-ca', pinFile: 'hsm-pin', certFile: 'upstream.pem' };

test('a pkcs11 upstream loads with relative paths resolved against the config directory', () => {
  assert.deepEqual(parseUpstream({ ...VALID, module: 'lib/pkcs11.so', bundleFile: 'roots.pem' }).upstream, {
    type: 'pkcs11',
    module: path.join(CONFIG_BASE, 'lib/pkcs11.so'),
    tokenLabel: 'meshid',
    keyLabel: 'upstream-ca',
    pinFile: path.join(CONFIG_BASE, 'hsm-pin'),
    certFile: path.join(CONFIG_BASE, 'upstream.pem'),
    bundleFile: path.join(CONFIG_BASE, 'roots.pem'),
  });
  const bySlot = parseUpstream({ ...VALID, tokenLabel: undefined, slot: 1315255317 }).upstream;
  assert.equal(bySlot.type === 'pkcs11' && bySlot.slot, 1315255317);
  assert.ok(Object.isFrozen(bySlot));
});

test('exactly one of tokenLabel and slot chooses the token', () => {
  const expected = ['upstream: set exactly one of tokenLabel and slot to choose the token'];
  assert.deepEqual(upstreamProblems({ ...VALID, tokenLabel: undefined }), expected);
  assert.deepEqual(upstreamProblems({ ...VALID, slot: 0 }), expected);
});

test('every missing or wrong pkcs11 key is reported at once, by its path', () => {
  const problems = upstreamProblems({ type: 'pkcs11', slot: -1, keyFile: 'ca.key' });
  for (const pattern of [
    /^upstream\.module: is required when upstream\.type is "pkcs11"$/,
    /^upstream\.keyLabel: is required when upstream\.type is "pkcs11"$/,
    /^upstream\.pinFile: is required when upstream\.type is "pkcs11"$/,
    /^upstream\.certFile: is required when upstream\.type is "pkcs11"$/,
    /^upstream\.slot: must not be negative$/,
    /^upstream\.keyFile: unknown key \(known keys: type, module, tokenLabel, slot, keyLabel, pinFile, certFile, bundleFile\)$/,
  ]) {
    assert.ok(problems.some((problem) => pattern.test(problem)), `no problem matches ${pattern}; got:\n${problems.join('\n')}`);
  }
  assert.deepEqual(upstreamProblems({ ...VALID, tokenLabel: undefined, slot: 'first' }), ['upstream.slot: must be a slot ID (a number), got "first"']);
});
