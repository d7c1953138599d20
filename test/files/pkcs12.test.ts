import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { pkcs12Kdf } from '../../src/files/pkcs12';
import { startTestAgent } from '../support/agent-harness';
import { openssl } from '../support/openssl';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { needs } from '../support/tools';

after(removeTempDirs);
const run = promisify(execFile);

test('the PKCS#12 KDF is deterministic, sized as asked, and keyed by purpose and salt', () => {
  // RFC 7292 publishes no SHA-256 vector; the KDF's correctness is proven below, where openssl
  // recomputes the MAC it keys (a wrong key fails "-info" as the wrong password does).
  const salt = Buffer.from('0a58cf64530d823f', 'hex');
  const a = pkcs12Kdf('smeg', salt, 3, 1, 32);
  assert.equal(a.length, 32);
  assert.deepEqual(pkcs12Kdf('smeg', salt, 3, 1, 32), a);
  assert.notDeepEqual(pkcs12Kdf('smeg', salt, 1, 1, 32), a);
  assert.notDeepEqual(pkcs12Kdf('smeg', Buffer.from('0a58cf64530d823e', 'hex'), 3, 1, 32), a);
  assert.equal(pkcs12Kdf('smeg', salt, 1, 1000, 80).length, 80, 'several hash blocks');
});

test('a files target with pkcs12File: openssl checks the MAC and Java keytool reads key and chain', { skip: needs('keytool', 'openssl') }, async () => {
  const dir = await makeTempDir('meshid-p12-');
  await writeFile(path.join(dir, 'p12.pass'), 'changeit-4d2c\n');
  const harness = await startTestAgent({
    files: [
      {
        spiffeId: 'spiffe://example.org/java-app',
        certFile: path.join(dir, 'out', 'chain.pem'),
        keyFile: path.join(dir, 'out', 'key.pem'),
        pkcs12File: path.join(dir, 'out', 'app.p12'),
        pkcs12PasswordFile: path.join(dir, 'p12.pass'),
      },
    ],
  });
  try {
    await harness.agent.settled();
    const keystore = path.join(dir, 'out', 'app.p12');
    assert.equal((await stat(keystore)).mode & 0o777, 0o600, 'holds the key: mode as keyMode');

    const info = await openssl(['pkcs12', '-in', keystore, '-passin', 'pass:changeit-4d2c', '-info', '-noout']);
    assert.ok(info.ok, info.output);
    assert.match(info.output, /MAC: sha256/);
    assert.match(info.output, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC/);
    assert.equal((await openssl(['pkcs12', '-in', keystore, '-passin', 'pass:wrong', '-info', '-noout'])).ok, false, 'a wrong password fails the MAC');

    // The key inside equals the PEM key, and the leaf is the PEM chain's leaf.
    const extractedKey = await openssl(['pkcs12', '-in', keystore, '-passin', 'pass:changeit-4d2c', '-nocerts', '-nodes']);
    const pemKey = await readFile(path.join(dir, 'out', 'key.pem'), 'utf8');
    assert.ok(extractedKey.output.includes(pemKey.trim().split('\n').slice(1, -1).join('\n')), 'same private key');

    const { stdout } = await run('keytool', ['-list', '-v', '-keystore', keystore, '-storetype', 'PKCS12', '-storepass', 'changeit-4d2c']);
    assert.match(stdout, /Alias name: svid/);
    assert.match(stdout, /Entry type: PrivateKeyEntry/);
    assert.match(stdout, /Certificate chain length: 2/, 'leaf and node intermediate');
    const leaf = new X509Certificate(await readFile(path.join(dir, 'out', 'chain.pem')));
    assert.match(stdout, new RegExp(`Serial number: 0*${leaf.serialNumber.toLowerCase().replace(/^0+/, '')}`, 'i'));
  } finally {
    await harness.agent.stop();
  }
});
