import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EnvoyNode } from '../../src/sds/messages';
import { validatorFormFor } from '../../src/sds/validator-choice';

const node = (version?: [number, number], optOut?: { boolValue: boolean } | { stringValue: string } | { numberValue: number }): EnvoyNode => ({
  ...(version ? { user_agent_build_version: { version: { major_number: version[0], minor_number: version[1], patch: 0 } } } : {}),
  ...(optOut ? { metadata: { fields: { disable_spiffe_cert_validation: { kind: Object.keys(optOut)[0] as 'boolValue' | 'stringValue' | 'numberValue', ...optOut } } } } : {}),
});

test('the SPIFFE validator from Envoy 1.18 on; trusted_ca below, and when the version is unknown', () => {
  assert.equal(validatorFormFor(node([1, 18])), 'spiffe');
  assert.equal(validatorFormFor(node([1, 34])), 'spiffe');
  assert.equal(validatorFormFor(node([2, 0])), 'spiffe');
  assert.equal(validatorFormFor(node([1, 17])), 'trusted-ca');
  assert.equal(validatorFormFor(node([0, 18])), 'trusted-ca');
  assert.equal(validatorFormFor(node()), 'trusted-ca');
  assert.equal(validatorFormFor({ user_agent_name: 'envoy' }), 'trusted-ca', 'a free-form version string is not trusted');
  assert.equal(validatorFormFor(null), 'trusted-ca');
  assert.equal(validatorFormFor(undefined), 'trusted-ca');
});

test('disable_spiffe_cert_validation: bool true or a true string opts out; anything else does not', () => {
  for (const optOut of [{ boolValue: true }, { stringValue: 'true' }, { stringValue: 'TRUE' }, { stringValue: 't' }, { stringValue: '1' }]) {
    assert.equal(validatorFormFor(node([1, 30], optOut)), 'trusted-ca', JSON.stringify(optOut));
  }
  for (const keep of [{ boolValue: false }, { stringValue: 'false' }, { stringValue: '' }, { stringValue: 'yes please' }, { numberValue: 1 }]) {
    assert.equal(validatorFormFor(node([1, 30], keep)), 'spiffe', JSON.stringify(keep));
  }
});
